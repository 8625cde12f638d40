"""The data provider's access ledger: every transfer started under a consent and every page it served.

Why a ledger beside the audit log: the audit log proves what happened, in order, to anyone; the ledger
answers the principal's question "who got my data, when, for what, and how much?" directly, and counts
the transfers a consent's frequency limit allows. Each write appends its `consent.access` audit line in
the same transaction, so the ledger and the audit log cannot disagree.

An *access* (what the frequency limit counts) is one transfer: one request for data, however many pages
it takes. Each page served is one ledger row with the meters, the period and the number of records and
bytes it carried, and the SHA-256 of the payload, so a dispute about what was sent can be settled.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from ies.audit import append
from ies.consent._time import format_instant
from ies.consent.enforcement import AccessRequest
from ies.consent.source import VerifiedConsent
from ies.consent.tables import AccessRow, TransferRow
from ies.errors import NotFoundError, UsageError
from ies.store import session_factory

__all__ = ["AccessLedger", "PageServed", "Transfer"]


@dataclass(frozen=True)
class Transfer:
    id: str
    consent_id: str
    manager_id: str
    requester: str
    principal_number: str | None
    principal_did: str | None
    purpose: str
    request: dict[str, Any]
    pages_total: int
    records_total: int
    pages_served: int
    status: str
    stop_code: str | None

    @property
    def page_size(self) -> int:
        return int(self.request["pageSize"])

    @classmethod
    def of(cls, row: TransferRow) -> Transfer:
        return cls(
            row.id,
            row.consent_id,
            row.manager_id,
            row.requester,
            row.principal_number,
            row.principal_did,
            row.purpose,
            row.request,
            row.pages_total,
            row.records_total,
            row.pages_served,
            row.status,
            row.stop_code,
        )


@dataclass(frozen=True)
class PageServed:
    """What one page carried (written to the ledger)."""

    page: int
    resources: tuple[str, ...]
    data_from: datetime
    data_until: datetime
    records: int
    bytes: int
    payload_sha256: str


class AccessLedger:
    def __init__(self, engine: Engine, provider_id: str):
        self.engine = engine
        self.provider_id = provider_id
        self._sessions = session_factory(engine)
        # Counting recent transfers and starting one must not interleave, or two requests could both pass a
        # frequency limit with one slot left. One node serves from one process, so a lock suffices.
        self._start_lock = asyncio.Lock()

    @property
    def start_lock(self) -> asyncio.Lock:
        return self._start_lock

    def recent_transfers(self, consent: VerifiedConsent, at: datetime) -> int:
        """Transfers started under this consent in the rolling frequency period ending at `at`."""
        since = consent.artefact.frequency_period.before(at)
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(TransferRow)
                    .where(TransferRow.consent_id == consent.id, TransferRow.started_at > since)
                )
                or 0
            )

    def start(
        self,
        consent: VerifiedConsent,
        request: AccessRequest,
        *,
        pages_total: int,
        records_total: int,
        page_size: int,
        transaction_id: str | None,
        at: datetime,
    ) -> Transfer:
        a = consent.artefact
        row = TransferRow(
            id=str(uuid.uuid4()),
            consent_id=a.id,
            manager_id=consent.manager_id,
            requester=request.requester,
            principal_number=a.principal_number,
            principal_did=a.principal_did,
            purpose=request.purpose,
            transaction_id=transaction_id,
            request={**request.to_dict(), "pageSize": page_size},
            pages_total=pages_total,
            records_total=records_total,
            pages_served=0,
            records_served=0,
            bytes_served=0,
            status="OPEN" if pages_total else "COMPLETE",
            stop_code=None,
            started_at=at,
            updated_at=at,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            append(
                session,
                "consent.access",
                request.requester,
                f"consent:{a.id}",
                {
                    "event": "transfer.start",
                    "transferId": row.id,
                    "consentId": a.id,
                    "consentSeq": consent.seq,
                    "purpose": request.purpose,
                    "request": request.to_dict(),
                    "pagesTotal": pages_total,
                    "recordsTotal": records_total,
                },
            )
            return Transfer.of(row)

    def get(self, transfer_id: str) -> Transfer:
        with self._sessions() as session:
            row = session.get(TransferRow, transfer_id)
            if row is None:
                raise NotFoundError(
                    f"no transfer {transfer_id!r} at this provider", code="CON_TRANSFER_NOT_FOUND"
                )
            return Transfer.of(row)

    def served(self, transfer: Transfer, page: PageServed, at: datetime) -> None:
        """Record one page served (ledger row, transfer counters, audit line) in one transaction."""
        with self._sessions.begin() as session:
            session.add(
                AccessRow(
                    transfer_id=transfer.id,
                    consent_id=transfer.consent_id,
                    page=page.page,
                    requester=transfer.requester,
                    principal_number=transfer.principal_number,
                    principal_did=transfer.principal_did,
                    purpose=transfer.purpose,
                    resources=list(page.resources),
                    data_from=page.data_from,
                    data_until=page.data_until,
                    records=page.records,
                    bytes=page.bytes,
                    payload_sha256=page.payload_sha256,
                    served_at=at,
                )
            )
            row = session.get(TransferRow, transfer.id)
            assert row is not None
            row.pages_served = max(row.pages_served, page.page + 1)
            row.records_served += page.records
            row.bytes_served += page.bytes
            row.updated_at = at
            if page.page + 1 >= row.pages_total:
                row.status = "COMPLETE"
            session.flush()
            append(
                session,
                "consent.access",
                transfer.requester,
                f"consent:{transfer.consent_id}",
                {
                    "event": "page.served",
                    "transferId": transfer.id,
                    "page": page.page,
                    "records": page.records,
                    "bytes": page.bytes,
                    "resources": list(page.resources),
                    "dataFrom": format_instant(page.data_from),
                    "dataUntil": format_instant(page.data_until),
                    "payloadSha256": page.payload_sha256,
                },
            )

    def stop(self, transfer: Transfer, code: str, at: datetime) -> None:
        """A refusal mid-transfer (revoked, paused, expired…) ends it for good."""
        with self._sessions.begin() as session:
            changed = session.execute(
                update(TransferRow)
                .where(TransferRow.id == transfer.id, TransferRow.status == "OPEN")
                .values(status="STOPPED", stop_code=code, updated_at=at)
            )
            if getattr(changed, "rowcount", 0):
                append(
                    session,
                    "consent.access",
                    self.provider_id,
                    f"consent:{transfer.consent_id}",
                    {"event": "transfer.stop", "transferId": transfer.id, "code": code},
                )

    # -- what the principal sees -------------------------------------------------------------------------
    def accesses(
        self, *, principal_number: str | None = None, principal_did: str | None = None, limit: int = 5000
    ) -> list[dict[str, Any]]:
        """Every page served about this principal, oldest first: who, when, purpose, how much."""
        query = select(AccessRow).order_by(AccessRow.id).limit(limit)
        if principal_number is None and principal_did is None:
            raise UsageError("name the principal (consumer number or did:key)")
        clauses = []
        if principal_number is not None:
            clauses.append(AccessRow.principal_number == principal_number)
        if principal_did is not None:
            clauses.append(AccessRow.principal_did == principal_did)
        query = query.where(clauses[0] if len(clauses) == 1 else (clauses[0] | clauses[1]))
        with self._sessions() as session:
            return [
                {
                    "transferId": row.transfer_id,
                    "consentId": row.consent_id,
                    "page": row.page,
                    "requester": row.requester,
                    "purpose": row.purpose,
                    "servedAt": format_instant(row.served_at),
                    "resources": row.resources,
                    "dataFrom": format_instant(row.data_from),
                    "dataUntil": format_instant(row.data_until),
                    "records": row.records,
                    "bytes": row.bytes,
                    "payloadSha256": row.payload_sha256,
                }
                for row in session.scalars(query)
            ]
