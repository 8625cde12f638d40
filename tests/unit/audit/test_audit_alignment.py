"""The alignment that turns "the log differs from the tree" into kinds and positions, on plain lists.

Fast and exhaustive-ish: hundreds of random single tamperings of a 40-entry log, each checked for the exact
finding, plus random multiple tamperings that must never be reported as clean.
"""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ies.audit._diff import check_entries_against_tree
from ies.audit._findings import MAX_PER_KIND, Findings

N = 40
REFERENCE = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(N)]


def _run(rows: list[tuple[int, bytes]], edited_content: frozenset[int] = frozenset()) -> set[tuple[str, int]]:
    """rows: (seq, stored leaf) in stored order; content matches except at the original positions listed."""
    original = {h: i for i, h in enumerate(REFERENCE)}

    def content_matches(row: int, position: int) -> bool:
        return original.get(rows[row][1]) == position and position not in edited_content

    findings = Findings()
    check_entries_against_tree(
        [s for s, _ in rows], [h for _, h in rows], REFERENCE, content_matches, findings
    )
    return {(f.kind, f.position) for f in findings.items if f.position is not None}


def _pristine() -> list[tuple[int, bytes]]:
    return list(enumerate(REFERENCE))


def test_untouched_rows_give_no_findings() -> None:
    assert _run(_pristine()) == set()


@settings(max_examples=150, deadline=None)
@given(st.integers(0, N - 1))
def test_content_edit(position: int) -> None:
    assert _run(_pristine(), frozenset({position})) == {("edited", position)}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, N - 1))
def test_stored_hash_edit(position: int) -> None:
    rows = _pristine()
    rows[position] = (position, b"\x01" * 32)
    assert _run(rows) == {("edited", position)}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, N - 1), st.booleans())
def test_deletion(position: int, renumber: bool) -> None:
    rows = _pristine()
    del rows[position]
    if renumber:
        rows = [(i, h) for i, (_, h) in enumerate(rows)]
    found = _run(rows)
    assert ("deleted", position) in found
    assert {k for k, _ in found} <= {"deleted", "renumbered"}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, N))
def test_insertion(position: int) -> None:
    rows = _pristine()
    rows.insert(position, (position, b"\x02" * 32))
    rows = [(i, h) for i, (_, h) in enumerate(rows)]
    found = _run(rows)
    assert ("inserted", position) in found
    assert {k for k, _ in found} <= {"inserted", "renumbered"}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, N - 1), min_size=2, max_size=2, unique=True))
def test_swap(pair: list[int]) -> None:
    i, j = sorted(pair)
    rows = _pristine()
    rows[i], rows[j] = (i, rows[j][1]), (j, rows[i][1])
    found = _run(rows)
    assert found and {k for k, _ in found} == {"reordered"}
    assert {p for _, p in found} <= {i, j}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["edit", "delete", "insert", "swap"]), st.integers(0, N - 2)),
        min_size=1,
        max_size=6,
    )
)
def test_several_tamperings_are_never_reported_clean(ops: list[tuple[str, int]]) -> None:
    rows = _pristine()
    for op, p in ops:
        p = min(p, len(rows) - 2)
        if op == "edit":
            rows[p] = (rows[p][0], hashlib.sha256(b"edit" + rows[p][1]).digest())
        elif op == "delete":
            del rows[p]
        elif op == "insert":
            rows.insert(p, (p, hashlib.sha256(b"new" + bytes([p])).digest()))
        else:
            rows[p], rows[p + 1] = (rows[p][0], rows[p + 1][1]), (rows[p + 1][0], rows[p][1])
    if [h for _, h in rows] == REFERENCE:  # two swaps of the same pair undo each other
        return
    assert _run(rows)


def test_a_wholesale_rewrite_is_summarised_not_listed() -> None:
    rows = [(i, hashlib.sha256(b"forged" + h).digest()) for i, h in _pristine()] * 5
    findings = Findings()
    check_entries_against_tree(
        list(range(len(rows))), [h for _, h in rows], REFERENCE, lambda a, r: True, findings
    )
    listed = findings.to_list()
    assert sum(1 for f in listed if f["kind"] == "inserted") == MAX_PER_KIND + 1  # the last line is the count
    assert listed[-1]["message"].startswith(f"{5 * N - N - MAX_PER_KIND} more inserted")
