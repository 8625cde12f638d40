"""Reviewers' score sheets: strict parsing, round trips, and the calibration of two sheets."""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ies.usecases.catalogue import (
    InvalidScoreSheet,
    ScoreSheet,
    UnknownUseCase,
    Weights,
    calibrate,
    load_catalogue,
    parse_sheet,
    rank_use_cases,
    read_sheet,
    write_sheet,
)
from ies.usecases.catalogue._render import ranking_csv

CATALOGUE = load_catalogue()
KEYS = CATALOGUE.criterion_keys
HEADER = "id," + ",".join(KEYS)


def _template() -> str:
    out = io.StringIO()
    write_sheet(ScoreSheet.from_catalogue(CATALOGUE), CATALOGUE, out)
    return out.getvalue()


def test_template_round_trips_to_the_published_scores() -> None:
    sheet = parse_sheet(_template(), CATALOGUE)
    assert len(sheet.rows) == 66
    for uc in CATALOGUE.use_cases:
        assert sheet.rows[uc.id].scores == uc.scores


def test_rank_csv_output_reads_back_as_a_sheet() -> None:
    out = io.StringIO()
    ranking_csv(rank_use_cases(CATALOGUE, Weights.default(CATALOGUE)), CATALOGUE, out)
    sheet = parse_sheet(out.getvalue(), CATALOGUE)
    assert sheet.rows["hvdc-corridor-operations"].scores["consumer_centricity"] == 0


def test_sheet_may_name_use_cases_by_number_or_name_and_carry_evidence() -> None:
    text = (
        "number," + ",".join(KEYS) + ",system_impact_evidence,notes\n"
        '3,8,6,6,10,8,7,8,9,"consent managers live in two DISCOMs",checked\n'
    )
    row = parse_sheet(text, CATALOGUE).rows["consent-based-data-sharing"]
    assert (
        row.evidence == {"system_impact": "consent managers live in two DISCOMs"} and row.notes == "checked"
    )
    by_name = parse_sheet(
        "name," + ",".join(KEYS) + "\nConsent-based data sharing,1,2,3,4,5,6,7,7.5\n", CATALOGUE
    )
    assert by_name.rows["consent-based-data-sharing"].scores["failure_learning"] == Decimal("7.5")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", InvalidScoreSheet, "empty"),
        (HEADER + "\n", InvalidScoreSheet, "no use cases"),
        ("id,value_demand\n3,8\n", InvalidScoreSheet, "missing criterion columns consumer_centricity"),
        ("use," + ",".join(KEYS) + "\n", InvalidScoreSheet, "no use-case column"),
        (HEADER + ",sytem_impact\n", InvalidScoreSheet, "unknown columns sytem_impact \\(did you mean"),
        (HEADER + ",id\n", InvalidScoreSheet, "duplicate columns id"),
        (HEADER + "\n3,8,6,6,ten,8,7,8,9\n", InvalidScoreSheet, "line 2, ies_leverage: score 'ten' is not a"),
        (HEADER + "\n3,8,6,6,11,8,7,8,9\n", InvalidScoreSheet, "score '11' is outside 0–10"),
        (HEADER + "\n3,8,6,-1,10,8,7,8,9\n", InvalidScoreSheet, "outside 0–10"),
        (HEADER + "\n3,8,6,,10,8,7,8,9\n", InvalidScoreSheet, "not a number"),
        (HEADER + "\n3,8,6,6,10,8,7,8\n", InvalidScoreSheet, "line 2: 8 fields, the header has 9"),
        (HEADER + "\n3,8,6,6,10,8,7,8,9\nconsent-based-data-sharing,8,6,6,10,8,7,8,9\n", InvalidScoreSheet,
         "line 3: 'Consent-based data sharing' is scored twice"),
        (HEADER + "\n99,8,6,6,10,8,7,8,9\n", UnknownUseCase, "line 2: unknown use case '99'"),
        (HEADER + '\n"3,8\n', InvalidScoreSheet, "fields"),
    ],
)  # fmt: skip
def test_malformed_sheets_are_refused_with_the_line(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_sheet(text, CATALOGUE)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidScoreSheet, match="not found"):
        read_sheet(tmp_path / "missing.csv", CATALOGUE)
    binary = tmp_path / "sheet.csv"
    binary.write_bytes(b"\xff\xfe\x00id,\x81\x82")
    with pytest.raises(InvalidScoreSheet, match="cannot read"):
        read_sheet(binary, CATALOGUE)


def _sheet(source: str, rows: dict[int, list[int | str]], evidence: str = "") -> ScoreSheet:
    lines = ["number," + ",".join(KEYS) + ",system_impact_evidence"]
    lines += [",".join(map(str, [n, *scores, evidence])) for n, scores in rows.items()]
    return parse_sheet("\n".join(lines) + "\n", CATALOGUE, source)


def test_calibration_flags_gaps_above_the_threshold_and_builds_the_midline() -> None:
    a = _sheet("A", {2: [8, 9, 6, 9, 8, 7, 8, 9], 3: [8, 6, 6, 10, 8, 7, 8, 9]}, "A saw a pilot")
    b = _sheet("B", {2: [8, 9, 9, 9, 8, 7, 8, 9], 3: [5, 6, 6, 10, 8, 7, 8, 7]}, "B saw a pilot")
    cal = calibrate(a, b, CATALOGUE, Decimal(2))
    assert [(d.use_case_id, d.criterion, d.a, d.b) for d in cal.disagreements] == [
        ("customer-onboarding-and-service-connection", "system_impact", 6, 9),
        ("consent-based-data-sharing", "value_demand", 8, 5),
    ]  # the failure_learning gap of exactly 2 is not above the threshold
    mid = cal.midline.rows["consent-based-data-sharing"]
    assert mid.scores["value_demand"] == Decimal("6.5") and mid.scores["failure_learning"] == 8
    assert mid.evidence["system_impact"] == "A: A saw a pilot | B: B saw a pilot"
    assert cal.per_criterion["value_demand"] == {"disagreements": 1, "mean_gap": 1.5, "max_gap": 3.0}
    # The midline sheet is itself a valid sheet that re-ranks the catalogue.
    out = io.StringIO()
    write_sheet(cal.midline, CATALOGUE, out)
    rescored = CATALOGUE.with_scores(parse_sheet(out.getvalue(), CATALOGUE).rescored(CATALOGUE))
    consent = next(r for r in rank_use_cases(rescored, Weights.default(CATALOGUE)) if r.use_case.number == 3)
    assert consent.total == Fraction(
        Decimal("0.741") - Decimal("0.2") * Decimal("1.5") / 10 - Decimal("0.09") / 10
    )


def test_calibration_needs_the_same_use_cases_and_a_sane_threshold() -> None:
    a = _sheet("A", {2: [8] * 8, 3: [8] * 8})
    b = _sheet("B", {2: [8] * 8, 4: [8] * 8})
    with pytest.raises(InvalidScoreSheet, match="only in A: consent-based-data-sharing"):
        calibrate(a, b, CATALOGUE, Decimal(2))
    with pytest.raises(InvalidScoreSheet, match="threshold"):
        calibrate(a, a, CATALOGUE, Decimal(-1))
