"""The policy layer on a real node app (create_app), in process: as a role installer and on a built app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from policy_helpers import derived_bundle, researchers_lose_consumer_data

from ies.identity.keys import SigningKeyPair
from ies.node.app import ROLE_INSTALLERS, create_app
from ies.node.config import init_node, load_config
from ies.policy.install import PolicyLayer, install
from ies.policy.open_data import verify_release
from ies.policy.verify import load_bundle
from ies.registry.records import Role


def _node(tmp_path: Path, settings: dict[str, Any] | None = None) -> Path:
    return init_node(
        tmp_path / "discom",
        name="discom",
        roles=["BPP", "DISCOM"],
        port=18998,
        registry_url="http://127.0.0.1:9",  # nothing listens: registry trust adds no keys
        settings=settings,
    )


def _call(app: FastAPI, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://node"
        ) as client:
            return await client.request(method, path, headers=headers, **kw)

    return asyncio.run(go())


@pytest.fixture
def built(tmp_path: Path) -> tuple[FastAPI, PolicyLayer, str]:
    cfg = load_config(_node(tmp_path, {"policy": {"sources": "sandbox"}}))
    app = create_app(cfg)
    layer = install(app.state.runtime, app)
    return app, layer, cfg.admin_token()


def test_as_a_role_installer_routes_come_with_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLE_INSTALLERS, Role.DISCOM, "ies.policy.install:install")
    app = create_app(load_config(_node(tmp_path)))
    assert _call(app, "GET", "/catalogue").status_code == 200
    assert app.state.runtime.router.policy is not None


def test_default_bundle_is_the_nodes_local_default(built: tuple[FastAPI, PolicyLayer, str]) -> None:
    app, _, _ = built
    rt = app.state.runtime
    [info] = _call(app, "GET", "/policy/bundles").json()["bundles"]
    assert info["publisher"] == {"subscriber_id": rt.cfg.subscriber_id, "key_id": rt.keys.key_id}
    archive = _call(app, "GET", f"/policy/bundles/{info['hash']}").content
    assert load_bundle(archive, [rt.keys.signing.public_key]).hash == info["hash"]
    assert _call(app, "GET", "/policy/bundles/" + "0" * 64).status_code == 404
    catalogue = _call(app, "GET", "/catalogue").json()
    assert catalogue["entitlementBundle"]["hash"] == info["hash"]


def test_operator_installs_a_trusted_bundle_only(
    built: tuple[FastAPI, PolicyLayer, str], tmp_path: Path
) -> None:
    app, layer, token = built
    regulator = SigningKeyPair.generate()
    archive = derived_bundle(
        tmp_path, regulator, version="1.1.0", revision=2, edit=researchers_lose_consumer_data
    )
    anonymous = _call(app, "POST", "/admin/policy/bundles", content=archive)
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "AUT_UNAUTHORIZED_ACTION"
    refused = _call(app, "POST", "/admin/policy/bundles", token, content=archive)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "POL_BUNDLE_UNTRUSTED_KEY"
    layer.trust.add_key(regulator.public_key)
    ok = _call(app, "POST", "/admin/policy/bundles", token, content=archive)
    assert ok.status_code == 200 and ok.json()["installed"]["version"] == "1.1.0"
    assert [b["version"] for b in ok.json()["bundles"]] == ["1.0.0", "1.1.0"]
    older = derived_bundle(tmp_path, regulator, version="1.0.9", revision=2)
    rolled = _call(app, "POST", "/admin/policy/bundles", token, content=older)
    assert rolled.status_code == 409 and rolled.json()["error"]["code"] == "POL_BUNDLE_ROLLBACK"
    junk = _call(app, "POST", "/admin/policy/bundles", token, content=b"junk")
    assert junk.json()["error"]["code"] == "POL_BUNDLE_MALFORMED"


def test_open_data_published_from_the_source_and_served(built: tuple[FastAPI, PolicyLayer, str]) -> None:
    app, _, token = built
    published = _call(
        app, "POST", "/admin/policy/open-data/feeder-load-aggregates", token, json={"note": "Nov"}
    )
    assert published.status_code == 200, published.text
    release = _call(app, "GET", "/open-data/feeder-load-aggregates").json()
    verify_release(release, app.state.runtime.keys.signing.public_key)
    assert release["content"]["k"] == 10 and all(r["consumers"] >= 10 for r in release["content"]["rows"])
    refused = _call(app, "POST", "/admin/policy/open-data/meter-data-interval", token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "POL_NOT_OPEN_DATA"


def test_metrics_are_exposed(built: tuple[FastAPI, PolicyLayer, str]) -> None:
    app, _, _ = built
    _call(app, "GET", "/catalogue")
    resp = _call(app, "GET", "/metrics")
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'ies_http_requests_total{method="GET",status="2xx"}' in resp.text
    assert "# TYPE ies_message_latency_seconds histogram" in resp.text


def test_every_exported_name_resolves() -> None:
    import ies.policy

    assert all(getattr(ies.policy, name) is not None for name in ies.policy.__all__)
    with pytest.raises(AttributeError):
        _ = ies.policy.no_such_thing


def test_an_earlier_policy_hook_still_runs(tmp_path: Path) -> None:
    from ies.errors import PolicyError

    cfg = load_config(_node(tmp_path))
    app = create_app(cfg)
    rt = app.state.runtime
    seen: list[str] = []

    async def earlier(msg: Any) -> None:
        seen.append("earlier")
        raise PolicyError("use case says no", code="POL_USECASE")

    rt.router.policy = earlier
    install(rt, app)
    with pytest.raises(PolicyError, match="use case says no"):
        asyncio.run(rt.router.policy(object()))
    assert seen == ["earlier"]
