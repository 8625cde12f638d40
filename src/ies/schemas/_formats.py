"""A real format checker for the `format` keywords the IES schemas use.

Why our own: upstream applies no format checker at all, and jsonschema's defaults silently skip formats
whose optional helper package is missing (duration, uri…), which would let `"validFrom": "yesterday"`
through. Each checker here is self-contained and strict (RFC 3339 date-times need an offset).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from jsonschema import FormatChecker
from rfc3339_validator import validate_rfc3339

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$")
# ISO 8601 duration: PnYnMnDTnHnMnS or PnW; at least one component, T only followed by a time part.
_DURATION = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
# RFC 3986 absolute URI: scheme ":" hier-part, no spaces or control characters.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f]+$")
_URI_REFERENCE = re.compile(r"^[^\s<>\"{}|\\^`\x00-\x1f]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return not isinstance(value, str)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    # RFC 3339 §5.6 allows lower-case "t" and "z"; the validator only knows upper case.
    return not isinstance(value, str) or bool(validate_rfc3339(value.upper()))


def is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_TIME.match(value))


def is_duration(value: object) -> bool:
    return not isinstance(value, str) or bool(_DURATION.match(value))


def is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def is_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_REFERENCE.match(value))


def is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _UUID.match(value):
        return False
    uuid.UUID(value)
    return True


def format_checker() -> FormatChecker:
    """A FormatChecker that knows exactly the formats above (unknown formats are annotations only)."""
    checker = FormatChecker(formats=())
    for name, fn in (
        ("date", is_date),
        ("date-time", is_date_time),
        ("time", is_time),
        ("duration", is_duration),
        ("uri", is_uri),
        ("iri", is_uri),
        ("uri-reference", is_uri_reference),
        ("iri-reference", is_uri_reference),
        ("email", is_email),
        ("uuid", is_uuid),
    ):
        checker.checks(name)(fn)
    return checker
