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

from collections.abc import Iterable
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

__all__ = ["Record", "append", "append_many", "split_frontier"]

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


Record = tuple[str, str, str, dict[str, Any]]
"""(kind, actor, subject, payload) of one entry, for `append_many`."""


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
    return append_many(session, [(kind, actor, subject, payload)], at=at)[0]


def append_many(
    session: Session, records: Iterable[Record], *, at: datetime | None = None
) -> list[AuditEntry]:
    """Append several entries, in order, under one lock and one head update (same rules as `append`).

    Why a batch call: every append rewrites the one head row, and on PostgreSQL thousands of rewrites of a
    row inside one transaction each walk a longer version chain. A bulk import (a consent migration, a
    replayed message log) should use this, or commit every few hundred entries.
    """
    # 1. Check the input before taking the lock, so bad input never holds up other appenders.
    checked: list[tuple[str, str, str, str]] = []
    for kind, actor, subject, payload in records:
        actor, subject = validate_fields(kind, actor, subject)
        checked.append((kind, actor, subject, canonical_payload(payload)))
    if not checked:
        return []
    # 2. The action's own pending writes go first (one lock order for every writer), then the audit lock.
    session.flush()
    seq, prev_hash, frontier_blob = _lock_head(session)
    frontier = split_frontier(frontier_blob)
    if len(frontier) != seq.bit_count():
        raise InternalError(f"audit head frontier has {len(frontier)} roots for tree size {seq}")
    # 3. Time is taken under the lock so that entry times never go backwards along the chain.
    recorded_at = format_time(at or datetime.now(UTC))
    # 4. Chain each entry to the one before and extend the tree leaf by leaf: O(log n) new nodes each.
    entries: list[AuditEntry] = []
    nodes: list[dict[str, Any]] = []
    for kind, actor, subject, payload_text in checked:
        digest = entry_hash_of_canonical(seq, recorded_at, kind, actor, subject, payload_text, prev_hash)
        entries.append(AuditEntry(seq, recorded_at, kind, actor, subject, payload_text, prev_hash, digest))
        for level, idx, h in frontier_append(frontier, seq, leaf_hash(bytes.fromhex(digest))):
            nodes.append({"level": level, "idx": idx, "hash": h})
        seq, prev_hash = seq + 1, digest
    conn = session.connection()
    conn.execute(
        _INSERT_ENTRY,
        [
            {
                "seq": e.seq,
                "recorded_at": e.recorded_at,
                "kind": e.kind,
                "actor": e.actor,
                "subject": e.subject,
                "payload": e.payload,
                "prev_hash": e.prev_hash,
                "entry_hash": e.entry_hash,
            }
            for e in entries
        ],
    )
    conn.execute(_INSERT_NODES, nodes)
    conn.execute(
        _WRITE_HEAD,
        {
            "tree_size": seq,
            "last_entry_hash": prev_hash,
            "frontier": b"".join(frontier),
            "root_hash": frontier_root(frontier),
        },
    )
    return entries
