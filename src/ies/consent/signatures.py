"""Signatures on consents: the principal's did:key, the provider portal's attestation, the manager's records.

Three kinds, all Ed25519 over RFC 8785 (JCS) bytes, so anyone can re-check them with any JCS library:

- `PrincipalSignature`: the data principal approves the artefact itself, signing its canonical bytes
  (`ConsentArtefact.canonical_bytes`) with the key of the did:key named in `dataPrincipal.id`.
- `ProviderPortalAttestation`: a principal without a key approves on the data provider's portal (OTP,
  login); the provider signs a statement binding the artefact digest to the identity evidence it
  recorded, with its registered Beckn key (`verificationMethod` = `<subscriber>|<key id>|ed25519`).
- Lifecycle instructions (pause, resume, revoke, reject) signed by the principal carry the consent id,
  the action and the transition number they expect, so a captured instruction cannot be replayed later.
- Transition records are signed by the consent manager and chained by hash (`record_hash`), so a
  consent's history cannot be edited, reordered or cut without the signatures or the chain breaking.

Verification raises `ConsentSignatureInvalid`; there is no boolean to forget to check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Any

import rfc8785

from ies.consent._time import format_instant
from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid, ConsentSignatureInvalid
from ies.identity.did_errors import DIDInvalid
from ies.identity.did_key import did_key_from_ed25519, parse_did_key
from ies.identity.keys import SigningKeyPair, verify_ed25519
from ies.store import utcnow

__all__ = [
    "PORTAL",
    "PRINCIPAL",
    "attest_as_portal",
    "b64url",
    "portal_key_id",
    "principal_did_of",
    "record_hash",
    "sign_as_principal",
    "sign_instruction",
    "sign_record",
    "verify_approval",
    "verify_instruction",
    "verify_record",
    "verify_signature",
]

PRINCIPAL = "PrincipalSignature"
PORTAL = "ProviderPortalAttestation"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: object) -> bytes:
    if not isinstance(text, str):
        raise ConsentSignatureInvalid("signatureValue is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ConsentSignatureInvalid("signatureValue is not base64url") from None


def principal_did_of(key: SigningKeyPair) -> str:
    return did_key_from_ed25519(key.public_key)


def _did_key_public(did: object) -> bytes:
    try:
        parsed = parse_did_key(str(did))
    except DIDInvalid as exc:
        raise ConsentSignatureInvalid(f"signer {did!r} is not a usable did:key: {exc.message}") from None
    if parsed.key_type != "Ed25519":
        raise ConsentSignatureInvalid(f"signer {did!r} is not an Ed25519 did:key")
    return parsed.public_key


# -- the artefact ---------------------------------------------------------------------------------------
def sign_as_principal(
    artefact: ConsentArtefact, key: SigningKeyPair, *, created: datetime | None = None
) -> dict[str, Any]:
    """The principal's approval: Ed25519 over the artefact's canonical bytes with their did:key."""
    did = principal_did_of(key)
    if artefact.principal_did is not None and artefact.principal_did != did:
        raise ArtefactInvalid(
            f"this key is {did}, but the artefact's principal is {artefact.principal_did}",
            details={"path": "$.dataPrincipal.id"},
        )
    if artefact.principal_did is None:
        raise ArtefactInvalid(
            "the artefact names no principal did:key; approve on the provider's portal instead",
            details={"path": "$.dataPrincipal.id"},
        )
    return {
        "type": PRINCIPAL,
        "signer": did,
        "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
        "created": format_instant(created or utcnow()),
        "signatureValue": b64url(key.sign(artefact.canonical_bytes())),
    }


def _portal_statement(artefact: ConsentArtefact, sig: dict[str, Any]) -> bytes:
    return rfc8785.dumps(
        {
            "artefactDigest": artefact.digest,
            "created": sig["created"],
            "evidence": sig["evidence"],
            "signer": sig["signer"],
            "type": PORTAL,
            "verificationMethod": sig["verificationMethod"],
        }
    )


def attest_as_portal(
    artefact: ConsentArtefact,
    key: SigningKeyPair,
    *,
    provider_id: str,
    key_id: str,
    evidence: dict[str, Any],
    created: datetime | None = None,
) -> dict[str, Any]:
    """The provider's attestation that the principal approved on its portal, with the evidence recorded."""
    if provider_id != artefact.provider_id:
        raise ArtefactInvalid(
            f"only the data provider {artefact.provider_id} may attest on its portal, not {provider_id}",
            details={"path": "$.dataProvider.id"},
        )
    sig: dict[str, Any] = {
        "type": PORTAL,
        "signer": provider_id,
        "verificationMethod": f"{provider_id}|{key_id}|ed25519",
        "created": format_instant(created or utcnow()),
        "evidence": evidence,
    }
    sig["signatureValue"] = b64url(key.sign(_portal_statement(artefact, sig)))
    return sig


def portal_key_id(sig: dict[str, Any]) -> tuple[str, str]:
    """(subscriber id, key id) named by a portal attestation's verificationMethod."""
    parts = str(sig.get("verificationMethod", "")).split("|")
    if len(parts) != 3 or parts[2] != "ed25519" or parts[0] != sig.get("signer"):
        raise ConsentSignatureInvalid("a portal attestation names its key as <signer>|<key id>|ed25519")
    return parts[0], parts[1]


def verify_signature(artefact: ConsentArtefact, sig: dict[str, Any], provider_key: bytes | None) -> None:
    kind = sig.get("type")
    value = _b64url_decode(sig.get("signatureValue"))
    if kind == PRINCIPAL:
        if sig.get("signer") != artefact.principal_did:
            raise ConsentSignatureInvalid(
                "a principal signature by someone other than the artefact's principal"
            )
        if not verify_ed25519(_did_key_public(sig["signer"]), artefact.canonical_bytes(), value):
            raise ConsentSignatureInvalid("the principal's signature does not match the artefact")
    elif kind == PORTAL:
        if sig.get("signer") != artefact.provider_id:
            raise ConsentSignatureInvalid("a portal attestation by someone other than the data provider")
        if provider_key is None:
            raise ConsentSignatureInvalid("the provider's key for its portal attestation is unknown")
        if not verify_ed25519(provider_key, _portal_statement(artefact, sig), value):
            raise ConsentSignatureInvalid("the provider's portal attestation does not match the artefact")
    else:
        raise ConsentSignatureInvalid(f"unknown signature type {kind!r}")


def verify_approval(artefact: ConsentArtefact, *, provider_key: bytes | None = None) -> str:
    """Every signature must verify (one bad signature means tampering) and one must approve.

    Returns the approval's kind. `provider_key` is the provider's registered Ed25519 key, needed only
    when a portal attestation is present (look it up with `portal_key_id`).
    """
    sigs = artefact.signatures
    if not sigs:
        raise ConsentSignatureInvalid("the artefact carries no approval signature")
    for sig in sigs:
        verify_signature(artefact, sig, provider_key)
    return str(sigs[0]["type"])


# -- lifecycle instructions -------------------------------------------------------------------------------
def sign_instruction(instruction: dict[str, Any], key: SigningKeyPair) -> dict[str, Any]:
    """A principal's signed instruction, e.g. {"consentId", "action": "REVOKE", "seq": 3, "at", "reason"}."""
    did = principal_did_of(key)
    return {
        "instruction": instruction,
        "signature": {
            "signer": did,
            "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
            "signatureValue": b64url(key.sign(rfc8785.dumps(instruction))),
        },
    }


def verify_instruction(signed: Any, principal_did: str | None) -> dict[str, Any]:
    """The instruction, once its signature checks against the consent's principal did:key."""
    if not isinstance(signed, dict) or not isinstance(signed.get("instruction"), dict):
        raise ConsentSignatureInvalid("a signed instruction is {instruction, signature}")
    sig = signed.get("signature")
    if not isinstance(sig, dict):
        raise ConsentSignatureInvalid("the instruction carries no signature")
    if principal_did is None or sig.get("signer") != principal_did:
        raise ConsentSignatureInvalid("the instruction is not signed by the consent's principal")
    instruction: dict[str, Any] = signed["instruction"]
    if not verify_ed25519(
        _did_key_public(principal_did), rfc8785.dumps(instruction), _b64url_decode(sig.get("signatureValue"))
    ):
        raise ConsentSignatureInvalid("the principal's signature does not match the instruction")
    return instruction


# -- transition records ------------------------------------------------------------------------------------
def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the JCS bytes of a signed transition record (the next record's `prevHash`)."""
    return hashlib.sha256(rfc8785.dumps(record)).hexdigest()


def sign_record(record: dict[str, Any], key: SigningKeyPair, *, signer: str, key_id: str) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k != "managerSignature"}
    return {
        **body,
        "managerSignature": {
            "signer": signer,
            "verificationMethod": f"{signer}|{key_id}|ed25519",
            "signatureValue": b64url(key.sign(rfc8785.dumps(body))),
        },
    }


def verify_record(record: dict[str, Any], public_key: bytes) -> None:
    sig = record.get("managerSignature")
    if not isinstance(sig, dict):
        raise ConsentSignatureInvalid(f"transition {record.get('seq')} is not signed by the consent manager")
    body = {k: v for k, v in record.items() if k != "managerSignature"}
    if not verify_ed25519(public_key, rfc8785.dumps(body), _b64url_decode(sig.get("signatureValue"))):
        raise ConsentSignatureInvalid(
            f"transition {record.get('seq')}: the manager's signature does not match"
        )
