"""`ies validate` and `ies schemas …`: exit codes 0/1/2, the JSON report shape, clear messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ies.cli import schemas as schemas_cli
from ies.schemas import DATA_ROOT

SCHEMAS = DATA_ROOT / "schemas"
VALID = SCHEMAS / "MeterData" / "v0.6" / "examples" / "IntervalProfile.json"
INVALID = SCHEMAS / "MeterData" / "v0.6" / "validation" / "test_cases" / "invalid_cumulative_decrease.json"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    schemas_cli.register(app)
    return app


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_valid_file_exits_0(app: typer.Typer) -> None:
    code, out, _ = _run(app, "validate", str(VALID))
    assert code == 0
    assert "valid" in out and "MeterData@0.6" in out


def test_invalid_file_exits_1_and_names_the_rule(app: typer.Typer) -> None:
    code, out, _ = _run(app, "validate", str(VALID), str(INVALID))
    assert code == 1
    assert "[md.cumulative-decrease] /1/intervals/1/payloads/0" in out


def test_json_reports_one_object_per_file(app: typer.Typer) -> None:
    code, out, _ = _run(app, "validate", "--json", str(VALID), str(INVALID))
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert set(first) >= {"file", "family", "version", "valid", "errors"}
    assert (first["file"], first["valid"], first["errors"]) == (str(VALID), True, [])
    assert second["valid"] is False
    assert second["errors"] == [
        {
            "path": "/1/intervals/1/payloads/0",
            "rule": "md.cumulative-decrease",
            "message": "cumulative register decreased from 100.5 to 99.4",
        }
    ]


@pytest.mark.parametrize(
    ("content", "rule", "text"),
    [
        ("{ not json", "input.not-json", "is not JSON"),
        ('{"hello": "world"}', "input.unknown-family", "cannot tell the schema family"),
    ],
)
def test_unusable_input_exits_2(app: typer.Typer, tmp_path: Path, content: str, rule: str, text: str) -> None:
    path = tmp_path / "payload.json"
    path.write_text(content)
    code, _, err = _run(app, "validate", str(path))
    assert code == 2
    assert text in err
    code, out, _ = _run(app, "validate", "--json", str(path), str(VALID))
    assert code == 2  # unusable wins over valid
    report = json.loads(out.splitlines()[0])
    assert report["valid"] is False and report["errors"][0]["rule"] == rule


def test_unreadable_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    code, _, err = _run(app, "validate", str(tmp_path / "missing.json"))
    assert code == 2
    assert "cannot read" in err


def test_explicit_schema(app: typer.Typer) -> None:
    assert _run(app, "validate", "--schema", "MeterData@0.6", str(VALID))[0] == 0
    code, out, _ = _run(app, "validate", "--schema", "MeterDataRequest@0.6", str(VALID))
    assert code == 1 and "schema." in out
    code, _, err = _run(app, "validate", "--schema", "Nope@1", str(VALID))
    assert code == 2 and "unknown schema family" in err


def test_strict_and_at(app: typer.Typer) -> None:
    arr = SCHEMAS / "ArrFiling" / "v0.5" / "examples" / "arr_filings.json"
    assert _run(app, "validate", str(arr))[0] == 0
    assert _run(app, "validate", "--strict", str(arr))[0] == 1
    credential = SCHEMAS / "ElectricityCredential" / "v1.2" / "examples" / "example.json"
    assert _run(app, "validate", "--at", "2025-06-01T00:00:00Z", str(credential))[0] == 0
    code, out, _ = _run(app, "validate", "--at", "2027-01-01T00:00:00Z", str(credential))
    assert code == 1 and "vc.validity-window" in out
    assert _run(app, "validate", "--at", "tomorrow", str(credential))[0] == 2


def test_schemas_list_shows_family_version_status(app: typer.Typer) -> None:
    code, out, _ = _run(app, "schemas", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {"family": "MeterData", "version": "0.6", "status": "stable", "examples": 25} in rows
    assert len(rows) == 11
    code, out, _ = _run(app, "schemas", "list")
    assert code == 0 and "ElectricityCredential" in out and "superseded" in out


def test_schemas_rules_lists_ids(app: typer.Typer) -> None:
    code, out, _ = _run(app, "schemas", "rules", "--json")
    assert code == 0
    assert "md.cumulative-decrease" in json.loads(out)


def test_schemas_drift_on_a_mutated_context(app: typer.Typer, tmp_path: Path) -> None:
    assert _run(app, "schemas", "drift", "ArrFiling@0.5")[0] == 0
    context = json.loads((SCHEMAS / "ArrFiling" / "v0.5" / "context.jsonld").read_text())
    context["@context"]["reviewDrift"] = "ies:reviewDrift"
    path = tmp_path / "context.jsonld"
    path.write_text(json.dumps(context))
    code, out, _ = _run(app, "schemas", "drift", "ArrFiling@0.5", "--context", str(path))
    assert code == 1 and "jsonld.context-drift" in out and "reviewDrift" in out


def test_schemas_expand_offline(app: typer.Typer) -> None:
    code, out, _ = _run(
        app, "schemas", "expand", str(SCHEMAS / "MeterData" / "v0.5" / "examples" / "DailyProfile.json")
    )
    assert code == 0
    assert "https://" in json.dumps(json.loads(out))


def test_stream_delegates_to_the_bulk_validator_with_the_same_rule_ids(app: typer.Typer) -> None:
    code, out, _ = _run(app, "validate", "--json", "--stream", str(INVALID))
    assert code == 1
    streamed = json.loads(out)
    assert "bulk" in streamed  # produced by ies.meterdata.bulk
    in_memory = json.loads(_run(app, "validate", "--json", str(INVALID))[1])
    assert [(e["path"], e["rule"]) for e in streamed["errors"]] == [
        (e["path"], e["rule"]) for e in in_memory["errors"]
    ]


def test_large_meter_data_arrays_are_streamed_automatically(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = SCHEMAS / "MeterData" / "v0.6" / "examples" / "MultiMeterBulkDataset.json"
    assert "bulk" not in json.loads(_run(app, "validate", "--json", str(bulk))[1])
    monkeypatch.setattr(schemas_cli, "BULK_THRESHOLD_BYTES", 1024)
    code, out, _ = _run(app, "validate", "--json", str(bulk))
    assert code == 0
    assert json.loads(out)["bulk"]["meters"] >= 1
    # a credential is never mistaken for a bulk array, whatever its size
    credential = SCHEMAS / "MeterDataCredential" / "v0.6" / "examples" / "example-interval-profile.json"
    assert "bulk" not in json.loads(_run(app, "validate", "--json", str(credential))[1])


def test_standard_input(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["validate", "--json", "-"], input=INVALID.read_bytes())
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"][0]["rule"] == "md.cumulative-decrease"
