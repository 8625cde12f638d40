"""did:key against the published vectors of the W3C CCG did:key spec and w3c/vc-di-eddsa."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.identity.did import (
    DIDInvalid,
    did_key_document,
    did_key_from_ed25519,
    did_key_from_x25519,
    ed25519_public_to_x25519,
    key_from_method,
    parse_did_key,
)
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import b58decode, b64url_decode

# w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json: for each 32-byte seed, the did:key, the
# Ed25519 publicKeyBase58, the derived X25519 keyAgreement fragment and its publicKeyBase58.
CCG_ED25519_X25519 = [
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
        "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
        "7By6kV2t2d188odEM4ExAve1UithKT6dLva4dwsDT3ak",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000001",
        "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
        "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
        "z6LSrHyXiPBhUbvPUtyUCdf32sniiMGPTAesgHrtEa4FePtr",
        "FcoNC5NqP9CePWbhfz95iHaEsCjGkZUioK9Ck7Qiw286",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000002",
        "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
        "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
        "z6LSkkqoZRC34AEpbkhZCqLDcHQVAxuLpQ7kC8XCXMVUfvjE",
        "A5fe37PAxhX5WNKngBpGHhC1KpNE7nwbK9oX2tqwxYxU",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000003",
        "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
        "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
        "z6LSiUo6AEDat8Ze4nQzDo67SGuHLLwsUGkxndHGUjsywHow",
        "7ocvdvQinfqtyQ3Dh9aA7ggoVCQkmfaoueZazHETDv3B",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000004",
        "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
        "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
        "z6LSrGb3qm4xMCEBjvwkLb2WEcXfTM94Tu1RyGCbT5wbg8i9",
        "FbQtKTG6FjWSeYZyowWYv2KBcCbwmHqH6HUuxdJ4xkwP",
    ),
]

_D0 = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
_K0 = f"{_D0}#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
_X0 = f"{_D0}#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"
# The same file's complete "didDocument" for seed 0, in its 2018/2019 key types.
CCG_DOCUMENT_SEED_0 = {
    "@context": [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2018/v1",
        "https://w3id.org/security/suites/x25519-2019/v1",
    ],
    "id": _D0,
    "verificationMethod": [
        {
            "id": _K0,
            "type": "Ed25519VerificationKey2018",
            "controller": _D0,
            "publicKeyBase58": "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
        },
        {
            "id": _X0,
            "type": "X25519KeyAgreementKey2019",
            "controller": _D0,
            "publicKeyBase58": "7By6kV2t2d188odEM4ExAve1UithKT6dLva4dwsDT3ak",
        },
    ],
    "assertionMethod": [_K0],
    "authentication": [_K0],
    "capabilityInvocation": [_K0],
    "capabilityDelegation": [_K0],
    "keyAgreement": [_X0],
}

# w3c-ccg/did-method-key, test-vectors/x25519.json: X25519-only did:keys and their publicKeyBase58.
CCG_X25519 = [
    (
        "did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F",
        "4Dy8E9UaZscuPUf2GLxV44RCNL7oxmEXXkgWXaug1WKV",
    ),
    (
        "did:key:z6LStiZsmxiK4odS4Sb6JmdRFuJ6e1SYP157gtiCyJKfrYha",
        "J3PiFeuSyLugy4DKn87TwK5cnruRgPtxouzXUqg99Avp",
    ),
    (
        "did:key:z6LSoMdmJz2Djah2P4L9taDmtqeJ6wwd2HhKZvNToBmvaczQ",
        "CgTbngDMe7yHHfxPMvhpaFRpFoQWKgXAgwenJj8PsFDe",
    ),
]


@pytest.mark.parametrize(("seed_hex", "did", "ed_b58", "x_fragment", "x_b58"), CCG_ED25519_X25519)
def test_ccg_vectors_from_seed_to_did_and_key_agreement_key(
    seed_hex: str, did: str, ed_b58: str, x_fragment: str, x_b58: str
) -> None:
    pair = SigningKeyPair.from_seed(bytes.fromhex(seed_hex))
    assert pair.public_key == b58decode(ed_b58)
    assert did_key_from_ed25519(pair.public_key) == did
    parsed = parse_did_key(did)
    assert (parsed.key_type, parsed.public_key) == ("Ed25519", pair.public_key)
    assert ed25519_public_to_x25519(pair.public_key) == b58decode(x_b58)
    doc = did_key_document(did)
    assert doc["keyAgreement"] == [f"{did}#{x_fragment}"]
    assert did_key_from_x25519(b58decode(x_b58)) == f"did:key:{x_fragment}"


def test_legacy_form_reproduces_the_published_document_exactly() -> None:
    assert did_key_document(_D0, key_format="Ed25519VerificationKey2018") == CCG_DOCUMENT_SEED_0


def test_multikey_document_has_the_spec_shape() -> None:
    doc = did_key_document(_D0)
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["verificationMethod"] == [
        {"id": _K0, "type": "Multikey", "controller": _D0, "publicKeyMultibase": _K0.split("#")[1]},
        {"id": _X0, "type": "Multikey", "controller": _D0, "publicKeyMultibase": _X0.split("#")[1]},
    ]
    for relation in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        assert doc[relation] == [_K0]
    assert doc["keyAgreement"] == [_X0]
    assert "keyAgreement" not in did_key_document(_D0, derive_key_agreement=False)


def test_jwk_form_carries_okp_keys_that_read_back() -> None:
    doc = did_key_document(_D0, key_format="JsonWebKey2020")
    assert doc["@context"][1] == "https://w3id.org/security/suites/jws-2020/v1"
    ed, x = doc["verificationMethod"]
    assert ed["type"] == "JsonWebKey2020"
    assert ed["publicKeyJwk"]["kty"] == "OKP"
    assert ed["publicKeyJwk"]["crv"] == "Ed25519"
    assert b64url_decode(ed["publicKeyJwk"]["x"]) == SigningKeyPair.from_seed(bytes(32)).public_key
    assert x["publicKeyJwk"]["crv"] == "X25519"
    assert key_from_method(x) == ("X25519", b58decode("7By6kV2t2d188odEM4ExAve1UithKT6dLva4dwsDT3ak"))


@pytest.mark.parametrize(("did", "x_b58"), CCG_X25519)
def test_x25519_did_keys_parse_and_expand_to_key_agreement_only(did: str, x_b58: str) -> None:
    parsed = parse_did_key(did)
    assert (parsed.key_type, parsed.public_key) == ("X25519", b58decode(x_b58))
    legacy = did_key_document(did, key_format="Ed25519VerificationKey2018")
    assert legacy["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/x25519-2019/v1",
    ]
    assert legacy["verificationMethod"][0]["type"] == "X25519KeyAgreementKey2019"
    assert legacy["verificationMethod"][0]["publicKeyBase58"] == x_b58
    assert legacy["keyAgreement"] == [parsed.key_id]
    assert "assertionMethod" not in legacy


def test_vc_di_eddsa_public_key_is_a_valid_did_key() -> None:
    # w3c/vc-di-eddsa TestVectors/keyPair.json publicKeyMultibase, used as did:key in its examples.
    did = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert parse_did_key(did).key_id == f"{did}#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert did_key_document(did)["assertionMethod"] == [parse_did_key(did).key_id]


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_any_generated_key_round_trips(seed: bytes) -> None:
    pair = SigningKeyPair.from_seed(seed)
    did = did_key_from_ed25519(pair.public_key)
    assert parse_did_key(did).public_key == pair.public_key
    method = did_key_document(did)["verificationMethod"][0]
    assert key_from_method(method) == ("Ed25519", pair.public_key)


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:web:example.com", "not a did:key"),
        ("did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "only 'z'"),
        (
            "did:key:z2DQUyFHStG42FqbEhyM6LhkEqqV45NGGqKCwNxVWWu7Yzj",
            "32 bytes, got 31",
        ),  # 0xed01 + 31 zero bytes
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "not a supported"),  # secp256k1
        ("did:key:1:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "versioned"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", "not a base58btc"),
        ("did:key:", "not a valid DID"),
        ("did:key:z6Mk#frag", "DID URL"),
    ],
)
def test_invalid_did_keys_are_refused_with_the_reason(did: str, message: str) -> None:
    with pytest.raises(DIDInvalid, match=message) as info:
        did_key_document(did)
    assert info.value.code == "DID_INVALID"
    assert info.value.exit_code == 1


def test_an_ed25519_key_that_is_not_a_curve_point_is_refused() -> None:
    # y = 2 has no x on edwards25519, so libsodium cannot map it to X25519.
    not_a_point = (2).to_bytes(32, "little")
    with pytest.raises(DIDInvalid, match="not a valid curve point"):
        did_key_from_ed25519(not_a_point)
