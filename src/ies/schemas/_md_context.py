"""Shared state of one MeterData semantic pass: the payload's descriptor sets, sanctioned loads, findings.

Why a context object: the rules of a profile depend on other profiles of the same payload (the DESCRIPTOR
declares modes and multipliers, the CUSTOMER profile declares sanctioned loads), so the pass first
indexes the payload, then each rule module reads the index and appends findings here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ies.schemas._findings import Finding, Severity, json_pointer
from ies.schemas.codes import ReadingType, ReadingTypeRegistry

JsonPath = tuple[str | int, ...]

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(value: object) -> dt.timedelta | None:
    """A fixed-length ISO 8601 duration (weeks, days, hours, minutes, seconds); None for P1M, P1Y or junk."""
    if not isinstance(value, str) or not (m := _DURATION.match(value)) or value in ("P", "PT"):
        return None
    weeks, days, hours, minutes, seconds = m.groups()
    return dt.timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )


def parse_instant(value: object) -> dt.datetime | None:
    """An RFC 3339 date-time with offset as an aware datetime; None when absent or unparsable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


_MONTHS_OR_YEARS = ("M", "Y")


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    year, month = divmod(start.month - 1 + months, 12)
    day = min(
        start.day,
        [31, 29 if (start.year + year) % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month],
    )
    return start.replace(year=start.year + year, month=month + 1, day=day)


def period_end(start: dt.datetime, duration: object) -> dt.datetime | None:
    """End of a period; calendar durations (P1M, P3M, P1Y) are added on the calendar, not as days."""
    fixed = parse_duration(duration)
    if fixed is not None:
        return start + fixed
    if isinstance(duration, str) and duration.startswith("P") and duration[-1:] in _MONTHS_OR_YEARS:
        number = duration[1:-1]
        if number.isdigit():
            return _add_months(start, int(number) * (12 if duration.endswith("Y") else 1))
    return None


@dataclass(frozen=True)
class Declared:
    """A reading type as declared in a payload descriptor set, joined with its registry entry."""

    entry: ReadingType
    reported_mode: str
    multiplier: float
    descriptor: dict[str, Any]


@dataclass
class MeterDataContext:
    registry: ReadingTypeRegistry
    prefix: JsonPath
    descriptor_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    has_descriptor_profile: bool = False
    #: meter id → (sanctioned import kW, sanctioned export kW or None), from CUSTOMER profiles.
    sanctioned_kw: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, path: JsonPath, rule: str, message: str, severity: Severity = "error") -> None:
        self.findings.append(
            Finding(path=json_pointer(self.prefix + path), rule=rule, message=message, severity=severity)
        )

    def declared(self, set_name: str | None, entry: ReadingType) -> Declared | None:
        """The declaration of `entry` in the named descriptor set (matched by OBIS after resolution)."""
        ds = self.descriptor_sets.get(set_name or "")
        if ds is None:
            return None
        for desc in ds.get("payloadDescriptors", []) or []:
            if not isinstance(desc, dict):
                continue
            resolved = self.registry.resolve(desc.get("readingType"))
            if resolved is not None and resolved.obis == entry.obis:
                multiplier = desc.get("multiplier", 1.0)
                return Declared(
                    entry=entry,
                    reported_mode=str(desc.get("reportedMode") or entry.default_mode),
                    multiplier=float(multiplier) if isinstance(multiplier, int | float) else 1.0,
                    descriptor=desc,
                )
        return None

    def sanctioned_for(self, meter_ids: list[str]) -> tuple[float, float | None] | None:
        for meter_id in meter_ids:
            if meter_id in self.sanctioned_kw:
                return self.sanctioned_kw[meter_id]
        return None


def meter_ids(profile: dict[str, Any]) -> list[str]:
    refs = profile.get("meterRefs") or []
    return [r["value"] for r in refs if isinstance(r, dict) and isinstance(r.get("value"), str)]
