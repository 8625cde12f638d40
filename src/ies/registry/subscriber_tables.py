"""Tables of the subscriber directory (the DeDi-style registry of network participants).

A participant (`registry_participants`) is one subscriber id with its roles, callback URL, domains and
network memberships and a lifecycle status. Each of its keys (`registry_keys`) is a separate record, named
by its key id (DeDi's record id), holding the Ed25519 signing and X25519 encryption public keys and its own
validity window; rotation adds a key and closes the old one's window, so several keys verify at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime


class ParticipantRow(Base):
    __tablename__ = "registry_participants"

    subscriber_id: Mapped[str] = mapped_column(String(255), primary_key=True, doc="hostname-style id")
    roles: Mapped[list[str]] = mapped_column(JSON, doc="BAP, BPP, CDS, LEDGER, DISCOM, ISSUER, REGISTRY…")
    url: Mapped[str] = mapped_column(Text, doc="callback base URL; actions are POSTed to {url}/{action}")
    domains: Mapped[list[str]] = mapped_column(JSON, doc="Beckn domains served")
    network_memberships: Mapped[list[str]] = mapped_column(JSON, doc="network ids, e.g. ns/registry")
    status: Mapped[str] = mapped_column(String(32), doc="INITIATED … SUBSCRIBED … UNSUBSCRIBED")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyRow(Base):
    __tablename__ = "registry_keys"

    key_id: Mapped[str] = mapped_column(String(255), primary_key=True, doc="unique key id (DeDi record id)")
    subscriber_id: Mapped[str] = mapped_column(
        ForeignKey("registry_participants.subscriber_id"), index=True, doc="owner"
    )
    signing_public_key: Mapped[str] = mapped_column(String(64), doc="base64 raw 32-byte Ed25519 key")
    encr_public_key: Mapped[str] = mapped_column(String(64), doc="base64 raw 32-byte X25519 key")
    status: Mapped[str] = mapped_column(String(32), doc="PENDING (challenge unanswered), ACTIVE, REVOKED")
    challenge_digest: Mapped[str | None] = mapped_column(String(128), doc="sha256 of the open challenge")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, doc="free-form, e.g. countries")
