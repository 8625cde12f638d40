"""The IES schema catalogue and the one validator every outgoing and incoming payload goes through.

    from ies.schemas import validate, require_valid
    report = validate(doc)                       # family/version detected from @context/@type/shape
    report.valid, report.errors                  # Finding(path, rule, message, severity)
    require_valid(doc, "MeterData", "0.6")       # raises ies.errors.SchemaValidationFailed

Layers, in order: JSON Schema Draft 2020-12 with a real format checker and real external structures
(`_structural`), the family's semantic rules driven by the `ies-codes.json` registry (`_meterdata`,
`_request`, `_envelopes`, `_arr`), then JSON-LD expansion through an offline loader (`jsonld`). Rule ids
are in `ies.schemas.rule_ids`.
"""

from __future__ import annotations

from ies.schemas._catalogue import DATA_ROOT, SchemaVersion, UnknownSchema, get, parse_spec
from ies.schemas._catalogue import catalogue as _all_versions
from ies.schemas._detect import detect
from ies.schemas._findings import Finding, ValidationReport
from ies.schemas._mutations import apply_mutations
from ies.schemas._validate import load_document, require_valid, validate
from ies.schemas.codes import ReadingType, ReadingTypeRegistry, reading_types
from ies.schemas.jsonld import expand, offline_document_loader

__all__ = [
    "DATA_ROOT",
    "Finding",
    "ReadingType",
    "ReadingTypeRegistry",
    "SchemaVersion",
    "UnknownSchema",
    "ValidationReport",
    "apply_mutations",
    "catalogue",
    "detect",
    "expand",
    "get",
    "load_document",
    "offline_document_loader",
    "parse_spec",
    "reading_types",
    "require_valid",
    "validate",
]


def catalogue() -> list[SchemaVersion]:
    """Every bundled family@version (family, version, status, directory)."""
    return list(_all_versions())
