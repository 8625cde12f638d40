"""RFC 9162 §2.1 Merkle tree hashing, proof generation and proof verification.

Why our own code: the tree is ~150 lines of arithmetic, and having it in one readable module lets the proofs
be generated straight from the node hashes the log stores (O(log n) reads) instead of from all leaves, which
is what generic libraries do. Generation follows the RFC's recursive definitions PATH (§2.1.3.1) and
SUBPROOF (§2.1.4.1), unrolled over leaf ranges; verification follows the numbered steps of §2.1.3.2 and
§2.1.4.2. Every subtree that the recursion names is either a perfect, aligned subtree (a stored node) or a
right edge that splits into at most log2(n) of them, which is why `perfect_subtrees` is all the storage
layer has to answer.

Hashes: leaf = SHA-256(0x00 || leaf), node = SHA-256(0x01 || left || right), empty tree = SHA-256("").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from ies.audit._errors import InvalidProof

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "consistency_proof_ranges",
    "frontier_append",
    "frontier_root",
    "inclusion_path_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "range_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""(level, index): the perfect subtree over leaves [index·2^level, (index+1)·2^level)."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeId]:
    """The perfect aligned subtrees, left to right, whose right fold is MTH(D[start:end]).

    Valid for the ranges the RFC recursion produces (start aligned to a power of two at least end - start, or
    start = 0); for those the first chunk is exactly the RFC's left subtree D[0:k].
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    out: list[NodeId] = []
    while start < end:
        size = 1 << ((end - start).bit_length() - 1)
        if start:
            size = min(size, start & -start)
        level = size.bit_length() - 1
        out.append((level, start >> level))
        start += size
    return out


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees (left to right): node(h0, node(h1, … node(h_{k-1}, h_k)))."""
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = node_hash(h, root)
    return root


def range_hash(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH(D[start:end]) from stored perfect-subtree hashes; `node(level, index)` returns one."""
    return fold_right([node(level, index) for level, index in perfect_subtrees(start, end)])


def inclusion_path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as the leaf ranges whose MTH form the path, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if m < k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((start + k, end))
            end = start + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def consistency_proof_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges, in proof order.

    Empty when first == second or first == 0 (a tree is consistent with itself and with the empty tree).
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    while True:
        n = end - start
        if m == n:  # SUBPROOF(m, D[m], b) = {} if b else {MTH(D[m])}
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((start + k, end))
            end = start + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    ranges.reverse()
    return ranges


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf_h: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-4: the root a valid inclusion path leads to (raises if it is malformed)."""
    _check_hash(leaf_h, "leaf hash")
    # 1. leaf_index must be inside the tree.
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is not in a tree of size {size}")
    # 2. fn = leaf_index, sn = tree_size - 1.   3. r = hash.
    fn, sn, r = index, size - 1, leaf_h
    # 4. for each p in the inclusion path …
    for i, p in enumerate(path):
        _check_hash(p, f"inclusion path element {i}")
        if sn == 0:  # 4a. path longer than the tree is high
            raise InvalidProof(f"inclusion path has {len(path) - i} element(s) too many")
        if fn & 1 or fn == sn:  # 4b. p is a left sibling
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:  # p is a right sibling
            r = node_hash(r, p)
        fn >>= 1  # 4c.
        sn >>= 1
    # 5. (first half) sn must be 0: every level was covered.
    if sn != 0:
        raise InvalidProof("inclusion path is too short for the tree size")
    return r


def verify_inclusion(index: int, size: int, leaf_h: bytes, path: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: raise InvalidProof unless `path` proves leaf `index` of a `size`-leaf tree."""
    _check_hash(root, "root hash")
    # 5. r must equal the root hash.
    if root_from_inclusion_proof(index, size, leaf_h, path) != root:
        raise InvalidProof(f"inclusion proof for leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise InvalidProof unless `path` proves tree `first` is a prefix of `second`."""
    _check_hash(first_root, "first root hash")
    _check_hash(second_root, "second root hash")
    for i, c in enumerate(path):
        _check_hash(c, f"consistency path element {i}")
    if not 0 <= first <= second:
        raise InvalidProof(f"tree size {second} is smaller than the earlier tree size {first}")
    if first == second:  # same tree: the roots must be equal and nothing needs proving
        if path:
            raise InvalidProof("consistency proof between equal tree sizes must be empty")
        if first_root != second_root:
            raise InvalidProof(f"two different roots for the same tree size {first}")
        return
    if first == 0:  # the empty tree is a prefix of every tree
        if path:
            raise InvalidProof("consistency proof from the empty tree must be empty")
        return
    # 1. An empty path cannot prove anything between different sizes.
    if not path:
        raise InvalidProof("consistency proof is empty")
    proof = list(path)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, right-shift fn and sn until it is not.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = first value of the path.
    fr = sr = proof[0]
    # 6. For each subsequent value c …
    for c in proof[1:]:
        if sn == 0:  # 6a.
            raise InvalidProof("consistency path has too many elements")
        if fn & 1 or fn == sn:  # 6b.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c.
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash and sn == 0.
    if sn != 0:
        raise InvalidProof("consistency path is too short for the tree sizes")
    if fr != first_root:
        raise InvalidProof(f"consistency proof does not lead to the root of tree size {first}")
    if sr != second_root:
        raise InvalidProof(f"consistency proof does not lead to the root of tree size {second}")


def frontier_append(frontier: list[bytes], size: int, leaf_h: bytes) -> list[tuple[int, int, bytes]]:
    """Append leaf `size` to the compact frontier in place; return the nodes completed, leaf first.

    The frontier is the list of perfect subtree roots that make up the tree of `size` leaves, largest first
    (one per set bit of `size`). A new leaf merges with as many of them as `size` has trailing one bits, so an
    append costs O(log n) hashes and never reads old leaves.
    """
    created = [(0, size, leaf_h)]
    h, level, index = leaf_h, 0, size
    while index & 1:
        h = node_hash(frontier.pop(), h)
        level, index = level + 1, index >> 1
        created.append((level, index, h))
    frontier.append(h)
    return created


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of the tree whose compact frontier is given (EMPTY_ROOT for the empty tree)."""
    return fold_right(frontier) if frontier else EMPTY_ROOT
