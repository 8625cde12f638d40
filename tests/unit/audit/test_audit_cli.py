"""`ies audit verify|export|publish|head` end to end: regulator bundles, peers' tree heads, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import SEED, build_log, run_cli, verify_json
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ies.audit import append, publish_tree_head
from ies.identity import NodeKeys, SigningKeyPair, b64, save_node_keys

KEY_B64 = b64(SigningKeyPair.from_seed(SEED).public_key)


def _export(db_url: str, out: Path, *args: str) -> dict[str, Any]:
    code, output = run_cli("audit", "export", "--db", db_url, str(out), *args)
    assert code == 0, output
    return json.loads(out.read_text())


def _verify_bundle(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out = run_cli("audit", "verify", "--bundle", str(path), "--json", *args)
    report, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
    return code, report


def _found(report: dict[str, Any]) -> set[tuple[str, int | None]]:
    return {(f["kind"], f["position"]) for f in report["findings"]}


@pytest.fixture
def bundle(engine: Engine, db_url: str, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    build_log(engine, 12, sth_at=(4, 9, 12))
    path = tmp_path / "bundle.json"
    return path, _export(db_url, path, "--from", "3", "--to", "10")


class TestBundle:
    def test_exported_bundle_verifies_offline(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        assert [e["seq"] for e in data["entries"]] == list(range(3, 10))
        assert data["tree_head"]["tree_size"] == 12
        assert [h["tree_size"] for h in data["earlier_tree_heads"]] == [4, 9]
        code, report = _verify_bundle(path, "--key", KEY_B64)
        assert code == 0 and report["ok"], report
        code, out = run_cli("audit", "verify", "--bundle", str(path))
        assert code == 0 and "ok" in out

    def _tamper(self, path: Path, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        path.write_text(json.dumps(data))
        return _verify_bundle(path)

    def test_edited_entry_is_found_at_its_position(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        data["entries"][2]["payload"]["i"] = 99
        code, report = self._tamper(path, data)
        assert code == 1 and ("edited", 5) in _found(report)

    def test_deleted_entry_is_found_at_its_position(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        del data["entries"][4], data["inclusion_proofs"][4]
        code, report = self._tamper(path, data)
        assert code == 1 and ("deleted", 7) in _found(report)

    def test_swapped_entries_are_found(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        for name in ("entries", "inclusion_proofs"):
            data[name][1], data[name][3] = data[name][3], data[name][1]
        code, report = self._tamper(path, data)
        assert code == 1 and {"reordered"} <= {k for k, _ in _found(report)}

    def test_forged_entry_is_found(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        forged = {**data["entries"][0], "seq": 10, "actor": "forger"}
        data["entries"].append(forged)
        data["inclusion_proofs"].append({**data["inclusion_proofs"][0], "leaf_index": 10})
        code, report = self._tamper(path, data)
        assert code == 1 and ("inserted", 10) in _found(report)

    def test_head_of_another_key_is_refused_when_pinned(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, _ = bundle
        other = b64(SigningKeyPair.generate().public_key)
        code, report = _verify_bundle(path, "--key", other)
        assert code == 1 and ("tree_head", None) in _found(report)

    def test_broken_history_is_found(self, bundle: tuple[Path, dict[str, Any]]) -> None:
        path, data = bundle
        data["consistency_proofs"][1]["consistency_path"][0] = "00" * 32
        code, report = self._tamper(path, data)
        assert code == 1 and ("tree_head", None) in _found(report)

    def test_not_a_bundle_is_unusable_input(self, tmp_path: Path) -> None:
        path = tmp_path / "x.json"
        path.write_text('{"hello": 1}')
        assert run_cli("audit", "verify", "--bundle", str(path))[0] == 2
        path.write_text("not json")
        assert run_cli("audit", "verify", "--bundle", str(path))[0] == 2
        assert run_cli("audit", "verify", "--bundle", str(tmp_path / "missing.json"))[0] == 2

    def test_export_needs_a_signed_head_covering_the_range(
        self, engine: Engine, db_url: str, tmp_path: Path
    ) -> None:
        build_log(engine, 3)
        code, out = run_cli("audit", "export", "--db", db_url, str(tmp_path / "b.json"))
        assert code == 2 and "publish" in out
        with Session(engine) as session, session.begin():
            publish_tree_head(session, SEED)
        build_log(engine, 2)
        code, out = run_cli("audit", "export", "--db", db_url, "--to", "5", str(tmp_path / "b.json"))
        assert code == 2 and "covers 3 entries" in out


def test_a_peers_saved_head_exposes_a_consistent_rewrite(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """The node rewrites its whole log (entries, tree, head, its own heads) with one line changed: the local
    checks all pass, but the signed head a peer kept from before no longer matches."""
    build_log(engine, 8, sth_at=(8,))
    code, out = run_cli("audit", "head", "--db", db_url)
    assert code == 0
    peer_copy = tmp_path / "peer-sth.json"
    peer_copy.write_text(json.dumps(json.loads(out)["signed_tree_head"]))

    with engine.begin() as conn:
        original = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_entries ORDER BY seq"))]
        for table in ("audit_entries", "audit_nodes", "audit_tree_heads"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text("UPDATE audit_head SET tree_size = 0, last_entry_hash = :z, frontier = :f"),
            {"z": "0" * 64, "f": b""},
        )
    with Session(engine) as session, session.begin():
        for row in original:
            actor = "someone-else" if row["seq"] == 5 else row["actor"]
            append(session, row["kind"], actor, row["subject"], json.loads(row["payload"]))
        publish_tree_head(session, SEED)

    code, report = verify_json(db_url)
    assert code == 0, "a consistent rewrite is invisible without outside evidence"
    code, report = verify_json(db_url, "--sth", str(peer_copy), "--key", KEY_B64)
    assert code == 1
    assert any(f["kind"] == "tree_head" and "size 8" in f["message"] for f in report["findings"])


def test_publish_with_the_node_key_file(engine: Engine, db_url: str, tmp_path: Path) -> None:
    build_log(engine, 5)
    keys = NodeKeys.generate("k1")
    save_node_keys(tmp_path / "keys.json", keys)
    code, out = run_cli(
        "audit",
        "publish",
        "--db",
        db_url,
        "--keys",
        str(tmp_path / "keys.json"),
        "--out",
        str(tmp_path / "sth.json"),
    )
    assert code == 0, out
    sth = json.loads((tmp_path / "sth.json").read_text())
    assert sth["tree_size"] == 5 and sth["public_key"] == keys.signing.public_key_b64
    code, report = verify_json(
        db_url, "--sth", str(tmp_path / "sth.json"), "--key", keys.signing.public_key_b64
    )
    assert code == 0 and report["tree_heads_checked"] == 2  # the stored copy and the file


def test_verify_reads_the_database_url_from_the_environment(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_log(engine, 2)
    monkeypatch.setenv("IES_DATABASE_URL", db_url)
    code, out = run_cli("audit", "verify")
    assert code == 0 and "2 entries" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "sqlite:////nonexistent/dir/node.db"], "no database"),
        (["--db", "mysql://x"], "unsupported database URL"),
        (["--key", "not-base64!"], "--key"),
    ],
)
def test_unusable_input_exits_2(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run_cli("audit", "verify", *args)
    assert code == 2 and message in out


def test_a_database_without_an_audit_log_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    code, out = run_cli("audit", "verify", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2 and "no audit log" in out


def test_a_malformed_tree_head_file_exits_2(engine: Engine, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "sth.json").write_text('{"tree_size": "many"}')
    code, out = run_cli("audit", "verify", "--db", db_url, "--sth", str(tmp_path / "sth.json"))
    assert code == 2 and "signed tree head" in out


def test_a_duplicated_bundle_entry_is_reported(bundle: tuple[Path, dict[str, Any]]) -> None:
    path, data = bundle
    data["entries"].insert(3, data["entries"][2])
    data["inclusion_proofs"].insert(3, data["inclusion_proofs"][2])
    path.write_text(json.dumps(data))
    code, report = _verify_bundle(path)
    assert code == 1 and ("inserted", 5) in _found(report)
