"""The IES reading-type registry (`ies-codes.json`): OBIS codes and short labels with their rules.

Why a class over the bundled file: every meter-data rule (which registers a profile may carry, which modes
and attributes a register supports, whether it accumulates, which unit it has) is a lookup here, so that
nothing about codes is hard-coded in the validators. The bulk validator in `ies.meterdata` uses the same
object through `reading_types()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ies.schemas._catalogue import get, load_json

#: Payload profile types → registry profile names (BILL_DETAILS carries monthly registers).
DATA_PROFILE_TO_REGISTRY: dict[str, str] = {
    "INTERVAL": "INTERVAL",
    "DAILY": "DAILY",
    "MONTHLY": "MONTHLY",
    "BILL_DETAILS": "MONTHLY",
    "INSTANTANEOUS": "INSTANTANEOUS",
    "EVENT": "EVENT",
    "ALARM": "ALARM",
}
#: MeterDataRequest capability profile names → registry profile names.
REQUEST_PROFILE_TO_REGISTRY: dict[str, str] = {
    "CustomerProfile": "CUSTOMER",
    "IntervalProfile": "INTERVAL",
    "DailyProfile": "DAILY",
    "MonthlyProfile": "MONTHLY",
    "BillDetails": "MONTHLY",
    "InstantaneousProfile": "INSTANTANEOUS",
    "EventProfile": "EVENT",
    "AlarmProfile": "ALARM",
}


@dataclass(frozen=True)
class ReadingType:
    """One registry entry."""

    obis: str
    short_label: str
    name: str
    unit: str
    category: str
    flow_direction: str | None
    profiles: tuple[str, ...]
    supported_modes: tuple[str, ...]
    default_mode: str
    allowed_attributes: tuple[str, ...]
    accumulation: str | None  # "CUMULATIVE", "DELTA" or None (instantaneous / identification)
    raw: dict[str, Any]

    @property
    def cumulative(self) -> bool:
        return self.accumulation == "CUMULATIVE"

    def unit_matches(self, unit: str | None) -> bool:
        """True when `unit` names this register's unit ("NONE" and "" both mean dimensionless)."""
        if unit is None:
            return True
        mine = self.unit or "NONE"
        return unit == mine or (mine == "NONE" and unit in ("", "NONE"))


class ReadingTypeRegistry:
    """Resolve reading types by OBIS code or short label."""

    def __init__(self, document: dict[str, Any]):
        self._by_obis: dict[str, ReadingType] = {}
        self._by_label: dict[str, ReadingType] = {}
        for raw in document.get("codes", []):
            entry = ReadingType(
                obis=raw["obis"],
                short_label=raw.get("shortLabel", ""),
                name=raw.get("name", ""),
                unit=raw.get("unit", ""),
                category=raw.get("category", ""),
                flow_direction=raw.get("flowDirection"),
                profiles=tuple(raw.get("profiles", [])),
                supported_modes=tuple(raw.get("supportedModes", [])),
                default_mode=raw.get("defaultMode", "READING"),
                allowed_attributes=tuple(raw.get("allowedAttributes", ["value"])),
                accumulation=raw.get("accumulationBehaviour"),
                raw=raw,
            )
            self._by_obis[entry.obis] = entry
            if entry.short_label:
                self._by_label.setdefault(entry.short_label, entry)
        self.event_ids = frozenset(document.get("events", {}).get("ids", {}))
        self.alarm_ids = frozenset(document.get("alarms", {}).get("ids", {}))

    def __len__(self) -> int:
        return len(self._by_obis)

    def __iter__(self) -> Iterator[ReadingType]:
        return iter(self._by_obis.values())

    def resolve(self, reading_type: object) -> ReadingType | None:
        """The entry for an OBIS code or short label; None when it does not resolve."""
        if not isinstance(reading_type, str):
            return None
        return self._by_obis.get(reading_type) or self._by_label.get(reading_type)


@cache
def reading_types() -> ReadingTypeRegistry:
    """The registry bundled with MeterData (the newest version that ships `ies-codes.json`)."""
    path = get("MeterData", "0.6").directory / "ies-codes.json"
    document = load_json(path)
    assert isinstance(document, dict)
    return ReadingTypeRegistry(document)
