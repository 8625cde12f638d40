"""The consent layer's tables (Alembic branch "consent").

    consent_artefacts     consent manager: one row per consent, its artefact as signed and its current state
    consent_transitions   consent manager: every lifecycle transition, signed by the manager, hash-chained
    consent_transfers     data provider: one row per meter-data transfer started under a consent
    consent_accesses      data provider: one row per page of data served (who, when, purpose, how much)
    consent_notices       data consumer: the newest verified state of each consent it was notified about

A node uses the tables of the parts it plays. `consent_artefacts.seq` is the number of
transitions recorded so far and `last_hash` the hash of the newest one: a transition updates the row only
where both still hold their expected values (compare-and-swap), so two concurrent transitions of one
consent can never both succeed, on SQLite or PostgreSQL. Times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime

__all__ = ["AccessRow", "ConsentRow", "NoticeRow", "TransferRow", "TransitionRow"]


class ConsentRow(Base):
    __tablename__ = "consent_artefacts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="urn:uuid:… of the artefact")
    manager_id: Mapped[str] = mapped_column(String(255), comment="subscriber id of the consent manager")
    principal_number: Mapped[str | None] = mapped_column(String(64), index=True, comment="consumer number")
    principal_did: Mapped[str | None] = mapped_column(String(255), index=True, comment="principal's did:key")
    provider_id: Mapped[str] = mapped_column(String(255), index=True, comment="data provider subscriber id")
    consumer_id: Mapped[str] = mapped_column(String(255), index=True, comment="data consumer subscriber id")
    purpose: Mapped[str] = mapped_column(String(64), comment="purpose code from the catalogue")
    state: Mapped[str] = mapped_column(String(16), index=True, comment="REQUESTED | ACTIVE | … | EXPIRED")
    seq: Mapped[int] = mapped_column(Integer, comment="transitions recorded so far")
    last_hash: Mapped[str] = mapped_column(String(64), comment="record hash of the newest transition")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the artefact's canonical bytes")
    artefact: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the artefact with its signatures")


class TransitionRow(Base):
    __tablename__ = "consent_transitions"

    consent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16), comment="consumer | principal | portal | manager")
    actor_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    record_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the manager-signed transition record")


class TransferRow(Base):
    __tablename__ = "consent_transfers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="collection id of the transfer")
    consent_id: Mapped[str] = mapped_column(String(64))
    manager_id: Mapped[str] = mapped_column(String(255))
    requester: Mapped[str] = mapped_column(String(255), index=True)
    principal_number: Mapped[str | None] = mapped_column(String(64))
    principal_did: Mapped[str | None] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(255))
    request: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the normalised request served")
    pages_total: Mapped[int] = mapped_column(Integer)
    records_total: Mapped[int] = mapped_column(BigInteger)
    pages_served: Mapped[int] = mapped_column(Integer)
    records_served: Mapped[int] = mapped_column(BigInteger)
    bytes_served: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), comment="OPEN | COMPLETE | STOPPED")
    stop_code: Mapped[str | None] = mapped_column(String(64), comment="the POL_* code that stopped it")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_consent_transfers_consent_started", "consent_id", "started_at"),)


class AccessRow(Base):
    __tablename__ = "consent_accesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(64), index=True)
    consent_id: Mapped[str] = mapped_column(String(64), index=True)
    page: Mapped[int] = mapped_column(Integer)
    requester: Mapped[str] = mapped_column(String(255))
    principal_number: Mapped[str | None] = mapped_column(String(64), index=True)
    principal_did: Mapped[str | None] = mapped_column(String(255), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    resources: Mapped[list[str]] = mapped_column(JSON, comment="meters whose data this page carried")
    data_from: Mapped[datetime] = mapped_column(UTCDateTime, comment="earliest instant in the page")
    data_until: Mapped[datetime] = mapped_column(UTCDateTime, comment="end of the latest interval")
    records: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer, comment="size of the page's MeterData JSON")
    payload_sha256: Mapped[str] = mapped_column(String(64))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeRow(Base):
    """Data consumer: the newest verified state of each consent it was notified about."""

    __tablename__ = "consent_notices"

    consent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manager_id: Mapped[str] = mapped_column(String(255))
    provider_id: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer, comment="transitions the newest notice reported")
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    retention: Mapped[str] = mapped_column(String(32), comment="how long received data may be kept")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    artefact: Mapped[dict[str, Any]] = mapped_column(JSON)
    transition: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the manager-signed newest record")
