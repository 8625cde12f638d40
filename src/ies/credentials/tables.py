"""The issuer's tables: status lists and their entries, issued credentials, the DeDi-style registry, holder
binding challenges and the subject records DigiLocker pulls are answered from.

Why the bits are not stored as a blob: the truth is one row per allocated status index (`vc_status_entries`,
with `set_at` when its bit is 1). The published bitstring is derived from the few set rows whenever it is
served, so revoking never rewrites a 16 KiB blob and two processes revoking at once cannot lose each
other's bit. `vc_status_lists.allocated` is incremented with one UPDATE … RETURNING when an index is handed
out, which both counts and serialises allocators (a row lock on PostgreSQL, the write lock on SQLite).
`version` moves on every bit change so a signed list can be cached until it changes.

Nothing here holds a credential's claims: an issued credential is remembered by id, type, format, holder
binding method and validity, enough to revoke it and to audit issuance, not to leak what it said.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime

__all__ = [
    "DediRecordRow",
    "HolderNonceRow",
    "HolderOtpRow",
    "IssuedCredentialRow",
    "StatusEntryRow",
    "StatusListRow",
    "SubjectRecordRow",
]


class StatusListRow(Base):
    """One W3C Bitstring Status List of `size_bits` entries for one purpose (revocation or suspension)."""

    __tablename__ = "vc_status_lists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, comment="URL-safe id; the list's URL tail")
    issuer: Mapped[str] = mapped_column(String(512), nullable=False, comment="DID of the issuer signing it")
    purpose: Mapped[str] = mapped_column(String(16), nullable=False, comment="revocation | suspension")
    size_bits: Mapped[int] = mapped_column(Integer, nullable=False, comment="entries; ≥ 131072")
    capacity: Mapped[int] = mapped_column(
        Integer, nullable=False, comment="entries handed out before a new list opens (≤ size_bits)"
    )
    allocated: Mapped[int] = mapped_column(Integer, nullable=False, default=0, comment="entries handed out")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, comment="+1 per bit change")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class StatusEntryRow(Base):
    """One allocated index of a status list; its bit is 1 while `set_at` is not null."""

    __tablename__ = "vc_status_entries"

    list_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("vc_status_lists.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, comment="bit position")
    credential_id: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, comment="bit set since")


class IssuedCredentialRow(Base):
    """What the issuer remembers of a credential it signed (no claims, no personal data)."""

    __tablename__ = "vc_issued_credentials"

    credential_id: Mapped[str] = mapped_column(String(255), primary_key=True, comment="urn:uuid:…")
    credential_type: Mapped[str] = mapped_column(
        String(64), nullable=False, comment="e.g. ElectricityCredential"
    )
    proof_format: Mapped[str] = mapped_column(String(32), nullable=False)
    holder_binding: Mapped[str] = mapped_column(
        String(16), nullable=False, comment="did-key | otp | digilocker | none"
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revocation_hash: Mapped[str] = mapped_column(
        String(64), nullable=False, unique=True, comment="SHA-256 hex of the credential id (DeDi record key)"
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)


class DediRecordRow(Base):
    """A record of the DeDi-style registry: present = revoked (or suspended); absent = answered 404."""

    __tablename__ = "vc_dedi_records"

    registry_name: Mapped[str] = mapped_column(
        String(64), primary_key=True, comment="vc-revocation-registry | vc-suspension-registry"
    )
    record_hash: Mapped[str] = mapped_column(String(64), primary_key=True, comment="revocation hash, hex")
    credential_id: Mapped[str] = mapped_column(String(255), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class HolderNonceRow(Base):
    """A one-time nonce a holder signs with its did:key to prove possession at issue."""

    __tablename__ = "vc_holder_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HolderOtpRow(Base):
    """A one-time code sent to a holder's phone; only its salted SHA-256 is kept."""

    __tablename__ = "vc_holder_otps"

    otp_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), nullable=False, comment="tel:+91… (E.164 URI)")
    salt: Mapped[str] = mapped_column(String(32), nullable=False, comment="hex")
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, comment="SHA-256(salt ‖ code), hex")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubjectRecordRow(Base):
    """A credential subject the operator has loaded, issued on a DigiLocker pull (NYCER / MPLTR)."""

    __tablename__ = "vc_subject_records"

    doc_type: Mapped[str] = mapped_column(String(8), primary_key=True, comment="NYCER | MPLTR")
    consumer_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True, comment="'' for NYCER; e.g. 2026-10")
    mobile: Mapped[str] = mapped_column(String(16), nullable=False, comment="last 10 digits")
    subject: Mapped[str] = mapped_column(Text, nullable=False, comment="credentialSubject, JSON")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
