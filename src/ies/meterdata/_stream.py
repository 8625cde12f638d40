"""Stream the top-level elements of a (possibly huge) JSON array file in constant memory.

Why not ijson: a MultiMeterBulkDataset is a JSON array of profiles, one per meter, and the bulk validator
needs ≥ 2 M readings/s per core. ijson (even its yajl2_c backend) builds Python objects event by event and
tops out far below that. Instead we do what simdjson's stage 1 does, vectorised with numpy: read a fixed-size
chunk, find the unescaped quotes and the brackets, decide for each bracket whether it sits inside a string
from the parity of the quotes before it, and track bracket depth only at the brackets outside strings.
Every time depth drops back to 1 a top-level element is complete and its exact bytes are handed to
orjson. Memory is one chunk plus the largest single element (one meter's profile), independent of the
number of meters.

The scanner only finds boundaries; orjson still parses each element fully, so malformed JSON inside an
element is reported by orjson. Bytes between elements must be whitespace and commas, and the file must end
right after the closing bracket — anything else (a truncated file, trailing garbage) raises InvalidJSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ies.errors import InvalidJSON, UsageError

__all__ = ["CHUNK_BYTES", "MAX_ELEMENT_BYTES", "RawElement", "iter_elements"]

#: Read size. 1 MiB keeps the numpy temporaries (about eight bytes per input byte) under 10 MiB while the
#: per-chunk overhead stays negligible.
CHUNK_BYTES = 1024 * 1024
#: Largest single top-level element we accept (one meter's profile). A year of 15-minute reads with four
#: registers is about 3 MiB, so 256 MiB is far beyond any real profile while still bounding memory.
MAX_ELEMENT_BYTES = 256 * 1024 * 1024

_QUOTE, _BACKSLASH = 0x22, 0x5C
_OPENERS = (0x7B, 0x5B)  # { [
_SEPARATORS = frozenset(b" \t\r\n,")
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class RawElement:
    """One top-level element: its index in the array, its byte offset in the file and its bytes."""

    index: int
    offset: int
    data: bytes


def _escaped_positions(buf: np.ndarray, pending_escape: bool) -> tuple[np.ndarray, bool]:
    """Positions of bytes escaped by a backslash, and whether the chunk ends with a dangling escape.

    Meter data rarely contains backslashes, so runs of them are walked in Python; everything else is numpy.
    """
    backslashes = np.flatnonzero(buf == _BACKSLASH)
    escaped: list[int] = []
    if pending_escape:
        escaped.append(0)
        if len(backslashes) and backslashes[0] == 0:
            # the first byte is itself an escaped backslash; it starts no run of its own
            backslashes = backslashes[1:]
    n = len(backslashes)
    i = 0
    while i < n:
        run_start = int(backslashes[i])
        j = i
        while j + 1 < n and backslashes[j + 1] == backslashes[j] + 1:
            j += 1
        run_len = j - i + 1
        if run_len % 2 == 1:
            escaped.append(run_start + run_len)
        i = j + 1
    size = len(buf)
    dangling = bool(escaped) and escaped[-1] == size
    positions = np.asarray([p for p in escaped if p < size], dtype=np.int64)
    return positions, dangling


class _Scanner:
    """Incremental structural scanner; feed chunks, collect completed element spans."""

    def __init__(self) -> None:
        self.in_string = False
        self.pending_escape = False
        self.depth = 0
        self.root: int | None = None  # byte value of the root opener once seen

    def scan(self, chunk: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Boundary-relevant structural positions in this chunk and the depth after each of them.

        Whether a bracket sits inside a string is decided by counting the unescaped quotes before it
        (a binary search over the quote positions), so the per-byte work is three vectorised comparisons.
        """
        buf = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(buf == _QUOTE)
        if self.pending_escape or _BACKSLASH in chunk:
            escaped, self.pending_escape = _escaped_positions(buf, self.pending_escape)
            if len(escaped):
                quotes = np.setdiff1d(quotes, escaped, assume_unique=True)
        folded = buf | 0x20  # '[' → '{' and ']' → '}', nothing else folds onto them
        openers_mask = folded == 0x7B
        positions = np.flatnonzero(openers_mask | (folded == 0x7D))
        carry = 1 if self.in_string else 0
        self.in_string = bool((len(quotes) + carry) & 1)
        if not len(positions):
            return positions, positions
        quotes_before = np.searchsorted(quotes, positions)
        positions = positions[((quotes_before + carry) & 1) == 0]
        if not len(positions):
            return positions, positions
        openers = openers_mask[positions]
        depth_after = self.depth + np.cumsum(np.where(openers, 1, -1).astype(np.int64))
        self.depth = int(depth_after[-1])
        # only element boundaries matter: openers reaching depth 2 and anything at depth ≤ 1
        relevant = (depth_after <= 1) | (openers & (depth_after == 2))
        return positions[relevant], depth_after[relevant]


def _only_separators(data: bytes | memoryview) -> bool:
    return all(b in _SEPARATORS for b in bytes(data))


def iter_elements(source: Path | IO[bytes], chunk_bytes: int = CHUNK_BYTES) -> Iterator[RawElement]:
    """Yield every top-level element of a JSON array file (or the single root object) in order.

    Raises InvalidJSON when the bytes are not one JSON array/object (empty, truncated, unbalanced, trailing
    content) and UsageError when an element exceeds MAX_ELEMENT_BYTES.
    """
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield from iter_elements(handle, chunk_bytes)
        return
    scanner = _Scanner()
    carry = bytearray()  # bytes of the element in progress (or, at depth 1, of the gap between elements)
    carry_offset = 0  # file offset of carry[0]
    file_offset = 0
    index = 0
    closed = False
    while True:
        chunk = source.read(chunk_bytes)
        if not chunk:
            break
        if closed:
            _require_blank(chunk)
            file_offset += len(chunk)
            continue
        positions, depths = scanner.scan(chunk)
        cursor = 0  # position in chunk up to which bytes are accounted for
        for pos_np, depth_np in zip(positions.tolist(), depths.tolist(), strict=True):
            pos, depth = int(pos_np), int(depth_np)
            opener = chunk[pos] in _OPENERS
            if scanner.root is None:
                if not opener or not _only_separators(memoryview(chunk)[:pos]) or carry.strip():
                    raise InvalidJSON("a bulk meter-data file must be a JSON array or object")
                scanner.root = chunk[pos]
                if chunk[pos] == _OPENERS[0]:  # a single profile object: the whole document is one element
                    carry_offset = file_offset + pos
                    cursor = pos
                    continue
                cursor = pos + 1
                carry.clear()
                carry_offset = file_offset + cursor
                continue
            if scanner.root == _OPENERS[0]:
                if depth == 0:
                    carry += chunk[cursor : pos + 1]
                    yield RawElement(index, carry_offset, bytes(carry))
                    carry.clear()
                    cursor = pos + 1
                    closed = True
                    break
                continue
            if opener and depth == 2:
                gap = bytes(carry) + chunk[cursor:pos]
                if (
                    not _only_separators(gap)
                    or (index > 0 and b"," not in gap)
                    or (index == 0 and b"," in gap)
                ):
                    raise InvalidJSON(
                        f"malformed array near byte {file_offset + pos}: expected ',' and an object"
                    )
                carry.clear()
                cursor = pos
                carry_offset = file_offset + pos
            elif not opener and depth == 1:
                carry += chunk[cursor : pos + 1]
                if len(carry) > MAX_ELEMENT_BYTES:
                    raise UsageError(_too_large(index))
                yield RawElement(index, carry_offset, bytes(carry))
                index += 1
                carry.clear()
                cursor = pos + 1
            elif depth == 0:
                gap = bytes(carry) + chunk[cursor:pos]
                if not _only_separators(gap) or gap.strip(b" \t\r\n").endswith(b","):
                    raise InvalidJSON(f"malformed array near byte {file_offset + pos}: a non-object element")
                carry.clear()
                cursor = pos + 1
                closed = True
                break
            elif depth < 0:
                raise InvalidJSON(f"unbalanced brackets near byte {file_offset + pos}")
        if closed:
            _require_blank(chunk[cursor:])
        else:
            carry += chunk[cursor:]
            if len(carry) > MAX_ELEMENT_BYTES:
                raise UsageError(_too_large(index))
        file_offset += len(chunk)
    if scanner.root is None:
        if file_offset == 0 or not carry.strip(_WHITESPACE):
            raise InvalidJSON("the file is empty")
        raise InvalidJSON("not JSON: a meter-data file must be a JSON array or object")
    if not closed:
        raise InvalidJSON(
            f"the JSON ends before the document is complete (truncated after {file_offset} bytes, "
            f"inside element {index})"
        )


def _require_blank(tail: bytes) -> None:
    if tail.strip(_WHITESPACE):
        raise InvalidJSON("unexpected content after the end of the JSON document")


def _too_large(index: int) -> str:
    return (
        f"element {index} is larger than {MAX_ELEMENT_BYTES // (1024 * 1024)} MiB; split the meter's series "
        "into several profiles"
    )
