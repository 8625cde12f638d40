"""Signed exchange across real processes: every way a message can be wrong gets its NACK code, and a
refused message leaves nothing behind but its message-log (audit) line."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest

from ies.errors import IESError
from ies.identity.did_web import did_web_for_subscriber
from ies.identity.keys import NodeKeys
from ies.identity.resolver import DIDResolver

Net = Any  # the `net` fixture of tests/integration/conftest.py
raw_of = orjson.dumps


def nack_code(resp) -> str:  # type: ignore[no-untyped-def]
    body = resp.json()
    assert body["message"]["status"] == "NACK", body
    return str(body["message"]["error"]["code"])


def assert_only_nack_line(net: Net, message_id: str, code: str) -> None:
    time.sleep(0.3)  # a wrongly dispatched handler would have called back by now
    lines = net.lines_for("seller-app", message_id)
    assert [(ln["direction"], ln["outcome"], ln["error_code"]) for ln in lines] == [("in", "NACK", code)]


def test_valid_select_is_acked_and_answered_by_signed_on_select(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app")
    assert resp.status_code == 200
    assert resp.json() == {"message": {"status": "ACK", "messageId": body["context"]["messageId"]}}
    deadline = time.time() + 5
    while time.time() < deadline:
        lines = net.lines_for("buyer-app", body["context"]["messageId"])
        if any(ln["action"] == "on_select" and ln["outcome"] == "ACK" for ln in lines):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no on_select reached the buyer")
    seller_lines = net.lines_for("seller-app", body["context"]["messageId"])
    assert [(ln["direction"], ln["action"], ln["outcome"]) for ln in seller_lines] == [
        ("in", "select", "ACK"),
        ("out", "on_select", "ACK"),
    ]


def test_missing_signature(net: Net) -> None:
    import httpx

    body = net.select_body("buyer-app", "seller-app")
    resp = httpx.post(f"{net.node('seller-app').beckn_url}/select", content=raw_of(body))
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_SIGNATURE_MISSING"
    assert resp.headers["WWW-Authenticate"].startswith('Signature realm="seller-app.ies.local"')
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SIGNATURE_MISSING")


def test_forged_signature(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    forger = NodeKeys.generate(key_id=net.keys("buyer-app").key_id)
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app", keys=forger)
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_SIGNATURE_INVALID"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SIGNATURE_INVALID")


def test_tampered_body(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app", tamper=True)
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_SIGNATURE_INVALID"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SIGNATURE_INVALID")


def test_wrong_key_id(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app", key_id="no-such-key")
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_SUBSCRIBER_NOT_FOUND"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SUBSCRIBER_NOT_FOUND")


def test_unknown_subscriber(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app", bapId="stranger.example")
    stranger = NodeKeys.generate(key_id="k1")
    resp = net.post_signed(
        "seller-app",
        "select",
        raw_of(body),
        signer="buyer-app",
        keys=stranger,
        subscriber_id="stranger.example",
    )
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_SUBSCRIBER_NOT_FOUND"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SUBSCRIBER_NOT_FOUND")


def test_suspended_subscriber_then_reinstated(net: Net) -> None:
    body = net.select_body("buyer-suspended", "seller-app")
    assert net.post_signed("seller-app", "select", raw_of(body), signer="buyer-suspended").status_code == 200
    sub = net.node("buyer-suspended").subscriber_id
    assert net.registry_admin(f"/admin/subscribers/{sub}/suspend").status_code == 200
    time.sleep(0.4)  # the verifier's registry cache TTL in this network is 0.2 s
    body = net.select_body("buyer-suspended", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-suspended")
    assert resp.status_code == 401
    assert nack_code(resp) == "AUT_KEY_EXPIRED_OR_REVOKED"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_KEY_EXPIRED_OR_REVOKED")
    assert net.registry_admin(f"/admin/subscribers/{sub}/reinstate").status_code == 200
    time.sleep(0.4)
    body = net.select_body("buyer-suspended", "seller-app")
    assert net.post_signed("seller-app", "select", raw_of(body), signer="buyer-suspended").status_code == 200


def test_revoked_key(net: Net) -> None:
    keys = net.keys("buyer-revoked")
    assert net.registry_admin(f"/admin/keys/{keys.key_id}/revoke").status_code == 200
    time.sleep(0.4)
    body = net.select_body("buyer-revoked", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-revoked")
    assert nack_code(resp) == "AUT_KEY_EXPIRED_OR_REVOKED"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_KEY_EXPIRED_OR_REVOKED")


def test_key_rotation_old_key_verifies_until_valid_until_then_is_refused(net: Net) -> None:
    old = net.keys("buyer-rotating")
    resp = net.admin("buyer-rotating", "POST", "/admin/rotate", json={"grace_s": 2})
    assert resp.status_code == 200, resp.text
    assert resp.json()["previous_key_id"] == old.key_id
    new = net.keys("buyer-rotating")
    assert new.key_id != old.key_id and new.signing.public_key != old.signing.public_key
    for keys in (old, new):  # inside the grace window both verify
        body = net.select_body("buyer-rotating", "seller-app")
        assert (
            net.post_signed(
                "seller-app", "select", raw_of(body), signer="buyer-rotating", keys=keys
            ).status_code
            == 200
        )
    # the node's did:web document publishes both keys, the old one with its end of validity
    node = net.node("buyer-rotating")
    did = did_web_for_subscriber(node.subscriber_id)
    resolver = DIDResolver({did: node.url})
    assert resolver.resolve_verification_method(f"{did}#{new.key_id}") == new.signing.public_key
    assert resolver.resolve_verification_method(f"{did}#{old.key_id}") == old.signing.public_key
    time.sleep(2.5)
    body = net.select_body("buyer-rotating", "seller-app")
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-rotating", keys=old)
    assert nack_code(resp) == "AUT_KEY_EXPIRED_OR_REVOKED"
    with pytest.raises(IESError):  # and the DID document no longer vouches for it
        DIDResolver({did: node.url}).resolve_verification_method(f"{did}#{old.key_id}")
    body = net.select_body("buyer-rotating", "seller-app")
    assert (
        net.post_signed("seller-app", "select", raw_of(body), signer="buyer-rotating", keys=new).status_code
        == 200
    )


def test_created_in_the_future(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed(
        "seller-app", "select", raw_of(body), signer="buyer-app", created=int(time.time()) + 60
    )
    assert nack_code(resp) == "AUT_SIGNATURE_INVALID"
    assert "future" in resp.json()["message"]["error"]["message"]
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SIGNATURE_INVALID")


def test_created_within_skew_is_accepted(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed(
        "seller-app", "select", raw_of(body), signer="buyer-app", created=int(time.time()) + 3
    )
    assert resp.status_code == 200


def test_expired_signature(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    past = int(time.time()) - 600
    resp = net.post_signed(
        "seller-app", "select", raw_of(body), signer="buyer-app", created=past, expires=past + 300
    )
    assert nack_code(resp) == "AUT_SIGNATURE_INVALID"
    assert "expired" in resp.json()["message"]["error"]["message"]
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_SIGNATURE_INVALID")


def test_replayed_message_id(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    raw = raw_of(body)
    assert net.post_signed("seller-app", "select", raw, signer="buyer-app").status_code == 200
    again = net.post_signed("seller-app", "select", raw, signer="buyer-app")
    assert again.status_code == 409
    assert nack_code(again) == "NET_REPLAYED_MESSAGE"
    time.sleep(0.3)
    lines = net.lines_for("seller-app", body["context"]["messageId"])
    ins = [(ln["outcome"], ln["error_code"]) for ln in lines if ln["direction"] == "in"]
    assert ins == [("ACK", None), ("NACK", "NET_REPLAYED_MESSAGE")]
    assert sum(1 for ln in lines if ln["direction"] == "out") == 1  # answered once, not twice


def test_sender_not_matching_context(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app", bapId=net.node("buyer-suspended").subscriber_id)
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app")
    assert resp.status_code == 403
    assert nack_code(resp) == "AUT_UNAUTHORIZED_ACTION"
    assert_only_nack_line(net, body["context"]["messageId"], "AUT_UNAUTHORIZED_ACTION")


def test_malformed_json(net: Net) -> None:
    message_id = str(uuid.uuid4())
    raw = b'{"context": {"action": "select", "messageId": "' + message_id.encode() + b'", '
    resp = net.post_signed("seller-app", "select", raw, signer="buyer-app")
    assert resp.status_code == 400
    assert nack_code(resp) == "SCH_INVALID_JSON"


def test_action_not_matching_endpoint_and_unknown_action(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    resp = net.post_signed("seller-app", "init", raw_of(body), signer="buyer-app")
    assert nack_code(resp) == "SCH_SCHEMA_VALIDATION_FAILED"
    resp = net.post_signed("seller-app", "teleport", raw_of(body), signer="buyer-app")
    assert resp.status_code == 404 and nack_code(resp) == "SCH_UNSUPPORTED_ACTION"


def test_snake_case_context_is_accepted(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    ctx = body["context"]
    body["context"] = {
        "action": "select",
        "bap_id": ctx["bapId"],
        "bap_uri": ctx["bapUri"],
        "bpp_id": ctx["bppId"],
        "bpp_uri": ctx["bppUri"],
        "transaction_id": ctx["transactionId"],
        "message_id": ctx["messageId"],
    }
    resp = net.post_signed("seller-app", "select", orjson.dumps(body), signer="buyer-app")
    assert resp.status_code == 200, resp.text


def test_an_oversized_body_is_refused_without_being_held_and_the_node_keeps_serving(net: Net) -> None:
    body = net.select_body("buyer-app", "seller-app")
    body["message"]["padding"] = "x" * (3 * 1024 * 1024)  # over the 2 MiB limit
    resp = net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app")
    assert resp.status_code == 413 and nack_code(resp) == "SCH_PAYLOAD_TOO_LARGE"
    recent = net.admin("seller-app", "GET", "/admin/messages", params={"limit": 20}).json()
    # found by its code, not its place: an earlier test's callback may be logged after it
    [logged] = [ln for ln in recent if ln["error_code"] == "SCH_PAYLOAD_TOO_LARGE"]
    assert (logged["direction"], logged["outcome"], logged["http_status"]) == ("in", "NACK", 413)
    # read no further than the limit, so the refusal cannot name the message: the line has no id
    assert logged["message_id"] is None
    ok = net.select_body("buyer-app", "seller-app")
    assert net.post_signed("seller-app", "select", raw_of(ok), signer="buyer-app").status_code == 200


def test_beckn_messages_are_counted_in_the_http_metrics(net: Net) -> None:
    import httpx

    def posts_2xx() -> float:
        text = httpx.get(f"{net.node('seller-app').url}/metrics", timeout=10).text
        line = next(
            ln
            for ln in text.splitlines()
            if ln.startswith("ies_http_requests_total") and 'status="2xx"' in ln and 'method="POST"' in ln
        )
        return float(line.rsplit(" ", 1)[1])

    before = posts_2xx()
    body = net.select_body("buyer-app", "seller-app")
    assert net.post_signed("seller-app", "select", raw_of(body), signer="buyer-app").status_code == 200
    assert posts_2xx() == before + 1
    assert httpx.get(f"{net.node('seller-app').beckn_url}/select", timeout=10).status_code in (404, 405)
