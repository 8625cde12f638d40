"""Parse the compact `intervals` rows of a profile straight from bytes into numpy arrays.

Why: in a bulk file almost every byte is a compact row `{"id": 17, "payloads": [0.412, 1234.5, 1234.912]}`.
Building a Python dict, an int, a list and three floats per row (orjson) and then pulling them back out into
numpy costs about 1 µs a row, which caps the validator well below the 2 M readings/s target. Here the rows
are never turned into Python objects:

1. the `"intervals": [...]` array is cut out of the profile bytes (the rest, with an empty array in its
   place, is small and parsed by orjson as usual);
2. its shape is proved with one byte translation: whitespace and number characters are deleted and every
   other byte maps to a class (brace, bracket, comma, colon, quote, `i`, other key letter), so N valid
   rows of the declared arity read exactly `{"IP":,"PPPPPPPP":[,,]}` N times, comma-separated — a single
   bytes comparison; any other key, string, literal, nesting or arity breaks it;
3. deleting the braces, brackets, quotes, colons and key letters leaves a flat comma-separated list of
   numbers, which orjson parses with its strict JSON number grammar in one call; numpy takes the list and
   it reshapes to (rows, 1 + arity).

Anything else — overrides, elaborated readings, per-row periods, strings, booleans, nulls, a different
arity, unusual number spellings — returns None and the profile takes the ordinary orjson path, so the fast
path can only ever agree with the slow one.
"""

from __future__ import annotations

import re

import numpy as np
import orjson

__all__ = ["cut_intervals", "parse_compact_rows"]

_NUMBER = b"0123456789+-.eE"
_WHITESPACE_AND_NUMBER = b" \t\r\n" + _NUMBER
#: Deleting these from proven compact rows leaves "id, v1, v2, …, id, v1, …": a flat JSON number list.
_KEYS_AND_BRACKETS = b'{}[]":idpaylos'


def _class_table() -> bytes:
    table = bytearray(b"?" * 256)
    for c in b'{}[],:"':
        table[c] = c
    for c in b"dpaylos":
        table[c] = ord("P")
    table[ord("i")] = ord("I")
    return bytes(table)


_CLASSES = _class_table()
_INTERVALS_KEY = re.compile(rb'"intervals"\s*:\s*\[')
#: In plain compact rows a `}` is followed only by `,` (next row) or by the array's closing `]`.
_ROWS_END = re.compile(rb"\}\s*\]")


def cut_intervals(raw: bytes) -> tuple[bytes, bytes] | None:
    """(profile bytes with `"intervals": []`, the bytes between the array's brackets) or None.

    Only when the key occurs once (the first match is the earliest; the proven rows hold no other key, so
    only the bytes after them need a look). The array is taken to end at the first `}]`: for plain compact
    rows that is exactly the end of the last row; for anything else the cut is wrong but then the rows fail
    the grammar check of `parse_compact_rows` (which admits no nested object, string or key other than
    "id" and "payloads"), and the profile takes the ordinary path.
    """
    match = _INTERVALS_KEY.search(raw)
    if match is None:
        return None
    start = match.end()
    close = _ROWS_END.search(raw, start)
    if close is None:
        return None
    end = close.end() - 1
    if b'"intervals"' in raw[end:]:  # a second key after the rows (none can hide inside proven rows)
        return None
    return raw[:start] + raw[end:], raw[start:end]


def parse_compact_rows(rows: bytes, arity: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids int64, values float64 of shape (n, arity)) for plain compact rows, else None."""
    if arity < 1:
        return None
    # every row must read {"id":N,"payloads":[N,…]} once whitespace and number characters are removed
    template = b'{"IP":,"PPPPPPPP":[' + b"," * (arity - 1) + b"]}"
    shape = rows.translate(_CLASSES, _WHITESPACE_AND_NUMBER)
    n, rest = divmod(len(shape) + 1, len(template) + 1)
    if n == 0 or rest or shape != (template + b",") * (n - 1) + template:
        return None
    try:  # what is left between the commas must be one strict JSON number per slot
        flat = orjson.loads(b"[" + rows.translate(None, _KEYS_AND_BRACKETS) + b"]")
    except orjson.JSONDecodeError:
        return None
    if len(flat) != n * (1 + arity):
        return None
    numbers = np.fromiter(flat, dtype=np.float64, count=len(flat))
    table = numbers.reshape(n, 1 + arity)
    ids = table[:, 0]
    if not np.array_equal(ids, np.floor(ids)) or (np.abs(ids) > 2**53).any():
        return None
    return ids.astype(np.int64), np.ascontiguousarray(table[:, 1:])
