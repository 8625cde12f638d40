"""The W3C Bitstring Status List v1.0 wire form: bit order, GZIP, multibase base64url, and its checks.

Why written out: every verifier that reads our lists and every list we read from another issuer must agree
on three details the spec fixes (§2.1 and §3.2 "Bitstring Generation / Expansion Algorithm"):

- index 0 is the left-most bit, i.e. the most significant bit of the first byte;
- `encodedList` is the GZIP of the raw bitstring, base64url without padding, with the multibase prefix `u`;
- an uncompressed list is at least 16 KiB (131,072 entries), so one entry hides among many (herd privacy);
  a shorter list is refused (STATUS_LIST_LENGTH_ERROR) and an index beyond the end is a STATUS_RANGE_ERROR.

Decompression is bounded (`MAX_LIST_BYTES`) because a list is fetched from a URL inside the credential:
without a bound a few hundred bytes of GZIP could expand to gigabytes in the verifier.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterable

from ies.credentials.errors import StatusUnavailable

__all__ = [
    "MAX_LIST_BYTES",
    "MIN_LIST_BITS",
    "StatusListError",
    "decode_list",
    "encode_list",
    "get_bit",
    "set_bits",
]

MIN_LIST_BITS = 131_072
"""Bitstring Status List v1.0 §6.1 (herd privacy): at least 16 KiB uncompressed, 131,072 entries."""

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Largest uncompressed list we expand (128 Mi entries): a decompression bomb stops here."""


class StatusListError(StatusUnavailable):
    """A status list that cannot be used: badly encoded, too short, or an index outside it.

    A refusal like any unavailable status (fail closed); `code` carries the spec's error name
    (STATUS_LIST_LENGTH_ERROR, STATUS_RANGE_ERROR, STATUS_VERIFICATION_ERROR) under our VC_ prefix.
    """

    code = "VC_STATUS_LIST_INVALID"


def set_bits(size_bits: int, indexes: Iterable[int]) -> bytes:
    """A raw bitstring of `size_bits` (a multiple of 8) with exactly the given indexes set to 1."""
    if size_bits <= 0 or size_bits % 8:
        raise ValueError(f"a status list is a positive whole number of bytes, got {size_bits} bits")
    raw = bytearray(size_bits // 8)
    for index in indexes:
        if not 0 <= index < size_bits:
            raise ValueError(f"index {index} is outside a list of {size_bits} entries")
        raw[index >> 3] |= 0x80 >> (index & 7)
    return bytes(raw)


def get_bit(raw: bytes, index: int) -> bool:
    """The status bit at `index` (left-most bit first); StatusListError when the index is outside."""
    if not 0 <= index < len(raw) * 8:
        raise StatusListError(
            f"status index {index} is outside the list of {len(raw) * 8} entries",
            code="VC_STATUS_RANGE_ERROR",
        )
    return bool(raw[index >> 3] & (0x80 >> (index & 7)))


def encode_list(raw: bytes) -> str:
    """`encodedList`: multibase `u` + base64url (no padding) of the GZIP of the raw bitstring.

    `mtime=0` makes the output a pure function of the bits, so an unchanged list encodes identically.
    """
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str, *, min_bits: int = MIN_LIST_BITS) -> bytes:
    """The raw bitstring of an `encodedList`; StatusListError when it is not one we can trust."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("encodedList is missing or not a string")
    body = encoded[1:] if encoded[0] == "u" else encoded  # v0.x lists (StatusList2021) had no prefix
    if any(ch in body for ch in "+/="):
        raise StatusListError("encodedList is not base64url without padding")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise StatusListError("encodedList is not base64url") from exc
    raw = _gunzip_bounded(packed)
    if len(raw) * 8 < min_bits:
        raise StatusListError(
            f"status list has {len(raw) * 8} entries; at least {min_bits} are required",
            code="VC_STATUS_LIST_LENGTH_ERROR",
        )
    return raw


def _gunzip_bounded(packed: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container
    try:
        raw = inflater.decompress(packed, MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError("encodedList is not GZIP-compressed") from exc
    if len(raw) > MAX_LIST_BYTES or inflater.unconsumed_tail:
        raise StatusListError(f"status list expands beyond {MAX_LIST_BYTES} bytes")
    if not inflater.eof:
        raise StatusListError("encodedList holds a truncated GZIP stream")
    return raw
