"""Verifying a node's stored log end to end: entries, chain, Merkle nodes, head, and signed tree heads.

Why every layer: each layer catches what an attacker with SQL access could otherwise hide. Rehashing entries
catches a changed field; the chain catches a changed hash; the stored leaves and the head say which entry
was recorded where (so the report can give positions); the internal nodes must agree with the leaves (or
proofs would lie); and signed tree heads, the node's own and any a peer kept, catch a rewrite of all of the
above at once, because the roots of the entries as they are now must equal what was signed then.

Steps (numbered as in the report): 1 read; 2 tree nodes and head; 3 entries against the tree (positions); 4
chain; 5 signed tree heads against the entries as they are now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ies.audit._append import split_frontier
from ies.audit._diff import check_chain, check_content, check_entries_against_tree, content_hash
from ies.audit._entry import GENESIS_PREV_HASH, AuditEntry
from ies.audit._errors import InvalidTreeHead
from ies.audit._findings import Findings
from ies.audit._log import AuditLog
from ies.audit._merkle import EMPTY_ROOT, frontier_append, frontier_root, leaf_hash, node_hash
from ies.audit._sth import SignedTreeHead
from ies.audit.tables import HEAD_ROW_ID, AuditHeadRow, AuditNodeRow

__all__ = ["LogReport", "check_log", "check_tree_heads", "verify_log"]


@dataclass
class LogReport:
    """What `check_log` looked at and what it found; `findings.raise_if_any` fails closed."""

    entries: int
    root_hash: bytes
    tree_heads_checked: int
    findings: Findings = field(default_factory=Findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root_hash": self.root_hash.hex(),
            "tree_heads_checked": self.tree_heads_checked,
            "findings": self.findings.to_list(),
        }


def _level(session: Session, level: int) -> list[tuple[int, bytes]]:
    stmt = select(AuditNodeRow.idx, AuditNodeRow.hash).where(AuditNodeRow.level == level)
    return [(idx, bytes(h)) for idx, h in session.execute(stmt.order_by(AuditNodeRow.idx))]


def _check_tree(engine: Engine, findings: Findings) -> list[bytes] | None:
    """Step 2: the stored leaves, if they are a gapless level that every stored node and the head agree with.

    Returns None when the tree itself is damaged; then positions come from the chain alone.
    """
    sound = True
    with Session(engine) as session:
        head = session.get(AuditHeadRow, HEAD_ROW_ID)
        leaves_rows = _level(session, 0)
        leaves = [h for _, h in leaves_rows]
        for expected, (idx, _) in enumerate(leaves_rows):
            if idx != expected:
                findings.add("tree", expected, f"stored leaf hashes jump from {expected - 1} to {idx}")
                return None
        level, below = 1, leaves
        max_level = session.scalar(select(func.max(AuditNodeRow.level))) or 0
        while level <= max_level:
            stored = dict(_level(session, level))
            expected_level = [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)]
            for i, h in enumerate(expected_level):
                if stored.get(i) != h:
                    findings.add(
                        "tree", i << level, f"stored node at level {level} does not match its leaves"
                    )
                    sound = False
            for i in sorted(set(stored) - set(range(len(expected_level)))):
                findings.add("tree", i << level, f"stored node at level {level} has no leaves under it")
                sound = False
            level, below = level + 1, expected_level
    frontier: list[bytes] = []
    for i, h in enumerate(leaves):
        frontier_append(frontier, i, h)
    size = head.tree_size if head else 0
    if len(leaves) != size:
        findings.add("tree", min(size, len(leaves)), f"head says {size} entries, the tree has {len(leaves)}")
        sound = False
    elif head is not None and (
        split_frontier(head.frontier) != frontier or head.root_hash != frontier_root(frontier)
    ):
        findings.add("tree", None, "the head's root or frontier does not match the stored tree")
        sound = False
    return leaves if sound else None


def _check_without_tree(
    entries: Sequence[AuditEntry], actual: Sequence[str | None], findings: Findings
) -> None:
    """Step 3 fallback: positions from sequence numbers and content alone."""
    expected = 0
    for i, entry in enumerate(entries):
        if entry.seq > expected:
            for missing in range(expected, entry.seq):
                findings.add("deleted", missing, "no entry with this sequence number")
        check_content(entry, entry.seq, findings, entry.seq, actual[i] if entry.seq == i else None)
        expected = entry.seq + 1


def _leaf(actual: str | None) -> bytes:
    """Leaf hash of an entry's rehashed content; unreadable content gets a value no real leaf can have."""
    return leaf_hash(bytes.fromhex(actual)) if actual else b"\xff" * 32


def check_tree_heads(
    actual: Sequence[str | None],
    heads: Sequence[SignedTreeHead],
    findings: Findings,
    trusted_key: bytes | None = None,
) -> int:
    """Step 5: each head must be validly signed (by `trusted_key`, or all by one key) and its root must be the
    root of the entries at positions 0..size-1 as they are now (`actual`: their rehashed contents, in order).
    Returns the number of heads checked."""
    key = trusted_key
    sizes: dict[int, list[SignedTreeHead]] = {}
    for sth in heads:
        try:
            sth.verify(key)
        except InvalidTreeHead as exc:
            findings.add("tree_head", None, exc.message)
            continue
        key = key or sth.public_key_bytes  # the first valid head pins the key for the rest
        sizes.setdefault(sth.tree_size, []).append(sth)
    roots: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in sizes else {}
    frontier: list[bytes] = []
    wanted = set(sizes)
    for i, h in enumerate(actual):
        if not wanted - roots.keys():
            break
        frontier_append(frontier, i, _leaf(h))
        if i + 1 in wanted:
            roots[i + 1] = frontier_root(frontier)
    for size, same in sorted(sizes.items()):
        if len({s.root_hash for s in same}) > 1:
            findings.add(
                "tree_head", size - 1 if size else None, f"two different signed roots for size {size}"
            )
        if size not in roots:
            findings.add("tree_head", None, f"a signed head covers {size} entries, the log has {len(actual)}")
        elif any(s.root != roots[size] for s in same):
            findings.add(
                "tree_head", None, f"the signed head of size {size} does not match entries 0..{size - 1}"
            )
    return sum(len(v) for v in sizes.values())


def check_log(
    engine: Engine, extra_heads: Sequence[SignedTreeHead] = (), trusted_key: bytes | None = None
) -> LogReport:
    """Check the whole stored log; the report lists every finding with its position (nothing is raised)."""
    findings = Findings()
    log = AuditLog(engine)
    # 1. Read the entries in sequence order, rehash each at its position, and read the node's own heads.
    entries = list(log.entries())
    actual = [content_hash(entry, i) for i, entry in enumerate(entries)]
    heads = [*log.tree_heads(), *extra_heads]
    # 2. The tree: gapless leaves, internal nodes and head consistent.
    reference = _check_tree(engine, findings)
    # 3. Entries against the recorded leaves (or, if the tree is damaged, against their own numbering).
    if reference is not None:
        check_entries_against_tree(entries, reference, findings, actual)
    else:
        _check_without_tree(entries, actual, findings)
    # 4. The hash chain.
    check_chain(entries, findings)
    if entries and entries[0].seq == 0 and entries[0].prev_hash != GENESIS_PREV_HASH:
        findings.add("chain", 0, "the first entry does not start the chain")
    # 5. Signed tree heads against the entries as they are now.
    checked = check_tree_heads(actual, heads, findings, trusted_key)
    frontier: list[bytes] = []
    for i, h in enumerate(actual):
        frontier_append(frontier, i, _leaf(h))
    return LogReport(len(entries), frontier_root(frontier), checked, findings)


def verify_log(
    engine: Engine, extra_heads: Sequence[SignedTreeHead] = (), trusted_key: bytes | None = None
) -> LogReport:
    """`check_log`, failing closed: AuditLogTampered (every finding in `details`) unless the log is sound."""
    report = check_log(engine, extra_heads, trusted_key)
    report.findings.raise_if_any("the audit log does not verify")
    return report
