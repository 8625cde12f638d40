"""The registry's HTTP API across real processes: subscription with proof of possession (IES and onix
field spellings), both lookup forms, operator authorisation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request

from ies.exchange.signing import build_authorization
from ies.identity.keys import EncryptionKeyPair, NodeKeys
from ies.registry import directory

Net = Any


class Participant:
    """An outside participant with its own on_subscribe endpoint (uvicorn in a thread, real HTTP)."""

    def __init__(self) -> None:
        self.keys = NodeKeys.generate(key_id="ext-k1")
        app = FastAPI()

        @app.post("/beckn/on_subscribe")
        async def on_subscribe(request: Request) -> dict[str, str]:
            body = orjson.loads(await request.body())
            return {
                "answer": directory.answer_challenge(
                    self.keys.encryption.private_key, body["registry_encr_public_key"], body["challenge"]
                )
            }

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/beckn"

    def __enter__(self) -> Participant:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def participant() -> Iterator[Participant]:
    with Participant() as p:
        yield p


def subscribe(net: Net, body: dict[str, Any], keys: NodeKeys, subscriber_id: str) -> httpx.Response:
    raw = orjson.dumps(body)
    header = build_authorization(
        raw, subscriber_id=subscriber_id, key_id=keys.key_id, key=keys.signing, created=int(time.time())
    )
    return httpx.post(
        f"{net.node('registry').url}/subscribe", content=raw, headers={"Authorization": header}, timeout=30
    )


def test_outside_participant_subscribes_with_ies_spellings_and_is_approved(
    net: Net, participant: Participant
) -> None:
    keys = participant.keys
    body = {
        "subscriber_id": "ext.example",
        "key_id": keys.key_id,
        "subscriber_url": participant.url,  # IES guide spelling
        "type": "BPP",
        "domain": "beckn.one:deg:energy",
        "signing_public_key": keys.signing.public_key_b64,
        "encryption_public_key": keys.encryption.public_key_b64,  # IES guide spelling
        "network_memberships": ["indiaenergystack.in/sandbox-ies-network"],
    }
    resp = subscribe(net, body, keys, "ext.example")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "UNDER_SUBSCRIPTION", "key_status": "ACTIVE", "key_id": "ext-k1"}
    assert net.registry_admin("/admin/subscribers/ext.example/approve").json()["status"] == "SUBSCRIBED"
    dedi = httpx.get(f"{net.node('registry').url}/lookup/ext.example/subscribers.beckn.one/ext-k1").json()
    assert dedi["data"]["details"]["url"] == participant.url
    assert dedi["data"]["details"]["encr_public_key"] == keys.encryption.public_key_b64
    assert dedi["data"]["details"]["type"] == "BPP"
    v1 = httpx.post(f"{net.node('registry').url}/lookup", json={"subscriber_id": "ext.example"}).json()
    assert [(r["subscriber_id"], r["unique_key_id"], r["status"]) for r in v1] == [
        ("ext.example", "ext-k1", "SUBSCRIBED")
    ]
    again = subscribe(net, body, keys, "ext.example")
    assert again.status_code == 409 and again.json()["error"]["code"] == "REG_ALREADY_REGISTERED"


def test_subscription_signed_by_another_key_is_refused(net: Net, participant: Participant) -> None:
    keys, other = participant.keys, NodeKeys.generate(key_id="ext-k1")
    body = {
        "subscriber_id": "ext2.example",
        "key_id": "ext2-k1",
        "url": participant.url,
        "roles": ["BAP"],
        "signing_public_key": keys.signing.public_key_b64,
        "encr_public_key": keys.encryption.public_key_b64,
    }
    resp = subscribe(net, body, other, "ext2.example")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "AUT_SIGNATURE_INVALID"
    lookup = httpx.get(f"{net.node('registry').url}/lookup/ext2.example/subscribers.beckn.one/ext2-k1")
    assert lookup.status_code == 404


def test_challenge_not_answerable_without_the_encryption_key(net: Net, participant: Participant) -> None:
    keys = participant.keys
    body = {
        "subscriber_id": "ext3.example",
        "key_id": "ext3-k1",
        "url": participant.url,
        "roles": ["BAP"],
        "signing_public_key": keys.signing.public_key_b64,
        "encr_public_key": EncryptionKeyPair.generate().public_key_b64,  # not the key the server holds
    }
    resp = subscribe(net, body, keys, "ext3.example")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "REG_CHALLENGE_FAILED"
    rec = httpx.get(f"{net.node('registry').url}/lookup/ext3.example/subscribers.beckn.one/ext3-k1").json()
    assert rec["data"]["details"]["key_status"] == "REVOKED"
    approve = net.registry_admin("/admin/subscribers/ext3.example/approve")
    assert approve.status_code == 409 and approve.json()["error"]["code"] == "REG_NO_ACTIVE_KEY"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "SCH_INVALID_JSON"),
        (b'{"subscriber_id": "x.example"}', "SCH_SCHEMA_VALIDATION_FAILED"),
    ],
)
def test_bad_subscription_bodies(net: Net, body: bytes, code: str) -> None:
    keys = NodeKeys.generate(key_id="k")
    header = build_authorization(
        body, subscriber_id="x.example", key_id="k", key=keys.signing, created=int(time.time())
    )
    resp = httpx.post(
        f"{net.node('registry').url}/subscribe", content=body, headers={"Authorization": header}
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == code


def test_lookups_and_operator_authorisation(net: Net) -> None:
    base = net.node("registry").url
    bpps = httpx.post(f"{base}/lookup", json={"type": "BPP"}).json()
    assert "seller-app.ies.local" in {r["subscriber_id"] for r in bpps}
    assert all("BPP" in r["roles"] for r in bpps)
    assert httpx.post(f"{base}/lookup", content=b"[").status_code == 400
    assert httpx.get(f"{base}/lookup/nobody/subscribers.beckn.one/k1").status_code == 404
    anon = httpx.post(f"{base}/admin/subscribers/buyer-app.ies.local/suspend")
    assert anon.status_code == 403 and anon.json()["error"]["code"] == "AUT_UNAUTHORIZED_ACTION"
    wrong = httpx.post(
        f"{base}/admin/subscribers/buyer-app.ies.local/suspend", headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 403
    assert net.registry_admin("/admin/subscribers/buyer-app.ies.local/frobnicate").status_code == 404
    assert net.registry_admin("/admin/subscribers/nobody.example/suspend").status_code == 404
    listing = httpx.get(f"{base}/admin/subscribers", headers={"Authorization": "Bearer nope"})
    assert listing.status_code == 403
