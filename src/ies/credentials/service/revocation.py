"""Revoking and suspending issued credentials: one transaction flips the bit, records DeDi, and audits.

Why both mechanisms on every revocation: a credential may be checked by a W3C verifier (reads the bit in
the status list its entry names) or by an IES verifier that only asks the DeDi-style registry by hash, so
revoking sets the revocation bit when the credential has one AND adds its hash to `vc-revocation-registry`.
Revocation is final. Suspension is reversible and needs a suspension entry (Bitstring Status List): the
passport (ElectricityCredential) carries only the one `dediregistry` entry its schema allows, so it can be
revoked but not suspended — refused with a ConflictError that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ies.credentials.service.state import IssuerState
from ies.credentials.status import dedi
from ies.credentials.status.lists import change_status, entries_for
from ies.credentials.tables import IssuedCredentialRow
from ies.errors import ConflictError, NotFoundError, UsageError
from ies.store import session_factory, utcnow

__all__ = ["CredentialStatusView", "revoke", "set_suspended", "status_of"]

MAX_REASON = 255


@dataclass(frozen=True)
class CredentialStatusView:
    """What the issuer knows about one credential's standing."""

    credential_id: str
    credential_type: str
    proof_format: str
    revoked_at: datetime | None
    suspended_at: datetime | None
    reason: str | None
    status_purposes: tuple[str, ...]

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "suspended" if self.suspended_at else "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "credentialId": self.credential_id,
            "type": self.credential_type,
            "format": self.proof_format,
            "status": self.status,
            "revokedAt": self.revoked_at.isoformat() if self.revoked_at else None,
            "suspendedAt": self.suspended_at.isoformat() if self.suspended_at else None,
            "reason": self.reason,
            "statusPurposes": list(self.status_purposes),
            "revocationHash": dedi.revocation_hash(self.credential_id),
        }


def _reason(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise UsageError(f"reason must be a string of at most {MAX_REASON} characters")
    return reason


def _view(row: IssuedCredentialRow, purposes: Sequence[str]) -> CredentialStatusView:
    return CredentialStatusView(
        row.credential_id,
        row.credential_type,
        row.proof_format,
        row.revoked_at,
        row.suspended_at,
        row.status_reason,
        tuple(purposes),
    )


def _issued(session: Any, credential_id: Any) -> IssuedCredentialRow:
    if not isinstance(credential_id, str) or not credential_id:
        raise UsageError("give the credentialId of a credential this issuer signed")
    row = session.get(IssuedCredentialRow, credential_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"this issuer never issued credential {credential_id}")
    return row


def status_of(state: IssuerState, credential_id: Any) -> CredentialStatusView:
    with session_factory(state.engine)() as session:
        row = _issued(session, credential_id)
        return _view(row, [e.purpose for e in entries_for(session, row.credential_id)])


def revoke(
    state: IssuerState, credential_id: Any, *, reason: Any = None, actor: str | None = None
) -> CredentialStatusView:
    """Revoke for good; ConflictError when it already is."""
    from ies.audit import append

    text = _reason(reason)
    with session_factory(state.engine).begin() as session:
        row = _issued(session, credential_id)
        if row.revoked_at is not None:
            raise ConflictError(f"credential {row.credential_id} is already revoked")
        now = utcnow()
        purposes = [e.purpose for e in entries_for(session, row.credential_id)]
        if "revocation" in purposes:
            change_status(session, row.credential_id, "revocation", set_bit=True, at=now)
        dedi.record(session, "revocation", row.credential_id, at=now)
        row.revoked_at, row.status_reason = now, text
        session.flush()
        append(
            session,
            "credential.revoke",
            actor or state.did,
            row.credential_id,
            {"action": "revoke", "reason": text, "revocationHash": dedi.revocation_hash(row.credential_id)},
        )
        return _view(row, purposes)


def set_suspended(
    state: IssuerState, credential_id: Any, suspended: bool, *, reason: Any = None, actor: str | None = None
) -> CredentialStatusView:
    """Suspend or lift a suspension. Refused for revoked credentials and those without a suspension entry."""
    from ies.audit import append

    text = _reason(reason)
    with session_factory(state.engine).begin() as session:
        row = _issued(session, credential_id)
        if row.revoked_at is not None:
            raise ConflictError(f"credential {row.credential_id} is revoked; its status cannot change")
        purposes = [e.purpose for e in entries_for(session, row.credential_id)]
        if "suspension" not in purposes:
            raise ConflictError(
                f"credential {row.credential_id} ({row.credential_type}) has no suspension status entry; "
                "it can only be revoked"
            )
        now = utcnow()
        changed = change_status(session, row.credential_id, "suspension", set_bit=suspended, at=now)
        if changed:
            if suspended:
                dedi.record(session, "suspension", row.credential_id, at=now)
            else:
                dedi.remove(session, "suspension", row.credential_id)
            row.suspended_at = now if suspended else None
            row.status_reason = text
            session.flush()
            append(
                session,
                "credential.revoke",
                actor or state.did,
                row.credential_id,
                {"action": "suspend" if suspended else "unsuspend", "reason": text},
            )
        return _view(row, purposes)
