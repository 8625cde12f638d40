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

import bisect
import itertools
import json
from collections.abc import Sequence

from ies.audit._entry import GENESIS_PREV_HASH, AuditEntry, canonical_payload, entry_hash_of_canonical
from ies.audit._findings import Findings
from ies.audit._merkle import leaf_hash
from ies.errors import UsageError

__all__ = ["check_chain", "check_content", "check_entries_against_tree", "content_hash"]


def _stored_leaf(entry: AuditEntry) -> bytes | None:
    try:
        raw = bytes.fromhex(entry.entry_hash)
    except ValueError:
        return None
    return leaf_hash(raw) if len(raw) == 32 else None


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


def check_content(
    entry: AuditEntry, seq: int, findings: Findings, where: int, known: str | None = None
) -> bool:
    """Report an edit when the entry's content does not hash to its stored hash at `seq` (`known`: that
    hash, when the caller already computed it)."""
    if (known if known is not None else content_hash(entry, seq)) != entry.entry_hash:
        findings.add(
            "edited", where, f"entry content does not match its hash (as recorded at position {seq})"
        )
        return False
    return True


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Indices into `values` of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_at: list[int] = []
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[k] = v
            tail_at[k] = i
        parent[i] = tail_at[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep


def check_entries_against_tree(
    entries: Sequence[AuditEntry],
    reference: Sequence[bytes],
    findings: Findings,
    actual: Sequence[str | None] | None = None,
) -> None:
    """Report edits, deletions, insertions, moves and renumbering of `entries` (in stored order) relative to
    `reference`, the leaf hashes the tree recorded at positions 0..n-1. `actual[i]`, if given, is
    `content_hash(entries[i], i)`, computed once by the caller."""
    recorded_at = {h: i for i, h in enumerate(reference)}
    position = [recorded_at.get(h) if h is not None else None for h in map(_stored_leaf, entries)]
    matched = [a for a, r in enumerate(position) if r is not None]
    undisturbed = {matched[i] for i in _longest_increasing([position[a] or 0 for a in matched])}
    present = {position[a] for a in matched}

    # 1. Moved entries, and a content check of every matched entry at the position it was recorded at.
    for a in matched:
        r = position[a]
        assert r is not None
        if a not in undisturbed:
            findings.add("reordered", entries[a].seq, f"holds the entry recorded at position {r}")
        known = actual[a] if actual is not None and r == a else None
        check_content(entries[a], r, findings, entries[a].seq, known)

    # 2. Between consecutive undisturbed matches: unknown entries vs unmatched recorded positions.
    anchors = sorted(undisturbed)
    bounds = [(-1, -1), *((a, position[a] or 0) for a in anchors), (len(entries), len(reference))]
    for (a0, r0), (a1, r1) in itertools.pairwise(bounds):
        unknown = [a for a in range(a0 + 1, a1) if position[a] is None]
        missing = [r for r in range(r0 + 1, r1) if r not in present]
        for a, r in zip(unknown, missing, strict=False):
            findings.add("edited", entries[a].seq, f"entry differs from the one recorded at position {r}")
        for a in unknown[len(missing) :]:
            findings.add("inserted", entries[a].seq, "entry was never recorded in the tree")
        for r in missing[len(unknown) :]:
            findings.add("deleted", r, "the entry recorded at this position is missing")

    # 3. Renumbering: undisturbed entries whose sequence number is not their recorded position.
    shift = 0
    for a in anchors:
        r = position[a] or 0
        if entries[a].seq - r != shift:
            shift = entries[a].seq - r
            if shift:
                findings.add(
                    "renumbered", entries[a].seq, f"entry recorded at position {r} carries seq {r + shift}"
                )


def check_chain(entries: Sequence[AuditEntry], findings: Findings) -> None:
    """Report every entry whose prev_hash is not the stored hash of the entry stored before it."""
    previous = GENESIS_PREV_HASH
    for i, entry in enumerate(entries):
        if i == 0 and entry.seq != 0:
            previous = entry.prev_hash  # a range that does not start at the log's beginning
        if entry.prev_hash != previous:
            findings.add("chain", entry.seq, "prev_hash is not the hash of the preceding entry")
        previous = entry.entry_hash
