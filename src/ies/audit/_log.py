"""Reading the log: entries, tree heads, and proofs computed from the stored subtree hashes.

Why from stored nodes: every range the RFC 9162 proof recursion names is a perfect subtree (one stored row)
or a right edge made of at most log2(n) of them, so an inclusion or consistency proof of a log of a million
entries reads about 40 rows in one query instead of a million leaves. Completed subtrees never change, so
the reader needs no lock and serves proofs for any past tree size up to the committed head.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from ies.audit._append import split_frontier
from ies.audit._entry import AuditEntry
from ies.audit._merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_proof_ranges,
    fold_right,
    inclusion_path_ranges,
    perfect_subtrees,
)
from ies.audit._proofs import ConsistencyProof, InclusionProof
from ies.audit._sth import SignedTreeHead
from ies.audit.tables import HEAD_ROW_ID, AuditEntryRow, AuditHeadRow, AuditNodeRow, AuditTreeHeadRow
from ies.errors import InternalError, NotFoundError, UsageError

__all__ = ["AuditLog", "TreeHead", "entry_from_row"]


def entry_from_row(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        row.seq, row.recorded_at, row.kind, row.actor, row.subject, row.payload, row.prev_hash, row.entry_hash
    )


class TreeHead:
    """An unsigned head: how many entries, and the root over them."""

    __slots__ = ("root_hash", "tree_size")

    def __init__(self, tree_size: int, root_hash: bytes) -> None:
        self.tree_size = tree_size
        self.root_hash = root_hash

    def to_dict(self) -> dict[str, int | str]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash.hex()}


class AuditLog:
    """Read-only view of a node's audit log (each call runs in its own short transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- heads ---------------------------------------------------------------------------------------------
    def head(self) -> TreeHead:
        with Session(self.engine) as session:
            row = session.get(AuditHeadRow, HEAD_ROW_ID)
            if row is None:
                return TreeHead(0, EMPTY_ROOT)
            return TreeHead(row.tree_size, row.root_hash)

    def frontier(self) -> list[bytes]:
        with Session(self.engine) as session:
            row = session.get(AuditHeadRow, HEAD_ROW_ID)
            return split_frontier(row.frontier) if row else []

    def size(self) -> int:
        return self.head().tree_size

    def root(self, tree_size: int) -> bytes:
        """MTH of the first `tree_size` entries, from at most log2(n) stored nodes."""
        with Session(self.engine) as session:
            self._checked_size(session, tree_size)
            if tree_size == 0:
                return EMPTY_ROOT
            ids = perfect_subtrees(0, tree_size)
            nodes = self._nodes(session, ids)
            return fold_right([nodes[i] for i in ids])

    def tree_heads(self, min_size: int = 0) -> list[SignedTreeHead]:
        """Every signed tree head this node published, oldest first."""
        with Session(self.engine) as session:
            stmt = (
                select(AuditTreeHeadRow)
                .where(AuditTreeHeadRow.tree_size >= min_size)
                .order_by(AuditTreeHeadRow.id)
            )
            return [SignedTreeHead.from_row(r) for r in session.scalars(stmt)]

    def latest_tree_head(self) -> SignedTreeHead | None:
        with Session(self.engine) as session:
            row = session.scalars(
                select(AuditTreeHeadRow).order_by(AuditTreeHeadRow.id.desc()).limit(1)
            ).first()
            return SignedTreeHead.from_row(row) if row else None

    # -- entries -------------------------------------------------------------------------------------------
    def entry(self, seq: int) -> AuditEntry:
        with Session(self.engine) as session:
            row = session.get(AuditEntryRow, seq)
            if row is None:
                raise NotFoundError(f"no audit entry {seq}")
            return entry_from_row(row)

    def entries(self, start: int = 0, end: int | None = None, *, batch: int = 5000) -> Iterator[AuditEntry]:
        """Entries with start <= seq < end, in sequence order, read in batches (the log may be large)."""
        if start < 0 or (end is not None and end < start):
            raise UsageError(f"bad entry range [{start}, {end})")
        with Session(self.engine) as session:
            cursor = start
            while end is None or cursor < end:
                stmt = select(AuditEntryRow).where(AuditEntryRow.seq >= cursor)
                if end is not None:
                    stmt = stmt.where(AuditEntryRow.seq < end)
                rows = list(session.scalars(stmt.order_by(AuditEntryRow.seq).limit(batch)))
                if not rows:
                    return
                for row in rows:
                    yield entry_from_row(row)
                cursor = rows[-1].seq + 1
                session.expunge_all()

    # -- proofs --------------------------------------------------------------------------------------------
    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """RFC 9162 §2.1.3.1 inclusion proof of entry `seq` in the tree of `tree_size` (default: head)."""
        with Session(self.engine) as session:
            size = self._checked_size(session, tree_size)
            if not 0 <= seq < size:
                raise UsageError(f"entry {seq} is not in a tree of size {size}")
            digest = session.scalar(select(AuditEntryRow.entry_hash).where(AuditEntryRow.seq == seq))
            if digest is None:
                raise NotFoundError(f"no audit entry {seq}")
            path = self._range_hashes(session, inclusion_path_ranges(seq, size))
        return InclusionProof(seq, size, digest, tuple(path))

    def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """RFC 9162 §2.1.4.1 consistency proof between tree sizes `first` and `second` (default: head)."""
        with Session(self.engine) as session:
            size = self._checked_size(session, second)
            if not 0 <= first <= size:
                raise UsageError(f"first tree size {first} must be between 0 and {size}")
            path = self._range_hashes(session, consistency_proof_ranges(first, size))
        return ConsistencyProof(first, size, tuple(path))

    # -- internals -----------------------------------------------------------------------------------------
    @staticmethod
    def _current_size(session: Session) -> int:
        return session.scalar(select(AuditHeadRow.tree_size).where(AuditHeadRow.id == HEAD_ROW_ID)) or 0

    def _checked_size(self, session: Session, tree_size: int | None) -> int:
        current = self._current_size(session)
        if tree_size is None:
            return current
        if tree_size < 0:
            raise UsageError("tree size must not be negative")
        if tree_size > current:
            raise UsageError(f"tree size {tree_size} is larger than the log ({current} entries)")
        return tree_size

    def _range_hashes(self, session: Session, ranges: list[tuple[int, int]]) -> list[bytes]:
        """MTH of each range, reading all the perfect subtrees they need in one query."""
        if not ranges:
            return []
        decomposed = [perfect_subtrees(start, end) for start, end in ranges]
        nodes = self._nodes(session, [i for ids in decomposed for i in ids])
        return [fold_right([nodes[i] for i in ids]) for ids in decomposed]

    @staticmethod
    def _nodes(session: Session, ids: list[NodeId]) -> dict[NodeId, bytes]:
        wanted = set(ids)
        # OR of primary-key equalities, not a row-value IN: SQLite answers the IN form with a full scan of
        # the table, and the OR form with one index search per node (PostgreSQL: a bitmap OR of index scans).
        stmt = select(AuditNodeRow.level, AuditNodeRow.idx, AuditNodeRow.hash).where(
            or_(*(and_(AuditNodeRow.level == lv, AuditNodeRow.idx == ix) for lv, ix in sorted(wanted)))
        )
        found = {(level, idx): bytes(h) for level, idx, h in session.execute(stmt)}
        missing = wanted - found.keys()
        if missing:
            raise InternalError(f"audit tree nodes missing from the store: {sorted(missing)[:5]}")
        return found
