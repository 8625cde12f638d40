"""`install(runtime)` fits the node's ROLE_INSTALLERS hook: an ISSUER node built by create_app serves the
issuer routes and publishes its ES256 key, with no second installation by the process runner."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ies.node.app import create_app
from ies.node.config import init_node, load_config
from ies.node.runtime import ROLE_INSTALLERS
from ies.registry.records import Role


@pytest.mark.anyio
async def test_issuer_role_through_role_installers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ROLE_INSTALLERS, Role.ISSUER, "ies.credentials.service:install")
    config = init_node(
        tmp_path, name="issuer", roles=["ISSUER"], port=18777, registry_url="http://127.0.0.1:9"
    )
    app = create_app(load_config(config))
    runtime = app.state.runtime
    assert runtime.issuer.did == "did:web:issuer.ies.local"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        doc = (await client.get("/.well-known/did.json")).json()
        assert "did:web:issuer.ies.local#vc-es256" in doc["assertionMethod"]
        assert "did:web:issuer.ies.local#issuer-k1" in doc["assertionMethod"]
        assert doc["service"][0]["type"] == "BecknSubscriber"  # the node's own document, extended
        nonce = (await client.post("/credentials/nonce")).json()
        assert nonce["audience"] == runtime.did
        refused = await client.post("/credentials/issue", json={"credential": {}})
        assert refused.status_code == 403


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
