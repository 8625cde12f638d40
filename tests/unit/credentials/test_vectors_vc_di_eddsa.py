"""The W3C vc-di-eddsa test vectors, reproduced byte for byte (source: tests/vectors/vc_di_eddsa/SOURCE.md).

For each suite: the canonical document, the canonical proof configuration, both SHA-256 hashes, the combined
hash data, the signature (hex and base58btc) and the whole signed credential. RDFC runs offline through the
bundled contexts; a context that is not bundled is refused rather than fetched.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ies.credentials import (
    CredentialMalformed,
    CredentialSignatureInvalid,
    IssuerKey,
    ProofFormat,
    UnknownKey,
    verify,
)
from ies.credentials.data_integrity import add_proof, hash_data, proof_configuration, transform
from ies.credentials.issuer_keys import resolve_public_key
from ies.credentials.verify import check_signature, parse_secured
from ies.identity.multibase import ED25519_PUB, encode_multikey
from ies.identity.resolver import DIDResolver

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "vc_di_eddsa"
VM = (
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)

# suite → (folder, file suffix)
SUITES = {
    ProofFormat.EDDSA_RDFC_2022: ("eddsa-rdfc-2022", "DataInt"),
    ProofFormat.EDDSA_JCS_2022: ("eddsa-jcs-2022", "JCS"),
    ProofFormat.ED25519_SIGNATURE_2020: ("Ed25519Signature2020", "EdSig"),
}


def _text(fmt: ProofFormat, name: str) -> str:
    folder, suffix = SUITES[fmt]
    return (VECTORS / folder / f"{name}{suffix}.txt").read_text("utf-8")


def _json(path: str) -> Any:
    return json.loads((VECTORS / path).read_text("utf-8"))


def _signed(fmt: ProofFormat) -> dict[str, Any]:
    folder, suffix = SUITES[fmt]
    return _json(f"{folder}/signed{suffix}.json")


@pytest.fixture(scope="module")
def key() -> IssuerKey:
    pair = _json("keyPair.json")
    key = IssuerKey.from_multikey(VM, pair["privateKeyMultibase"])
    assert encode_multikey(ED25519_PUB, key.ed25519().public_key) == pair["publicKeyMultibase"]
    return key


def _unsigned_for(fmt: ProofFormat) -> dict[str, Any]:
    """The document the suite canonicalises: for Ed25519Signature2020 the vectors add the suite context."""
    signed = _signed(fmt)
    return {k: v for k, v in signed.items() if k != "proof"}


@pytest.mark.parametrize("fmt", list(SUITES), ids=lambda f: f.value)
class TestVector:
    def test_unsigned_document_is_the_published_one(self, fmt: ProofFormat) -> None:
        unsigned = _unsigned_for(fmt)
        expected = _json("unsigned.json")
        if fmt is ProofFormat.ED25519_SIGNATURE_2020:
            expected["@context"].append("https://w3id.org/security/suites/ed25519-2020/v1")
        assert unsigned == expected

    def test_canonical_document(self, fmt: ProofFormat) -> None:
        assert transform(_unsigned_for(fmt), fmt).decode("utf-8") == _text(fmt, "canonDoc")

    def test_canonical_proof_configuration(self, fmt: ProofFormat) -> None:
        folder, suffix = SUITES[fmt]
        config = _json(f"{folder}/proofConfig{suffix}.json")
        canonical = proof_configuration(config, config["@context"], fmt)
        assert canonical.decode("utf-8") == _text(fmt, "proofCanon")

    def test_hashes(self, fmt: ProofFormat) -> None:
        doc = _text(fmt, "canonDoc").encode("utf-8")
        proof = _text(fmt, "proofCanon").encode("utf-8")
        assert hashlib.sha256(doc).hexdigest() == _text(fmt, "docHash").strip()
        assert hashlib.sha256(proof).hexdigest() == _text(fmt, "proofHash").strip()
        assert hash_data(proof, doc).hex() == _text(fmt, "combinedHash").strip()

    def test_signature_and_signed_document(self, fmt: ProofFormat, key: IssuerKey) -> None:
        source = _json("unsigned.json")  # the suite context is added by add_proof where the suite needs it
        signed = add_proof(
            source, key.ed25519(), fmt=fmt, verification_method=VM, purpose="assertionMethod", created=CREATED
        )
        assert signed == _signed(fmt)
        combined = bytes.fromhex(_text(fmt, "combinedHash").strip())
        assert key.ed25519().sign(combined).hex() == _text(fmt, "sigHex").strip()
        assert signed["proof"]["proofValue"] == _text(fmt, "sigBTC58").strip()

    def test_published_signed_document_signature_verifies(self, fmt: ProofFormat) -> None:
        secured = parse_secured(_signed(fmt))
        assert secured.format is fmt and secured.verification_method == VM
        key = resolve_public_key(
            DIDResolver(), VM, signer=VM.split("#")[0], relationship="assertionMethod", at=CREATED
        )
        check_signature(secured, key)

    def test_published_signed_document_tampered_fails(self, fmt: ProofFormat) -> None:
        signed = _signed(fmt)
        signed["credentialSubject"]["alumniOf"] = "Another School"
        key = resolve_public_key(
            DIDResolver(), VM, signer=VM.split("#")[0], relationship="assertionMethod", at=CREATED
        )
        with pytest.raises(CredentialSignatureInvalid):
            check_signature(parse_secured(signed), key)

    def test_verify_refuses_it_because_the_issuer_is_not_the_key_holder(self, fmt: ProofFormat) -> None:
        """The vectors' issuer is an https URL while the key is a did:key: not a key of the issuer."""
        with pytest.raises(UnknownKey, match=r"signer is https://vc\.example/issuers/5678") as caught:
            verify(_signed(fmt), resolver=DIDResolver(), at=datetime(2024, 1, 1, tzinfo=UTC))
        assert caught.value.code == "VC_UNKNOWN_KEY"


def test_jcs_proof_value_named_in_the_issue() -> None:
    assert _signed(ProofFormat.EDDSA_JCS_2022)["proof"]["proofValue"] == (
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
    )


def test_rdfc_never_fetches_a_context_it_does_not_bundle() -> None:
    unsigned = _json("unsigned.json")
    unsigned["@context"].append("https://contexts.example/not-bundled/v1")
    with pytest.raises(CredentialMalformed, match="not bundled"):
        transform(unsigned, ProofFormat.EDDSA_RDFC_2022)


def test_rdfc_safe_mode_refuses_an_undefined_term() -> None:
    unsigned = _json("unsigned.json")
    unsigned["@context"] = ["https://www.w3.org/ns/credentials/v2"]  # drops the examples @vocab
    with pytest.raises(CredentialMalformed, match="alumniOf") as caught:
        transform(unsigned, ProofFormat.EDDSA_RDFC_2022)
    assert caught.value.code == "VC_MALFORMED"
