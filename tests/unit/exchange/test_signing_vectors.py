"""BECKN-006 published vector, reproduced byte for byte, and signature property tests."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import SignatureInvalid, SignatureMissing
from ies.exchange.signing import (
    build_authorization,
    digest_b64,
    parse_authorization,
    signing_string,
    verify_parsed,
)
from ies.identity.keys import SigningKeyPair

VECTOR = json.loads((Path(__file__).parents[2] / "vectors" / "beckn006_step1.json").read_text())


def test_blake2b_512_published_example() -> None:
    fox = VECTOR["blake2b_fox"]
    assert digest_b64(fox["input"].encode()) == fox["digest_b64"]
    assert hashlib.blake2b(fox["input"].encode()).hexdigest().startswith("a8add4bdddfd93e4")


def test_beckn006_step1_digest_signature_and_header() -> None:
    body = VECTOR["body"].encode()
    key = SigningKeyPair.from_private_b64(VECTOR["private_key_b64"])
    assert key.public_key_b64 == VECTOR["public_key_b64"]
    assert digest_b64(body) == VECTOR["digest_b64"]
    header = build_authorization(
        body,
        subscriber_id=VECTOR["subscriber_id"],
        key_id=VECTOR["key_id"],
        key=key,
        created=VECTOR["created"],
        expires=VECTOR["expires"],
    )
    assert header == VECTOR["authorization"]
    parsed = parse_authorization(header)
    assert base64.b64encode(parsed.signature).decode() == VECTOR["signature_b64"]
    verify_parsed(parsed, body, key.public_key)


def test_signing_string_has_no_trailing_newline() -> None:
    assert signing_string(1, 2, "D") == b"(created): 1\n(expires): 2\ndigest: BLAKE-512=D"


def test_seed_only_private_key_is_accepted() -> None:
    key64 = SigningKeyPair.from_private_b64(VECTOR["private_key_b64"])
    seed_b64 = base64.b64encode(key64.seed).decode()
    assert SigningKeyPair.from_private_b64(seed_b64).public_key == key64.public_key


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, SignatureMissing),
        ("", SignatureMissing),
        ("Bearer abc", SignatureInvalid),
        ('Signature keyId="a|b|ed25519"', SignatureInvalid),
        (VECTOR["authorization"].replace('algorithm="ed25519"', 'algorithm="rsa-sha256"'), SignatureInvalid),
        (VECTOR["authorization"].replace("|ed25519", "|rsa"), SignatureInvalid),
        (VECTOR["authorization"].replace('created="1641287875"', 'created="soon"'), SignatureInvalid),
        (VECTOR["authorization"].replace('signature="cjbh', 'signature="!!bh'), SignatureInvalid),
        (VECTOR["authorization"].replace("example-bap.com|", "|"), SignatureInvalid),
        (VECTOR["authorization"] + ',created="1"', SignatureInvalid),
        ("Signature " + "x" * 5000, SignatureInvalid),
    ],
)
def test_malformed_headers_are_refused_with_a_code(header: str | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_authorization(header)


def test_header_with_spaces_after_commas_is_accepted() -> None:
    spaced = VECTOR["authorization"].replace('",', '", ')
    parsed = parse_authorization(spaced)
    verify_parsed(parsed, VECTOR["body"].encode(), base64.b64decode(VECTOR["public_key_b64"]))


KEY = SigningKeyPair.from_private_b64(VECTOR["private_key_b64"])
SIGNED_BODY = VECTOR["body"].encode()
SIGNED_HEADER = VECTOR["authorization"]


@settings(max_examples=300, deadline=None)
@given(index=st.integers(min_value=0, max_value=len(SIGNED_BODY) - 1), new=st.integers(0, 255))
def test_any_single_byte_change_fails_verification(index: int, new: int) -> None:
    if SIGNED_BODY[index] == new:
        new = (new + 1) % 256
    tampered = SIGNED_BODY[:index] + bytes([new]) + SIGNED_BODY[index + 1 :]
    with pytest.raises(SignatureInvalid):
        verify_parsed(parse_authorization(SIGNED_HEADER), tampered, KEY.public_key)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2048), created=st.integers(0, 2**40))
def test_sign_then_verify_round_trips_for_any_body(body: bytes, created: int) -> None:
    header = build_authorization(body, subscriber_id="a.example", key_id="k1", key=KEY, created=created)
    parsed = parse_authorization(header)
    assert (parsed.subscriber_id, parsed.key_id, parsed.expires) == ("a.example", "k1", created + 300)
    verify_parsed(parsed, body, KEY.public_key)
