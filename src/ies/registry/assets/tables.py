"""Tables of the asset and entity registry: current state plus an append-only version history.

Why two tables: `asset_entities` answers "what is this now" and walks the hierarchy with plain indexed
lookups; `asset_versions` keeps every state an entity has ever had (one row per change: who, when, the
full state after the change and the diff against the one before), so any past state, and the hierarchy
as it stood, can be read back "as of" a time. Version rows are never updated or deleted.

`changed_at` is the time the registry recorded the change (transaction time, UTC). Within one entity
versions are numbered 1, 2, 3… and their times never go backwards; "as of T" means the highest version
whose `changed_at` is at or before T.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime

__all__ = ["AssetEntityRow", "AssetVersionRow"]


class AssetEntityRow(Base):
    """Current state of one entity (a copy of its newest version, kept for fast lookups)."""

    __tablename__ = "asset_entities"
    __table_args__ = (UniqueConstraint("discom", "entity_class", "local_id"),)

    id: Mapped[str] = mapped_column(String(512), primary_key=True, doc="stable DID of the entity")
    entity_class: Mapped[str] = mapped_column(String(32), index=True, doc="class, see structure.EntityClass")
    discom: Mapped[str] = mapped_column(String(253), index=True, doc="did:web host of the owning DISCOM")
    local_id: Mapped[str] = mapped_column(String(128), doc="the DISCOM's internal id, verbatim")
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("asset_entities.id"), index=True, doc="DID of the parent in the network hierarchy"
    )
    status: Mapped[str] = mapped_column(String(16), index=True, doc="PLANNED, ACTIVE, SUSPENDED…")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, doc="class-specific attributes, validated")
    version: Mapped[int] = mapped_column(Integer, doc="number of the newest version")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="when version 1 was recorded (UTC)")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="when the newest version was recorded")
    updated_by: Mapped[str] = mapped_column(String(256), doc="actor who recorded the newest version")


class AssetVersionRow(Base):
    """One recorded state of an entity: the full state after a change, and the diff that led to it."""

    __tablename__ = "asset_versions"
    __table_args__ = (Index("ix_asset_versions_parent_id_changed_at", "parent_id", "changed_at"),)

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("asset_entities.id"), primary_key=True, doc="DID of the entity"
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, doc="1 for the creation, then +1")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, doc="when recorded (UTC)")
    changed_by: Mapped[str] = mapped_column(String(256), doc="actor: user, API client or import file")
    change: Mapped[str] = mapped_column(String(16), doc="CREATE or UPDATE")
    parent_id: Mapped[str | None] = mapped_column(String(512), doc="parent DID in this version")
    status: Mapped[str] = mapped_column(String(16), doc="status in this version")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, doc="all attributes in this version")
    diff: Mapped[dict[str, Any]] = mapped_column(
        JSON, doc='{"status"|"parent_id"|"attributes.<name>": {"old": …, "new": …}}'
    )
    reason: Mapped[str | None] = mapped_column(Text, doc="free-text reason given with the change")
