"""The manager's store on SQLite and PostgreSQL: transitions signed, chained and audited in one transaction,
checked against the pure lifecycle over random sequences of actions, actors and clock jumps."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from consent_helpers import (
    CONSUMER,
    MANAGER,
    MANAGER_KEY,
    PRINCIPAL_DID,
    PRINCIPAL_KEY,
    PROVIDER,
    PROVIDER_KEY,
    Clock,
    draft,
    key,
    store,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from ies.audit import AuditLog, verify_log
from ies.consent._time import format_instant
from ies.consent.errors import (
    ArtefactInvalid,
    ConsentSignatureInvalid,
    TransitionNotAllowed,
    UnknownConsent,
)
from ies.consent.lifecycle import Action, ActorKind, ConsentState, next_state
from ies.consent.signatures import attest_as_portal, sign_as_principal, sign_instruction
from ies.consent.source import verify_consent_document
from ies.consent.store import Actor, ConsentRecord, ConsentStore
from ies.consent.tables import ConsentRow, TransitionRow
from ies.errors import ConflictError, IESError

CONSUMER_ACTOR = Actor(ActorKind.CONSUMER, CONSUMER, {"type": "test"})
PRINCIPAL = Actor(ActorKind.PRINCIPAL, PRINCIPAL_DID)
OTP = {"method": "OTP", "verifiedAt": "2026-04-28T09:58:41Z", "reference": "otp-1"}
PORTAL = Actor(ActorKind.PORTAL, PROVIDER, {"evidence": OTP})


async def _keys(subscriber: str, key_id: str) -> bytes:
    return {MANAGER: MANAGER_KEY, PROVIDER: PROVIDER_KEY}[subscriber].public_key


def _verified(record: ConsentRecord) -> Any:
    return asyncio.run(verify_consent_document(record.to_dict(), manager_id=MANAGER, key=_keys))


def _instruction(s: ConsentStore, consent_id: str, action: Action, clock: Clock) -> dict[str, Any]:
    seq = s.get(consent_id, history=False).seq
    body = {"consentId": consent_id, "action": action.value, "seq": seq, "at": format_instant(clock.now)}
    return sign_instruction(body, PRINCIPAL_KEY)


def _do(s: ConsentStore, consent_id: str, action: Action, kind: ActorKind, clock: Clock) -> ConsentRecord:
    """Take `action` as `kind` the way the HTTP API would (with the proof that kind brings)."""
    if action is Action.APPROVE:
        artefact = s.get(consent_id, history=False).artefact
        if kind is ActorKind.PORTAL:
            sig = attest_as_portal(artefact, PROVIDER_KEY, provider_id=PROVIDER, key_id="k1", evidence=OTP)
            return s.approve(consent_id, sig, PORTAL, provider_key=PROVIDER_KEY.public_key)
        sig = sign_as_principal(artefact, PRINCIPAL_KEY)
        return s.approve(
            consent_id, sig, Actor(kind, PRINCIPAL_DID if kind is ActorKind.PRINCIPAL else CONSUMER)
        )
    if kind is ActorKind.PRINCIPAL:
        return s.act(consent_id, action, PRINCIPAL, instruction=_instruction(s, consent_id, action, clock))
    actor = {ActorKind.PORTAL: PORTAL, ActorKind.CONSUMER: CONSUMER_ACTOR}.get(
        kind, Actor(kind, MANAGER, {"type": "test"})
    )
    return s.act(consent_id, action, actor)


def test_a_lifecycle_is_signed_chained_audited_and_verifiable(engine: Engine) -> None:
    clock = Clock()
    s = store(engine, clock)
    record = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    assert record.state is ConsentState.REQUESTED
    _do(s, record.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    _do(s, record.id, Action.PAUSE, ActorKind.PRINCIPAL, clock)
    _do(s, record.id, Action.RESUME, ActorKind.PORTAL, clock)
    final = _do(s, record.id, Action.REVOKE, ActorKind.PRINCIPAL, clock)
    assert final.state is ConsentState.REVOKED and final.seq == 5
    full = s.get(record.id)
    assert [t["to"] for t in full.transitions] == ["REQUESTED", "ACTIVE", "PAUSED", "ACTIVE", "REVOKED"]
    verified = _verified(full)
    assert verified.state is ConsentState.REVOKED and verified.seq == 5
    verify_log(engine)
    lines = [e for e in AuditLog(engine).entries() if e.subject == f"consent:{record.id}"]
    assert [e.payload_json["to"] for e in lines] == ["REQUESTED", "ACTIVE", "PAUSED", "ACTIVE", "REVOKED"]
    assert [e.kind for e in lines] == ["consent.transition"] * 5
    assert lines[2].actor == PRINCIPAL_DID and lines[3].actor == PROVIDER


def test_a_tampered_history_is_detected_by_the_reader(engine: Engine) -> None:
    clock = Clock()
    s = store(engine, clock)
    record = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    _do(s, record.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    _do(s, record.id, Action.REVOKE, ActorKind.PRINCIPAL, clock)
    doc = s.get(record.id).to_dict()
    rolled_back = {
        **doc,
        "state": "ACTIVE",
        "seq": 2,
        "transitions": doc["transitions"][:2],
    }  # hide the revoke
    # A truncated history is internally consistent: only the manager's signature on the answer (checked
    # by RemoteConsentSource) and the live fetch protect against it; an edited record is caught here.
    assert (
        asyncio.run(verify_consent_document(rolled_back, manager_id=MANAGER, key=_keys)).state.value
        == "ACTIVE"
    )
    edited = {**doc, "transitions": [*doc["transitions"][:2], {**doc["transitions"][2], "to": "ACTIVE"}]}
    edited["state"] = "ACTIVE"
    with pytest.raises(ConsentSignatureInvalid):
        asyncio.run(verify_consent_document(edited, manager_id=MANAGER, key=_keys))
    swapped = {**doc, "transitions": [doc["transitions"][0], doc["transitions"][2], doc["transitions"][1]]}
    with pytest.raises(ConsentSignatureInvalid, match="broken"):
        asyncio.run(verify_consent_document(swapped, manager_id=MANAGER, key=_keys))
    with pytest.raises(ConsentSignatureInvalid, match="held by"):
        asyncio.run(verify_consent_document(doc, manager_id="other-manager", key=_keys))


def test_refusals(engine: Engine) -> None:
    clock = Clock()
    s = store(engine, clock)
    with pytest.raises(TransitionNotAllowed, match="naming"):
        s.request(draft(now=clock.now), Actor(ActorKind.CONSUMER, "someone-else.example"))
    with pytest.raises(ArtefactInvalid):
        s.request({**draft(now=clock.now), "purpose": {"code": "astrology"}}, CONSUMER_ACTOR)
    with pytest.raises(UnknownConsent):
        s.get("urn:uuid:00000000-0000-4000-8000-000000000000")
    record = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    with pytest.raises(TransitionNotAllowed, match="not this consent's principal"):
        s.act(
            record.id,
            Action.REJECT,
            Actor(ActorKind.PRINCIPAL, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        )
    with pytest.raises(TransitionNotAllowed, match="only the data provider"):
        s.act(record.id, Action.REJECT, Actor(ActorKind.PORTAL, "other.example", {"evidence": {"m": 1}}))
    with pytest.raises(ArtefactInvalid, match="evidence"):
        s.act(record.id, Action.REJECT, Actor(ActorKind.PORTAL, PROVIDER))
    stale = _instruction(s, record.id, Action.REJECT, clock)
    _do(s, record.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    with pytest.raises(TransitionNotAllowed, match="signed for transition 1"):
        s.act(record.id, Action.REJECT, PRINCIPAL, instruction=stale)
    pause = _instruction(s, record.id, Action.PAUSE, clock)
    clock.advance(hours=1)
    with pytest.raises(ConsentSignatureInvalid, match="too far"):
        s.act(record.id, Action.PAUSE, PRINCIPAL, instruction=pause)
    other = sign_as_principal(s.get(record.id).artefact, PRINCIPAL_KEY)
    with pytest.raises(TransitionNotAllowed):  # approving twice
        s.approve(record.id, other, PRINCIPAL)
    forged = {**other, "signer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
    with pytest.raises(ConsentSignatureInvalid):
        s.approve(record.id, forged, PRINCIPAL)
    with pytest.raises(TransitionNotAllowed, match="not taken through"):
        s.act(record.id, Action.EXPIRE, PRINCIPAL)


def test_expiry_is_recorded_once_lazily_or_by_the_sweep(engine: Engine) -> None:
    clock = Clock()
    expired: list[str] = []
    s = ConsentStore(engine, store(engine).manager, clock=clock, on_expire=lambda r: expired.append(r.id))
    a = s.request(draft(now=clock.now, valid_days=1), CONSUMER_ACTOR)
    b = s.request(draft(now=clock.now, valid_days=1), CONSUMER_ACTOR)
    _do(s, b.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    clock.advance(days=1, seconds=1)
    assert s.get(a.id).state is ConsentState.EXPIRED  # noticed on read
    assert [r.id for r in s.expire_due()] == [b.id]  # the rest by the sweep
    assert s.expire_due() == []
    assert sorted(expired) == sorted([a.id, b.id])
    with pytest.raises(TransitionNotAllowed):
        _do(s, b.id, Action.PAUSE, ActorKind.PRINCIPAL, clock)
    assert s.get(b.id).transitions[-1]["proof"] == {
        "type": "Expiry",
        "validUntil": format_instant(s.get(b.id).artefact.valid_until),
    }


def test_a_racing_writer_loses_cleanly(engine: Engine) -> None:
    """The compare-and-swap: if the row moved on since it was read, the transition is refused, not merged."""
    clock = Clock()
    s = store(engine, clock)
    record = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    real_transition = s._transition

    def racing(session: Any, row: Any, *args: Any) -> Any:
        another_writer = update(ConsentRow).where(ConsentRow.id == row.id).values(seq=row.seq + 7)
        session.execute(another_writer.execution_options(synchronize_session=False))
        return real_transition(session, row, *args)

    s._transition = racing  # type: ignore[method-assign]
    with pytest.raises(ConflictError, match="changed while"):
        _do(s, record.id, Action.REJECT, ActorKind.PORTAL, clock)
    s._transition = real_transition  # type: ignore[method-assign]
    assert s.get(record.id).state is ConsentState.REQUESTED  # rolled back, nothing half-written
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(func.count()).select_from(TransitionRow).where(TransitionRow.consent_id == record.id)
            )
            == 1
        )


def test_find_filters(engine: Engine) -> None:
    clock = Clock()
    s = store(engine, clock)
    mine = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    theirs = s.request(draft(now=clock.now, principal={"consumerNumber": "CN-2002"}), CONSUMER_ACTOR)
    _do(s, mine.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    assert {r.id for r in s.find(principal_did=PRINCIPAL_DID)} == {mine.id}
    assert {r.id for r in s.find(principal_number="CN-2002")} == {theirs.id}
    assert {r.id for r in s.find(party=PROVIDER)} == {mine.id, theirs.id}
    assert {r.id for r in s.find(party="stranger.example")} == set()
    assert {r.id for r in s.find(state="ACTIVE")} == {mine.id}


ACTIONS = [Action.APPROVE, Action.REJECT, Action.PAUSE, Action.RESUME, Action.REVOKE]
KINDS = [ActorKind.PRINCIPAL, ActorKind.PORTAL, ActorKind.CONSUMER]


def test_the_store_follows_the_lifecycle_for_any_sequence(engine: Engine) -> None:
    """Each step either moves the store exactly as `next_state` says or is refused and changes nothing;
    the history always verifies and has one audit line per transition."""

    @settings(
        max_examples=25 if engine.dialect.name == "sqlite" else 5,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(KINDS), st.booleans()), max_size=8))
    def run(sequence: list[tuple[Action, ActorKind, bool]]) -> None:
        clock = Clock()
        s = store(engine, clock)
        record = s.request(draft(now=clock.now, valid_days=2), CONSUMER_ACTOR)
        state: ConsentState = record.state
        transitions = 1
        live = (ConsentState.REQUESTED, ConsentState.ACTIVE, ConsentState.PAUSED)
        for action, kind, jump in sequence:
            if jump:
                clock.advance(days=1)
            if clock.now >= record.artefact.valid_until and state in live:
                state, transitions = ConsentState.EXPIRED, transitions + 1  # the store expires it first
            try:
                expected: ConsentState | None = next_state(
                    state, action, kind, at=clock.now, valid_until=record.artefact.valid_until
                )
            except TransitionNotAllowed:
                expected = None
            try:
                after: ConsentState | None = _do(s, record.id, action, kind, clock).state
            except IESError:
                after = None
            assert after is expected, (state, action, kind)
            if after is not None:
                state, transitions = after, transitions + 1
            assert s.get(record.id, history=False).state is state
        full = s.get(record.id)
        assert full.seq == transitions == len(full.transitions)
        assert _verified(full).state is state
        audited = [e for e in AuditLog(engine).entries() if e.subject == f"consent:{record.id}"]
        assert len(audited) == transitions

    run()


def test_a_principal_key_other_than_the_artefacts_cannot_instruct(engine: Engine) -> None:
    clock = Clock()
    s = store(engine, clock)
    record = s.request(draft(now=clock.now), CONSUMER_ACTOR)
    _do(s, record.id, Action.APPROVE, ActorKind.PRINCIPAL, clock)
    body = {"consentId": record.id, "action": "REVOKE", "seq": 2, "at": format_instant(clock.now)}
    with pytest.raises(ConsentSignatureInvalid):
        s.act(record.id, Action.REVOKE, PRINCIPAL, instruction=sign_instruction(body, key("mallory")))
    assert s.get(record.id).state is ConsentState.ACTIVE
    clock.advance(minutes=1)
    assert s.get(record.id).updated_at < clock.now - timedelta(seconds=30)
