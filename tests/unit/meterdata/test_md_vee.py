"""VEE: estimation values and methods, flags, never across a meter change, output is MeterData 0.6."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.meterdata._estimate import (
    METHOD_LINEAR,
    METHOD_NONE,
    METHOD_TIME_OF_DAY,
    METHOD_WEEKDAY,
    estimate_series,
    nan_runs,
)
from ies.meterdata.bulk import validate_file
from ies.meterdata.synth import generate
from ies.meterdata.vee import MISSING_FAIL_CODE, run_vee
from ies.schemas import DATA_ROOT, validate
from ies.schemas import rule_ids as R

from .conftest import customer, descriptor, interval

PER_DAY = 96


def _rows_by_id(path: Path, element: int) -> dict[int, dict[str, Any]]:
    doc = json.loads(path.read_text())
    return {row["id"]: row for row in doc[element]["intervals"]}


def _vee(write_doc: Callable[[Any, str], Path], doc: list[dict[str, Any]], **kwargs: Any) -> tuple[Any, Path]:
    source = write_doc(doc, "in.json")
    target = source.with_name("out.json")
    return run_vee(source, target, **kwargs), target


def test_short_gap_is_linearly_interpolated_and_flagged(write_doc: Callable[[Any, str], Path]) -> None:
    rows = [(0, [1.0]), (1, [2.0]), (4, [5.0]), (5, [6.0])]
    summary, out = _vee(write_doc, [descriptor(), interval("m", rows)])
    written = _rows_by_id(out, 1)
    assert [written[i]["payloads"] for i in range(6)] == [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]
    for i in (2, 3):
        assert written[i]["overrides"] == [
            {
                "descriptorIndex": 0,
                "validationStatus": "ESTIMATED",
                "source": "ESTIMATED",
                "changeMethod": "linear-interpolation",
                "failCode": MISSING_FAIL_CODE,
            }
        ]
    assert "overrides" not in written[1]
    assert (summary.readings_in, summary.valid, summary.missing, summary.estimated, summary.rejected) == (
        4,
        4,
        2,
        2,
        0,
    )
    assert summary.output_valid


def test_long_gap_takes_the_same_weekday_profile(write_doc: Callable[[Any, str], Path]) -> None:
    days = 15
    values = [round(0.1 + (i % PER_DAY) / 100 + (i // PER_DAY) / 1000, 4) for i in range(days * PER_DAY)]
    gap = range(10 * PER_DAY + 40, 10 * PER_DAY + 52)  # 12 blocks on day 10 (3 hours)
    rows = [(i, [v]) for i, v in enumerate(values) if i not in gap]
    summary, out = _vee(write_doc, [descriptor(), interval("m", rows)])
    written = _rows_by_id(out, 1)
    for i in gap:
        assert written[i]["payloads"] == [pytest.approx(values[i - 7 * PER_DAY])]  # day 3: same weekday
        assert written[i]["overrides"][0]["changeMethod"] == "same-weekday-profile"
    assert summary.methods == {"same-weekday-profile": 12}
    assert summary.output_valid


def test_series_shorter_than_two_weeks_uses_the_same_block_of_other_days() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0] * 3)
    y[4:8] = np.nan  # the whole second "day" of a 4-block day
    est = estimate_series(y, np.zeros(12, dtype=np.int64), per_day=4, max_interp=2)
    assert est.values[4:8].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert (est.method[4:8] == METHOD_TIME_OF_DAY).all()


def test_rejected_reading_is_replaced_and_carries_the_rule_that_rejected_it(
    write_doc: Callable[[Any, str], Path],
) -> None:
    rows = [(0, [1.0]), (1, [1.2]), (2, [99.0]), (3, [1.6]), (4, [1.8])]  # 99 kWh in 15 min on 2 kW
    summary, out = _vee(write_doc, [descriptor(), customer("m", 2.0), interval("m", rows)])
    written = _rows_by_id(out, 2)
    assert written[2]["payloads"] == [pytest.approx(1.4)]
    assert written[2]["overrides"][0]["failCode"] == R.MD_VALUE_IMPLAUSIBLE
    assert written[2]["overrides"][0]["changeMethod"] == "linear-interpolation"
    assert (summary.rejected, summary.estimated, summary.valid) == (1, 1, 4)
    assert summary.output_valid


def test_estimates_are_scaled_to_the_register_and_registers_chained(
    write_doc: Callable[[Any, str], Path],
) -> None:
    # registers say 3.0 kWh went through ids 2..3; the neighbours would interpolate 1.0 + 1.0
    rows = [
        (0, [1.0, 100.0, 101.0]),
        (1, [1.0, 101.0, 102.0]),
        (4, [1.0, 105.0, 106.0]),
        (5, [1.0, 106.0, 107.0]),
    ]
    summary, out = _vee(write_doc, [descriptor(with_registers=True), interval("m", rows)])
    written = _rows_by_id(out, 1)
    assert written[2]["payloads"] == pytest.approx([1.5, 102.0, 103.5])
    assert written[3]["payloads"] == pytest.approx([1.5, 103.5, 105.0])
    assert [o["descriptorIndex"] for o in written[2]["overrides"]] == [0, 1, 2]
    assert summary.output_valid


def test_usage_math_fault_is_repaired_from_the_register(write_doc: Callable[[Any, str], Path]) -> None:
    rows = [(0, [1.0, 100.0, 101.0]), (1, [7.0, 101.0, 102.5]), (2, [1.0, 102.5, 103.5])]
    summary, out = _vee(write_doc, [descriptor(with_registers=True), interval("m", rows)])
    written = _rows_by_id(out, 1)
    assert written[1]["payloads"] == pytest.approx([1.5, 101.0, 102.5])
    assert written[1]["overrides"][0]["failCode"] == R.MD_USAGE_MATH
    assert summary.output_valid


def test_never_interpolates_across_a_declared_meter_change(write_doc: Callable[[Any, str], Path]) -> None:
    # old meter reads ~1 kWh per block, new meter (from id 4, declared) ~9; ids 2..3 are missing
    change = {4: [{"descriptorIndex": 0, "validationStatus": "VALID", "changeMethod": "meter-change"}]}
    rows = [(i, [1.0]) for i in range(2)] + [(i, [9.0]) for i in range(4, 8)]
    summary, out = _vee(write_doc, [descriptor(), interval("m", rows, overrides=change)])
    written = _rows_by_id(out, 1)
    assert 2 not in written and 3 not in written  # one-sided and no history: left missing, not blended
    assert summary.unresolved == 2
    kept_rejected = summary.rejected - summary.dropped_readings
    assert summary.estimated + summary.unresolved == kept_rejected + summary.missing
    y = np.array([1.0, 1.0, np.nan, np.nan, 9.0, 9.0])
    est = estimate_series(y, np.array([0, 0, 0, 0, 1, 1]), per_day=None)
    assert np.isnan(est.values[2:4]).all() and (est.method[2:4] == METHOD_NONE).all()


def test_weekday_profile_only_uses_the_same_meter_segment() -> None:
    per_day, days = 4, 15
    y = np.where(np.arange(days * per_day) < 9 * per_day, 1.0, 5.0)  # meter change at the start of day 9
    segment = (np.arange(days * per_day) >= 9 * per_day).astype(np.int64)
    y[10 * per_day : 10 * per_day + 3] = np.nan  # new meter, day 10: same weekday only in the old segment
    est = estimate_series(y, segment, per_day=per_day, max_interp=1)
    assert est.values[10 * per_day : 10 * per_day + 3].tolist() == [5.0, 5.0, 5.0]
    assert (est.method[10 * per_day : 10 * per_day + 3] == METHOD_TIME_OF_DAY).all()


def test_two_meters_of_one_service_point_are_estimated_separately(
    write_doc: Callable[[Any, str], Path],
) -> None:
    old = interval("old", [(0, [1.0]), (1, [1.0]), (3, [1.0])])
    new = interval("new", [(0, [9.0]), (1, [9.0]), (3, [9.0])], start="2026-05-04T01:00:00+05:30")
    _, out = _vee(write_doc, [descriptor(), old, new])
    assert _rows_by_id(out, 1)[2]["payloads"] == [1.0]
    assert _rows_by_id(out, 2)[2]["payloads"] == [9.0]


def test_duplicates_are_dropped_and_order_restored(write_doc: Callable[[Any, str], Path]) -> None:
    rows = [(0, [1.0]), (2, [3.0]), (1, [2.0]), (2, [3.0]), (3, [4.0])]
    summary, out = _vee(write_doc, [descriptor(), interval("m", rows)])
    doc = json.loads(out.read_text())
    assert [(r["id"], r["payloads"]) for r in doc[1]["intervals"]] == [
        (0, [1.0]),
        (1, [2.0]),
        (2, [3.0]),
        (3, [4.0]),
    ]
    assert (summary.duplicates_dropped, summary.reordered, summary.rejected) == (1, 1, 1)


def test_a_real_register_decrease_is_left_flagged_and_reported(write_doc: Callable[[Any, str], Path]) -> None:
    rows = [
        (0, [1.0, 100.0, 101.0]),
        (1, [1.0, 101.0, 102.0]),
        (2, [1.0, 50.0, 51.0]),
        (3, [1.0, 51.0, 52.0]),
    ]
    summary, out = _vee(write_doc, [descriptor(with_registers=True), interval("m", rows)])
    assert not summary.output_valid
    assert {f.rule for f in summary.residual} == {R.MD_CUMULATIVE_DECREASE}
    assert _rows_by_id(out, 1)[2]["overrides"][0]["validationStatus"] == "REJECTED"


def test_output_of_generated_faults_validates_against_meterdata_06(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    fixable = ["gap", "duplicate", "order", "usage-math", "implausible", "quality-flag"]
    dataset = generate(source, meters=24, days=8, seed=11, faults=18, kinds=fixable)
    assert not validate_file(source).valid
    summary = run_vee(source, target)
    assert summary.output_valid and summary.output_errors == 0 and summary.document_checked
    assert validate_file(target).findings == []
    assert validate(json.loads(target.read_text()), "MeterData", "0.6", jsonld=False).errors == []
    assert summary.readings_in == dataset.readings
    assert summary.valid + summary.rejected == summary.readings_in
    # every rejected reading (but those of dropped duplicate rows) and every missing one was estimated
    assert summary.estimated == summary.rejected - summary.dropped_readings + summary.missing
    assert summary.unresolved == 0 and summary.duplicates_dropped > 0


@settings(max_examples=40, deadline=None)
@given(
    slope=st.floats(-5, 5),
    intercept=st.floats(0, 100),
    start=st.integers(1, 10),
    length=st.integers(1, 4),
)
def test_linear_interpolation_of_a_straight_line_is_exact(
    slope: float, intercept: float, start: int, length: int
) -> None:
    line = intercept + slope * np.arange(20.0)
    y = line.copy()
    y[start : start + length] = np.nan
    est = estimate_series(y, np.zeros(20, dtype=np.int64), per_day=None, max_interp=4)
    assert np.allclose(est.values[start : start + length], line[start : start + length])
    assert (est.method[start : start + length] == METHOD_LINEAR).all()


def test_nan_runs() -> None:
    assert nan_runs(np.array([True, True, False, True, False, False, True])) == [(0, 1), (3, 3), (6, 6)]
    assert nan_runs(np.zeros(3, dtype=bool)) == []


def test_cumulative_registers_are_never_profiled() -> None:
    y = np.arange(40, dtype=float)
    y[10:30] = np.nan
    est = estimate_series(y, np.zeros(40, dtype=np.int64), per_day=4, max_interp=2, cumulative=True)
    assert np.allclose(est.values[10:30], np.arange(10, 30))
    y[35:] = np.nan  # open end: no right neighbour, nothing estimated
    est = estimate_series(y, np.zeros(40, dtype=np.int64), per_day=4, cumulative=True)
    assert np.isnan(est.values[35:]).all()
    assert METHOD_WEEKDAY not in est.method.tolist()


def test_elaborated_rows_get_estimated_readings_inline(tmp_path: Path) -> None:
    example = DATA_ROOT / "schemas" / "MeterData" / "v0.6" / "examples" / "IntervalProfile_Elaborated.json"
    doc = json.loads(example.read_text())
    del doc[1]["intervals"][2]  # id 2: 5.21 kWh import, 0.12 kWh export
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps(doc))
    summary = run_vee(source, target)
    row = _rows_by_id(target, 1)[2]
    assert "payloads" not in row
    imp, exp = row["readings"]
    assert imp["readingType"] == "kWh imp block" and imp["value"] == pytest.approx((4.85 + 5.04) / 2)
    assert imp["validationStatus"] == "ESTIMATED" and imp["changeMethod"] == "linear-interpolation"
    assert imp["failCode"] == MISSING_FAIL_CODE and exp["value"] == pytest.approx(0.0)
    assert summary.output_valid and summary.estimated == 2
    assert validate(json.loads(target.read_text()), "MeterData", "0.6", jsonld=False).errors == []


def test_clean_profiles_are_copied_byte_for_byte(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    generate(source, meters=3, days=1, seed=2)
    summary = run_vee(source, target)
    assert summary.output_valid and summary.estimated == summary.rejected == 0
    assert [_canonical(p) for p in json.loads(target.read_text())] == [
        _canonical(p) for p in json.loads(source.read_text())
    ]
    assert target.read_bytes().replace(b"\n", b"") == source.read_bytes().replace(b"\n", b"")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
