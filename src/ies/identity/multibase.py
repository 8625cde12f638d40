"""Multibase (base58btc), unsigned varints and multicodec key prefixes, written out in full.

Why our own: did:key identifiers and `publicKeyMultibase` values are `z` + base58btc(varint(codec) ‖ key).
The whole format is about sixty lines; owning it keeps a dependency (and its bugs) off the path every
credential and DID check runs through, and lets every failure surface as our own `MultibaseInvalid`.

References: multibase (draft-multiformats-multibase), the unsigned-varint spec of multiformats, and the
multicodec table (`ed25519-pub` 0xed, `x25519-pub` 0xec, `ed25519-priv` 0x1300).
"""

from __future__ import annotations

import base64
import binascii

from ies.identity.did_errors import MultibaseInvalid

__all__ = [
    "BASE58BTC_PREFIX",
    "ED25519_PRIV",
    "ED25519_PUB",
    "KEY_LENGTHS",
    "X25519_PUB",
    "b58decode",
    "b58encode",
    "b64url_decode",
    "b64url_encode",
    "decode_multibase",
    "decode_multikey",
    "decode_varint",
    "encode_multibase",
    "encode_multikey",
    "encode_varint",
]

BASE58BTC_PREFIX = "z"
"""The multibase prefix character of base58btc, the only base did:key and Multikey use."""

ED25519_PUB = 0xED
X25519_PUB = 0xEC
ED25519_PRIV = 0x1300

KEY_LENGTHS: dict[int, int] = {ED25519_PUB: 32, X25519_PUB: 32, ED25519_PRIV: 32}
"""Raw key length in bytes for each multicodec we accept; anything else is refused, not guessed."""

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(_B58_ALPHABET)}

_MAX_VARINT_BYTES = 9
"""The unsigned-varint spec caps a varint at 9 bytes (63 bits) to keep decoders bounded."""


def b58encode(data: bytes) -> str:
    """Base58 with the Bitcoin alphabet; each leading zero byte becomes a leading '1'."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of `b58encode`; raises MultibaseInvalid on a character outside the alphabet."""
    number = 0
    for ch in text:
        value = _B58_INDEX.get(ch)
        if value is None:
            raise MultibaseInvalid(f"{ch!r} is not a base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def encode_multibase(data: bytes) -> str:
    return BASE58BTC_PREFIX + b58encode(data)


def decode_multibase(text: str) -> bytes:
    """Decode a base58btc multibase string ('z…'); other bases are refused by name."""
    if not text:
        raise MultibaseInvalid("empty multibase value")
    if text[0] != BASE58BTC_PREFIX:
        raise MultibaseInvalid(f"multibase prefix {text[0]!r} is not supported (only 'z', base58btc)")
    if len(text) == 1:
        raise MultibaseInvalid("multibase value has no payload")
    return b58decode(text[1:])


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 varint, as multicodec prefixes use (0xed → b'\\xed\\x01')."""
    if value < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes) -> tuple[int, int]:
    """Return (value, bytes consumed). Refuses truncated, overlong and non-minimal encodings."""
    value = 0
    for i, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise MultibaseInvalid("varint is not minimally encoded")
            return value, i + 1
    raise MultibaseInvalid("varint is truncated or longer than 9 bytes")


def encode_multikey(codec: int, key: bytes) -> str:
    """'z' + base58btc(varint(codec) ‖ key): the did:key method-specific id and Multikey value."""
    want = KEY_LENGTHS.get(codec)
    if want is None:
        raise MultibaseInvalid(f"multicodec 0x{codec:x} is not a supported key type")
    if len(key) != want:
        raise MultibaseInvalid(f"a multicodec 0x{codec:x} key is {want} bytes, got {len(key)}")
    return encode_multibase(encode_varint(codec) + key)


def decode_multikey(text: str, *, expect: tuple[int, ...] | None = None) -> tuple[int, bytes]:
    """Split a Multikey value into (codec, raw key bytes), checking the codec is known and the length fits."""
    raw = decode_multibase(text)
    codec, used = decode_varint(raw)
    key = raw[used:]
    want = KEY_LENGTHS.get(codec)
    if want is None:
        raise MultibaseInvalid(f"multicodec 0x{codec:x} is not a supported key type")
    if expect is not None and codec not in expect:
        names = ", ".join(f"0x{c:x}" for c in expect)
        raise MultibaseInvalid(f"expected a key with multicodec {names}, got 0x{codec:x}")
    if len(key) != want:
        raise MultibaseInvalid(f"a multicodec 0x{codec:x} key is {want} bytes, got {len(key)}")
    return codec, key


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, the encoding of JWK members (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if "=" in text or "+" in text or "/" in text:
        raise MultibaseInvalid("not unpadded base64url (JWK values use '-' '_' and no '=')")
    standard = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MultibaseInvalid("not valid base64url") from exc
