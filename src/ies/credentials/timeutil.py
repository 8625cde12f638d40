"""Date-times in credentials: XSD dateTimeStamp strings and JWT NumericDate seconds, always timezone-aware.

Why strict: a validity window compared against a time without a zone is off by up to 14 hours, so a
date-time without an offset is malformed here (VC 2.0 asks for dateTimeStamp, which carries one), and
every instant is compared as an aware datetime, never as a string (upstream IES compares strings).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ies.credentials.errors import CredentialMalformed

__all__ = ["format_xsd", "from_numeric_date", "parse_xsd", "to_numeric_date"]


def parse_xsd(value: Any, where: str) -> datetime | None:
    """An aware datetime from an XSD dateTimeStamp string; None when absent; CredentialMalformed otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CredentialMalformed(f"{where} must be a date-time string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CredentialMalformed(f"{where} {value!r} is not an XSD date-time") from exc
    if "T" not in text or moment.tzinfo is None:
        raise CredentialMalformed(f"{where} {value!r} needs a date, a time and a time zone offset")
    return moment


def format_xsd(moment: datetime) -> str:
    """UTC, whole seconds, `Z` suffix (`2023-02-24T23:36:38Z`), the form the W3C vectors use."""
    if moment.tzinfo is None:
        raise CredentialMalformed("date-times must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_numeric_date(value: Any, where: str) -> datetime | None:
    """A JWT NumericDate (seconds since the epoch); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialMalformed(f"{where} must be a NumericDate (seconds since 1970)")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise CredentialMalformed(f"{where} {value!r} is out of range") from exc


def to_numeric_date(moment: datetime) -> int:
    return int(moment.timestamp())
