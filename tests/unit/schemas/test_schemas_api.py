"""The public Python API of ies.schemas: exports, detection, require_valid, caching, catalogue, formats."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

import ies.schemas
from ies.errors import SchemaValidationFailed, UsageError
from ies.schemas import (
    DATA_ROOT,
    Finding,
    UnknownSchema,
    ValidationReport,
    apply_mutations,
    catalogue,
    detect,
    get,
    parse_spec,
    reading_types,
    require_valid,
    validate,
)
from ies.schemas import rule_ids as R
from ies.schemas._formats import is_date, is_date_time, is_duration, is_uri, is_uuid
from ies.schemas._structural import compiled

SCHEMAS = DATA_ROOT / "schemas"


def _load(relative: str) -> Any:
    return json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))


def test_every_exported_name_exists() -> None:
    for name in ies.schemas.__all__:
        assert hasattr(ies.schemas, name), name


def test_catalogue_carries_status_and_files() -> None:
    entries = {e.key: e for e in catalogue()}
    assert entries["MeterData@0.6"].status == "stable"
    assert entries["MeterData@0.5"].status == "superseded"
    assert entries["ArrFiling@0.5"].status == "wip"
    assert all(e.schema_path.is_file() for e in entries.values())
    assert (DATA_ROOT / "NOTICE").read_text().startswith("Files under this directory")
    assert "MIT License" in (DATA_ROOT / "NOTICE").read_text()


def test_get_defaults_to_the_newest_stable_version_and_rejects_unknowns() -> None:
    assert get("ElectricityCredential").version == "1.2"
    assert get("meterdata", "v0.5").key == "MeterData@0.5"
    with pytest.raises(UnknownSchema) as unknown:
        get("NoSuchFamily")
    assert unknown.value.exit_code == 2
    with pytest.raises(UnknownSchema):
        get("MeterData", "9.9")
    assert parse_spec("MeterData@0.6") == ("MeterData", "0.6")
    assert parse_spec("MeterData") == ("MeterData", None)
    with pytest.raises(UsageError):
        parse_spec("a@b@c")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {
                "@context": "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterData/v0.5/context.jsonld"
            },
            ("MeterData", "0.5"),
        ),
        (
            {
                "@context": "https://raw.githubusercontent.com/India-Energy-Stack/ies-accelerator/main/schemas/ArrFiling/v0.5/"
                "context.jsonld"
            },
            ("ArrFiling", "0.5"),
        ),
        (
            {
                "$schema": "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterDataRequest/v0.5/schema.json"
            },
            ("MeterDataRequest", "0.5"),
        ),
        (
            {"type": ["VerifiableCredential", "MeterDataCredential"], "credentialSubject": {"meterData": {}}},
            ("MeterDataCredential", "0.6"),
        ),
        ([{"@type": "IntervalProfile", "profileType": "INTERVAL"}], ("MeterData", "0.6")),
        ({"profileType": "DAILY"}, ("MeterData", "0.6")),
        ({"objectType": "OUTAGE_NOTIFICATION"}, ("OutageNotification", "0.1")),
        ({"grantor": "did:x", "grantee": "did:y"}, ("MeterDataRequest", "0.6")),
        ({"from": "2026-01-01T00:00:00Z", "capabilitiesRequested": {}}, ("MeterDataRequest", "0.6")),
    ],
)
def test_detect(doc: Any, expected: tuple[str, str]) -> None:
    assert detect(doc) == expected


def test_detect_refuses_what_names_no_family() -> None:
    for doc in ({"hello": "world"}, [], "text", 42, [1, 2]):
        with pytest.raises(UnknownSchema):
            detect(doc)


def test_require_valid_raises_with_the_findings_in_details() -> None:
    doc = _load("MeterData/v0.6/validation/test_cases/invalid_cumulative_decrease.json")
    with pytest.raises(SchemaValidationFailed) as failed:
        require_valid(doc)
    assert failed.value.code == "SCH_SCHEMA_VALIDATION_FAILED"
    assert failed.value.details["family"] == "MeterData"
    [finding] = failed.value.details["findings"]
    assert finding["rule"] == R.MD_CUMULATIVE_DECREASE
    assert finding["path"] == "/1/intervals/1/payloads/0"
    report = require_valid(_load("MeterData/v0.6/examples/DailyProfile.json"), "MeterData", "0.6")
    assert isinstance(report, ValidationReport) and report.valid


def test_report_serialises_as_the_cli_promises() -> None:
    report = ValidationReport(
        "MeterData", "0.6", [Finding("/a", "md.usage-math", "x"), Finding("/b", "jsonld.x", "y", "warning")]
    )
    out = report.to_dict(file="f.json")
    assert out == {
        "file": "f.json",
        "family": "MeterData",
        "version": "0.6",
        "valid": False,
        "errors": [{"path": "/a", "rule": "md.usage-math", "message": "x"}],
        "warnings": [{"path": "/b", "rule": "jsonld.x", "message": "y"}],
    }


def test_validators_are_compiled_once() -> None:
    entry = get("MeterData", "0.6")
    assert compiled(entry) is compiled(entry)


def test_every_rule_a_finding_carries_is_registered() -> None:
    docs = [
        _load("MeterData/v0.6/validation/test_cases/invalid_math_consistency.json"),
        _load("MeterDataCredential/v0.6/examples/example-interval-profile.json"),
        _load("ArrFiling/v0.5/examples/arr_filings.json"),
    ]
    for doc in docs:
        for finding in validate(doc).findings:
            assert R.is_known(finding.rule), finding


def test_expiry_by_clock_only_when_asked() -> None:
    credential = _load("ElectricityCredential/v1.2/examples/example.json")  # validUntil 2026-01-13
    assert validate(credential).valid
    late = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert validate(credential, at=late).rules() == {R.VC_VALIDITY_WINDOW}
    assert validate(credential, at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)).valid
    with pytest.raises(UsageError):
        validate(credential, at=dt.datetime(2025, 6, 1))


def test_apply_mutations_copies_and_reports_bad_pointers() -> None:
    doc = {"a": [1, 2, {"b": 3}]}
    out = apply_mutations(
        doc,
        [
            {"operation": "replace", "pointer": "/a/2/b", "value": 4},
            {"operation": "remove", "pointer": "/a/0"},
        ],
    )
    assert out == {"a": [2, {"b": 4}]}
    assert doc == {"a": [1, 2, {"b": 3}]}
    with pytest.raises(UsageError):
        apply_mutations(doc, [{"operation": "remove", "pointer": "/nope/1"}])
    with pytest.raises(UsageError):
        apply_mutations(doc, [{"operation": "move", "pointer": "/a"}])


def test_registry_is_the_bundled_ies_codes() -> None:
    registry = reading_types()
    assert len(registry) == 75
    by_label = registry.resolve("kWh imp")
    by_obis = registry.resolve("1.0.1.8.0.255")
    assert by_label is not None and by_label is by_obis and by_label.cumulative
    assert registry.resolve("no such register") is None
    assert registry.resolve(None) is None


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (
            is_date,
            ["2026-02-28", "2024-02-29"],
            ["2026-02-30", "2026-2-1", "20260201", "2026-02-01T00:00:00Z"],
        ),
        (
            is_date_time,
            ["2026-05-04T09:00:00+05:30", "2026-05-04T03:30:00Z", "2026-05-04T03:30:00.5z"],
            ["2026-05-04T09:00:00", "2026-05-04 09:00:00Z", "yesterday", "2026-13-04T09:00:00Z"],
        ),
        (
            is_duration,
            ["PT15M", "P1D", "P1M", "PT345H30M", "P1Y2M3DT4H5M6S", "P2W"],
            ["P", "PT", "15M", "P1H", "PT1D"],
        ),
        (
            is_uri,
            ["https://example.org/x", "did:web:discom.example", "urn:uuid:1234"],
            ["not a uri", "/relative", ""],
        ),
        (is_uuid, ["e5f6a7b8-9012-34ab-cdef-567890123456"], ["e5f6a7b8901234abcdef567890123456", "xyz"]),
    ],
)
def test_format_checkers(check: Any, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert check(value), value
    for value in bad:
        assert not check(value), value
    assert check(42)  # formats only constrain strings


def test_validating_does_not_modify_the_payload() -> None:
    doc = _load("MeterDataCredential/v0.6/examples/example-interval-profile.json")
    before = copy.deepcopy(doc)
    validate(doc)
    assert doc == before


def test_a_named_family_takes_the_version_the_payload_claims() -> None:
    v05 = _load("MeterData/v0.5/examples/DailyProfile.json")
    assert (validate(v05, "MeterData").version, validate(v05, "MeterData").valid) == ("0.5", True)
    # a payload claiming another family is validated as the family named, newest version
    assert validate(v05, "MeterDataRequest").version == "0.6"
