"""`ies usecases …` through the real command line: outputs for people and tools, and refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ies.cli.main import app
from ies.usecases.catalogue import load_catalogue

CATALOGUE = load_catalogue()
KEYS = CATALOGUE.criterion_keys
runner = CliRunner()


def ies(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["usecases", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_rank_table_shows_totals_and_ties() -> None:
    code, out, _ = ies("rank", "--top", "3")
    assert code == 0
    assert "0.791" in out and "2=" in out and "Customer onboarding" in out
    assert "Consent-based" not in out  # rank 4 is cut by --top 3


def test_rank_json_matches_every_published_total() -> None:
    code, out, _ = ies("rank", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 66
    assert set(rows[0]) >= {"rank", "name", "total", "scores", "stakeholders"}
    published = {u.name: float(u.published_total or 0) for u in CATALOGUE.use_cases}
    assert all(r["total"] == published[r["name"]] for r in rows)
    assert [r["rank"] for r in rows[:4]] == [1, 2, 2, 4] and rows[1]["tied"] is True
    assert set(rows[0]["scores"]) == set(KEYS)


def test_rank_top_keeps_ties_and_csv_is_parseable() -> None:
    code, out, _ = ies("rank", "--top", "2", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["rank"], r["tied"]) for r in rows] == [("1", "no"), ("2", "yes"), ("2", "yes")]


def test_rank_per_stakeholder() -> None:
    code, out, _ = ies("rank", "--stakeholder", "regulators", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows and all("Regulators" in r["stakeholders"] for r in rows)
    assert rows[0]["name"] == "Subsidy eligibility and benefit delivery" and rows[0]["rank"] == 1
    code, out, _ = ies("rank", "--by-stakeholder", "--top", "1", "--json")
    lists = json.loads(out)
    assert code == 0 and list(lists) == CATALOGUE.stakeholders
    assert [r["name"] for r in lists["DISCOMs"]] == ["Customer onboarding and service connection"]


def test_rank_with_weights_on_one_criterion(tmp_path: Path) -> None:
    spec = ",".join(f"{k}={1 if k == 'system_impact' else 0}" for k in KEYS)
    code, out, _ = ies("rank", "--weights", spec, "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["scores"]["system_impact"] == 10 and rows[0]["total"] == 1.0
    assert all(r["total"] == r["scores"]["system_impact"] / 10 for r in rows)
    weights = tmp_path / "regulator.yaml"
    weights.write_text("weights:\n  consumer_centricity: 40\n")
    code, out, _ = ies("rank", "--weights", str(weights), "--json", "--top", "1")
    assert code == 0 and json.loads(out)[0]["scores"]["consumer_centricity"] == 9


def test_sensitivity_json_is_reproducible_for_a_seed() -> None:
    args = ("sensitivity", "--json", "--samples", "300", "--seed", "7", "--top", "3")
    code, first, _ = ies(*args)
    assert code == 0 and ies(*args)[1] == first
    data = json.loads(first)
    assert data["top_n"] == 3 and data["monte_carlo"]["seed"] == 7
    best = data["one_at_a_time"]["most_influential"]
    assert (
        best["criterion"] == "ies_leverage" and best["entered_top_n"][0]["id"] == "consent-based-data-sharing"
    )


def test_sensitivity_table_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "ranking.png"
    code, out, err = ies("sensitivity", "--samples", "200", "--plot", str(png))
    assert code == 0
    assert "Most influential single assumption" in out and "P(top 10)" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert "chart written" in err


def test_calibrate_writes_a_midline_that_rank_reads(tmp_path: Path) -> None:
    a, b, mid = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "mid.csv"
    assert ies("sheet", "--out", str(a))[0] == 0
    rows = list(csv.reader(a.open()))
    header, consent = rows[0], next(r for r in rows if r[0] == "consent-based-data-sharing")
    consent[header.index("value_demand")] = "2"
    with b.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, out, _ = ies("calibrate", str(a), str(b), "--out", str(mid), "--json")
    assert code == 0
    report = json.loads(out)
    assert [(d["id"], d["criterion"], d["a"], d["b"]) for d in report["disagreements"]] == [
        ("consent-based-data-sharing", "value_demand", 8.0, 2.0)
    ]
    code, out, _ = ies("rank", "--scores", str(mid), "--json")
    consent_row = next(r for r in json.loads(out) if r["id"] == "consent-based-data-sharing")
    assert code == 0 and consent_row["scores"]["value_demand"] == 5 and consent_row["total"] == 0.681
    code, out, _ = ies("calibrate", str(a), str(b), "--threshold", "6")
    assert code == 0 and "No score differs by more than 6" in out


def test_coverage_criteria_and_show() -> None:
    code, out, _ = ies("coverage", "--json")
    assert code == 0
    data = json.loads(out)
    assert len(data["use_cases"]) == 66 and data["problems"] == []
    assert any(a["id"] == "usecase-prioritisation" for a in data["project_additions"])
    code, out, _ = ies("coverage")
    assert code == 0 and "[project addition]" in out and "project additions: 1" in out
    code, out, _ = ies("criteria", "--json")
    assert code == 0 and [c["weight_percent"] for c in json.loads(out)] == [20, 20, 20, 10, 8, 8, 5, 9]
    code, out, _ = ies("show", "3", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["rank"] == 4 and shown["total"] == 0.741
    code, out, _ = ies("show", "peer-to-peer-and-local-prosumer-trading-pilots")
    assert code == 0 and "§12.1.2" in out


def _bad_sheet(tmp_path: Path, body: str) -> str:
    path = tmp_path / "bad.csv"
    path.write_text("id," + ",".join(KEYS) + "\n" + body)
    return str(path)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["rank", "--weights", "value_demand=-5"], 2, "must not be negative"),
        (["rank", "--weights", ",".join(f"{k}=0" for k in KEYS)], 2, "sum to a positive number"),
        (["rank", "--weights", "popularity=3"], 2, "unknown criterion 'popularity'"),
        (["rank", "--weights", "no-such-file.yaml"], 2, "not found"),
        (["rank", "--stakeholder", "Aliens"], 2, "unknown stakeholder"),
        (["rank", "--json", "--csv"], 2, "choose one of --json and --csv"),
        (["rank", "--top", "0"], 2, "--top must be at least 1"),
        (["rank", "--plot", "chart.svg"], 2, "PNG"),
        (["show", "99"], 1, "unknown use case '99'"),
        (["show", "consent-based-data-sharin"], 1, "did you mean"),
        (["sensitivity", "--weight-jitter", "1.5"], 2, "--weight-jitter"),
        (["sensitivity", "--samples", "0"], 2, "--samples"),
        (["calibrate", "missing-a.csv", "missing-b.csv"], 2, "not found"),
        (["calibrate", "a.csv", "a.csv", "--threshold", "two"], 2, "--threshold must be a number"),
        (["calibrate", "a.csv", "a.csv", "--threshold", "nan"], 2, "--threshold must be a number of points"),
        (["criteria", "--weights", "1=x"], 2, "must be a number"),
    ],
)
def test_bad_input_gets_a_clear_error_and_exit_code(args: list[str], code: int, message: str) -> None:
    exit_code, _, err = ies(*args)
    assert exit_code == code
    assert message in " ".join(err.split())


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("consent-based-data-sharing,8,6,6,10,8,7,8,12\n", 2, "outside 0–10"),
        ("consent-based-data-sharing,8,6,6,10,8,7,8\n", 2, "8 fields, the header has 9"),
        ("nonexistent-use-case,8,6,6,10,8,7,8,9\n", 1, "unknown use case"),
        ("", 2, "no use cases"),
    ],
)
def test_bad_score_sheets_are_refused_by_the_cli(tmp_path: Path, body: str, code: int, message: str) -> None:
    sheet = _bad_sheet(tmp_path, body)
    for args in (["rank", "--scores", sheet], ["calibrate", sheet, sheet]):
        exit_code, _, err = ies(*args)
        assert exit_code == code and message in " ".join(err.split())
