"""Base58btc, multibase, unsigned varints and multicodec keys against published vectors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.identity.did_errors import MultibaseInvalid
from ies.identity.multibase import (
    ED25519_PRIV,
    ED25519_PUB,
    X25519_PUB,
    b58decode,
    b58encode,
    b64url_decode,
    b64url_encode,
    decode_multibase,
    decode_multikey,
    decode_varint,
    encode_multibase,
    encode_multikey,
    encode_varint,
)

# IETF draft-msporny-base58-03 §5 ("Test Vectors").
BASE58_VECTORS = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
]


@pytest.mark.parametrize(("raw", "encoded"), BASE58_VECTORS)
def test_base58_matches_the_ietf_draft_vectors(raw: bytes, encoded: str) -> None:
    assert b58encode(raw) == encoded
    assert b58decode(encoded) == raw


def test_multibase_base58btc_matches_the_multiformats_vector() -> None:
    # multiformats/multibase tests/test1.csv: base58btc of "yes mani !"
    assert encode_multibase(b"yes mani !") == "z7paNL19xttacUY"
    assert decode_multibase("z7paNL19xttacUY") == b"yes mani !"


def test_empty_and_all_zero_inputs() -> None:
    assert b58encode(b"") == ""
    assert b58decode("") == b""
    assert b58encode(b"\x00\x00") == "11"
    assert b58decode("11") == b"\x00\x00"


@settings(max_examples=200)
@given(st.binary(max_size=80))
def test_base58_round_trips_any_bytes(raw: bytes) -> None:
    assert b58decode(b58encode(raw)) == raw


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "abc+", "z z"])
def test_base58_refuses_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(MultibaseInvalid, match="not a base58btc character"):
        b58decode(bad)


def test_multibase_refuses_other_bases_and_empty_values() -> None:
    with pytest.raises(MultibaseInvalid, match="only 'z'"):
        decode_multibase("meWVzIG1hbmkgIQ")  # base64 multibase of "yes mani !"
    with pytest.raises(MultibaseInvalid, match="empty"):
        decode_multibase("")
    with pytest.raises(MultibaseInvalid, match="no payload"):
        decode_multibase("z")


# multiformats/multicodec table.csv: ed25519-pub 0xed, x25519-pub 0xec, ed25519-priv 0x1300 (as varints).
@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (ED25519_PUB, "ed01"),
     (X25519_PUB, "ec01"), (ED25519_PRIV, "8026"), (16384, "808001")],
)  # fmt: skip
def test_varints_match_the_unsigned_varint_spec(value: int, encoded: str) -> None:
    assert encode_varint(value).hex() == encoded
    assert decode_varint(bytes.fromhex(encoded) + b"tail") == (value, len(encoded) // 2)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trips(value: int) -> None:
    assert decode_varint(encode_varint(value)) == (value, len(encode_varint(value)))


def test_varint_refuses_truncated_overlong_and_non_minimal_forms() -> None:
    with pytest.raises(MultibaseInvalid, match="truncated"):
        decode_varint(b"\x80")
    with pytest.raises(MultibaseInvalid, match="truncated"):
        decode_varint(b"\xff" * 10)
    with pytest.raises(MultibaseInvalid, match="minimally"):
        decode_varint(b"\xed\x81\x00")  # 0xed padded with a zero continuation byte
    with pytest.raises(ValueError, match="unsigned"):
        encode_varint(-1)


def test_multikey_of_the_vc_di_eddsa_key_pair() -> None:
    """w3c/vc-di-eddsa TestVectors/keyPair.json: the private multikey (0x1300) holds the seed whose
    Ed25519 public key, as a multikey (0xed01), is the published publicKeyMultibase."""
    from ies.identity.keys import SigningKeyPair

    codec, seed = decode_multikey("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert codec == ED25519_PRIV
    public = SigningKeyPair.from_seed(seed).public_key
    assert encode_multikey(ED25519_PUB, public) == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert decode_multikey("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2") == (ED25519_PUB, public)


def test_multikey_prefixes_give_the_familiar_leading_characters() -> None:
    # Every Ed25519 multikey starts "z6Mk" and every X25519 one "z6LS" (did:key spec §2.1 examples).
    for fill in (0, 0x55, 0xFF):
        assert encode_multikey(ED25519_PUB, bytes([fill]) * 32).startswith("z6Mk")
        assert encode_multikey(X25519_PUB, bytes([fill]) * 32).startswith("z6LS")


def test_multikey_refuses_unknown_codecs_wrong_lengths_and_unexpected_types() -> None:
    with pytest.raises(MultibaseInvalid, match="0x1200 is not a supported"):
        encode_multikey(0x1200, bytes(33))  # p256-pub
    with pytest.raises(MultibaseInvalid, match="32 bytes, got 31"):
        encode_multikey(ED25519_PUB, bytes(31))
    short = encode_multibase(encode_varint(ED25519_PUB) + bytes(31))
    with pytest.raises(MultibaseInvalid, match="32 bytes, got 31"):
        decode_multikey(short)
    x_key = encode_multikey(X25519_PUB, bytes(32))
    with pytest.raises(MultibaseInvalid, match="expected a key with multicodec 0xed"):
        decode_multikey(x_key, expect=(ED25519_PUB,))
    secp = encode_multibase(encode_varint(0xE7) + bytes(33))  # secp256k1-pub
    with pytest.raises(MultibaseInvalid, match="0xe7 is not a supported"):
        decode_multikey(secp)


def test_base64url_is_unpadded_and_strict() -> None:
    # RFC 8037 Appendix A.1: the Ed25519 public key "x" of the example JWK.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    raw = b64url_decode(x)
    assert raw.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert b64url_encode(raw) == x
    for bad in (x + "=", x.replace("_", "/"), x[:-1] + "!"):
        with pytest.raises(MultibaseInvalid):
            b64url_decode(bad)
