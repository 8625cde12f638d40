"""The data consumer's side of notifications: check each consent `on_update` and keep the newest state.

Why check what the exchange already authenticated: the Beckn signature proves who *sent* the message; the
manager's signature on the transition record inside it proves what the manager *recorded*, and it stays
checkable later, by anyone, from the stored record. A notice is kept only when:
  (1) it comes from a consent manager this consumer trusts (all, if none are configured);
  (2) the transition record is signed by that manager (its registered key) and names this consent;
  (3) the artefact passes its checks, its digest is the one the record names, and it names this node as
      the data consumer;
  (4) it is newer (higher `seq`) than what is already held — late or replayed notices change nothing.
A refused notice is logged and audited as `consent.notice` with the reason, never stored as state.

`NoticeBook.state_of(consent_id)` is what a data consumer asks before it uses data it received: a consent
that is REVOKED, PAUSED or EXPIRED means no new requests, and `retention` says how long what it already
has may be kept.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ies.audit import append
from ies.consent._time import format_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid, ConsentSignatureInvalid, ConsentUnverifiable
from ies.consent.peers import Peers
from ies.consent.signatures import verify_record
from ies.consent.tables import NoticeRow
from ies.exchange.inbound import InboundMessage
from ies.store import session_factory, utcnow

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["NoticeBook"]

log = logging.getLogger("ies.consent")


class NoticeBook:
    def __init__(self, runtime: NodeRuntime, peers: Peers, trusted: set[str] | None = None):
        self.runtime = runtime
        self.peers = peers
        self.trusted = trusted or set()
        self._sessions = session_factory(runtime.engine)

    async def receive(self, msg: InboundMessage) -> None:
        """The `on_update` handler: check (1)–(4), then store or refuse (both audited)."""
        notice = msg.message.get("consentNotification")
        if not isinstance(notice, dict):
            return  # some other update: not ours
        manager = msg.signature.subscriber_id
        try:
            row = await self._checked(manager, notice)
        except (ConsentSignatureInvalid, ConsentUnverifiable, ArtefactInvalid) as err:
            log.warning("consent notice from %s refused: %s", manager, err.message)
            self._audit(manager, str(notice.get("consentId", "?")), {"accepted": False, "code": err.code})
            return
        self._store(manager, row)

    async def _checked(self, manager: str, notice: dict[str, Any]) -> NoticeRow:
        if self.trusted and manager not in self.trusted:  # (1)
            raise ConsentUnverifiable(f"{manager} is not a consent manager this consumer trusts")
        record = notice.get("transition")
        if not isinstance(record, dict):
            raise ConsentSignatureInvalid("the notice carries no transition record")
        method = str((record.get("managerSignature") or {}).get("verificationMethod", "")).split("|")
        if len(method) != 3 or method[0] != manager:
            raise ConsentSignatureInvalid(f"the record is not signed by {manager}")
        verify_record(record, await self.peers.key(manager, method[1]))  # (2)
        artefact = ConsentArtefact.parse(notice.get("artefact"))  # (3)
        if record.get("consentId") != artefact.id or record.get("artefactDigest") != artefact.digest:
            raise ConsentSignatureInvalid("the record and the artefact are about different consents")
        if artefact.consumer_id != self.runtime.cfg.subscriber_id or artefact.consent_manager != manager:
            raise ConsentSignatureInvalid("the consent names another data consumer or manager")
        return NoticeRow(
            consent_id=artefact.id,
            manager_id=manager,
            provider_id=artefact.provider_id,
            purpose=artefact.purpose.code,
            state=str(record["to"]),
            seq=int(record["seq"]) + 1,
            valid_until=artefact.valid_until,
            retention=artefact.doc["retention"],
            updated_at=utcnow(),
            artefact=artefact.to_dict(),
            transition=record,
        )

    def _store(self, manager: str, row: NoticeRow) -> None:
        with self._sessions.begin() as session:
            held = session.get(NoticeRow, row.consent_id)
            newer = held is None or row.seq > held.seq  # (4)
            if held is None:
                session.add(row)
            elif newer:
                for column in ("state", "seq", "updated_at", "artefact", "transition", "valid_until"):
                    setattr(held, column, getattr(row, column))
            session.flush()
            append(
                session,
                "consent.notice",
                manager,
                f"consent:{row.consent_id}",
                {"accepted": True, "newer": newer, "state": row.state, "seq": row.seq},
            )

    def _audit(self, manager: str, consent_id: str, payload: dict[str, Any]) -> None:
        with self._sessions.begin() as session:
            append(session, "consent.notice", manager, f"consent:{consent_id}"[:512], payload)

    # -- reading -----------------------------------------------------------------------------------------
    def state_of(self, consent_id: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.get(NoticeRow, consent_id)
            return _view(row) if row is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self._sessions() as session:
            return [_view(r) for r in session.scalars(select(NoticeRow).order_by(NoticeRow.updated_at))]


def _view(row: NoticeRow) -> dict[str, Any]:
    return {
        "consentId": row.consent_id,
        "state": row.state,
        "seq": row.seq,
        "consentManager": row.manager_id,
        "provider": row.provider_id,
        "purpose": row.purpose,
        "validUntil": format_instant(row.valid_until),
        "retention": row.retention,
        "updatedAt": format_instant(row.updated_at),
    }
