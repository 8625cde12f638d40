"""Signatures: the principal's did:key over the JCS artefact, portal attestations, instructions, records."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import rfc8785
from consent_helpers import (
    MANAGER,
    MANAGER_KEY,
    PRINCIPAL_DID,
    PRINCIPAL_KEY,
    PROVIDER,
    PROVIDER_KEY,
    example_artefact,
    example_documents,
    key,
)

from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid, ConsentSignatureInvalid
from ies.consent.signatures import (
    attest_as_portal,
    b64url,
    portal_key_id,
    record_hash,
    sign_as_principal,
    sign_instruction,
    sign_record,
    verify_approval,
    verify_instruction,
    verify_record,
)
from ies.identity.keys import verify_ed25519

EVIDENCE = {"method": "OTP", "verifiedAt": "2026-04-28T09:58:41Z", "reference": "otp-1"}


def _artefact(**changes: Any) -> ConsentArtefact:
    doc = example_artefact()
    doc.update(changes)
    return ConsentArtefact.parse(doc)


def test_the_principal_signs_the_jcs_bytes_of_the_artefact_without_signatures() -> None:
    artefact = _artefact()
    sig = sign_as_principal(artefact, PRINCIPAL_KEY)
    body = {k: v for k, v in artefact.doc.items() if k != "signatures"}
    import base64

    raw = base64.urlsafe_b64decode(sig["signatureValue"] + "==")
    assert verify_ed25519(PRINCIPAL_KEY.public_key, rfc8785.dumps(body), raw)
    assert verify_approval(artefact.with_signature(sig)) == "PrincipalSignature"


def test_any_change_to_a_signed_artefact_breaks_the_signature() -> None:
    signed = _artefact().with_signature(sign_as_principal(_artefact(), PRINCIPAL_KEY)).to_dict()
    for mutate in (
        lambda d: d["dataScope"]["resources"].append("did:web:x:assets:meter:EXTRA"),
        lambda d: d.update(validUntil="2026-07-31T00:00:00Z"),
        lambda d: d["dataConsumer"].update(id="someone-else.example"),
        lambda d: d["frequency"].update(maxAccesses=100),
    ):
        tampered = copy.deepcopy(signed)
        mutate(tampered)
        with pytest.raises(ConsentSignatureInvalid):
            verify_approval(ConsentArtefact.parse(tampered))


def test_a_signature_by_another_key_or_of_another_kind_is_refused() -> None:
    artefact = _artefact()
    with pytest.raises(ArtefactInvalid, match="principal is"):
        sign_as_principal(artefact, key("someone else"))
    forged = sign_as_principal(artefact, PRINCIPAL_KEY)
    forged["signatureValue"] = b64url(key("someone else").sign(artefact.canonical_bytes()))
    with pytest.raises(ConsentSignatureInvalid, match="does not match"):
        verify_approval(artefact.with_signature(forged))
    with pytest.raises(ConsentSignatureInvalid, match="no approval"):
        verify_approval(artefact)


def test_the_portal_attestation_binds_the_evidence_to_the_artefact() -> None:
    doc = example_artefact()
    doc["dataPrincipal"] = {"consumerNumber": "CN-1001"}
    artefact = ConsentArtefact.parse(doc)
    with pytest.raises(ArtefactInvalid, match="no principal did:key"):
        sign_as_principal(artefact, PRINCIPAL_KEY)
    sig = attest_as_portal(
        artefact, PROVIDER_KEY, provider_id=PROVIDER, key_id="discom-k1", evidence=EVIDENCE
    )
    assert portal_key_id(sig) == (PROVIDER, "discom-k1")
    attested = artefact.with_signature(sig)
    assert verify_approval(attested, provider_key=PROVIDER_KEY.public_key) == "ProviderPortalAttestation"
    with pytest.raises(ConsentSignatureInvalid, match="key"):
        verify_approval(attested)  # without the provider's key nothing is taken on trust
    with pytest.raises(ConsentSignatureInvalid):
        verify_approval(attested, provider_key=key("impostor").public_key)
    tampered = attested.to_dict()
    tampered["signatures"][0]["evidence"]["reference"] = "otp-2"
    with pytest.raises(ConsentSignatureInvalid):
        verify_approval(ConsentArtefact.parse(tampered), provider_key=PROVIDER_KEY.public_key)
    with pytest.raises(ArtefactInvalid, match="only the data provider"):
        attest_as_portal(artefact, PROVIDER_KEY, provider_id="other.example", key_id="k", evidence=EVIDENCE)


def test_published_examples_verify_with_the_published_keys() -> None:
    docs = example_documents()
    keys = docs["example-public-keys.json"]
    assert keys["principalDid"] == PRINCIPAL_DID
    verify_approval(ConsentArtefact.parse(docs["consent-artefact-principal-signed.json"]))
    import base64

    provider_key = base64.b64decode(keys["provider"]["publicKeyB64"])
    verify_approval(
        ConsentArtefact.parse(docs["consent-artefact-portal-attested.json"]), provider_key=provider_key
    )


def test_instructions_are_bound_to_the_principal() -> None:
    instruction = {"consentId": "urn:uuid:x", "action": "REVOKE", "seq": 2, "at": "2026-05-02T00:00:00Z"}
    signed = sign_instruction(instruction, PRINCIPAL_KEY)
    assert verify_instruction(signed, PRINCIPAL_DID) == instruction
    with pytest.raises(ConsentSignatureInvalid, match="not signed by the consent's principal"):
        verify_instruction(sign_instruction(instruction, key("other")), PRINCIPAL_DID)
    changed = copy.deepcopy(signed)
    changed["instruction"]["seq"] = 3
    with pytest.raises(ConsentSignatureInvalid, match="does not match"):
        verify_instruction(changed, PRINCIPAL_DID)
    for broken in (None, {"instruction": instruction}, {"instruction": 1, "signature": {}}):
        with pytest.raises(ConsentSignatureInvalid):
            verify_instruction(broken, PRINCIPAL_DID)


def test_manager_records_sign_and_chain() -> None:
    first = sign_record(
        {"seq": 0, "prevHash": "0" * 64, "to": "REQUESTED"}, MANAGER_KEY, signer=MANAGER, key_id="k1"
    )
    verify_record(first, MANAGER_KEY.public_key)
    second = sign_record(
        {"seq": 1, "prevHash": record_hash(first), "to": "ACTIVE"}, MANAGER_KEY, signer=MANAGER, key_id="k1"
    )
    verify_record(second, MANAGER_KEY.public_key)
    assert second["managerSignature"]["verificationMethod"] == f"{MANAGER}|k1|ed25519"
    edited = {**second, "to": "REVOKED"}
    with pytest.raises(ConsentSignatureInvalid):
        verify_record(edited, MANAGER_KEY.public_key)
    with pytest.raises(ConsentSignatureInvalid):
        verify_record({k: v for k, v in second.items() if k != "managerSignature"}, MANAGER_KEY.public_key)
    assert record_hash(first) != record_hash({**first, "to": "ACTIVE"})
