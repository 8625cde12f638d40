"""Tables of the exchange: the message log (every inbound and outbound message) and the replay guard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime


class MessageLogRow(Base):
    """One line per message in or out: who, which action, which message id, when, and what came of it."""

    __tablename__ = "exchange_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(8), doc="in | out")
    action: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str | None] = mapped_column(String(255), doc="signer (in) or ourselves (out)")
    receiver: Mapped[str | None] = mapped_column(String(2048), doc="our id (in) or target URL (out)")
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(255), index=True)
    outcome: Mapped[str] = mapped_column(String(16), doc="ACK | NACK | FAILED")
    error_code: Mapped[str | None] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[str | None] = mapped_column(String(128), doc="BLAKE-512 digest of the body, base64")
    key_id: Mapped[str | None] = mapped_column(String(512), doc="keyId of the Signature header")
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    body: Mapped[str | None] = mapped_column(Text, doc="raw body (kept for audit and disputes)")


class ReplayGuardRow(Base):
    """A (sender, action, messageId) accepted once; a second one within its validity is a replay."""

    __tablename__ = "exchange_replay_guard"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    action: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
