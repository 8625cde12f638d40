"""The audit tables: entries, Merkle nodes, the single-row head, and published signed tree heads.

Why four tables: `audit_entries` is the log itself (what a regulator reads); `audit_nodes` keeps every
perfect subtree hash so proofs need O(log n) reads; `audit_head` is one row that every appender locks, which
serialises appenders across processes and carries the compact frontier so an append never rereads old
leaves; `audit_tree_heads` keeps what the node signed and published, so a later rewrite contradicts a
signature. Hashes in the entries table are hex (readable in a SQL shell and in exports); tree nodes are raw
32 bytes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base

__all__ = ["HEAD_ROW_ID", "AuditEntryRow", "AuditHeadRow", "AuditNodeRow", "AuditTreeHeadRow"]

HEAD_ROW_ID = 1


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, comment="position in the log, from 0, gapless"
    )
    recorded_at: Mapped[str] = mapped_column(
        String(27), nullable=False, comment="UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ, as hashed"
    )
    kind: Mapped[str] = mapped_column(
        String(64), nullable=False, comment="e.g. message.in, consent.transition"
    )
    actor: Mapped[str] = mapped_column(String(255), nullable=False, comment="who acted (subscriber id, did)")
    subject: Mapped[str] = mapped_column(
        String(512), nullable=False, comment="what it was about (message id…)"
    )
    payload: Mapped[str] = mapped_column(Text, nullable=False, comment="RFC 8785 canonical JSON object")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, comment="entry_hash of seq - 1 (hex)")
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, comment="SHA-256 of the entry (hex)")


class AuditNodeRow(Base):
    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, comment="0 = leaf hash")
    idx: Mapped[int] = mapped_column(
        BigInteger,
        primary_key=True,
        autoincrement=False,
        comment="covers leaves [idx·2^level, (idx+1)·2^level)",
    )
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, comment="RFC 9162 subtree hash")


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, comment="always 1")
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False, comment="entries in the log")
    last_entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, comment="hex; zeros when empty")
    frontier: Mapped[bytes] = mapped_column(
        LargeBinary, nullable=False, comment="perfect subtree roots of the tree, largest first, 32 bytes each"
    )
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, comment="MTH of the whole log")


class AuditTreeHeadRow(Base):
    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    timestamp: Mapped[str] = mapped_column(String(27), nullable=False, comment="UTC, as signed")
    root_hash: Mapped[str] = mapped_column(String(64), nullable=False, comment="hex")
    log_id: Mapped[str] = mapped_column(String(64), nullable=False, comment="SHA-256 of the public key (hex)")
    public_key: Mapped[str] = mapped_column(String(64), nullable=False, comment="Ed25519, base64")
    signature: Mapped[str] = mapped_column(String(128), nullable=False, comment="Ed25519, base64")
