"""Locating tampering: align the stored entries with the leaves the Merkle tree recorded.

Why an alignment and not a linear scan: after one deleted row every later row sits one place off, and a scan
would blame all of them. The tree's leaf hashes (checked against the head and the signed tree heads) say
which entry hash belongs at each position; every stored entry carries its own hash. Entries whose hash the
tree knows are matched to their recorded position; the longest run of matches in increasing order is taken
as undisturbed, matches outside it were moved (reordered), and between two undisturbed matches unknown
entries pair up with unmatched positions as edits, the surplus being insertions or deletions. Each matched
entry's content is then rehashed at its recorded position, which catches an edit that left the stored hash
alone.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence

from ies.audit._entry import GENESIS_PREV_HASH, AuditEntry, canonical_payload, entry_hash_of_canonical
from ies.audit._findings import Findings
from ies.audit._merkle import leaf_hash
from ies.errors import UsageError

__all__ = [
    "INVALID_LEAF",
    "ChainCheck",
    "check_chain",
    "check_entries_against_tree",
    "content_hash",
    "stored_leaf",
]


INVALID_LEAF = b"\xff" * 32
"""Stands for an unreadable hash; no SHA-256 output is expected to equal it."""


def stored_leaf(entry_hash_hex: str) -> bytes:
    """Leaf hash of a stored hex entry hash (INVALID_LEAF if it is not 32 bytes of hex)."""
    try:
        raw = bytes.fromhex(entry_hash_hex)
    except ValueError:
        return INVALID_LEAF
    return leaf_hash(raw) if len(raw) == 32 else INVALID_LEAF


def content_hash(entry: AuditEntry, seq: int | None = None) -> str | None:
    """The hash the entry's content gives at `seq` (default its own), or None if the content is unreadable
    or its payload is not in RFC 8785 form (then what is stored is not what was hashed)."""
    try:
        if canonical_payload(json.loads(entry.payload)) != entry.payload:
            return None
        return entry_hash_of_canonical(
            entry.seq if seq is None else seq,
            entry.recorded_at,
            entry.kind,
            entry.actor,
            entry.subject,
            entry.payload,
            entry.prev_hash,
        )
    except (UsageError, ValueError, TypeError):
        return None


def _longest_increasing(values: Sequence[int], preferred: Sequence[bool], bound: int) -> set[int]:
    """Indices into `values` (distinct-ish ints in [0, bound)) of a longest strictly increasing subsequence;
    among the longest, one with the most `preferred` items (rows still at their own sequence number), so a
    swap is blamed on the two moved rows and not on the rows around them. Fenwick tree of prefix maxima,
    O(n log n)."""
    size = len(values) + 1
    tree: list[tuple[int, int]] = [(0, -1)] * (bound + 1)  # (score, index of the item ending that chain)
    parent = [-1] * len(values)
    best: tuple[int, int] = (0, -1)
    for i, v in enumerate(values):
        # best chain over values < v
        q, j = (0, -1), v
        while j > 0:
            q = max(q, tree[j])
            j -= j & -j
        score = q[0] + size + (1 if preferred[i] else 0)
        parent[i] = q[1]
        j = v + 1
        while j <= bound:
            if tree[j][0] < score:
                tree[j] = (score, i)
            j += j & -j
        best = max(best, (score, i))
    keep: set[int] = set()
    i = best[1]
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep


def check_entries_against_tree(
    seqs: Sequence[int],
    stored: Sequence[bytes],
    reference: Sequence[bytes],
    content_matches: Callable[[int, int], bool],
    findings: Findings,
) -> None:
    """Report edits, deletions, insertions, moves and renumbering of the stored rows relative to `reference`,
    the leaf hashes the tree recorded at positions 0..n-1.

    Row a (in stored order) has sequence number `seqs[a]` and stored leaf hash `stored[a]`;
    `content_matches(a, r)` says whether row a's content hashes to its stored hash at position r.
    """
    recorded_at = {h: i for i, h in enumerate(reference)}
    position = [recorded_at.get(h) for h in stored]
    matched = [a for a, r in enumerate(position) if r is not None]
    chain = _longest_increasing(
        [position[a] or 0 for a in matched], [seqs[a] == position[a] for a in matched], len(reference)
    )
    undisturbed = {matched[i] for i in chain}
    present = {position[a] for a in matched}

    # 1. Moved entries, and a content check of every matched entry at the position it was recorded at.
    for a in matched:
        r = position[a]
        assert r is not None
        if a not in undisturbed:
            findings.add("reordered", seqs[a], f"holds the entry recorded at position {r}")
        if not content_matches(a, r):
            findings.add(
                "edited", seqs[a], f"entry content does not match its hash (recorded at position {r})"
            )

    # 2. Between consecutive undisturbed matches: unknown entries vs unmatched recorded positions.
    anchors = sorted(undisturbed)
    bounds = [(-1, -1), *((a, position[a] or 0) for a in anchors), (len(stored), len(reference))]
    for (a0, r0), (a1, r1) in itertools.pairwise(bounds):
        unknown = [a for a in range(a0 + 1, a1) if position[a] is None]
        missing = [r for r in range(r0 + 1, r1) if r not in present]
        for a, r in zip(unknown, missing, strict=False):
            findings.add("edited", seqs[a], f"entry differs from the one recorded at position {r}")
        for a in unknown[len(missing) :]:
            findings.add("inserted", seqs[a], "entry was never recorded in the tree")
        for r in missing[len(unknown) :]:
            findings.add("deleted", r, "the entry recorded at this position is missing")

    # 3. Renumbering: a run of two or more undisturbed entries whose sequence numbers are all off by the same
    #    amount (a lone one is the partner of a swap or an insertion at the very end, already reported).
    shifts = [(a, seqs[a] - (position[a] or 0)) for a in anchors]
    for k, (a, shift) in enumerate(shifts):
        starts_run = k == 0 or shifts[k - 1][1] != shift
        if shift and starts_run and k + 1 < len(shifts) and shifts[k + 1][1] == shift:
            r = position[a] or 0
            findings.add(
                "renumbered", seqs[a], f"entries from position {r} on carry seq = position {shift:+d}"
            )


class ChainCheck:
    """Streaming check that each entry's prev_hash is the stored hash of the entry stored before it."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.previous: str | None = None

    def feed(self, entry: AuditEntry) -> None:
        if self.previous is None:
            # The log's first entry starts the chain; a range exported from the middle starts where it starts.
            self.previous = GENESIS_PREV_HASH if entry.seq == 0 else entry.prev_hash
        if entry.prev_hash != self.previous:
            self.findings.add("chain", entry.seq, "prev_hash is not the hash of the preceding entry")
        self.previous = entry.entry_hash


def check_chain(entries: Sequence[AuditEntry], findings: Findings) -> None:
    """Report every entry whose prev_hash is not the stored hash of the entry stored before it."""
    chain = ChainCheck(findings)
    for entry in entries:
        chain.feed(entry)
