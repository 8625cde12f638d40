"""Instants and ISO 8601 durations as the consent artefact writes them.

Why our own small parser: a consent's limits mix fixed durations (a frequency period of `P1D`, `PT1H`) and
calendar ones (a validity of `P1Y`, a retention of `P3M`), and both must be compared and added exactly,
in UTC. Instants are written in one normal form (UTC, `Z`, sub-seconds only when present) so that the
JCS-canonical bytes a principal signs are the bytes every other party recomputes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ies.consent.errors import ArtefactInvalid

__all__ = ["Duration", "format_instant", "parse_duration", "parse_instant"]

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, order=True)
class Duration:
    """A parsed ISO 8601 duration: calendar months (years × 12 + months) plus a fixed part."""

    months: int
    fixed: timedelta

    def after(self, start: datetime) -> datetime:
        """`start` + this duration, months on the calendar (31 Jan + P1M = 28/29 Feb)."""
        if self.months:
            year, month = divmod(start.month - 1 + self.months, 12)
            year += start.year
            last = _DAYS_IN_MONTH[month] + (1 if month == 1 and _leap(year) else 0)
            start = start.replace(year=year, month=month + 1, day=min(start.day, last))
        return start + self.fixed

    def before(self, end: datetime) -> datetime:
        """`end` − this duration (the start of a rolling window ending at `end`)."""
        if self.months:
            year, month = divmod(end.month - 1 - self.months, 12)
            year += end.year
            last = _DAYS_IN_MONTH[month] + (1 if month == 1 and _leap(year) else 0)
            end = end.replace(year=year, month=month + 1, day=min(end.day, last))
        return end - self.fixed

    def longest(self) -> timedelta:
        """An upper bound in fixed time (a month as 31 days), for comparing against another bound."""
        return timedelta(days=31 * self.months) + self.fixed


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_duration(text: object, *, path: str = "$") -> Duration:
    if not isinstance(text, str) or not (m := _DURATION.match(text)):
        raise ArtefactInvalid(
            f"{text!r} is not an ISO 8601 duration (P1Y, P30D, PT1H…)", details={"path": path}
        )
    years, months, weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    fixed = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    duration = Duration(months=years * 12 + months, fixed=fixed)
    if duration.months == 0 and not fixed:
        raise ArtefactInvalid(f"duration {text!r} is zero", details={"path": path})
    return duration


def parse_instant(text: object, *, path: str = "$") -> datetime:
    """An RFC 3339 date-time with an offset, as aware UTC."""
    if isinstance(text, datetime):
        if text.tzinfo is None:
            raise ArtefactInvalid("naive datetime: give an offset", details={"path": path})
        return text.astimezone(UTC)
    if not isinstance(text, str) or "T" not in text:
        raise ArtefactInvalid(f"{text!r} is not an RFC 3339 date-time", details={"path": path})
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ArtefactInvalid(f"{text!r} is not an RFC 3339 date-time", details={"path": path}) from None
    if value.tzinfo is None:
        raise ArtefactInvalid(f"{text!r} has no UTC offset", details={"path": path})
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """The one written form: UTC with `Z`; microseconds only when not zero."""
    if value.tzinfo is None:
        raise ArtefactInvalid("naive datetime: give an offset")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
