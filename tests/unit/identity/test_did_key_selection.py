"""Choosing a key from a DID document: purpose, controller, key type and rotation validity, failing closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ies.errors import KeyExpiredOrRevoked, UsageError
from ies.identity.did import (
    DIDDocumentInvalid,
    PublishedKey,
    VerificationMethodNotFound,
    did_key_document,
    did_key_from_ed25519,
    list_keys,
    node_did_document,
    select_verification_method,
)
from ies.identity.keys import NodeKeys, SigningKeyPair, verify_ed25519
from ies.identity.multibase import b64url_encode

DID = "did:web:issuer.example"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rotating() -> tuple[NodeKeys, NodeKeys, dict[str, Any]]:
    """k2 is current; k1 was rotated out and keeps verifying for one more day; k0 was revoked."""
    old, new = NodeKeys.generate("k1"), NodeKeys.generate("k2")
    doc = node_did_document(
        DID,
        new,
        signing_valid_from=NOW - timedelta(hours=1),
        previous_keys=[
            PublishedKey("k1", "Ed25519", old.signing.public_key, valid_until=NOW + timedelta(days=1)),
            PublishedKey(
                "k0", "Ed25519", SigningKeyPair.generate().public_key, revoked_at=NOW - timedelta(days=2)
            ),
        ],
    )
    return old, new, doc


def test_a_signature_verifies_with_the_key_the_did_url_names(rotating: Any) -> None:
    _, new, doc = rotating
    key = select_verification_method(doc, DID, "k2", at=NOW)
    assert key.public_key == new.signing.public_key
    assert key.key_type == "Ed25519"
    assert key.relationships == {"authentication", "assertionMethod"}
    signature = new.signing.sign(b"a credential")
    assert verify_ed25519(key.public_key, b"a credential", signature)
    assert not verify_ed25519(key.public_key, b"a credential!", signature)


def test_the_old_key_verifies_until_its_valid_until_then_is_refused(rotating: Any) -> None:
    old, _, doc = rotating
    assert select_verification_method(doc, DID, "k1", at=NOW).public_key == old.signing.public_key
    just_before = NOW + timedelta(days=1) - timedelta(seconds=1)
    assert select_verification_method(doc, DID, "k1", at=just_before).public_key == old.signing.public_key
    with pytest.raises(KeyExpiredOrRevoked, match="expired at 2026-11-27T12:00:00"):
        select_verification_method(doc, DID, "k1", at=NOW + timedelta(days=1))


def test_a_revoked_key_is_refused_for_every_purpose(rotating: Any) -> None:
    _, _, doc = rotating
    with pytest.raises(VerificationMethodNotFound, match="not listed under assertionMethod"):
        select_verification_method(doc, DID, "k0", at=NOW)
    with pytest.raises(KeyExpiredOrRevoked, match="revoked at"):
        select_verification_method(doc, DID, "k0", purpose=None, at=NOW)


def test_a_key_is_refused_before_its_valid_from(rotating: Any) -> None:
    _, _, doc = rotating
    with pytest.raises(KeyExpiredOrRevoked, match="not valid before"):
        select_verification_method(doc, DID, "k2", at=NOW - timedelta(hours=2))


def test_a_key_agreement_key_never_verifies_an_assertion(rotating: Any) -> None:
    _, new, doc = rotating
    with pytest.raises(VerificationMethodNotFound, match="not listed under assertionMethod"):
        select_verification_method(doc, DID, "k2-x25519", at=NOW)
    key = select_verification_method(doc, DID, "k2-x25519", purpose="keyAgreement", at=NOW)
    assert (key.key_type, key.public_key) == ("X25519", new.encryption.public_key)


def test_without_a_fragment_only_a_single_candidate_is_chosen(rotating: Any) -> None:
    _, new, doc = rotating
    with pytest.raises(VerificationMethodNotFound, match="has 2 keys for assertionMethod"):
        select_verification_method(doc, DID, None, at=NOW)
    agreement = select_verification_method(doc, DID, None, purpose="keyAgreement", at=NOW)
    assert agreement.public_key == new.encryption.public_key
    did_key = did_key_from_ed25519(new.signing.public_key)
    only = select_verification_method(did_key_document(did_key), did_key, None, at=NOW)
    assert only.public_key == new.signing.public_key


def test_unknown_fragments_and_purposes_are_refused(rotating: Any) -> None:
    _, _, doc = rotating
    with pytest.raises(VerificationMethodNotFound, match="no verification method"):
        select_verification_method(doc, DID, "k9", at=NOW)
    with pytest.raises(UsageError, match="purpose must be one of"):
        select_verification_method(doc, DID, "k2", purpose="signing", at=NOW)
    with pytest.raises(UsageError, match="timezone-aware"):
        select_verification_method(doc, DID, "k2", at=datetime(2026, 11, 26))


def test_list_keys_shows_every_key_with_its_state(rotating: Any) -> None:
    _, _, doc = rotating
    shown = {k.id.split("#")[1]: k for k in list_keys(doc, DID)}
    assert set(shown) == {"k2", "k2-x25519", "k1", "k0"}
    assert [f for f, k in sorted(shown.items()) if k.usable_at(NOW)] == ["k1", "k2", "k2-x25519"]
    assert shown["k0"].relationships == frozenset()


# Documents written by other stacks: relative ids, embedded methods, 2018/2020 types and JWKs.
PUB = SigningKeyPair.from_seed(bytes(32)).public_key
ED_JWK = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(PUB)}


def _foreign_document(**method: Any) -> dict[str, Any]:
    base = {"id": "#key-1", "type": "JsonWebKey2020", "controller": DID}
    base.update(method)
    return {"id": DID, "verificationMethod": [base], "assertionMethod": ["#key-1"]}


def test_relative_ids_and_jwk_methods_of_other_stacks_resolve() -> None:
    doc = _foreign_document(publicKeyJwk={"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(PUB)})
    key = select_verification_method(doc, DID, "key-1", at=NOW)
    assert (key.id, key.public_key, key.method_type) == (f"{DID}#key-1", PUB, "JsonWebKey2020")


def test_embedded_methods_in_a_relationship_resolve() -> None:
    embedded = {
        "id": f"{DID}#auth",
        "type": "Ed25519VerificationKey2020",
        "controller": DID,
        "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    }
    doc = {"id": DID, "authentication": [embedded]}
    assert select_verification_method(doc, DID, "auth", purpose="authentication", at=NOW).public_key == PUB
    with pytest.raises(VerificationMethodNotFound):
        select_verification_method(doc, DID, "auth", purpose="assertionMethod", at=NOW)


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ({"controller": "did:web:other.example"}, "controlled by"),
        ({"publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}, "only OKP"),
        ({"publicKeyJwk": {**ED_JWK, "d": "AA"}}, "private key"),
        ({"publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(PUB[:16])}}, "16 bytes"),
        ({"publicKeyJwk": {**ED_JWK, "crv": "X25519"}}, "unusable for assertionMethod"),
        ({"type": "EcdsaSecp256k1VerificationKey2019"}, "holds no Ed25519 or X25519 key"),
        ({"type": "Multikey", "publicKeyMultibase": "zNotBase58!"}, "not a base58btc"),
        ({"type": "Ed25519VerificationKey2018", "publicKeyBase58": "1111"}, "not 32"),
        ({"type": "Ed25519VerificationKey2018"}, "lacks a string publicKeyBase58"),
        ({"expires": "next tuesday", "publicKeyJwk": ED_JWK}, "not a date-time"),
    ],
)  # fmt: skip
def test_unusable_methods_are_refused_as_invalid_documents(method: dict[str, Any], message: str) -> None:
    with pytest.raises(DIDDocumentInvalid, match=message) as info:
        select_verification_method(_foreign_document(**method), DID, "key-1", at=NOW)
    assert info.value.code == "DID_DOCUMENT_INVALID"


def test_malformed_document_structure_is_refused() -> None:
    with pytest.raises(DIDDocumentInvalid, match="not a list"):
        select_verification_method({"id": DID, "verificationMethod": {}}, DID, "k", at=NOW)
    with pytest.raises(DIDDocumentInvalid, match="lacks a string 'id'"):
        select_verification_method(
            {"id": DID, "verificationMethod": [{"type": "Multikey"}]}, DID, "k", at=NOW
        )
    with pytest.raises(DIDDocumentInvalid, match="assertionMethod is not a list"):
        select_verification_method({"id": DID, "assertionMethod": "#k"}, DID, "k", at=NOW)
