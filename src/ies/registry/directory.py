"""Operations on the subscriber directory, as plain functions over a SQLAlchemy session.

Lifecycle (participant):  INITIATED → UNDER_SUBSCRIPTION → SUBSCRIBED ⇄ SUSPENDED
                          any → UNSUBSCRIBED (terminal; its keys are revoked);  SUBSCRIBED → EXPIRED
Keys:  PENDING (challenge open) → ACTIVE (challenge answered) → REVOKED.  A key verifies only while ACTIVE,
its participant is SUBSCRIBED and the time is inside [valid_from, valid_until].

Proof of possession is two-fold, as the issue requires: the subscription request is signed with the
Ed25519 key being registered (checked by the HTTP layer), and the registry sends a random challenge
encrypted to the X25519 key (NaCl Box from the registry's own X25519 key), which only the holder can answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from nacl.public import Box, PrivateKey, PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ies.errors import ConflictError, NotFoundError, UsageError
from ies.identity.keys import b64, b64decode_strict
from ies.registry.records import KeyRecord, KeyStatus, LookupFilter, SubscriberStatus, SubscriptionRequest
from ies.registry.subscriber_tables import KeyRow, ParticipantRow

__all__ = [
    "ALLOWED_TRANSITIONS",
    "answer_challenge",
    "check_challenge_answer",
    "get_key",
    "lookup",
    "make_challenge",
    "open_subscription",
    "revoke_key",
    "set_status",
]

ALLOWED_TRANSITIONS: dict[SubscriberStatus, set[SubscriberStatus]] = {
    SubscriberStatus.INITIATED: {SubscriberStatus.UNDER_SUBSCRIPTION, SubscriberStatus.UNSUBSCRIBED},
    SubscriberStatus.UNDER_SUBSCRIPTION: {SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNSUBSCRIBED},
    SubscriberStatus.SUBSCRIBED: {
        SubscriberStatus.SUSPENDED,
        SubscriberStatus.EXPIRED,
        SubscriberStatus.UNSUBSCRIBED,
    },
    SubscriberStatus.SUSPENDED: {SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNSUBSCRIBED},
    SubscriberStatus.EXPIRED: {SubscriberStatus.SUBSCRIBED, SubscriberStatus.UNSUBSCRIBED},
    SubscriberStatus.UNSUBSCRIBED: set(),
}


def _record(p: ParticipantRow, k: KeyRow) -> KeyRecord:
    return KeyRecord(
        subscriber_id=p.subscriber_id,
        key_id=k.key_id,
        url=p.url,
        roles=list(p.roles),
        domains=list(p.domains),
        network_memberships=list(p.network_memberships),
        signing_public_key=k.signing_public_key,
        encr_public_key=k.encr_public_key,
        subscriber_status=p.status,
        key_status=k.status,
        valid_from=k.valid_from,
        valid_until=k.valid_until,
        created_at=min(p.created_at, k.created_at),
        updated_at=max(p.updated_at, k.updated_at),
    )


def make_challenge(registry_encr_private: bytes, participant_encr_public: str) -> tuple[bytes, str]:
    """A fresh 32-byte challenge and its encryption (base64 of nonce‖ciphertext) for the participant."""
    plain = secrets.token_bytes(32)
    box = Box(PrivateKey(registry_encr_private), PublicKey(b64decode_strict(participant_encr_public)))
    return plain, b64(bytes(box.encrypt(plain)))


def answer_challenge(participant_encr_private: bytes, registry_encr_public: str, challenge_b64: str) -> str:
    """The participant's side: decrypt the registry's challenge and return it base64-encoded."""
    box = Box(PrivateKey(participant_encr_private), PublicKey(b64decode_strict(registry_encr_public)))
    return b64(box.decrypt(b64decode_strict(challenge_b64, what="challenge")))


def open_subscription(
    session: Session, req: SubscriptionRequest, now: datetime, challenge: bytes
) -> KeyRecord:
    """Record a new participant (or a new key of one, for rotation) with its challenge still open."""
    start, end = req.window(now)
    key_id = req.key_id or str(uuid.uuid4())
    if session.get(KeyRow, key_id) is not None:
        raise ConflictError(f"key id {key_id!r} is already registered", code="REG_KEY_EXISTS")
    participant = session.get(ParticipantRow, req.subscriber_id)
    if participant is None:
        participant = ParticipantRow(
            subscriber_id=req.subscriber_id,
            roles=[r.value for r in req.roles],
            url=req.url,
            domains=req.domains,
            network_memberships=req.network_memberships,
            status=SubscriberStatus.UNDER_SUBSCRIPTION.value,
            created_at=now,
            updated_at=now,
        )
        session.add(participant)
        session.flush()  # the key row references it
    elif participant.status == SubscriberStatus.UNSUBSCRIBED.value:
        raise ConflictError(f"{req.subscriber_id} is unsubscribed", code="REG_UNSUBSCRIBED")
    key = KeyRow(
        key_id=key_id,
        subscriber_id=req.subscriber_id,
        signing_public_key=req.signing_public_key,
        encr_public_key=req.encr_public_key,
        status=KeyStatus.PENDING.value,
        challenge_digest=hashlib.sha256(challenge).hexdigest(),
        valid_from=start,
        valid_until=end,
        created_at=now,
        updated_at=now,
        meta={},
    )
    session.add(key)
    session.flush()
    return _record(participant, key)


def check_challenge_answer(session: Session, key_id: str, answer_b64: str, now: datetime) -> KeyRecord:
    """Activate a PENDING key whose holder returned the decrypted challenge."""
    key = session.get(KeyRow, key_id)
    if key is None or key.status != KeyStatus.PENDING.value or key.challenge_digest is None:
        raise NotFoundError(f"no open challenge for key {key_id!r}", code="REG_NO_CHALLENGE")
    try:
        answer = b64decode_strict(answer_b64, what="answer")
    except UsageError:
        answer = b""
    if not hmac.compare_digest(hashlib.sha256(answer).hexdigest(), key.challenge_digest):
        raise ConflictError("challenge answer is wrong", code="REG_CHALLENGE_FAILED")
    key.status = KeyStatus.ACTIVE.value
    key.challenge_digest = None
    key.updated_at = now
    participant = session.get(ParticipantRow, key.subscriber_id)
    assert participant is not None
    return _record(participant, key)


def set_status(
    session: Session, subscriber_id: str, status: SubscriberStatus, now: datetime
) -> KeyRecord | None:
    """Move a participant along its lifecycle (operator action); illegal moves are refused."""
    participant = session.get(ParticipantRow, subscriber_id)
    if participant is None:
        raise NotFoundError(f"unknown subscriber {subscriber_id!r}", code="REG_NOT_FOUND")
    current = SubscriberStatus(participant.status)
    if status == current:
        return None
    if status not in ALLOWED_TRANSITIONS[current]:
        raise ConflictError(
            f"{subscriber_id}: {current} → {status} is not allowed", code="REG_BAD_TRANSITION"
        )
    keys = list(session.scalars(select(KeyRow).where(KeyRow.subscriber_id == subscriber_id)))
    if status == SubscriberStatus.SUBSCRIBED and not any(k.status == KeyStatus.ACTIVE.value for k in keys):
        raise ConflictError(
            f"{subscriber_id} has no key with an answered challenge", code="REG_NO_ACTIVE_KEY"
        )
    participant.status = status.value
    participant.updated_at = now
    if status == SubscriberStatus.UNSUBSCRIBED:
        for key in keys:
            key.status = KeyStatus.REVOKED.value
            key.updated_at = now
    return None


def revoke_key(session: Session, key_id: str, now: datetime, *, at: datetime | None = None) -> None:
    """Revoke a key now, or (with `at`) close its validity window at that time (rotation grace)."""
    key = session.get(KeyRow, key_id)
    if key is None:
        raise NotFoundError(f"unknown key {key_id!r}", code="REG_NOT_FOUND")
    if at is None:
        key.status = KeyStatus.REVOKED.value
    else:
        key.valid_until = min(key.valid_until, at)
    key.updated_at = now


def get_key(session: Session, subscriber_id: str, key_id: str) -> KeyRecord | None:
    key = session.get(KeyRow, key_id)
    if key is None or key.subscriber_id != subscriber_id:
        return None
    participant = session.get(ParticipantRow, subscriber_id)
    return None if participant is None else _record(participant, key)


def lookup(session: Session, flt: LookupFilter, limit: int = 1000) -> list[KeyRecord]:
    query = select(ParticipantRow, KeyRow).join(KeyRow, KeyRow.subscriber_id == ParticipantRow.subscriber_id)
    if flt.subscriber_id:
        query = query.where(ParticipantRow.subscriber_id == flt.subscriber_id)
    key_id = flt.key_id or flt.unique_key_id
    if key_id:
        query = query.where(KeyRow.key_id == key_id)
    if flt.status:
        query = query.where(ParticipantRow.status == flt.status.upper())
    out = []
    for participant, key in session.execute(query.order_by(KeyRow.created_at).limit(limit)):
        rec = _record(participant, key)
        if flt.type and flt.type.upper() not in rec.roles:
            continue
        if flt.domain and flt.domain not in rec.domains:
            continue
        if flt.network_id and flt.network_id not in rec.network_memberships:
            continue
        out.append(rec)
    return out


def rotation_grace_end(now: datetime, grace: timedelta) -> datetime:
    return now + grace
