"""The policy layer's tables: installed policy bundles, and releases of presumed-open datasets.

Why bundles are stored whole (the signed archive, not just the compiled policy): a contract keeps the
bundle version it was made under, so every version ever installed must be reloadable and re-verifiable
after a restart, and a regulator auditing a decision must be able to fetch the exact bytes whose hash the
decision recorded. Open-data releases are append-only for the same reason: each revision stays
retrievable, which is the revision history a transparency portal owes its readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime

__all__ = ["OpenReleaseRow", "PolicyBundleRow"]


class PolicyBundleRow(Base):
    __tablename__ = "policy_bundles"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_policy_bundles_name_version"),)

    bundle_hash: Mapped[str] = mapped_column(
        String(64), primary_key=True, comment="SHA-256 (hex) of the RFC 8785 manifest: the bundle's identity"
    )
    name: Mapped[str] = mapped_column(
        String(64), nullable=False, comment="bundle name, e.g. ies-entitlements"
    )
    version: Mapped[str] = mapped_column(String(32), nullable=False, comment="publisher's version label")
    revision: Mapped[int] = mapped_column(
        BigInteger, nullable=False, comment="strictly increasing per name; lower revisions are refused"
    )
    publisher: Mapped[str] = mapped_column(String(255), nullable=False, comment="publisher subscriber id")
    key_id: Mapped[str] = mapped_column(String(255), nullable=False, comment="publisher key id")
    public_key: Mapped[str] = mapped_column(String(64), nullable=False, comment="signing key (base64)")
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    archive: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, comment="the signed .tar.gz")


class OpenReleaseRow(Base):
    __tablename__ = "policy_open_releases"

    dataset_id: Mapped[str] = mapped_column(String(128), primary_key=True, comment="catalogue dataset id")
    revision: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, comment="1, 2, … per dataset"
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False, comment="of the RFC 8785 content")
    release: Mapped[dict[str, Any]] = mapped_column(
        JSON, nullable=False, comment="the signed release document (metadata, definitions, content, proof)"
    )
