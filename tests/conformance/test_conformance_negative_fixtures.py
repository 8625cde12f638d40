"""The upstream mutation fixtures (`scripts/fixtures/`), replayed from the package copy: each mutation is
applied and the named diagnostic must appear, under a stable rule id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ies.schemas import DATA_ROOT, apply_mutations, get, validate
from ies.schemas.jsonld import context_drift

FIXTURES = DATA_ROOT / "scripts" / "fixtures"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _payload_fixture(name: str) -> tuple[Any, Any, str]:
    fixture = _load(FIXTURES / name)
    source = _load(DATA_ROOT / fixture["source"])
    return source, apply_mutations(source, fixture["mutations"]), fixture["expectedDiagnostic"]


def test_cep_missing_customer_number_is_a_schema_failure_naming_the_field() -> None:
    source, mutated, expected = _payload_fixture("cep_schedule_i_missing_customer_number.json")
    assert validate(source).valid
    report = validate(mutated)
    assert (report.family, report.version) == ("ElectricityCredential", "1.2")
    assert not report.valid
    [finding] = report.errors
    assert finding.rule == "schema.required"
    assert finding.path == "/credentialSubject/customerProfile"
    assert expected in finding.message


def test_derv_unknown_reading_type_does_not_resolve_in_the_registry() -> None:
    source, mutated, expected = _payload_fixture("derv_schedule_ii_unknown_reading_type.json")
    assert validate(source).valid
    report = validate(mutated)
    assert report.rules() == {"md.reading-type-unresolved"}
    [finding] = report.errors
    assert finding.path == "/1/readings/0/readingType"
    assert expected in finding.message


def test_jsonld_masked_expansion_drift_is_caught() -> None:
    fixture = _load(FIXTURES / "jsonld_masked_expansion_drift.json")
    [target] = fixture["targets"]
    family, version = target["relativePath"].split("/")[1:3]
    entry = get(family, version.removeprefix("v"))
    pristine = _load(DATA_ROOT / target["relativePath"])
    assert context_drift(entry, pristine) == []
    drifted = apply_mutations(pristine, target["mutations"])
    [finding] = context_drift(entry, drifted)
    assert finding.rule == "jsonld.context-drift"
    assert finding.path == "/@context/reviewDrift"
    assert "reviewDrift" in finding.message


def test_every_bundled_context_of_a_current_version_is_free_of_drift() -> None:
    for entry in (
        get(f, v)
        for f, v in [
            ("ArrFiling", "0.5"),
            ("ElectricityCredential", "1.2"),
            ("MeterData", "0.6"),
            ("MeterDataCredential", "0.6"),
            ("MeterDataRequest", "0.6"),
            ("MeterDataRequestCredential", "0.1"),
            ("OutageNotification", "0.1"),
        ]
    ):
        assert context_drift(entry) == [], entry.key
