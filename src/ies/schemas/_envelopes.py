"""Rules for credential envelopes and embedded structures that JSON Schema cannot express.

Why: a credential's validity window must be compared as instants (upstream compares strings, which is
wrong across offsets); a MeterDataCredential / MeterDataRequestCredential carries a MeterData / request
document whose own semantic rules must hold (upstream validates only the envelope); and every GeoJSON
`geo` member gets the RFC 7946 checks even where a schema types it loosely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._findings import Finding, json_pointer
from ies.schemas._md_context import JsonPath, parse_instant
from ies.schemas._meterdata import meterdata_findings
from ies.schemas._request import request_findings
from ies.schemas._structural import external_findings

GEOJSON_SCHEMA_ID = (
    "https://schema.nfh.global/GeoJSONGeometry/v2.0/attributes.yaml#/components/schemas/GeoJSONGeometry"
)
CREDENTIAL_FAMILIES = frozenset(
    {"ElectricityCredential", "MeterDataCredential", "MeterDataRequestCredential"}
)


def validity_findings(doc: dict[str, Any], at: dt.datetime | None) -> list[Finding]:
    start, until = parse_instant(doc.get("validFrom")), parse_instant(doc.get("validUntil"))
    if start is not None and until is not None and until <= start:
        return [
            Finding(
                "/validUntil",
                R.VC_VALIDITY_WINDOW,
                f"validUntil {doc['validUntil']} is not after validFrom {doc['validFrom']}",
            )
        ]
    if until is not None and at is not None and until <= at:
        return [Finding("/validUntil", R.VC_VALIDITY_WINDOW, f"credential expired at {doc['validUntil']}")]
    return []


def credential_findings(doc: Any, family: str, at: dt.datetime | None) -> list[Finding]:
    """Envelope window plus the semantic rules of the embedded MeterData / MeterDataRequest."""
    if not isinstance(doc, dict):
        return []
    out = validity_findings(doc, at)
    subject = doc.get("credentialSubject")
    if isinstance(subject, dict):
        if family == "MeterDataCredential" and "meterData" in subject:
            out += meterdata_findings(subject["meterData"], ("credentialSubject", "meterData"))
        if family == "MeterDataRequestCredential" and "meterDataRequest" in subject:
            out += request_findings(
                subject["meterDataRequest"], ("credentialSubject", "meterDataRequest"), at=at
            )
    return out


def _geo_members(node: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "geo" and isinstance(value, dict):
                yield (*path, key), value
            else:
                yield from _geo_members(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _geo_members(value, (*path, i))


def geojson_findings(doc: Any) -> list[Finding]:
    """RFC 7946 checks on every `geo` member, wherever it sits."""
    out: list[Finding] = []
    for path, geometry in _geo_members(doc, ()):
        out += external_findings(geometry, GEOJSON_SCHEMA_ID, path)
    return out


def pointer(path: JsonPath) -> str:
    return json_pointer(path)
