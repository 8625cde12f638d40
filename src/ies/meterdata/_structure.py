"""JSON Schema (Draft 2020-12) checks of one MeterData v0.6 profile inside a bulk file.

Why per profile and per branch: a bulk file is an array of profiles; the root `oneOf` of the schema would
make jsonschema try all nine profile shapes for every element, and its error for a bad element is the
unhelpful "is not valid under any of the given schemas". Each profile is checked against the one `$defs`
branch its `profileType` selects (the branches are mutually exclusive through that `const`), which gives the
same verdict with a precise message. The validator is jsonschema-rs (Rust, Draft 2020-12, formats on):
the pure-Python `jsonschema` needs 150–700 µs per profile, which alone would cap a bulk file of per-meter
CUSTOMER and INTERVAL profiles far below the 2 M readings/s target; jsonschema-rs needs ~15 µs. For
telemetry profiles the `intervals` rows are left out of the schema
pass: the vectorised row checks of `_decode`/`_checks` cover them (integer ids, payload types, overrides).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from ies.meterdata._layout import Issue

__all__ = ["PROFILE_DEFS", "structural_issues"]

#: profileType → the `$defs` entry of MeterData v0.6 that describes it.
PROFILE_DEFS: dict[str, str] = {
    "DESCRIPTOR": "PayloadDescriptorProfile",
    "CUSTOMER": "CustomerProfile",
    "INTERVAL": "IntervalProfile",
    "DAILY": "DailyProfile",
    "MONTHLY": "MonthlyProfile",
    "BILL_DETAILS": "BillDetails",
    "INSTANTANEOUS": "InstantaneousProfile",
    "EVENT": "EventProfile",
    "ALARM": "AlarmProfile",
}
#: Upstream leaves these external structures as remote `$ref`s; the schemas block checks them for real,
#: here they are accepted as objects so that no network is ever needed.
_EXTERNAL_DEFS = ("Address", "GeoJSONGeometry")


def _schema_path() -> Path:
    from ies.schemas import get

    return get("MeterData", "0.6").schema_path


@cache
def _root_schema() -> dict[str, Any]:
    schema: dict[str, Any] = orjson.loads(_schema_path().read_bytes())
    for name in _EXTERNAL_DEFS:
        schema["$defs"][name] = {"type": "object"}
    return schema


@cache
def _validator(def_name: str) -> Any:
    root = _root_schema()
    schema = {"$defs": root["$defs"], "$ref": f"#/$defs/{def_name}"}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def _keyword(error: Any) -> str:
    """The JSON Schema keyword of a jsonschema-rs error (its kind class is the keyword in CamelCase)."""
    name = type(error.kind).__name__
    return name[:1].lower() + name[1:]


def structural_issues(profile: Any) -> list[Issue]:
    """Schema findings for one top-level element of a MeterData array (empty when it conforms)."""
    if not isinstance(profile, dict):
        return [Issue("schema.type", "a MeterData profile must be a JSON object")]
    profile_type = profile.get("profileType")
    def_name = PROFILE_DEFS.get(profile_type) if isinstance(profile_type, str) else None
    if def_name is None:
        return [Issue("schema.oneOf", f"profileType {profile_type!r} is not a MeterData v0.6 profile type")]
    subject = profile
    if profile_type in ("INTERVAL", "DAILY") and "intervals" in profile:
        subject = {k: v for k, v in profile.items() if k != "intervals"}
        if not isinstance(profile["intervals"], list):
            subject["intervals"] = profile["intervals"]
    issues = []
    for error in _validator(def_name).iter_errors(subject):
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path)
        issues.append(Issue(f"schema.{_keyword(error)}", error.message, pointer))
    return issues
