"""Every message a node receives is in its audit log; the node publishes signed tree heads, serves inclusion
proofs for what it logged, and `ies audit verify` passes on its database — and fails once it is edited."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

Net = Any


def node_db(net: Net, name: str) -> Path:
    return Path(net.node(name).config).parent / "node.db"


def audit_verify(db: Path, key_b64: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ies.cli.main",
            "audit",
            "verify",
            "--db",
            f"sqlite:///{db}",
            "--key",
            key_b64,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_node_logs_signs_tree_heads_and_proves_inclusion(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    assert net.post_signed("seller-app", "select", orjson.dumps(body), signer="buyer-app").status_code == 200
    seller = net.node("seller-app")
    keys = net.keys("seller-app")
    deadline = time.time() + 10
    sth: dict[str, Any] = {}
    while time.time() < deadline:
        sth = httpx.get(f"{seller.url}/audit/sth").json()
        if sth.get("tree_size", 0) >= 2:
            break
        time.sleep(0.1)
    assert sth.get("tree_size", 0) >= 2, sth
    assert sth["public_key"] == keys.signing.public_key_b64
    span = {"from": 0, "to": sth["tree_size"]}
    assert httpx.get(f"{seller.url}/audit/entries", params=span).status_code == 403  # operator only
    entries = net.admin("seller-app", "GET", "/audit/entries", params=span).json()
    rows = entries["entries"] if isinstance(entries, dict) else entries
    mine = [e for e in rows if body["context"]["messageId"] in e["subject"]]
    assert [e["kind"] for e in mine][:1] == ["message.in"]
    proof = httpx.get(
        f"{seller.url}/audit/proof/inclusion", params={"seq": mine[0]["seq"], "tree_size": sth["tree_size"]}
    )
    assert proof.status_code == 200, proof.text

    db = node_db(net, "seller-app")
    ok = audit_verify(db, keys.signing.public_key_b64)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_audit_verify_finds_an_edit_in_a_copy_of_the_node_log(net: Net, tmp_path: Path) -> None:
    for _ in range(2):
        body = net.select_body("buyer-app", "seller-app")
        assert (
            net.post_signed("seller-app", "select", orjson.dumps(body), signer="buyer-app").status_code == 200
        )
    src = node_db(net, "seller-app")
    copy = tmp_path / "copy.db"
    with sqlite3.connect(src) as a, sqlite3.connect(copy) as b:
        a.backup(b)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1")
    keys = net.keys("seller-app")
    bad = audit_verify(copy, base64.b64encode(keys.signing.public_key).decode())
    assert bad.returncode == 1
    report = orjson.loads(bad.stdout)
    assert report["findings"], report
    assert any(f.get("seq") == 1 or f.get("position") == 1 for f in report["findings"]), report["findings"]
