"""Streaming bulk validation: injected faults found and nothing else, upstream verdicts, shared rule ids."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import InvalidJSON, UsageError
from ies.meterdata.bulk import validate_file
from ies.meterdata.report import BulkReport
from ies.meterdata.synth import FAULT_KINDS, generate, read_faults, write_faults
from ies.schemas import DATA_ROOT, validate
from ies.schemas import rule_ids as R

from .conftest import IMP, customer, descriptor, interval

MD06 = DATA_ROOT / "schemas" / "MeterData" / "v0.6"


def _found(report: BulkReport) -> set[tuple[int, int | None, str]]:
    return {(int(f.path.split("/")[1]), f.interval_id, f.rule) for f in report.findings}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_injected_fault_is_found_and_nothing_else(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "bulk.json"
    dataset = generate(path, meters=60, days=2, seed=seed, faults=50)
    write_faults(tmp_path / "faults.json", dataset)
    expected = {(f.element, f.interval_id, f.rule) for f in read_faults(tmp_path / "faults.json")}
    assert {f.kind for f in dataset.faults} == set(FAULT_KINDS)
    report = validate_file(path, max_findings=10_000)
    assert _found(report) == expected
    assert report.readings == dataset.readings
    assert len(report.meters) == 60
    faulty = {f.meter for f in dataset.faults}
    for meter, summary in report.meters.items():
        assert (summary.errors + summary.warnings > 0) == (meter in faulty)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    kinds=st.lists(st.sampled_from(sorted(FAULT_KINDS)), min_size=1, max_size=4, unique=True),
    share=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_each_fault_kind_fires_its_rule_and_no_other(
    tmp_path_factory: pytest.TempPathFactory, seed: int, kinds: list[str], share: float
) -> None:
    """Valid generated series, mutated in the ways the rules forbid: exactly the matching findings."""
    path = tmp_path_factory.mktemp("prop") / "bulk.json"
    dataset = generate(path, meters=12, days=1, seed=seed, faults=8, kinds=kinds, prosumer_share=share)
    report = validate_file(path, max_findings=10_000)
    assert _found(report) == {(f.element, f.interval_id, f.rule) for f in dataset.faults}


def test_clean_generated_file_is_valid_for_both_validators(tmp_path: Path) -> None:
    path = tmp_path / "clean.json"
    generate(path, meters=8, days=2, seed=4)
    assert validate_file(path).findings == []
    assert validate(json.loads(path.read_text()), "MeterData", "0.6", jsonld=False).errors == []


def test_upstream_examples_are_valid() -> None:
    files = [
        *sorted((MD06 / "examples").glob("*.json")),
        MD06 / "validation/test_cases/valid_interval_profile.json",
    ]
    files.append(DATA_ROOT / "use-cases" / "der-visibility" / "examples" / "schedule-ii-example.json")
    for path in files:
        report = validate_file(path)
        assert report.valid, (path.name, report.errors)


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("invalid_cumulative_decrease", R.MD_CUMULATIVE_DECREASE),
        ("invalid_math_consistency", R.MD_USAGE_MATH),
        ("invalid_missing_descriptor", R.MD_DESCRIPTOR_MISSING),
        ("invalid_missing_descriptor_ref", R.MD_DESCRIPTOR_REF_UNKNOWN),
        ("invalid_profile_type_mismatch", R.MD_PROFILE_TYPE_MISMATCH),
    ],
)
def test_upstream_invalid_cases_name_the_same_rule_as_the_document_validator(case: str, rule: str) -> None:
    path = MD06 / "validation" / "test_cases" / f"{case}.json"
    bulk_rules = {f.rule for f in validate_file(path).errors}
    assert rule in bulk_rules
    assert rule in validate(json.loads(path.read_text()), "MeterData", "0.6", jsonld=False).rules()


def _doc_rules(write_doc: Callable[[Any, str], Path], doc: list[dict[str, Any]]) -> set[str]:
    return {f.rule for f in validate_file(write_doc(doc, "d.json")).findings}


def test_registry_drives_units_and_profiles(write_doc: Callable[[Any, str], Path]) -> None:
    desc = descriptor()
    desc["payloadDescriptorSets"][0]["payloadDescriptors"][0]["unit"] = "kVAh"
    assert _doc_rules(write_doc, [desc, interval("m", [(0, [1.0]), (1, [1.0])])]) == {R.MD_UNIT_MISMATCH}
    daily = interval("m", [(0, [1.0])])
    daily["profileType"] = "DAILY"
    daily["intervalPeriod"]["duration"] = "P1D"
    assert R.MD_PROFILE_TYPE_MISMATCH in _doc_rules(write_doc, [descriptor(), daily])


def test_sanctioned_load_bounds_interval_energy(write_doc: Callable[[Any, str], Path]) -> None:
    # 2 kW sanctioned, 15 min: at most 2 × 0.25 × 5 = 2.5 kWh is plausible
    rows = [(0, [2.4]), (1, [2.6]), (2, [-0.1])]
    report = validate_file(write_doc([descriptor(), customer("m", 2.0), interval("m", rows)], "d.json"))
    assert {(f.interval_id, f.rule) for f in report.findings} == {
        (1, R.MD_VALUE_IMPLAUSIBLE),
        (2, R.MD_VALUE_IMPLAUSIBLE),
    }


def test_declared_meter_change_allows_the_register_to_restart(write_doc: Callable[[Any, str], Path]) -> None:
    rows = [(0, [1.0, 100.0, 101.0]), (1, [1.0, 101.0, 102.0]), (2, [1.0, 0.0, 1.0]), (3, [1.0, 1.0, 2.0])]
    doc = [descriptor(with_registers=True), interval("m", rows)]
    assert _doc_rules(write_doc, doc) == {R.MD_CUMULATIVE_DECREASE}
    change = {2: [{"descriptorIndex": 1, "validationStatus": "VALID", "changeMethod": "meter-change"}]}
    assert (
        _doc_rules(write_doc, [descriptor(with_registers=True), interval("m", rows, overrides=change)])
        == set()
    )


def test_per_row_period_off_the_grid(write_doc: Callable[[Any, str], Path]) -> None:
    profile = interval("m", [(0, [1.0]), (1, [1.0])])
    profile["intervals"][1]["intervalPeriod"] = {"start": "2026-05-04T00:20:00+05:30", "duration": "PT15M"}
    assert _doc_rules(write_doc, [descriptor(), profile]) == {R.MD_INTERVAL_MISALIGNED}


def test_wrong_cell_types_are_reported_per_cell(write_doc: Callable[[Any, str], Path]) -> None:
    profile = interval("m", [(0, [1.0]), (1, ["1.5"]), (2, [True])])  # type: ignore[list-item]
    report = validate_file(write_doc([descriptor(), profile], "d.json"))
    assert {(f.interval_id, f.rule) for f in report.findings} == {(1, R.MD_CELL_TYPE), (2, R.MD_CELL_TYPE)}


def test_ids_out_of_range_are_reported_not_dropped(write_doc: Callable[[Any, str], Path]) -> None:
    for rows in ([(0, [1.0]), (-3, [1.0]), (1, [1.0])], [(0, [1.0]), (1, [1.0]), (2**40, [1.0])]):
        report = validate_file(write_doc([descriptor(), interval("m", rows)], "d.json"))
        assert [(f.path, f.rule) for f in report.findings] == [
            (
                "/1/intervals/1/id" if rows[1][0] < 0 else "/1/intervals/2/id",
                "schema.minimum" if rows[1][0] < 0 else R.MD_INTERVAL_MISALIGNED,
            )
        ]


def test_reading_type_by_obis_or_short_label(write_doc: Callable[[Any, str], Path]) -> None:
    desc = descriptor()
    desc["payloadDescriptorSets"][0]["payloadDescriptors"][0]["readingType"] = "1.0.1.29.0.255"
    desc["payloadDescriptorSets"][0]["compactSequences"][0]["sequenceItems"][0]["readingType"] = (
        "1.0.1.29.0.255"
    )
    assert _doc_rules(write_doc, [desc, interval("m", [(0, [1.0])])]) == set()
    assert IMP == "kWh imp block"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"not json at all", InvalidJSON),
        (b'[{"profileType": "DESCRIPTOR", "id": "x", "payloadDescriptorSets": [', InvalidJSON),
        (b'[{"profileType": "INTERVAL", "meterRefs": [}]', InvalidJSON),
        (
            b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}',
            UsageError,
        ),
    ],
)
def test_unusable_input_raises_exit_2_errors(tmp_path: Path, content: bytes, error: type[Exception]) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        validate_file(path)
    assert caught.value.exit_code == 2  # type: ignore[attr-defined]


def test_memory_is_flat_in_the_number_of_meters(tmp_path: Path) -> None:
    """Peak traced memory for 4× the meters stays within a small margin of the 1× run, far below the file.

    Both files are several read chunks long, so the chunk buffers weigh the same in both runs; a warm-up
    run keeps one-off import allocations out of the measurement.
    """
    peaks = []
    for meters in (50, 200):
        path = tmp_path / f"m{meters}.json"
        generate(path, meters=meters, days=7, seed=meters)
        validate_file(path, batch_rows=5_000, chunk_bytes=128 * 1024)
        tracemalloc.start()
        report = validate_file(path, batch_rows=5_000, chunk_bytes=128 * 1024)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.valid
        peaks.append((peak, path.stat().st_size))
    (small_peak, _), (big_peak, big_size) = peaks
    assert big_peak < small_peak * 1.25 + 1_000_000
    assert big_peak < big_size / 2
