"""A real local network (separate OS processes on 127.0.0.1) shared by the integration tests of a module."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ies.exchange.signing import build_authorization
from ies.identity.keys import NodeKeys, load_node_keys
from ies.sandbox.launcher import start_network, stop_network
from ies.sandbox.network import NetworkSpec, NetworkState, NodeSpec, NodeState


class Net:
    """Handles on a running network for tests: keys of its nodes, and a raw signed-POST helper."""

    def __init__(self, state: NetworkState):
        self.state = state

    def node(self, name: str) -> NodeState:
        return self.state.node(name)

    def keys(self, name: str) -> NodeKeys:
        return load_node_keys(Path(self.node(name).config).parent / "keys.json")

    def admin(self, name: str, method: str, path: str, **kw: Any) -> httpx.Response:
        node = self.node(name)
        headers = {"Authorization": f"Bearer {self.state.admin_token(node)}"}
        return httpx.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kw)

    def registry_admin(self, path: str) -> httpx.Response:
        return self.admin("registry", "POST", path)

    def select_body(self, buyer: str, seller: str, **ctx_overrides: Any) -> dict[str, Any]:
        b, s = self.node(buyer), self.node(seller)
        context = {
            "action": "select",
            "version": "2.0.0",
            "domain": "beckn.one:deg:energy",
            "bapId": b.subscriber_id,
            "bapUri": b.beckn_url,
            "bppId": s.subscriber_id,
            "bppUri": s.beckn_url,
            "transactionId": str(uuid.uuid4()),
            "messageId": str(uuid.uuid4()),
            "timestamp": "2026-11-26T00:00:00Z",
            "ttl": "PT30S",
        }
        context.update(ctx_overrides)
        return {
            "context": context,
            "message": {"contract": {"commitments": [{"id": "c1", "offer": {"id": "offer-solar-1"}}]}},
        }

    def post_signed(
        self,
        target: str,
        action: str,
        raw: bytes,
        *,
        signer: str,
        keys: NodeKeys | None = None,
        key_id: str | None = None,
        subscriber_id: str | None = None,
        created: int | None = None,
        expires: int | None = None,
        tamper: bool = False,
    ) -> httpx.Response:
        keys = keys or self.keys(signer)
        created = int(time.time()) if created is None else created
        header = build_authorization(
            raw,
            subscriber_id=subscriber_id or self.node(signer).subscriber_id,
            key_id=key_id or keys.key_id,
            key=keys.signing,
            created=created,
            expires=expires if expires is not None else created + 300,
        )
        if tamper:
            raw = raw.replace(b'"c1"', b'"c2"')
        return httpx.post(
            f"{self.node(target).beckn_url}/{action}",
            content=raw,
            headers={"Authorization": header, "Content-Type": "application/json"},
            timeout=30,
        )

    def lines_for(self, node: str, message_id: str) -> list[dict[str, Any]]:
        resp = self.admin(node, "GET", "/admin/messages", params={"limit": 5000})
        assert resp.status_code == 200
        return [line for line in resp.json() if line["message_id"] == message_id]


def raw_of(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    os.environ["IES_NODE_REGISTRY_CACHE_TTL_S"] = "0.2"  # suspensions reach verifiers at once in tests
    os.environ["IES_NODE_STH_INTERVAL_S"] = "0.3"  # signed tree heads follow the log closely
    spec = NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            NodeSpec("cds", ("CDS",)),
            NodeSpec("seller-app", ("BPP",)),
            NodeSpec("buyer-app", ("BAP",)),
            NodeSpec("buyer-suspended", ("BAP",)),
            NodeSpec("buyer-revoked", ("BAP",)),
            NodeSpec("buyer-rotating", ("BAP",)),
        ),
        base_port=18400,
    )
    state = start_network(spec, tmp_path_factory.mktemp("network"))
    try:
        yield Net(state)
    finally:
        stop_network(state)
        os.environ.pop("IES_NODE_REGISTRY_CACHE_TTL_S", None)
        os.environ.pop("IES_NODE_STH_INTERVAL_S", None)
