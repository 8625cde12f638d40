"""Data Integrity proofs with Ed25519: eddsa-rdfc-2022, eddsa-jcs-2022 and the legacy Ed25519Signature2020.

Why one module for three suites: they share every step but the canonicalisation (W3C vc-di-eddsa §3).
    proof configuration = the proof without `proofValue`, with `@context` = the document's `@context`
    hash data          = SHA-256(canonical proof configuration) ‖ SHA-256(canonical document)
    proofValue         = multibase base58btc ('z…') of the 64-byte Ed25519 signature of the hash data
eddsa-rdfc-2022 and Ed25519Signature2020 canonicalise with RDFC-1.0 (`canonical.rdfc`, safe mode);
eddsa-jcs-2022 with RFC 8785. The W3C test vectors reproduce byte for byte through `proof_configuration`,
`transform` and `hash_data` (tests/unit/credentials/test_vectors_vc_di_eddsa.py).

Stricter than the suites require, on purpose: exactly one proof (no proof sets or chains), and a JCS proof
that carries its own `@context` must carry exactly the document's (the spec only asks "starts with", which
would let contexts appended after signing go unsigned).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ies.credentials.canonical import jcs, rdfc
from ies.credentials.errors import CredentialMalformed, CredentialSignatureInvalid, UnsupportedProofFormat
from ies.credentials.issuer_keys import PublicKey
from ies.credentials.model import ProofFormat
from ies.credentials.timeutil import format_xsd, parse_xsd
from ies.identity.did_errors import MultibaseInvalid
from ies.identity.keys import SigningKeyPair
from ies.identity.multibase import decode_multibase, encode_multibase

__all__ = [
    "ED25519_2020_CONTEXT",
    "DIProof",
    "add_proof",
    "check_signature",
    "hash_data",
    "parse_proof",
    "proof_configuration",
    "transform",
]

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
_CRYPTOSUITES = {"eddsa-rdfc-2022": ProofFormat.EDDSA_RDFC_2022, "eddsa-jcs-2022": ProofFormat.EDDSA_JCS_2022}


@dataclass(frozen=True)
class DIProof:
    """A parsed embedded proof: what it claims, and the decoded signature."""

    format: ProofFormat
    proof: dict[str, Any]
    verification_method: str
    purpose: str
    created: datetime | None
    expires: datetime | None
    signature: bytes
    challenge: str | None = None
    domain: str | list[str] | None = None


def parse_proof(document: Mapping[str, Any]) -> DIProof:
    """Step 1 for Data Integrity documents: exactly one proof of a suite we know, with well-formed members."""
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise CredentialMalformed(
                f"proof sets are not accepted: the document carries {len(proof)} proofs"
            )
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise CredentialMalformed("the document has no proof object")
    proof_type, suite = proof.get("type"), proof.get("cryptosuite")
    if proof_type == "DataIntegrityProof" and isinstance(suite, str) and suite in _CRYPTOSUITES:
        fmt = _CRYPTOSUITES[suite]
    elif proof_type == "Ed25519Signature2020":
        fmt = ProofFormat.ED25519_SIGNATURE_2020
    else:
        raise UnsupportedProofFormat(
            f"proof type {proof_type!r} with cryptosuite {suite!r} is not supported",
            details={"type": str(proof_type), "cryptosuite": str(suite)},
        )
    method, purpose, value = (
        proof.get("verificationMethod"),
        proof.get("proofPurpose"),
        proof.get("proofValue"),
    )
    if not isinstance(method, str) or not method:
        raise CredentialMalformed("proof.verificationMethod must be a DID URL string")
    if not isinstance(purpose, str) or not purpose:
        raise CredentialMalformed("proof.proofPurpose is missing")
    if not isinstance(value, str):
        raise CredentialMalformed("proof.proofValue is missing")
    try:
        signature = decode_multibase(value)
    except MultibaseInvalid as exc:
        raise CredentialMalformed(f"proof.proofValue is not multibase base58btc: {exc.message}") from exc
    if len(signature) != 64:
        raise CredentialMalformed(
            f"proof.proofValue decodes to {len(signature)} bytes, not a 64-byte signature"
        )
    created = parse_xsd(proof.get("created"), "proof.created")
    if created is None and fmt is ProofFormat.ED25519_SIGNATURE_2020:
        raise CredentialMalformed("an Ed25519Signature2020 proof requires `created`")
    domain = proof.get("domain")
    return DIProof(
        format=fmt,
        proof=dict(proof),
        verification_method=method,
        purpose=purpose,
        created=created,
        expires=parse_xsd(proof.get("expires"), "proof.expires"),
        signature=signature,
        challenge=proof.get("challenge") if isinstance(proof.get("challenge"), str) else None,
        domain=domain if isinstance(domain, str | list) else None,
    )


def _unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def proof_configuration(
    proof: Mapping[str, Any],
    document_context: Any,
    fmt: ProofFormat,
    *,
    contexts: Mapping[str, Any] | None = None,
) -> bytes:
    """Canonical proof configuration: the proof minus `proofValue`, with the document's `@context`."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if fmt is ProofFormat.EDDSA_JCS_2022:
        if "@context" in config and config["@context"] != document_context:
            raise CredentialMalformed("the proof's @context differs from the document's @context")
        if document_context is not None:
            config["@context"] = document_context
        return jcs(config)
    config["@context"] = document_context
    return rdfc(config, contexts=contexts, what="proof configuration").encode("utf-8")


def transform(
    unsecured: Mapping[str, Any], fmt: ProofFormat, *, contexts: Mapping[str, Any] | None = None
) -> bytes:
    """Canonical bytes of the document without its proof."""
    if fmt is ProofFormat.EDDSA_JCS_2022:
        return jcs(dict(unsecured))
    return rdfc(unsecured, contexts=contexts, what="credential").encode("utf-8")


def hash_data(canonical_proof_config: bytes, canonical_document: bytes) -> bytes:
    """SHA-256(proof configuration) ‖ SHA-256(document): the 64 bytes that are signed."""
    return hashlib.sha256(canonical_proof_config).digest() + hashlib.sha256(canonical_document).digest()


def _signing_input(
    unsecured: Mapping[str, Any],
    proof: Mapping[str, Any],
    fmt: ProofFormat,
    contexts: Mapping[str, Any] | None,
) -> bytes:
    return hash_data(
        proof_configuration(proof, unsecured.get("@context"), fmt, contexts=contexts),
        transform(unsecured, fmt, contexts=contexts),
    )


def add_proof(
    unsecured: Mapping[str, Any],
    key: SigningKeyPair,
    *,
    fmt: ProofFormat,
    verification_method: str,
    purpose: str,
    created: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    contexts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document with a new proof of suite `fmt` (an Ed25519 suite) signed by `key`."""
    document = _unsecured(unsecured)
    if fmt is ProofFormat.ED25519_SIGNATURE_2020:
        proof: dict[str, Any] = {"type": "Ed25519Signature2020"}
        ctx = document.get("@context")
        ctx_list = ctx if isinstance(ctx, list) else [ctx]
        if ED25519_2020_CONTEXT not in ctx_list:
            # The suite's terms (proofValue, verificationMethod…) must be defined or safe mode refuses them.
            document["@context"] = [*ctx_list, ED25519_2020_CONTEXT]
    elif fmt in (ProofFormat.EDDSA_RDFC_2022, ProofFormat.EDDSA_JCS_2022):
        proof = {"type": "DataIntegrityProof", "cryptosuite": fmt.value}
    else:
        raise UnsupportedProofFormat(f"{fmt.value} is not a Data Integrity format")
    proof["created"] = format_xsd(created)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if fmt is ProofFormat.EDDSA_JCS_2022 and "@context" in document:
        proof["@context"] = document["@context"]
    signature = key.sign(_signing_input(document, proof, fmt, contexts))
    proof["proofValue"] = encode_multibase(signature)
    document["proof"] = proof
    return document


def check_signature(
    document: Mapping[str, Any], parsed: DIProof, key: PublicKey, *, contexts: Mapping[str, Any] | None = None
) -> None:
    """Raise CredentialSignatureInvalid unless the proof's signature covers this document under `key`."""
    if key.algorithm != "Ed25519":
        raise CredentialSignatureInvalid(
            f"{parsed.format.value} needs an Ed25519 key, but {key.method_id} is {key.algorithm}"
        )
    message = _signing_input(_unsecured(document), parsed.proof, parsed.format, contexts)
    if not key.verify(message, parsed.signature):
        raise CredentialSignatureInvalid(
            f"the {parsed.format.value} signature does not match the credential (altered, or another key)",
            details={"key": key.method_id},
        )
