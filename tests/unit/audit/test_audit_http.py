"""The audit router, called in process through httpx.ASGITransport: a peer's view of the node's log."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from audit_helpers import SEED, build_log
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import ies.audit.http
from ies.audit import ConsistencyProof, InclusionProof, SignedTreeHead, publish_tree_head
from ies.errors import UnauthorizedAction
from ies.identity import SigningKeyPair


def _app(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.engine = engine
    app.include_router(ies.audit.http.router)
    return app


def _get(app: FastAPI, *paths: str) -> list[httpx.Response]:
    async def fetch() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            return [await client.get(p) for p in paths]

    return asyncio.run(fetch())


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return _app(engine)


def test_no_signed_head_yet_is_404_with_an_error_code(app: FastAPI) -> None:
    (resp,) = _get(app, "/audit/sth")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "NOT_FOUND"


def test_a_peer_checks_every_entry_and_the_growth_of_the_log(engine: Engine, app: FastAPI) -> None:
    key = SigningKeyPair.from_seed(SEED).public_key
    build_log(engine, 6)
    with Session(engine) as session, session.begin():
        publish_tree_head(session, SEED)
    (resp,) = _get(app, "/audit/sth")
    old = SignedTreeHead.from_dict(resp.json())
    old.verify(key)  # the peer keeps this head

    build_log(engine, 7)
    with Session(engine) as session, session.begin():
        publish_tree_head(session, SEED)
    sth_resp, entries_resp, cons_resp, all_resp = _get(
        app,
        "/audit/sth",
        "/audit/entries?from=0&to=13",
        f"/audit/proof/consistency?first={old.tree_size}",
        "/audit/sths",
    )
    new = SignedTreeHead.from_dict(sth_resp.json())
    new.verify(key)
    assert new.tree_size == 13
    consistency = ConsistencyProof.from_dict(cons_resp.json())
    assert (consistency.first, consistency.second) == (6, 13)
    consistency.verify(old.root, new.root)
    assert [SignedTreeHead.from_dict(h) for h in all_resp.json()] == [old, new]

    entries: list[dict[str, Any]] = entries_resp.json()["entries"]
    assert [e["seq"] for e in entries] == list(range(13))
    proofs = _get(app, *(f"/audit/proof/inclusion?seq={e['seq']}" for e in entries))
    for entry, resp in zip(entries, proofs, strict=True):
        proof = InclusionProof.from_dict(resp.json())
        assert proof.tree_size == new.tree_size  # defaults to the newest signed head
        assert proof.entry_hash == entry["entry_hash"]
        proof.verify(new.root)


def test_proofs_for_an_explicit_tree_size(engine: Engine, app: FastAPI) -> None:
    build_log(engine, 9)
    inc, cons = _get(
        app, "/audit/proof/inclusion?seq=2&tree_size=5", "/audit/proof/consistency?first=3&second=9"
    )
    proof = InclusionProof.from_dict(inc.json())
    assert proof.tree_size == 5
    body = cons.json()
    ConsistencyProof.from_dict(body).verify(
        bytes.fromhex(body["first_root"]), bytes.fromhex(body["second_root"])
    )


BAD_REQUESTS = [
    ("/audit/proof/inclusion?seq=4", 400, "USAGE"),
    ("/audit/proof/inclusion?seq=0&tree_size=99", 400, "USAGE"),
    ("/audit/proof/consistency?first=3&second=2", 400, "USAGE"),
    ("/audit/entries?from=0&to=5000", 400, "USAGE"),
    ("/audit/entries?from=3&to=1", 400, "USAGE"),
    ("/audit/proof/inclusion?seq=-1", 422, None),
]


def test_bad_requests_get_error_objects(engine: Engine, app: FastAPI) -> None:
    build_log(engine, 4)
    responses = _get(app, *(path for path, _, _ in BAD_REQUESTS))
    for (path, status, code), resp in zip(BAD_REQUESTS, responses, strict=True):
        assert resp.status_code == status, path
        if code:
            assert resp.json()["error"]["code"] == code, path


def test_entries_default_page(engine: Engine, app: FastAPI) -> None:
    build_log(engine, 3)
    (resp,) = _get(app, "/audit/entries?from=1")
    body = resp.json()
    assert body["tree_size"] == 3 and [e["seq"] for e in body["entries"]] == [1, 2]
    assert body["entries"][0]["payload"] == {"i": 1, "tag": "x"}


def test_an_app_without_an_engine_answers_500() -> None:
    (resp,) = _get(FastAPI(routes=ies.audit.http.router.routes), "/audit/sth")
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "INTERNAL"


def test_a_node_can_restrict_who_reads_entries(engine: Engine, app: FastAPI) -> None:
    build_log(engine, 2)

    def admin_only(request: Any) -> None:
        if request.headers.get("authorization") != "Bearer admin":
            raise UnauthorizedAction("audit entries are for the operator")

    app.state.audit_entries_guard = admin_only
    entries, proof = _get(app, "/audit/entries", "/audit/proof/inclusion?seq=1")
    assert entries.status_code == 403 and entries.json()["error"]["code"] == "AUT_UNAUTHORIZED_ACTION"
    assert proof.status_code == 200  # proofs are hashes only and stay public
