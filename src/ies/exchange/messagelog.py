"""Writing the message log and the replay guard, and handing each line to the audit trail.

Everything a receive or send records goes through `MessageLog.record`, in ONE transaction with the replay
guard insert and the audit line, so a message can never be accepted without its audit line or the reverse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ies.errors import ReplayedMessage
from ies.exchange.tables import MessageLogRow, ReplayGuardRow
from ies.store import UTCDateTime, session_factory, utcnow

__all__ = ["AuditSink", "LoggedMessage", "MessageLog"]

#: (session, [(kind, actor, subject, payload), …]) → None: writes audit lines, in order, inside the caller's
#: transaction (`ies.audit.append_many`).
AuditSink = Callable[[Session, list[tuple[str, str, str, dict[str, Any]]]], Any]


@dataclass(frozen=True)
class LoggedMessage:
    direction: str
    action: str
    sender_id: str | None
    receiver: str | None
    message_id: str | None
    transaction_id: str | None
    outcome: str
    error_code: str | None = None
    http_status: int | None = None
    digest: str | None = None
    key_id: str | None = None
    body: str | None = None


_LOG_INSERT = insert(cast(Table, MessageLogRow.__table__))


def _guard_upsert(upsert: Any) -> Any:
    """INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING: no row back means a live claim exists."""
    table = ReplayGuardRow.__table__
    return (
        upsert(table)
        .values(
            sender_id=bindparam("sender_id"),
            action=bindparam("action"),
            message_id=bindparam("message_id"),
            expires_at=bindparam("until", type_=UTCDateTime),
        )
        .on_conflict_do_update(
            index_elements=["sender_id", "action", "message_id"],
            set_={"expires_at": bindparam("until", type_=UTCDateTime)},
            where=table.c.expires_at < bindparam("now", type_=UTCDateTime),
        )
        .returning(table.c.message_id)
    )


def _audit_record(msg: LoggedMessage) -> tuple[str, str, str, dict[str, Any]]:
    return (
        f"message.{msg.direction}",
        msg.sender_id or "unauthenticated",
        f"{msg.action}:{msg.message_id}",
        {
            "action": msg.action,
            "messageId": msg.message_id,
            "transactionId": msg.transaction_id,
            "outcome": msg.outcome,
            "errorCode": msg.error_code,
            "digest": msg.digest,
            "keyId": msg.key_id,
            "receiver": msg.receiver,
        },
    )


# Built once: constructing and cache-keying statements per message cost more than executing them.
_GUARD_UPSERT = {False: _guard_upsert(sqlite_insert), True: _guard_upsert(pg_insert)}


@dataclass
class _Pending:
    msg: LoggedMessage
    replay_key: tuple[str, str, str] | None
    replay_until: datetime | None
    outcome: BaseException | None = None


class MessageLog:
    """The message log, written with group commit.

    `record` writes one line in its own transaction. `arecord` (what the exchange uses) queues the line;
    a single writer takes everything queued while the previous transaction was committing and writes it in
    one transaction, then wakes every waiter. Each line still commits together with its replay claim and
    its audit entry, and no caller is answered before its line is durable — the batch only shares the
    commit.
    """

    def __init__(self, engine: Engine, audit: AuditSink | None = None, *, keep_bodies: bool = True):
        self.engine = engine
        self.sessions = session_factory(engine)
        self.audit = audit
        self.keep_bodies = keep_bodies
        self._queue: list[tuple[_Pending, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def record(
        self,
        msg: LoggedMessage,
        *,
        replay_key: tuple[str, str, str] | None = None,
        replay_until: datetime | None = None,
    ) -> None:
        """Log one message now; with `replay_key`, raise ReplayedMessage if it was already accepted (the
        refusal itself is then logged as a NACK line in its place)."""
        item = _Pending(msg, replay_key, replay_until)
        self._write([item])
        if item.outcome is not None:
            raise item.outcome

    async def arecord(
        self,
        msg: LoggedMessage,
        *,
        replay_key: tuple[str, str, str] | None = None,
        replay_until: datetime | None = None,
    ) -> None:
        """`record` for the event loop: group-committed, awaited until durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((_Pending(msg, replay_key, replay_until), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._drain())
        await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            items = [item for item, _ in batch]
            try:
                await asyncio.to_thread(self._write, items)
            except Exception as exc:  # the whole transaction failed: every waiter learns it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for item, future in batch:
                if future.done():
                    continue
                if item.outcome is not None:
                    future.set_exception(item.outcome)
                else:
                    future.set_result(None)

    def _write(self, items: list[_Pending]) -> None:
        """One transaction: every item's replay claim, then all log lines in one executemany, then all
        their audit entries in one append (one audit lock and head update for the whole batch).

        Core statements rather than ORM objects, and batched: this runs for every message in and out, and
        per-statement overhead, not the inserts themselves, was what it cost.
        """
        now = utcnow()
        with self.sessions.begin() as session:
            lines = []
            for item in items:
                msg = item.msg
                if item.replay_key is not None:
                    until = item.replay_until or now + timedelta(minutes=5)
                    try:
                        self._guard(session, item.replay_key, until, now)
                    except ReplayedMessage as refused:
                        item.outcome = refused
                        msg = replace(
                            msg,
                            outcome="NACK",
                            error_code=refused.code,
                            http_status=refused.http_status,
                            body=None,
                        )
                lines.append(msg)
            session.execute(_LOG_INSERT, [self._row(msg, now) for msg in lines])
            if self.audit is not None:
                self.audit(session, [_audit_record(msg) for msg in lines])

    def _row(self, msg: LoggedMessage, now: datetime) -> dict[str, Any]:
        return {
            "direction": msg.direction,
            "action": msg.action,
            "sender_id": msg.sender_id,
            "receiver": msg.receiver,
            "message_id": msg.message_id,
            "transaction_id": msg.transaction_id,
            "outcome": msg.outcome,
            "error_code": msg.error_code,
            "http_status": msg.http_status,
            "digest": msg.digest,
            "key_id": msg.key_id,
            "at": now,
            "body": msg.body if self.keep_bodies else None,
        }

    def _guard(self, session: Session, key: tuple[str, str, str], until: datetime, now: datetime) -> None:
        """Claim (sender, action, messageId) with one atomic upsert that only overwrites an expired claim."""
        sender, action, message_id = key
        stmt = _GUARD_UPSERT[session.get_bind().dialect.name == "postgresql"]
        params = {"sender_id": sender, "action": action, "message_id": message_id, "until": until, "now": now}
        if session.execute(stmt, params).first() is None:
            raise ReplayedMessage(f"message {message_id} from {sender} for {action} was already received")

    def prune(self) -> int:
        with self.sessions.begin() as session:
            result = session.execute(delete(ReplayGuardRow).where(ReplayGuardRow.expires_at < utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

    def messages(self, *, transaction_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self.sessions() as session:
            query = select(MessageLogRow).order_by(MessageLogRow.id.desc()).limit(limit)
            if transaction_id:
                query = query.where(MessageLogRow.transaction_id == transaction_id)
            rows = list(session.scalars(query))
        return [
            {
                "id": r.id,
                "direction": r.direction,
                "action": r.action,
                "sender_id": r.sender_id,
                "receiver": r.receiver,
                "message_id": r.message_id,
                "transaction_id": r.transaction_id,
                "outcome": r.outcome,
                "error_code": r.error_code,
                "http_status": r.http_status,
                "digest": r.digest,
                "key_id": r.key_id,
                "at": r.at.isoformat(),
            }
            for r in reversed(rows)
        ]
