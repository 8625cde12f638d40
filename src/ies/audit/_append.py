"""Appending to the log inside the caller's transaction.

Why inside the caller's transaction: an action and its audit line must commit or roll back together (issue
6, item 5), so `append` only adds rows to the caller's Session and never commits. Why a head row: sequence
numbers must stay gapless and the chain linear when several processes append at once, so every appender
first takes an exclusive lock on the one `audit_head` row (a no-op UPDATE … RETURNING: a row lock on
PostgreSQL, like SELECT … FOR UPDATE; on SQLite the database's single write lock, the same effect as BEGIN
IMMEDIATE), reads the previous hash and the compact frontier from it, and writes it back. The lock is held
until the caller commits, so append as late in the transaction as the action allows, and always after the
action's own writes (a fixed order avoids deadlocks).

Cost per append: four statements (lock-and-read, one entry row, 1 + (trailing one bits of n) node rows, 2 on
average, in one executemany, one head update) and O(log n) hashes in memory; nothing proportional to the
size of the log. Core statements, not ORM objects: the ORM's unit of work cost five times the SQL itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from ies.audit._entry import (
    GENESIS_PREV_HASH,
    AuditEntry,
    canonical_payload,
    entry_hash_of_canonical,
    format_time,
    validate_fields,
)
from ies.audit._merkle import EMPTY_ROOT, HASH_SIZE, frontier_append, frontier_root, leaf_hash
from ies.audit.tables import HEAD_ROW_ID, AuditEntryRow, AuditHeadRow, AuditNodeRow
from ies.errors import InternalError

__all__ = ["append", "split_frontier"]

_HEAD = cast(Table, AuditHeadRow.__table__)
# One statement takes the lock and reads the head. A write (even a no-op) is what locks: on PostgreSQL it
# row-locks the head until commit and, under READ COMMITTED, returns the newest committed version after any
# wait; on SQLite the first write of a transaction takes the database write lock (waiting up to
# busy_timeout) before anything is read, so no appender can read a head another is about to change.
_LOCK_AND_READ = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ROW_ID)
    .values(tree_size=_HEAD.c.tree_size)
    .returning(_HEAD.c.tree_size, _HEAD.c.last_entry_hash, _HEAD.c.frontier)
)
_WRITE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ROW_ID)
_INSERT_ENTRY = insert(cast(Table, AuditEntryRow.__table__))
_INSERT_NODES = insert(cast(Table, AuditNodeRow.__table__))


def split_frontier(blob: bytes) -> list[bytes]:
    if len(blob) % HASH_SIZE:
        raise InternalError("audit head frontier is corrupt (length not a multiple of 32)")
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def _lock_head(session: Session) -> tuple[int, str, bytes]:
    """Take the appenders' lock; return (tree size, last entry hash, frontier). Creates the head row on a
    database built without Alembic (its migration inserts it)."""
    conn = session.connection()
    row = conn.execute(_LOCK_AND_READ).first()
    if row is None:
        conn.execute(
            insert(_HEAD).values(
                id=HEAD_ROW_ID,
                tree_size=0,
                last_entry_hash=GENESIS_PREV_HASH,
                frontier=b"",
                root_hash=EMPTY_ROOT,
            )
        )
        row = conn.execute(_LOCK_AND_READ).one()
    return int(row[0]), str(row[1]), bytes(row[2])


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
    object (stored as RFC 8785 text). Nothing is committed: the entry becomes durable exactly when, and only
    if, the caller's transaction commits.
    """
    # 1. Check the input before taking the lock, so bad input never holds up other appenders.
    actor, subject = validate_fields(kind, actor, subject)
    payload_text = canonical_payload(payload)
    # 2. The action's own pending writes go first (one lock order for every writer), then the audit lock.
    session.flush()
    seq, prev_hash, frontier_blob = _lock_head(session)
    frontier = split_frontier(frontier_blob)
    if len(frontier) != seq.bit_count():
        raise InternalError(f"audit head frontier has {len(frontier)} roots for tree size {seq}")
    # 3. Time is taken under the lock so that entry times never go backwards along the chain.
    recorded_at = format_time(at or datetime.now(UTC))
    digest = entry_hash_of_canonical(seq, recorded_at, kind, actor, subject, payload_text, prev_hash)
    # 4. Extend the tree by one leaf: O(log n) new nodes, the frontier, the root.
    created = frontier_append(frontier, seq, leaf_hash(bytes.fromhex(digest)))
    conn = session.connection()
    conn.execute(
        _INSERT_ENTRY,
        {
            "seq": seq,
            "recorded_at": recorded_at,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload_text,
            "prev_hash": prev_hash,
            "entry_hash": digest,
        },
    )
    conn.execute(_INSERT_NODES, [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in created])
    conn.execute(
        _WRITE_HEAD,
        {
            "tree_size": seq + 1,
            "last_entry_hash": digest,
            "frontier": b"".join(frontier),
            "root_hash": frontier_root(frontier),
        },
    )
    return AuditEntry(seq, recorded_at, kind, actor, subject, payload_text, prev_hash, digest)
