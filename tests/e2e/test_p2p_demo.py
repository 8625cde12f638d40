"""`ies demo p2p` as a user runs it: a real `ies` process that starts a network of node processes, trades
a day, settles, checks and writes its report. A small population here; the full issue-7 run (200
prosumers on two DISCOMs, 96 blocks) is the slow test below, run with IES_P2P_FULL_DEMO=1."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

IES = [sys.executable, "-m", "ies.cli.main"]


def demo(tmp_path: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IES, "demo", "p2p", "--out", str(tmp_path / "out"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env={**os.environ, "IES_NODE_REGISTRY_CACHE_TTL_S": "0.5"},
    )


def check_report(out: Path, prosumers: int) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text("utf-8"))
    checks = report["checks"]
    assert report["prosumers"] == prosumers and report["trades"] > 0
    assert (
        checks["ok"]
        and checks["trades"] == checks["recorded_both_ledgers"] == checks["converged_four_parties"]
    )
    assert checks["settled"] == checks["flows_balanced"] == report["trades"]
    assert report["disputes"]["checked"] == report["disputes"]["consistent"] > 0
    assert report["metrics"]["audit_pass_rate"] == 1.0
    assert {"GATE_CLOSED", "TRADED_POWER_OVER_CAP", "UNKNOWN_PROSUMER", "INELIGIBLE"} <= set(
        report["refusals_by_rule"]
    )
    assert (out / "p2p_day.png").stat().st_size > 10_000 and (out / "trades.csv").read_text().count("\n") > 1
    statements = list((out / "statements").glob("*.json"))
    assert statements and all(json.loads(p.read_text())["rows"] for p in statements)
    bills = report["bills"]
    assert bills["bills"] == bills["reconciled"] == prosumers  # every DISCOM bill matches the statements
    assert report["true_ups"]["trades_adjusted"] >= 1 and report["true_ups"]["adjustments_paise"]
    assert report["aggregator"]["prosumers"] >= 1
    impacts = list(csv.DictReader((out / "bill_impact.csv").open()))
    assert impacts and all(
        int(r["cost_with_p2p_paise"]) == int(r["discom_bill_paise"]) - int(r["settled_with_others_paise"])
        for r in impacts
    )
    return report


def test_a_small_intra_discom_demo_runs_and_balances(tmp_path: Path) -> None:
    proc = demo(tmp_path, "--prosumers", "8", "--discoms", "1", "--base-port", "19150")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "refusals by rule" in proc.stdout and "audit pass rate" in proc.stdout
    check_report(tmp_path / "out", 8)


def test_the_local_exchange_variant_clears_uniform_prices_and_balances(tmp_path: Path) -> None:
    proc = demo(tmp_path, "--prosumers", "6", "--discoms", "1", "--market", "auction", "--base-port", "19170")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "local exchange:" in proc.stdout and "(auction market)" in proc.stdout
    report = check_report(tmp_path / "out", 6)
    assert report["market"] == "auction" and report["auction"]["blocks_cleared"] > 0
    trades = list(csv.DictReader((tmp_path / "out" / "trades.csv").open()))
    assert trades and {t["market"] for t in trades if t["status"] == "COMPLETE"} == {"CALL_AUCTION"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--discoms", "3"], "--discoms"),
        (["--date", "2020-01-01"], "--date"),
        (["--date", "tomorrowish"], "--date"),
        (["--market", "dutch"], "--market"),
    ],
)
def test_unusable_options_exit_2_without_starting_anything(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = demo(tmp_path, *args, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("IES_P2P_FULL_DEMO") != "1", reason="the full demo takes minutes: IES_P2P_FULL_DEMO=1"
)
def test_the_full_demo_200_prosumers_on_two_discoms_balances(tmp_path: Path) -> None:
    proc = demo(tmp_path, "--prosumers", "200", "--discoms", "2", "--base-port", "19160", timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check_report(tmp_path / "out", 200)
