"""Appending to the log inside the caller's transaction.

Why inside the caller's transaction: an action and its audit line must commit or roll back together (issue
6, item 5), so `append` only adds rows to the caller's Session and never commits. Why a head row: sequence
numbers must stay gapless and the chain linear when several processes append at once, so every appender
first takes an exclusive lock on the one `audit_head` row (PostgreSQL: SELECT … FOR UPDATE; SQLite: a write
to the row, which takes the database's single write lock, the same effect as BEGIN IMMEDIATE), reads the
previous hash and the compact frontier from it, and writes it back. The lock is held until the caller
commits, so append as late in the transaction as the action allows, and always after the action's own writes
(a fixed order avoids deadlocks).

Cost per append: one entry row, 1 + (trailing one bits of n) node rows (2 on average), one head update, and
O(log n) hashes in memory; nothing proportional to the size of the log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ies.audit._entry import (
    GENESIS_PREV_HASH,
    AuditEntry,
    canonical_payload,
    entry_hash,
    format_time,
    validate_fields,
)
from ies.audit._merkle import EMPTY_ROOT, HASH_SIZE, frontier_append, frontier_root, leaf_hash
from ies.audit.tables import HEAD_ROW_ID, AuditEntryRow, AuditHeadRow, AuditNodeRow
from ies.errors import InternalError

__all__ = ["append", "split_frontier"]


def split_frontier(blob: bytes) -> list[bytes]:
    if len(blob) % HASH_SIZE:
        raise InternalError("audit head frontier is corrupt (length not a multiple of 32)")
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def _lock_head(session: Session) -> AuditHeadRow:
    """Take the appenders' lock and return the head (created here on a database built without Alembic)."""
    if session.get_bind().dialect.name == "sqlite":
        # A no-op write: the first write of a SQLite transaction takes the database write lock (waiting up to
        # busy_timeout), and it is taken before the head is read, so the read below sees the latest commit.
        session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == HEAD_ROW_ID)
            .values(tree_size=AuditHeadRow.tree_size)
        )
    stmt = select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ROW_ID).with_for_update()
    head = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(
            id=HEAD_ROW_ID, tree_size=0, last_entry_hash=GENESIS_PREV_HASH, frontier=b"", root_hash=EMPTY_ROOT
        )
        session.add(head)
        session.flush([head])
    return head


def append(
    session: Session,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction and return it (with its sequence number and hash).

    `kind` is dotted lower-case (`message.in`, `consent.transition`, …, see `KINDS`), `actor` who acted,
    `subject` what it concerns (both clipped, with a digest, past 255 / 512 characters), `payload` a JSON
    object (stored as RFC 8785 text). Nothing is committed: the
    entry becomes durable exactly when, and only if, the caller's transaction commits.
    """
    # 1. Check the input before taking the lock, so bad input never holds up other appenders.
    actor, subject = validate_fields(kind, actor, subject)
    payload_text = canonical_payload(payload)
    # 2. Serialise with every other appender and read where the log ends.
    head = _lock_head(session)
    seq = head.tree_size
    frontier = split_frontier(head.frontier)
    if len(frontier) != seq.bit_count():
        raise InternalError(f"audit head frontier has {len(frontier)} roots for tree size {seq}")
    # 3. Time is taken under the lock so that entry times never go backwards along the chain.
    recorded_at = format_time(at or datetime.now(UTC))
    digest = entry_hash(seq, recorded_at, kind, actor, subject, payload_text, head.last_entry_hash)
    entry = AuditEntry(seq, recorded_at, kind, actor, subject, payload_text, head.last_entry_hash, digest)
    # 4. Extend the tree by one leaf: O(log n) new nodes, the frontier, the root.
    created = frontier_append(frontier, seq, leaf_hash(bytes.fromhex(digest)))
    session.add(
        AuditEntryRow(
            seq=seq,
            recorded_at=recorded_at,
            kind=kind,
            actor=actor,
            subject=subject,
            payload=payload_text,
            prev_hash=entry.prev_hash,
            entry_hash=digest,
        )
    )
    session.add_all(AuditNodeRow(level=level, idx=idx, hash=h) for level, idx, h in created)
    head.tree_size = seq + 1
    head.last_entry_hash = digest
    head.frontier = b"".join(frontier)
    head.root_hash = frontier_root(frontier)
    session.flush()
    return entry
