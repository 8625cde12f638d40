"""The subscriber directory's operations, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from ies.errors import ConflictError, KeyExpiredOrRevoked, NotFoundError, SubscriberNotFound
from ies.exchange.verify import check_key_usable
from ies.identity.keys import EncryptionKeyPair, SigningKeyPair
from ies.registry import directory
from ies.registry.records import (
    LookupFilter,
    SubscriberStatus,
    SubscriptionRequest,
    dedi_answer,
    v1_subscription,
)
from ies.store import session_factory

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
REGISTRY_ENC = EncryptionKeyPair.generate()


def request(
    sub: str = "bap.example", key_id: str = "k1", **extra: object
) -> tuple[SubscriptionRequest, EncryptionKeyPair]:
    enc = EncryptionKeyPair.generate()
    body = {
        "subscriber_id": sub,
        "key_id": key_id,
        "subscriber_url": "http://127.0.0.1:9/beckn/",
        "type": "bap",
        "domain": "beckn.one:deg:energy",
        "network_memberships": ["indiaenergystack.in/test-ies-p2p-trading-network"],
        "signing_public_key": SigningKeyPair.generate().public_key_b64,
        "encryption_public_key": enc.public_key_b64,
        **extra,
    }
    return SubscriptionRequest.model_validate(body), enc


def subscribe(engine: Engine, sub: str = "bap.example", key_id: str = "k1") -> None:
    sessions = session_factory(engine)
    req, enc = request(sub, key_id)
    plain, sealed = directory.make_challenge(REGISTRY_ENC.private_key, req.encr_public_key)
    with sessions.begin() as s:
        directory.open_subscription(s, req, NOW, plain)
    answer = directory.answer_challenge(enc.private_key, REGISTRY_ENC.public_key_b64, sealed)
    with sessions.begin() as s:
        directory.check_challenge_answer(s, key_id, answer, NOW)


def test_both_field_spellings_are_accepted() -> None:
    req, _ = request()
    assert req.url == "http://127.0.0.1:9/beckn" and [r.value for r in req.roles] == ["BAP"]
    assert req.domains == ["beckn.one:deg:energy"]
    onix = SubscriptionRequest.model_validate(
        {**req.model_dump(mode="json"), "url": "https://x.example", "encr_public_key": req.encr_public_key}
    )
    assert onix.url == "https://x.example"


def test_subscription_lifecycle_and_lookups(engine: Engine) -> None:
    sessions = session_factory(engine)
    subscribe(engine)
    with sessions() as s:
        rec = directory.get_key(s, "bap.example", "k1")
    assert rec is not None and rec.subscriber_status == "UNDER_SUBSCRIPTION" and rec.key_status == "ACTIVE"
    with pytest.raises(SubscriberNotFound):
        check_key_usable(rec, NOW)
    with sessions.begin() as s:
        directory.set_status(s, "bap.example", SubscriberStatus.SUBSCRIBED, NOW)
    with sessions() as s:
        rec = directory.get_key(s, "bap.example", "k1")
        assert rec is not None
        check_key_usable(rec, NOW)
        answer = dedi_answer(rec)
        assert answer["data"]["record_id"] == "k1"
        assert set(answer["data"]["details"]) >= {
            "url",
            "type",
            "domain",
            "subscriber_id",
            "signing_public_key",
            "encr_public_key",
        }
        assert answer["data"]["network_memberships"] == ["indiaenergystack.in/test-ies-p2p-trading-network"]
        assert v1_subscription(rec)["subscriber_url"] == "http://127.0.0.1:9/beckn"
        assert len(directory.lookup(s, LookupFilter(type="BAP"))) == 1
        assert directory.lookup(s, LookupFilter(type="BPP")) == []
        assert (
            len(
                directory.lookup(
                    s, LookupFilter(network_id="indiaenergystack.in/test-ies-p2p-trading-network")
                )
            )
            == 1
        )
        assert directory.get_key(s, "other.example", "k1") is None
    with sessions.begin() as s:
        directory.set_status(s, "bap.example", SubscriberStatus.SUSPENDED, NOW)
    with sessions() as s:
        rec = directory.get_key(s, "bap.example", "k1")
    assert rec is not None
    with pytest.raises(KeyExpiredOrRevoked):
        check_key_usable(rec, NOW)
    with sessions.begin() as s, pytest.raises(ConflictError):
        directory.set_status(s, "bap.example", SubscriberStatus.UNDER_SUBSCRIPTION, NOW)
    with sessions.begin() as s:
        directory.set_status(s, "bap.example", SubscriberStatus.UNSUBSCRIBED, NOW)
    with sessions() as s:
        rec = directory.get_key(s, "bap.example", "k1")
    assert rec is not None and rec.key_status == "REVOKED"
    with sessions.begin() as s, pytest.raises(ConflictError):  # terminal
        directory.set_status(s, "bap.example", SubscriberStatus.SUBSCRIBED, NOW)


def test_wrong_challenge_answer_keeps_the_key_pending_and_unapprovable(engine: Engine) -> None:
    sessions = session_factory(engine)
    req, _ = request()
    plain, _sealed = directory.make_challenge(REGISTRY_ENC.private_key, req.encr_public_key)
    with sessions.begin() as s:
        directory.open_subscription(s, req, NOW, plain)
    with sessions.begin() as s, pytest.raises(ConflictError):
        directory.check_challenge_answer(s, "k1", "d3Jvbmc=", NOW)
    with sessions.begin() as s, pytest.raises(ConflictError) as exc:
        directory.set_status(s, "bap.example", SubscriberStatus.SUBSCRIBED, NOW)
    assert exc.value.code == "REG_NO_ACTIVE_KEY"
    with sessions.begin() as s, pytest.raises(NotFoundError):
        directory.check_challenge_answer(s, "nope", "d3Jvbmc=", NOW)


def test_duplicate_key_id_is_refused(engine: Engine) -> None:
    subscribe(engine)
    sessions = session_factory(engine)
    req, _ = request("bpp.example", "k1")
    with sessions.begin() as s, pytest.raises(ConflictError):
        directory.open_subscription(s, req, NOW, b"x" * 32)


def test_rotation_window_closes_the_old_key(engine: Engine) -> None:
    sessions = session_factory(engine)
    subscribe(engine, key_id="k1")
    subscribe(engine, key_id="k2")  # a second key of the same participant
    with sessions.begin() as s:
        directory.set_status(s, "bap.example", SubscriberStatus.SUBSCRIBED, NOW)
        directory.revoke_key(s, "k1", NOW, at=NOW + timedelta(hours=1))
    with sessions() as s:
        old = directory.get_key(s, "bap.example", "k1")
        new = directory.get_key(s, "bap.example", "k2")
    assert old is not None and new is not None
    check_key_usable(old, NOW + timedelta(minutes=59))
    with pytest.raises(KeyExpiredOrRevoked):
        check_key_usable(old, NOW + timedelta(hours=1))
    check_key_usable(new, NOW + timedelta(hours=2))
