"""`ies meterdata validate|vee|generate`: exit codes 0/1/2, clear messages, machine-readable output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ies.cli.main import app
from ies.schemas import DATA_ROOT

runner = CliRunner()


@pytest.fixture
def generated(tmp_path: Path) -> tuple[Path, Path]:
    path, faults = tmp_path / "bulk.json", tmp_path / "faults.json"
    result = runner.invoke(
        app,
        [
            "meterdata",
            "generate",
            str(path),
            "--meters",
            "12",
            "--days",
            "2",
            "--faults",
            "10",
            "--seed",
            "3",
            "--faults-out",
            str(faults),
        ],
    )
    assert result.exit_code == 0, result.output
    return path, faults


def test_validate_reports_every_injected_fault_as_json(generated: tuple[Path, Path]) -> None:
    path, faults = generated
    result = runner.invoke(app, ["meterdata", "validate", str(path), "--json", "--per-meter"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["family"] == "MeterData" and report["version"] == "0.6" and report["valid"] is False
    reported = {
        (f["path"].split("/")[1], f.get("intervalId"), f["rule"])
        for f in report["errors"] + report["warnings"]
    }
    expected = {(str(f["element"]), f["interval_id"], f["rule"]) for f in json.loads(faults.read_text())}
    assert reported == expected
    assert len(report["bulk"]["perMeter"]) == 12


def test_validate_valid_file_exits_0() -> None:
    path = DATA_ROOT / "schemas" / "MeterData" / "v0.6" / "examples" / "MultiMeterBulkDataset.json"
    result = runner.invoke(app, ["meterdata", "validate", str(path)])
    assert result.exit_code == 0
    assert "valid" in result.stdout


def test_vee_writes_a_valid_file_and_a_summary(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    runner.invoke(app, ["meterdata", "generate", str(source), "--meters", "6", "--days", "2"])
    data = json.loads(source.read_text())
    del data[2]["intervals"][10:13]  # a 3-interval gap in the first meter
    source.write_text(json.dumps(data))
    result = runner.invoke(app, ["meterdata", "vee", str(source), str(target), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["outputValid"] is True
    assert summary["estimated"] == 3 and summary["missing"] == 3
    assert summary["readingsIn"] == summary["valid"]
    assert runner.invoke(app, ["meterdata", "validate", str(target)]).exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not json", "not JSON"),
        (b'[{"profileType": "DESCRIPTOR", "id": "x"', "truncated"),
        (
            b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}',
            "not a MeterData",
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "vee"])
def test_unusable_input_exits_2_with_a_clear_message(
    tmp_path: Path, content: bytes, message: str, command: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    args = ["meterdata", command, str(path)] + ([str(tmp_path / "out.json")] if command == "vee" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.json").exists()


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["meterdata", "validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
