"""Holding a peer to its log: heads we kept from it must be prefixes of what it serves now."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from audit_helpers import SEED, build_log, run_cli
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import ies.audit.http
from ies.audit import SignedTreeHead, append, publish_tree_head
from ies.audit._peer import check_peer
from ies.errors import PeerUnreachable
from ies.identity import SigningKeyPair, b64

PEER_KEY = SigningKeyPair.from_seed(SEED).public_key


@pytest.fixture
def peer_url(engine: Engine) -> Iterator[str]:
    """The peer: the audit router served by uvicorn on an ephemeral port, in a thread of this process."""
    app = FastAPI()
    app.state.engine = engine
    app.include_router(ies.audit.http.router)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "peer server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def peer(peer_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=peer_url, timeout=10) as client:
        yield client


def _publish(engine: Engine) -> SignedTreeHead:
    with Session(engine) as session, session.begin():
        return publish_tree_head(session, SEED)


def _rewrite(engine: Engine, keep: int, changed_seq: int | None) -> None:
    """The peer rebuilds its log from its first `keep` entries, one of them altered, and signs it anew."""
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_entries ORDER BY seq"))]
        for table in ("audit_entries", "audit_nodes", "audit_tree_heads"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text("UPDATE audit_head SET tree_size = 0, last_entry_hash = :z, frontier = :f"),
            {"z": "0" * 64, "f": b""},
        )
    with Session(engine) as session, session.begin():
        for row in rows[:keep]:
            actor = "someone-else" if row["seq"] == changed_seq else row["actor"]
            append(session, row["kind"], actor, row["subject"], json.loads(row["payload"]))
        publish_tree_head(session, SEED)


def test_heads_kept_from_an_honest_peer_are_prefixes(engine: Engine, peer: httpx.Client) -> None:
    build_log(engine, 5)
    kept = [_publish(engine)]
    build_log(engine, 7)
    kept.append(_publish(engine))
    build_log(engine, 3)
    _publish(engine)
    head, findings = check_peer(peer, kept, PEER_KEY)
    assert head.tree_size == 15 and not findings


def test_a_peer_that_rewrote_history_is_caught(engine: Engine, peer: httpx.Client) -> None:
    build_log(engine, 8)
    kept = [_publish(engine)]
    _rewrite(engine, keep=8, changed_seq=3)
    build_log(engine, 2)
    _publish(engine)
    _, findings = check_peer(peer, kept, PEER_KEY)
    assert [f.kind for f in findings.items] == ["tree_head"]
    assert "not a prefix" in findings.items[0].message


def test_a_peer_whose_log_shrank_is_caught(engine: Engine, peer: httpx.Client) -> None:
    build_log(engine, 12)
    kept = [_publish(engine)]
    _rewrite(engine, keep=6, changed_seq=None)
    _, findings = check_peer(peer, kept)
    assert any("shrank" in f.message for f in findings.items)


def test_two_roots_for_one_size_are_caught(engine: Engine, peer: httpx.Client) -> None:
    build_log(engine, 6)
    kept = [_publish(engine)]
    _rewrite(engine, keep=6, changed_seq=2)
    _, findings = check_peer(peer, kept)
    assert any("two different roots" in f.message for f in findings.items)


def test_a_head_from_another_key_is_refused(engine: Engine, peer: httpx.Client) -> None:
    build_log(engine, 2)
    _publish(engine)
    _, findings = check_peer(peer, [], SigningKeyPair.generate().public_key)
    assert any("untrusted" in f.message for f in findings.items)


def test_a_peer_without_heads_or_unreachable_is_a_network_error(engine: Engine, peer: httpx.Client) -> None:
    with pytest.raises(PeerUnreachable, match="404"):
        check_peer(peer, [])
    code, out = run_cli("audit", "verify", "--peer", "http://127.0.0.1:9")
    assert code == 1 and "NET_PEER_UNREACHABLE" in out


def test_cli_refuses_a_peer_that_is_not_a_url(tmp_path: Path) -> None:
    code, out = run_cli("audit", "verify", "--peer", "ftp://x", "--key", b64(PEER_KEY))
    assert code == 2 and "http" in out


def test_cli_checks_kept_head_files_against_a_running_peer(
    engine: Engine, peer_url: str, tmp_path: Path
) -> None:
    build_log(engine, 3)
    path = tmp_path / "kept.json"
    path.write_text(json.dumps([_publish(engine).to_dict()]))
    build_log(engine, 4)
    _publish(engine)
    code, out = run_cli("audit", "verify", "--peer", peer_url, "--sth", str(path), "--key", b64(PEER_KEY))
    assert code == 0 and "prefixes of the peer's log of 7 entries" in out, out
    _rewrite(engine, keep=7, changed_seq=1)
    code, out = run_cli("audit", "verify", "--peer", peer_url, "--sth", str(path), "--key", b64(PEER_KEY))
    assert code == 1 and "not a prefix" in out
