"""The CDS's table: the latest published version of every catalogue, per publishing BPP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime


class CatalogRow(Base):
    __tablename__ = "cds_catalogs"

    bpp_id: Mapped[str] = mapped_column(String(255), primary_key=True, doc="publishing BPP (the signer)")
    catalog_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    bpp_uri: Mapped[str | None] = mapped_column(String(2048))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
