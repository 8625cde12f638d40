"""The consent manager's store: consents, their signed hash-chained transitions, and the audit line of each.

Every transition runs one numbered sequence inside one database transaction:
  (1) read the consent (expiring it first, in its own transaction, if its validity has ended);
  (2) ask the lifecycle whether this actor may take this action now;
  (3) build the transition record (who, what, when, proof, the artefact digest, the previous record's
      hash) and sign it with the manager's key;
  (4) compare-and-swap the consent row (only if its `seq` is still the one read), insert the record;
  (5) append `consent.transition` to the audit log, in the same transaction.
So a transition without its audit line, or two racing transitions of one consent, cannot exist.

Proofs of who acted are kept in the record: the data consumer's and the provider portal's Beckn
Authorization header (checkable against the registry), the principal's signed instruction or artefact
signature, or the manager's expiry note.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.orm import Session

from ies.consent._time import format_instant, parse_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid, ConsentSignatureInvalid, TransitionNotAllowed, UnknownConsent
from ies.consent.lifecycle import Action, ActorKind, ConsentState, next_state
from ies.consent.purposes import PurposeCatalogue, purpose_catalogue
from ies.consent.signatures import (
    PORTAL,
    PRINCIPAL,
    record_hash,
    sign_record,
    verify_instruction,
    verify_signature,
)
from ies.consent.tables import ConsentRow, TransitionRow
from ies.identity.keys import SigningKeyPair
from ies.store import session_factory, utcnow

__all__ = ["INSTRUCTION_SKEW", "Actor", "ConsentRecord", "ConsentStore", "ManagerIdentity"]

GENESIS_HASH = "0" * 64
#: How far a principal's signed instruction may be from the manager's clock (phones drift; replays are
#: stopped by the instruction's `seq`, not by time).
INSTRUCTION_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class ManagerIdentity:
    """The consent manager's subscriber id and the registered key it signs transition records with."""

    subscriber_id: str
    key_id: str
    key: SigningKeyPair = field(repr=False)


@dataclass(frozen=True)
class Actor:
    """Who takes an action, and the proof of it that goes into the transition record."""

    kind: ActorKind
    id: str
    proof: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsentRecord:
    """A consent as the manager holds it: the artefact, its state, and (when asked for) its history."""

    artefact: ConsentArtefact
    state: ConsentState
    seq: int
    updated_at: datetime
    transitions: tuple[dict[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return self.artefact.id

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "state": self.state.value,
            "seq": self.seq,
            "stateSince": format_instant(self.updated_at),
            "artefact": self.artefact.to_dict(),
        }
        if self.transitions:
            out["transitions"] = list(self.transitions)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            **self.artefact.summary(),
            "state": self.state.value,
            "stateSince": format_instant(self.updated_at),
        }


def new_artefact(
    draft: dict[str, Any], *, manager_id: str, now: datetime, catalogue: PurposeCatalogue | None = None
) -> ConsentArtefact:
    """The artefact for a data consumer's draft: the manager assigns id, itself and the creation time."""
    if not isinstance(draft, dict):
        raise ArtefactInvalid("a consent request is a JSON object", details={"path": "$"})
    for assigned in ("id", "consentManager", "createdAt", "signatures"):
        if assigned in draft:
            raise ArtefactInvalid(
                f"{assigned} is assigned by the consent manager, not the requester",
                details={"path": f"$.{assigned}"},
            )
    catalogue = catalogue or purpose_catalogue()
    doc = {
        "type": "ConsentArtefact",
        "specVersion": "1.0",
        **draft,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "consentManager": manager_id,
        "createdAt": format_instant(now),
    }
    purpose = doc.get("purpose")
    if isinstance(purpose, dict) and "catalogue" not in purpose:
        doc["purpose"] = {**purpose, "catalogue": catalogue.ref}
    return ConsentArtefact.parse(doc, catalogue=catalogue)


class ConsentStore:
    """Consents held by one consent manager, on the node's database."""

    def __init__(
        self,
        engine: Engine,
        manager: ManagerIdentity,
        *,
        catalogue: PurposeCatalogue | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_expire: Callable[[ConsentRecord], None] | None = None,
    ):
        self.engine = engine
        self.on_expire = on_expire
        self.manager = manager
        self.catalogue = catalogue or purpose_catalogue()
        self.clock = clock
        self._sessions = session_factory(engine)

    # -- reading ---------------------------------------------------------------------------------------
    def _record(
        self, row: ConsentRow, session: Session | None = None, *, history: bool = False
    ) -> ConsentRecord:
        transitions: tuple[dict[str, Any], ...] = ()
        if history and session is not None:
            rows = session.scalars(
                select(TransitionRow).where(TransitionRow.consent_id == row.id).order_by(TransitionRow.seq)
            )
            transitions = tuple(r.record for r in rows)
        return ConsentRecord(
            ConsentArtefact.parse(row.artefact, catalogue=self.catalogue),
            ConsentState(row.state),
            row.seq,
            row.updated_at,
            transitions,
        )

    def get(self, consent_id: str, *, history: bool = True) -> ConsentRecord:
        """The consent (expired first if its validity has ended), with its transitions."""
        self.expire_if_due(consent_id)
        with self._sessions() as session:
            row = session.get(ConsentRow, consent_id)
            if row is None:
                raise UnknownConsent(f"no consent {consent_id!r} at this consent manager")
            return self._record(row, session, history=history)

    def find(
        self,
        *,
        principal_number: str | None = None,
        principal_did: str | None = None,
        consumer_id: str | None = None,
        provider_id: str | None = None,
        party: str | None = None,
        state: str | None = None,
        limit: int = 500,
    ) -> list[ConsentRecord]:
        """Consents matching every filter given (`party`: as consumer or as provider), newest first."""
        self.expire_due()
        query = select(ConsentRow).order_by(ConsentRow.created_at.desc(), ConsentRow.id).limit(limit)
        if principal_number is not None:
            query = query.where(ConsentRow.principal_number == principal_number)
        if principal_did is not None:
            query = query.where(ConsentRow.principal_did == principal_did)
        if consumer_id is not None:
            query = query.where(ConsentRow.consumer_id == consumer_id)
        if provider_id is not None:
            query = query.where(ConsentRow.provider_id == provider_id)
        if party is not None:
            query = query.where((ConsentRow.consumer_id == party) | (ConsentRow.provider_id == party))
        if state is not None:
            query = query.where(ConsentRow.state == state)
        with self._sessions() as session:
            return [self._record(row) for row in session.scalars(query)]

    # -- transitions -----------------------------------------------------------------------------------
    def request(self, draft: dict[str, Any], actor: Actor) -> ConsentRecord:
        """REQUEST: a data consumer asks for a consent; it must name itself as the data consumer."""
        now = self.clock()
        artefact = new_artefact(
            draft, manager_id=self.manager.subscriber_id, now=now, catalogue=self.catalogue
        )
        if actor.kind is not ActorKind.CONSUMER or actor.id != artefact.consumer_id:
            raise TransitionNotAllowed(
                f"{actor.id} cannot request a consent naming {artefact.consumer_id} as data consumer",
                details={"action": Action.REQUEST.value},
            )
        with self._sessions.begin() as session:
            return self._transition(session, None, artefact, Action.REQUEST, actor, now, None)

    def approve(
        self, consent_id: str, signature: dict[str, Any], actor: Actor, *, provider_key: bytes | None = None
    ) -> ConsentRecord:
        """APPROVE with the principal's signature over the artefact, or the provider portal's attestation
        (`provider_key`: the provider's registered key, for checking that attestation)."""
        expected = {ActorKind.PRINCIPAL: PRINCIPAL, ActorKind.PORTAL: PORTAL}.get(actor.kind)
        if signature.get("type") != expected or signature.get("signer") != actor.id:
            raise ConsentSignatureInvalid(
                f"an approval by the {actor.kind.value} carries a {expected} by them"
            )
        return self._act(
            consent_id, Action.APPROVE, actor, None, signature=signature, provider_key=provider_key
        )

    def act(
        self,
        consent_id: str,
        action: Action,
        actor: Actor,
        *,
        reason: str | None = None,
        instruction: dict[str, Any] | None = None,
    ) -> ConsentRecord:
        """REJECT, PAUSE, RESUME or REVOKE. A principal acts with a signed instruction
        ({instruction: {consentId, action, seq, at, reason?}, signature}); the portal with its evidence."""
        if action in (Action.REQUEST, Action.APPROVE, Action.EXPIRE):
            raise TransitionNotAllowed(f"{action.value} is not taken through act()")
        return self._act(consent_id, action, actor, reason, instruction=instruction)

    def _act(
        self,
        consent_id: str,
        action: Action,
        actor: Actor,
        reason: str | None,
        *,
        signature: dict[str, Any] | None = None,
        provider_key: bytes | None = None,
        instruction: dict[str, Any] | None = None,
    ) -> ConsentRecord:
        self.expire_if_due(consent_id)  # (1)
        now = self.clock()
        with self._sessions.begin() as session:
            row = session.get(ConsentRow, consent_id)
            if row is None:
                raise UnknownConsent(f"no consent {consent_id!r} at this consent manager")
            artefact = ConsentArtefact.parse(row.artefact, catalogue=self.catalogue)
            if actor.kind is ActorKind.PORTAL and actor.id != artefact.provider_id:
                raise TransitionNotAllowed(
                    f"only the data provider {artefact.provider_id} acts through its portal, not {actor.id}"
                )
            if actor.kind is ActorKind.PRINCIPAL and actor.id != artefact.principal_did:
                raise TransitionNotAllowed(f"{actor.id} is not this consent's principal")
            proof = dict(actor.proof)
            if signature is not None:
                next_state(ConsentState(row.state), action, actor.kind, at=now, valid_until=row.valid_until)
                verify_signature(artefact, signature, provider_key)
                artefact = artefact.with_signature(signature)
                proof["signature"] = signature
            if actor.kind is ActorKind.PORTAL and signature is None and not proof.get("evidence"):
                raise ArtefactInvalid(
                    "the portal acts for the principal only with the identity evidence it checked",
                    details={"path": "$.evidence"},
                )
            if actor.kind is ActorKind.PRINCIPAL and signature is None:
                told = verify_instruction(instruction, artefact.principal_did)
                self._check_instruction(told, row, action, now)
                proof["instruction"] = instruction
                reason = reason or told.get("reason")
            return self._transition(
                session, row, artefact, action, Actor(actor.kind, actor.id, proof), now, reason
            )

    @staticmethod
    def _check_instruction(told: dict[str, Any], row: ConsentRow, action: Action, now: datetime) -> None:
        if told.get("consentId") != row.id or told.get("action") != action.value:
            raise ConsentSignatureInvalid(f"the signed instruction is not {action.value} of {row.id}")
        if told.get("seq") != row.seq:
            raise TransitionNotAllowed(
                f"the instruction was signed for transition {told.get('seq')}; the consent is at {row.seq} "
                "(fetch it again and re-sign)",
                details={"action": action.value, "state": row.state},
            )
        at = parse_instant(told.get("at"), path="$.instruction.at")
        if abs(at - now) > INSTRUCTION_SKEW:
            raise ConsentSignatureInvalid(f"the instruction's time {format_instant(at)} is too far from now")

    def expire_if_due(self, consent_id: str) -> ConsentRecord | None:
        """Record EXPIRED for this consent if its validity has ended and it is not final yet."""
        now = self.clock()
        with self._sessions.begin() as session:
            row = session.get(ConsentRow, consent_id)
            if row is None or row.valid_until > now or row.state not in _LIVE_STATES:
                return None
            artefact = ConsentArtefact.parse(row.artefact, catalogue=self.catalogue)
            actor = Actor(
                ActorKind.MANAGER,
                self.manager.subscriber_id,
                {"type": "Expiry", "validUntil": format_instant(row.valid_until)},
            )
            record = self._transition(session, row, artefact, Action.EXPIRE, actor, now, "validity ended")
        if self.on_expire is not None:
            self.on_expire(record)
        return record

    def expire_due(self) -> list[ConsentRecord]:
        """Expire every live consent whose validity has ended (the sweeper and every list call this)."""
        now = self.clock()
        with self._sessions() as session:
            due = session.scalars(
                select(ConsentRow.id).where(ConsentRow.valid_until <= now, ConsentRow.state.in_(_LIVE_STATES))
            ).all()
        done = []
        for consent_id in due:
            try:
                record = self.expire_if_due(consent_id)
            except TransitionNotAllowed:  # another process expired it first
                continue
            if record is not None:
                done.append(record)
        return done

    # -- the one writer --------------------------------------------------------------------------------
    def _transition(
        self,
        session: Session,
        row: ConsentRow | None,
        artefact: ConsentArtefact,
        action: Action,
        actor: Actor,
        now: datetime,
        reason: str | None,
    ) -> ConsentRecord:
        before = ConsentState(row.state) if row is not None else None
        after = next_state(before, action, actor.kind, at=now, valid_until=artefact.valid_until)  # (2)
        seq = row.seq if row is not None else 0
        prev = row.last_hash if row is not None else GENESIS_HASH
        body: dict[str, Any] = {  # (3)
            "type": "ConsentTransition",
            "consentId": artefact.id,
            "seq": seq,
            "action": action.value,
            "from": before.value if before else None,
            "to": after.value,
            "at": format_instant(now),
            "actor": {"kind": actor.kind.value, "id": actor.id},
            "artefactDigest": artefact.digest,
            "prevHash": prev,
            "proof": actor.proof,
        }
        if reason:
            body["reason"] = reason[:500]
        record = sign_record(
            body, self.manager.key, signer=self.manager.subscriber_id, key_id=self.manager.key_id
        )
        digest = record_hash(record)
        if row is None:  # (4)
            session.add(
                ConsentRow(
                    id=artefact.id,
                    manager_id=artefact.consent_manager,
                    principal_number=artefact.principal_number,
                    principal_did=artefact.principal_did,
                    provider_id=artefact.provider_id,
                    consumer_id=artefact.consumer_id,
                    purpose=artefact.purpose.code,
                    state=after.value,
                    seq=1,
                    last_hash=digest,
                    valid_from=artefact.valid_from,
                    valid_until=artefact.valid_until,
                    created_at=now,
                    updated_at=now,
                    digest=artefact.digest,
                    artefact=artefact.to_dict(),
                )
            )
            session.flush()
        else:
            changed = cast(
                CursorResult[Any],
                session.execute(
                    update(ConsentRow)
                    .where(ConsentRow.id == row.id, ConsentRow.seq == seq)
                    .values(
                        state=after.value,
                        seq=seq + 1,
                        last_hash=digest,
                        updated_at=now,
                        artefact=artefact.to_dict(),
                    )
                    .execution_options(synchronize_session=False)
                ),
            )
            if changed.rowcount != 1:
                raise TransitionNotAllowed(
                    f"consent {artefact.id} changed while {action.value} was being recorded; try again",
                    details={"action": action.value},
                )
        session.add(
            TransitionRow(
                consent_id=artefact.id,
                seq=seq,
                action=action.value,
                from_state=before.value if before else None,
                to_state=after.value,
                actor_kind=actor.kind.value,
                actor_id=actor.id[:255],
                at=now,
                record_hash=digest,
                record=record,
            )
        )
        from ies.audit import append

        append(  # (5)
            session,
            "consent.transition",
            actor.id,
            f"consent:{artefact.id}",
            {
                "consentId": artefact.id,
                "seq": seq,
                "action": action.value,
                "from": body["from"],
                "to": after.value,
                "actorKind": actor.kind.value,
                "purpose": artefact.purpose.code,
                "consumer": artefact.consumer_id,
                "provider": artefact.provider_id,
                "artefactDigest": artefact.digest,
                "recordHash": digest,
            },
        )
        return ConsentRecord(artefact, after, seq + 1, now, (record,))


_LIVE_STATES = (ConsentState.REQUESTED.value, ConsentState.ACTIVE.value, ConsentState.PAUSED.value)
