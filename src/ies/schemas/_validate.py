"""One entry point that validates any IES payload: detect → structure → semantics → JSON-LD.

Why one place: "schema validation enforced on every outgoing payload" is a conformance item; the exchange,
the credential issuer and the use cases all call `validate`/`require_valid` here, so a rule added once
applies everywhere.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ies.errors import InvalidJSON, SchemaValidationFailed, UsageError
from ies.schemas._arr import arr_findings
from ies.schemas._catalogue import SchemaVersion, UnknownSchema, get, schema_document
from ies.schemas._detect import detect
from ies.schemas._envelopes import CREDENTIAL_FAMILIES, credential_findings, geojson_findings
from ies.schemas._findings import Finding, ValidationReport
from ies.schemas._meterdata import meterdata_findings
from ies.schemas._request import request_findings
from ies.schemas._structural import structural_findings
from ies.schemas.jsonld import unmapped_terms

SemanticRules = Callable[[Any, dt.datetime | None], list[Finding]]

#: Family@version → its semantic rules. Older MeterData/MeterDataRequest versions (v0.5) have a different
#: shape and no published semantic rules; they get structure and JSON-LD checks only.
_SEMANTICS: dict[tuple[str, str], SemanticRules] = {
    ("MeterData", "0.6"): lambda doc, at: meterdata_findings(doc),
    ("MeterDataRequest", "0.6"): lambda doc, at: request_findings(doc, at=at),
    ("ArrFiling", "0.5"): lambda doc, at: arr_findings(doc),
}


def _semantic(
    doc: Any, entry: SchemaVersion, at: dt.datetime | None, structurally_valid: bool
) -> list[Finding]:
    """The family's semantic rules.

    They presuppose the structure: on a payload that already failed JSON Schema, a rule that meets a value of
    the wrong shape is skipped (the structural finding already says what is wrong). On a structurally valid
    payload the same failure is a bug and propagates.
    """
    try:
        if entry.family in CREDENTIAL_FAMILIES:
            return credential_findings(doc, entry.family, at)
        rules = _SEMANTICS.get((entry.family, entry.version))
        return rules(doc, at) if rules else []
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        if structurally_valid:
            raise
        return []


def _structural(doc: Any, entry: SchemaVersion) -> list[Finding]:
    """Arrays of records validate item by item when the schema describes one record (as upstream does)."""
    schema = schema_document(entry)
    if isinstance(doc, list) and schema.get("type") == "object":
        out: list[Finding] = []
        for i, item in enumerate(doc):
            out += structural_findings(item, entry, (i,))
        return out
    return structural_findings(doc, entry)


def _jsonld(doc: Any, entry: SchemaVersion) -> list[Finding]:
    items = doc if isinstance(doc, list) else [doc]
    has_context = any(isinstance(i, dict) and "@context" in i for i in items)
    return unmapped_terms(doc, default_context=None if has_context else entry.context_url)


def validate(
    doc: Any,
    family: str | None = None,
    version: str | None = None,
    *,
    strict: bool = False,
    at: dt.datetime | None = None,
    jsonld: bool = True,
) -> ValidationReport:
    """Validate a parsed payload.

    family/version: detected from the payload when omitted (UsageError when undetectable).
    strict: warnings (JSON-LD terms that do not expand, ArrFiling roll-ups) count as errors.
    at: evaluation instant for expiry rules (authorisations, credentials); None skips expiry-by-clock.
    jsonld: run JSON-LD expansion with the bundled contexts (warnings).
    """
    if at is not None and at.tzinfo is None:
        raise UsageError("evaluation time `at` must be timezone-aware")
    if family is None:
        family, detected_version = detect(doc)
        version = version or detected_version
    elif version is None:
        # family named, version not: the payload's own claim decides when it names the same family
        try:
            claimed_family, claimed_version = detect(doc)
        except UnknownSchema:
            claimed_family, claimed_version = family, None
        if claimed_family.lower() == family.lower():
            version = claimed_version
    entry = get(family, version)
    structural = _structural(doc, entry)
    findings = structural + _semantic(doc, entry, at, not structural) + geojson_findings(doc)
    if jsonld:
        findings += _jsonld(doc, entry)
    unique = list(dict.fromkeys(findings))
    return ValidationReport(entry.family, entry.version, unique, strict=strict)


def require_valid(
    doc: Any,
    family: str | None = None,
    version: str | None = None,
    *,
    strict: bool = False,
    at: dt.datetime | None = None,
) -> ValidationReport:
    """Validate and raise SchemaValidationFailed (details list the findings) unless valid."""
    report = validate(doc, family, version, strict=strict, at=at)
    if not report.valid:
        first = report.errors[0]
        raise SchemaValidationFailed(
            f"{report.family}@{report.version}: {len(report.errors)} error(s); first [{first.rule}] at "
            f"{first.path or '/'}: {first.message}",
            details={
                "family": report.family,
                "version": report.version,
                "findings": [f.to_dict() for f in report.errors],
            },
        )
    return report


def load_document(path: Path) -> Any:
    """Read and parse a JSON file (`-` is standard input); UsageError when unreadable, InvalidJSON (exit 2)
    when not JSON."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"{path} is not JSON: {exc}") from None
