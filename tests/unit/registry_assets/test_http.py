"""The HTTP router, mounted on a small FastAPI app and called in process through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import Engine

from ies.registry import assets as A
from ies.registry.assets.http import router

from ._network import T0, Net

TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def _app(engine: Engine | None, token: str | None = TOKEN) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    if engine is not None:
        app.state.engine = engine
    if token is not None:
        app.state.assets_write_token = token
    return app


def call(app: FastAPI, method: str, path: str, *, operator: bool = True, **kwargs: Any) -> httpx.Response:
    """One request; writes carry the operator token unless `operator=False`."""
    if operator:
        kwargs["headers"] = {**OPERATOR, **kwargs.get("headers", {})}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def url(did: str, suffix: str = "") -> str:
    return f"/assets/{quote(did, safe=':')}{suffix}"


@pytest.fixture
def app(engine: Engine, net: Net) -> FastAPI:
    return _app(engine)


def test_get_entity_now_and_as_of(app: FastAPI, net: Net) -> None:
    r = call(app, "GET", url(net.meter))
    assert r.status_code == 200
    assert r.json()["id"] == net.meter and r.json()["parent_id"] == net.sp
    r = call(app, "GET", url(net.meter), params={"as_of": "2025-12-31T23:00:00Z"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ASSET_NOT_FOUND" and "as of" in r.json()["error"]["message"]


def test_create_patch_and_history(app: FastAPI, net: Net) -> None:
    body = {
        "entity_class": "meter",
        "local_id": "NM/7 A",
        "parent": net.sp,
        "attributes": {"meter_type": "AMR"},
    }
    r = call(app, "POST", "/assets", json=body, headers={"X-IES-Actor": "field-app"})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert did == "did:web:discom.example:assets:meter:NM%2F7%20A"  # the %-encoded DID, itself URL-quoted
    r = call(
        app, "PATCH", url(did), json={"status": "SUSPENDED", "reason": "tamper alarm", "expected_version": 1}
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = call(app, "PATCH", url(did), json={"attributes": {"phases": 3}, "expected_version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ASSET_VERSION_MISMATCH"
    versions = call(app, "GET", url(did, "/history")).json()["versions"]
    assert [(v["version"], v["changed_by"], v["change"]) for v in versions] == [
        (1, "field-app", "CREATE"), (2, "operator", "UPDATE"),
    ]  # fmt: skip
    assert versions[1]["diff"] == {"status": {"old": "ACTIVE", "new": "SUSPENDED"}}
    assert versions[1]["reason"] == "tamper alarm"


def test_batch_creates_all_or_nothing(app: FastAPI, net: Net) -> None:
    sp = {"entity_class": "service-point", "local_id": "SP-7", "parent": net.dt2,
          "attributes": {"sanctioned_load_w": 3000, "connection_type": "SINGLE_PHASE"}}  # fmt: skip
    meter = {"entity_class": "meter", "local_id": "M-7", "parent": net.sp.replace("SP-1", "SP-7"),
             "attributes": {"meter_type": "AMI"}}  # fmt: skip
    bad = {**meter, "local_id": "M-8", "attributes": {}}
    r = call(app, "POST", "/assets/batch", json={"entities": [meter, sp, bad]})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("item 2 (meter M-8)")
    assert call(app, "GET", url(net.sp.replace("SP-1", "SP-7"))).status_code == 404
    r = call(app, "POST", "/assets/batch", json={"entities": [meter, sp]})
    assert r.status_code == 201 and r.json()["ids"] == [
        "did:web:discom.example:assets:meter:M-7", "did:web:discom.example:connections:SP-7",
    ]  # fmt: skip


def test_patch_parent_null_detaches_and_omitted_parent_is_kept(app: FastAPI, net: Net) -> None:
    r = call(app, "PATCH", url(net.meter), json={"attributes": {"make": "Genus"}})
    assert r.json()["parent_id"] == net.sp
    r = call(app, "PATCH", url(net.meter), json={"parent": None})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ASSET_HIERARCHY_CONFLICT"
    r = call(app, "PATCH", url(net.meter), json={"parent": None, "status": "DECOMMISSIONED"})
    assert r.status_code == 200 and r.json()["parent_id"] is None


def test_hierarchy_endpoints(app: FastAPI, net: Net) -> None:
    kids = call(app, "GET", url(net.sp, "/children")).json()["children"]
    assert sorted(k["id"] for k in kids) == sorted([net.meter, net.consumer, net.solar])
    below = call(app, "GET", url(net.feeder, "/descendants"), params={"max_depth": 2}).json()["descendants"]
    assert {(n["depth"], n["entity"]["id"]) for n in below} == {(1, net.dt), (1, net.dt2), (2, net.sp)}
    up = call(app, "GET", url(net.solar, "/ancestors")).json()["ancestors"]
    assert [a["id"] for a in up] == [net.sp, net.dt, net.feeder, net.substation, net.discom]
    found = call(app, "GET", "/assets", params={"class": "transformer", "discom": "discom.example"}).json()
    assert [e["local_id"] for e in found["entities"]] == ["DT-1", "DT-2"]
    assert call(app, "GET", url(net.sp, "/children"), params={"as_of": T0.isoformat()}).status_code == 200


def test_export_endpoint_serves_import_format_csv(app: FastAPI, net: Net) -> None:
    r = call(app, "GET", "/assets/export.csv", params={"discom": "discom.example"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("class,id,parent,status,discom,") and len(lines) == 10
    r = call(app, "GET", "/assets/export.csv", params={"as_of": "2025-01-01T00:00:00Z"})
    assert r.text.splitlines()[1:] == []


def test_structure_endpoint_lists_every_class() -> None:
    classes = call(_app(None), "GET", "/assets/structure").json()["classes"]
    assert [c["class"] for c in classes] == [c.value for c in A.EntityClass]


def test_csv_import_endpoint_reports_rows(app: FastAPI) -> None:
    text = A.sample_csv_path().read_text()
    bad = text + "meter,NM-BAD,SP-0001" + "," * 39 + "\n"  # 42 cells, no meter_type
    r = call(app, "POST", "/assets/import", content=bad.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 37 and [(e["line"], e["code"]) for e in report["errors"]] == [
        (39, "ASSET_INVALID_ATTRIBUTES")
    ]
    assert call(app, "GET", url("did:web:ies.discom.example:assets:ev-charger:EVC-0003")).status_code == 200
    r = call(app, "POST", "/assets/import", content=b"\xff\xfe", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "USAGE"


ERROR_CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("GET", "/assets/did:web:nowhere.example", {}, 404, "ASSET_NOT_FOUND"),
        ("GET", "/assets/did:web:discom.example", {"params": {"as_of": "2026-01-01"}}, 400, "USAGE"),
        ("GET", "/assets", {"params": {"class": "gizmo"}}, 400, "USAGE"),
        ("GET", "/assets", {"params": {"limit": 0}}, 400, "USAGE"),
        ("POST", "/assets", {"json": {"entity_class": "meter"}}, 400, "USAGE"),
        ("POST", "/assets", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400,
         "USAGE"),
        ("POST", "/assets", {"json": {"entity_class": "discom", "local_id": "discom.example",
                                      "attributes": {"name": "again"}}}, 409, "ASSET_EXISTS"),
        ("POST", "/assets", {"json": {"entity_class": "dt", "local_id": "DT-9", "discom": "discom.example",
                                      "parent": "did:web:discom.example", "attributes": {}}}, 400,
         "ASSET_INVALID_ATTRIBUTES"),
        ("PATCH", "/assets/did:web:discom.example", {"json": {"status": "PLANNED"}}, 409,
         "ASSET_TRANSITION_NOT_ALLOWED"),
        ("PATCH", "/assets/did:web:discom.example", {"json": {"colour": "red"}}, 400, "USAGE"),
]  # fmt: skip


def test_errors_are_json_with_a_stable_code(app: FastAPI) -> None:
    for method, path, kwargs, status, code in ERROR_CASES:  # one database for all cases: they change nothing
        r = call(app, method, path, **kwargs)
        assert r.status_code == status, (method, path, r.text)
        error = r.json()["error"]
        assert error["code"] == code and error["message"], (method, path, error)


def test_an_app_without_a_database_answers_500_json() -> None:
    r = call(_app(None), "GET", "/assets/did:web:x.example")
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL"


def test_writes_fail_closed_without_operator_credentials(engine: Engine, net: Net) -> None:
    body = {
        "entity_class": "consumer",
        "local_id": "C-9",
        "parent": net.sp,
        "attributes": {"category": "PUBLIC"},
    }
    app = _app(engine)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        r = call(app, "POST", "/assets", operator=False, json=body, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "ASSET_WRITE_NOT_AUTHORISED"
    assert call(app, "PATCH", url(net.meter), operator=False, json={"status": "SUSPENDED"}).status_code == 403
    r = call(app, "POST", "/assets/import", operator=False, content=b"class,id\n")
    assert r.status_code == 403
    assert call(app, "GET", url(net.meter), operator=False).status_code == 200  # reads stay open
    no_token = _app(engine, token=None)
    r = call(no_token, "POST", "/assets", json=body)  # a token sent to a node that has none
    assert r.status_code == 403 and "no operator token configured" in r.json()["error"]["message"]
    assert call(app, "GET", url(net.sp.replace("SP-1", "C-9"))).status_code == 404


def test_an_actor_set_by_the_apps_authentication_is_trusted_and_recorded(engine: Engine, net: Net) -> None:
    app = _app(engine, token=None)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        request.state.actor = "subscriber:bpp.example"
        return await call_next(request)

    r = call(app, "PATCH", url(net.meter), operator=False, json={"attributes": {"make": "Genus"}})
    assert r.status_code == 200 and r.json()["updated_by"] == "subscriber:bpp.example"
