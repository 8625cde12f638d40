"""Type aliases and tiny coercions shared across the package."""

from __future__ import annotations

from typing import Any

JSONObject = dict[str, Any]


def as_object(value: Any) -> JSONObject:
    """`value` if it is a JSON object, else an empty one (for walking untrusted payloads safely)."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
