"""`ies assets …` through typer's CliRunner on the real `ies` app, against each database backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ies.cli.main import app
from ies.registry import assets as A

D = "did:web:ies.discom.example"
METER = f"{D}:assets:meter:NM-44090001"
runner = CliRunner()


def ies(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def loaded(db_url: str) -> str:
    code, out, err = ies("assets", "import", str(A.sample_csv_path()), "--db", db_url, "--actor", "ops")
    assert code == 0, err
    assert "37 rows, 37 created, 0 updated, 0 unchanged, 0 refused" in out
    return db_url


def test_import_is_idempotent_and_json_reports_counts(loaded: str) -> None:
    code, out, _ = ies("assets", "import", str(A.sample_csv_path()), "--db", loaded, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["created"], report["unchanged"], report["errors"]) == (0, 37, [])


def test_show_prints_the_entity_and_its_path(loaded: str) -> None:
    code, out, _ = ies("assets", "show", METER, "--db", loaded, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["entity"]["attributes"]["energy_direction"] == "BIDIRECTIONAL"
    assert shown["entity"]["updated_by"] == "ops"
    assert [a["entity_class"] for a in shown["ancestors"]] == [
        "service-point",
        "dt",
        "feeder",
        "substation",
        "discom",
    ]
    code, out, _ = ies("assets", "show", METER, "--db", loaded)
    assert code == 0 and "NM-44090001" in out and "Genus Power" in out


def test_tree_shows_everything_below(loaded: str) -> None:
    code, out, _ = ies("assets", "tree", f"{D}:assets:dt:DT-11KV-F01-101", "--db", loaded, "--json")
    assert code == 0
    below = json.loads(out)["descendants"]
    assert {n["entity"]["local_id"] for n in below if n["depth"] == 1} == {"SP-0001", "SP-0002"}
    assert {n["entity"]["entity_class"] for n in below if n["depth"] == 2} == {
        "meter",
        "consumer",
        "solar",
        "bess",
    }
    code, out, _ = ies("assets", "tree", f"{D}:assets:dt:DT-11KV-F01-101", "--db", loaded, "--depth", "1")
    assert code == 0 and "SP-0002" in out and "NM-44090002" not in out


def test_history_and_as_of_after_a_change(loaded: str, tmp_path: Path) -> None:
    between = datetime.now(UTC).isoformat()
    changed = (
        A.sample_csv_path()
        .read_text()
        .replace("meter,NM-44090001,SP-0001,,", "meter,NM-44090001,SP-0001,SUSPENDED,")
    )
    assert changed != A.sample_csv_path().read_text()
    (tmp_path / "changed.csv").write_text(changed)
    code, out, _ = ies("assets", "import", str(tmp_path / "changed.csv"), "--db", loaded, "--actor", "audit")
    assert code == 0 and "1 updated" in out
    code, out, _ = ies("assets", "history", METER, "--db", loaded, "--json")
    versions = json.loads(out)["versions"]
    assert [(v["version"], v["changed_by"], v["status"]) for v in versions] == [
        (1, "ops", "ACTIVE"), (2, "audit", "SUSPENDED"),
    ]  # fmt: skip
    code, out, _ = ies("assets", "history", METER, "--db", loaded)
    assert code == 0 and "status: ACTIVE → SUSPENDED" in out
    code, out, _ = ies("assets", "show", METER, "--db", loaded, "--as-of", between, "--json")
    assert code == 0 and json.loads(out)["entity"]["status"] == "ACTIVE"


def test_bad_rows_exit_1_but_good_rows_are_imported(db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "mixed.csv"
    csv_file.write_text("class,id,name\ndiscom,grid.example,Grid\ndiscom,bad host,X\n")
    code, out, _ = ies("assets", "import", str(csv_file), "--db", db_url)
    assert code == 1 and "1 created" in out and "1 refused" in out and "not a host name" in out
    code, _, _ = ies("assets", "show", "did:web:grid.example", "--db", db_url)
    assert code == 0


def test_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    code, _, err = ies("assets", "import", str(A.sample_csv_path()), env={"IES_DATABASE_URL": url})
    assert code == 0, err
    assert (tmp_path / "env.db").exists()
    code, out, _ = ies("assets", "show", D, "--json", env={"IES_DATABASE_URL": url})
    assert code == 0 and json.loads(out)["entity"]["attributes"]["state_code"] == "UP"


ERROR_CASES: list[tuple[list[str], int, str]] = [
    (["assets", "show", "did:web:nowhere.example"], 1, "ASSET_NOT_FOUND"),
    (["assets", "history", "did:web:nowhere.example"], 1, "ASSET_NOT_FOUND"),
    (["assets", "tree", D, "--as-of", "2026-01-01T00:00"], 2, "no timezone"),
    (["assets", "import", "/no/such/file.csv"], 2, "no such file"),
]


def test_errors_exit_with_a_message_not_a_traceback(loaded: str) -> None:
    for args, code, message in ERROR_CASES:
        got, out, err = ies(*args, "--db", loaded)
        assert got == code, (args, err)
        assert message in err and "Traceback" not in out + err, (args, err)


def test_unusable_database_urls_exit_2(tmp_path: Path) -> None:
    code, _, err = ies("assets", "show", D, "--db", f"sqlite:///{tmp_path / 'missing.db'}")
    assert code == 2 and "no database at" in err
    code, _, err = ies("assets", "show", D, "--db", "mysql://x/y")
    assert code == 2 and "unsupported database URL" in err


def test_structure_lists_the_csv_columns() -> None:
    code, out, _ = ies("assets", "structure", "--json")
    assert code == 0
    dt = next(c for c in json.loads(out)["classes"] if c["class"] == "dt")
    assert dt["parent_class"] == "feeder"
    assert any(a["name"] == "rated_kva" and a["required"] for a in dt["attributes"])


def test_sample_import_and_export_round_trip(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    code, out, _ = ies("assets", "import", "--sample", "--db", db)
    assert code == 0 and "37 created" in out
    code, out, _ = ies("assets", "export", "--db", db, "-o", str(tmp_path / "out.csv"))
    assert code == 0 and "wrote 37 entities" in out
    copy = f"sqlite:///{tmp_path / 'b.db'}"
    code, out, _ = ies("assets", "import", str(tmp_path / "out.csv"), "--db", copy)
    assert code == 0 and "37 created" in out
    code, first, _ = ies("assets", "export", "--db", db)
    code2, second, _ = ies("assets", "export", "--db", copy)
    assert code == code2 == 0 and first == second and first.count("\n") == 38
    code, _, err = ies("assets", "import", "--sample", str(tmp_path / "out.csv"), "--db", db)
    assert code == 2 and "either a CSV file or --sample" in err


def test_update_and_list(loaded: str) -> None:
    code, out, _ = ies(
        "assets", "update", METER, "--db", loaded, "--status", "SUSPENDED", "--set", "accuracy_class=0.5S",
        "--unset", "make", "--reason", "tamper", "--actor", "lineman", "--json",
    )  # fmt: skip
    assert code == 0
    entity = json.loads(out)["entity"]
    assert (entity["version"], entity["status"], entity["updated_by"]) == (2, "SUSPENDED", "lineman")
    assert entity["attributes"]["accuracy_class"] == "0.5S" and "make" not in entity["attributes"]
    code, out, _ = ies("assets", "update", METER, "--db", loaded, "--status", "SUSPENDED")
    assert code == 0 and "version 2 unchanged" in out
    code, out, _ = ies(
        "assets", "list", "--db", loaded, "--class", "meter", "--status", "suspended", "--json"
    )
    assert code == 0 and [e["id"] for e in json.loads(out)["entities"]] == [METER]
    code, out, _ = ies("assets", "list", "--db", loaded, "--class", "transformer")
    assert code == 0 and out.count("ACTIVE") == 4
    refused = [
        (["--status", "PLANNED"], 1, "ASSET_TRANSITION_NOT_ALLOWED"),
        (["--set", "phases"], 2, "NAME=VALUE"),
        (["--set", "phases=2"], 1, "ASSET_INVALID_ATTRIBUTES"),
        (["--parent", f"{D}:assets:dt:DT-11KV-F01-102"], 1, "ASSET_WRONG_PARENT"),
        (["--detach", "--parent", "x"], 2, "not both"),
        (["--detach"], 1, "ASSET_HIERARCHY_CONFLICT"),
        (["--expected-version", "1", "--set", "phases=3"], 1, "ASSET_VERSION_MISMATCH"),
    ]
    for args, want, message in refused:
        code, _, err = ies("assets", "update", METER, "--db", loaded, *args)
        assert (code, message in err) == (want, True), (args, err)
