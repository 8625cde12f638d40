"""The reading-type registry (MeterData v0.6 `ies-codes.json`) as a lookup table for the bulk validator.

The entries are those `ies.schemas.reading_types()` loads from the bundled catalogue (one file, one loader);
this module only adds the questions the vectorised rules ask (is it a register, a block energy, allowed in
this profile) and resolution through a descriptor's `obis` when its readingType is a local label.

Why a registry object and not constants: every fact about a reading type — its unit, the profiles it may
appear in, its modes, whether it accumulates — is published upstream in `ies-codes.json` and changes with the
spec, so the validator asks this table and never hard-codes an OBIS code. A reading type resolves by its OBIS
code or by its short label ("kWh imp block"), exactly as the upstream validator resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["CodeRegistry", "ReadingTypeInfo", "code_registry"]

#: The registry writes "no unit" as an empty string; descriptors write it as "NONE".
_NO_UNIT = {"", "NONE"}


@dataclass(frozen=True)
class ReadingTypeInfo:
    """Registry facts about one reading type (one entry of `codes[]`)."""

    obis: str
    short_label: str
    name: str
    unit: str
    category: str
    profiles: frozenset[str]
    supported_modes: frozenset[str]
    default_mode: str
    accumulation: str | None
    flow_direction: str | None
    allowed_attributes: frozenset[str]

    @property
    def is_cumulative(self) -> bool:
        """A register that only ever grows (until a declared reset or a meter change)."""
        return self.accumulation == "CUMULATIVE"

    @property
    def is_delta(self) -> bool:
        """Energy accumulated over one interval (block load survey)."""
        return self.accumulation == "DELTA"

    def unit_matches(self, unit: str) -> bool:
        """True when a descriptor's declared unit agrees with the registry's."""
        if self.unit in _NO_UNIT:
            return unit in _NO_UNIT
        return unit == self.unit

    def allowed_in(self, profile_type: str) -> bool:
        """Upstream treats BILL_DETAILS as MONTHLY when checking where a register may appear."""
        effective = "MONTHLY" if profile_type == "BILL_DETAILS" else profile_type
        return effective in self.profiles


class CodeRegistry:
    """Resolve reading types by OBIS code or short label."""

    def __init__(self, entries: list[dict[str, Any]]):
        self._by_key: dict[str, ReadingTypeInfo] = {}
        for raw in entries:
            info = ReadingTypeInfo(
                obis=raw["obis"],
                short_label=raw.get("shortLabel", ""),
                name=raw.get("name", ""),
                unit=raw.get("unit", ""),
                category=raw.get("category", ""),
                profiles=frozenset(raw.get("profiles", ())),
                supported_modes=frozenset(raw.get("supportedModes", ())),
                default_mode=raw.get("defaultMode", "READING"),
                accumulation=raw.get("accumulationBehaviour"),
                flow_direction=raw.get("flowDirection"),
                allowed_attributes=frozenset(raw.get("allowedAttributes", ())),
            )
            self._by_key[info.obis] = info
            if info.short_label:
                self._by_key[info.short_label] = info

    def resolve(self, reading_type: str, obis: str | None = None) -> ReadingTypeInfo | None:
        """The registry entry for a reading type (or its descriptor's `obis`), None when unknown."""
        found = self._by_key.get(reading_type)
        if found is None and obis:
            found = self._by_key.get(obis)
        return found

    def __len__(self) -> int:
        return len({info.obis for info in self._by_key.values()})


@cache
def code_registry() -> CodeRegistry:
    """The registry of the bundled MeterData catalogue, as loaded once by `ies.schemas.reading_types`."""
    from ies.schemas import reading_types

    return CodeRegistry([entry.raw for entry in reading_types()])
