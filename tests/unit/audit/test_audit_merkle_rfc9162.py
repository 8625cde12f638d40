"""RFC 9162 Merkle algorithms against published vectors and against an independent recursive transcription.

Vectors: transparency-dev/merkle proof/verify_test.go (source and commit recorded in the JSON file). Oracle:
`audit_reference_mth`, the RFC's MTH/PATH/PROOF definitions written out naively over leaf lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import audit_reference_mth as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.audit import InvalidProof
from ies.audit._merkle import (
    EMPTY_ROOT,
    consistency_proof_ranges,
    frontier_append,
    frontier_root,
    inclusion_path_ranges,
    leaf_hash,
    range_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "transparency_dev_rfc6962.json").read_text()
)
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]


class MemoryTree:
    """Builds the tree with the production append path and answers stored-node lookups from a dict."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.frontier: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots = [EMPTY_ROOT]
        for i, leaf in enumerate(leaves):
            for level, idx, h in frontier_append(self.frontier, i, leaf_hash(leaf)):
                self.nodes[(level, idx)] = h
            self.roots.append(frontier_root(self.frontier))

    def node(self, level: int, idx: int) -> bytes:
        return self.nodes[(level, idx)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return [range_hash(a, b, self.node) for a, b in inclusion_path_ranges(index, size)]

    def consistency(self, first: int, second: int) -> list[bytes]:
        return [range_hash(a, b, self.node) for a, b in consistency_proof_ranges(first, second)]


VECTOR_TREE = MemoryTree(LEAVES)


class TestPublishedVectors:
    def test_roots_of_every_prefix(self) -> None:
        assert VECTOR_TREE.roots[0] == bytes.fromhex(VECTORS["empty_root"])
        assert VECTOR_TREE.roots[1:] == ROOTS

    @pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: f"leaf{v['leaf']}-size{v['size']}")
    def test_inclusion_proof_generated_and_verified(self, vector: dict[str, Any]) -> None:
        leaf, size = vector["leaf"], vector["size"]
        expected = [bytes.fromhex(x) for x in vector["path"]]
        assert VECTOR_TREE.inclusion(leaf, size) == expected
        verify_inclusion(leaf, size, leaf_hash(LEAVES[leaf]), expected, ROOTS[size - 1])

    @pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: f"{v['first']}-{v['second']}")
    def test_consistency_proof_generated_and_verified(self, vector: dict[str, Any]) -> None:
        first, second = vector["first"], vector["second"]
        expected = [bytes.fromhex(x) for x in vector["path"]]
        assert VECTOR_TREE.consistency(first, second) == expected
        verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], expected)


def _inclusion_probes(index: int, size: int, path: list[bytes], root: bytes, leaf: bytes) -> list[tuple]:
    """The corruptions transparency-dev's verifier tests apply; every one must be rejected."""
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [
        (index - 1, size, leaf, path, root),
        (index + 1, size, leaf, path, root),
        (index ^ 2, size, leaf, path, root),
        (index, size * 2, leaf, path, root),
        (index, size // 2, leaf, path, root),
        (index, size, some, path, root),
        (index, size, leaf, path, EMPTY_ROOT),
        (index, size, leaf, [*path, root], root),
        (index, size, leaf, [root, *path], root),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, leaf, flipped, root))
    if path:
        probes.append((index, size, leaf, path[:-1], root))
    return [p for p in probes if p != (index, size, leaf, path, root)]


class TestVerifierRejectsCorruptedProofs:
    @pytest.mark.parametrize(
        "vector", VECTORS["inclusion"][1:], ids=lambda v: f"leaf{v['leaf']}-size{v['size']}"
    )
    def test_inclusion(self, vector: dict[str, Any]) -> None:
        leaf, size = vector["leaf"], vector["size"]
        path = [bytes.fromhex(x) for x in vector["path"]]
        probes = _inclusion_probes(leaf, size, path, ROOTS[size - 1], leaf_hash(LEAVES[leaf]))
        assert probes
        for index, tsize, lh, p, root in probes:
            with pytest.raises(InvalidProof):
                verify_inclusion(index, tsize, lh, p, root)

    @pytest.mark.parametrize(
        "vector", VECTORS["consistency"][1:], ids=lambda v: f"{v['first']}-{v['second']}"
    )
    def test_consistency(self, vector: dict[str, Any]) -> None:
        m, n = vector["first"], vector["second"]
        path = [bytes.fromhex(x) for x in vector["path"]]
        r1, r2 = ROOTS[m - 1], ROOTS[n - 1]
        probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (m - 1, n, r1, r2, path),
            (m + 1, n, r1, r2, path),
            (m ^ 2, n, r1, r2, path),
            (m, n * 2, r1, r2, path),
            (m, n // 2, r1, r2, path),
            (m, n, r2, r1, path),
            (m, n, r1, EMPTY_ROOT, path),
            (m, n, r1, r2, []),
            (m, n, r1, r2, [*path, r1]),
            (m, n, r1, r2, [r2, *path]),
            (m, n, r1, r2, [path[0], *path]),
            (m, n, r1, r2, path[:-1]),
        ]
        for i in range(len(path)):
            flipped = list(path)
            flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
            probes.append((m, n, r1, r2, flipped))
        for first, second, root1, root2, p in probes:
            if (first, second) == (m, n) and (root1, root2, p) == (r1, r2, path):
                continue
            with pytest.raises(InvalidProof):
                verify_consistency(first, second, root1, root2, p)

    def test_edge_cases_of_consistency(self) -> None:
        r = ROOTS[0]
        verify_consistency(0, 0, r, r, [])
        verify_consistency(0, 5, r, ROOTS[4], [])
        verify_consistency(3, 3, ROOTS[2], ROOTS[2], [])
        for args in [
            (3, 3, ROOTS[2], ROOTS[3], []),  # two roots for one size
            (3, 3, ROOTS[2], ROOTS[2], [r]),  # equal sizes, non-empty proof
            (0, 5, r, ROOTS[4], [r]),  # from empty, non-empty proof
            (5, 3, ROOTS[4], ROOTS[2], []),  # time travel
        ]:
            with pytest.raises(InvalidProof):
                verify_consistency(*args)  # type: ignore[arg-type]

    def test_hash_of_wrong_length_is_refused(self) -> None:
        with pytest.raises(InvalidProof, match="32"):
            verify_inclusion(0, 1, b"short", [], ROOTS[0])


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    n = draw(st.integers(min_value=1, max_value=70))
    leaves = [draw(st.binary(min_size=0, max_size=8)) + i.to_bytes(2, "big") for i in range(n)]
    size = draw(st.integers(min_value=1, max_value=n))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return leaves, size, index


class TestAgainstIndependentImplementation:
    @settings(max_examples=60, deadline=None)
    @given(tree_and_index())
    def test_roots_and_inclusion_paths(self, case: tuple[list[bytes], int, int]) -> None:
        leaves, size, index = case
        tree = MemoryTree(leaves)
        assert tree.roots[size] == ref.mth(leaves[:size])
        expected = ref.path(index, leaves[:size])
        assert tree.inclusion(index, size) == expected
        verify_inclusion(index, size, leaf_hash(leaves[index]), expected, ref.mth(leaves[:size]))

    @settings(max_examples=60, deadline=None)
    @given(tree_and_index())
    def test_consistency_proofs(self, case: tuple[list[bytes], int, int]) -> None:
        leaves, second, first = case
        first += 1  # 1 <= first <= second
        tree = MemoryTree(leaves)
        expected = ref.proof(first, leaves[:second]) if first < second else []
        assert tree.consistency(first, second) == expected
        verify_consistency(first, second, ref.mth(leaves[:first]), ref.mth(leaves[:second]), expected)

    def test_proof_length_is_logarithmic(self) -> None:
        tree = MemoryTree([i.to_bytes(4, "big") for i in range(1025)])
        assert max(len(tree.inclusion(i, 1025)) for i in range(1025)) == 11  # ceil(log2(1025))
        assert max(len(tree.consistency(m, 1025)) for m in range(1, 1025)) <= 2 * 11
