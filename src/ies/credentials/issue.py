"""Issuing: check the credential, then sign it in the requested proof format.

Why checks before signing: a signature makes a mistake durable; the issuer must never sign a credential
whose issuer is not the key's DID (no verifier would accept it), whose IES subject fails its schema (the
IES guides: "validate the subject against the schema first, refuse otherwise"), or — for eddsa-rdfc-2022 —
whose JSON-LD drops a member (it would go out unsigned; `canonical.rdfc` refuses in safe mode).

Why `default_format`: the published IES JSON-LD contexts cannot be canonicalised offline (they import or
list contexts from schema.nfh.global that are not part of the IES material and so are not bundled), so RDFC
cannot sign an IES credential safely. `default_format` picks eddsa-rdfc-2022 when the credential
canonicalises safely and eddsa-jcs-2022 (the same Data Integrity proof model, key and verifiers) otherwise.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ies.credentials import data_integrity as di
from ies.credentials import jose
from ies.credentials import sd_jwt as sdj
from ies.credentials.canonical import rdfc
from ies.credentials.errors import CredentialMalformed
from ies.credentials.keys import IssuerKey
from ies.credentials.model import ProofFormat
from ies.credentials.verify import check_ies_schema, issuer_of
from ies.errors import UsageError
from ies.identity.did_errors import DIDInvalid
from ies.identity.did_key import parse_did_key
from ies.identity.multibase import b64url_encode

__all__ = ["CONTEXT_V1", "CONTEXT_V2", "default_format", "issue", "proof_format"]

CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
CONTEXT_V1 = "https://www.w3.org/2018/credentials/v1"
_KEY_FOR = {ProofFormat.VC_JOSE_ES256: "P-256", ProofFormat.VC_JOSE_EDDSA: "Ed25519"}


def proof_format(value: ProofFormat | str) -> ProofFormat:
    """Parse a format name; UsageError listing the valid names otherwise."""
    try:
        return ProofFormat(value)
    except ValueError:
        names = ", ".join(f.value for f in ProofFormat)
        raise UsageError(f"unknown proof format {value!r}; use one of {names}") from None


def _checked_copy(credential: Mapping[str, Any], key: IssuerKey) -> dict[str, Any]:
    if not isinstance(credential, Mapping):
        raise UsageError("a credential to issue must be a JSON object")
    doc = copy.deepcopy(dict(credential))
    context = doc.get("@context")
    if not isinstance(context, list) or not context or context[0] not in (CONTEXT_V2, CONTEXT_V1):
        raise UsageError(f"@context must be a list starting with {CONTEXT_V2}")
    types = doc.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise UsageError("type must be a list containing VerifiableCredential")
    if "proof" in doc:
        raise UsageError("the credential already carries a proof; issue an unsigned credential")
    try:
        issuer = issuer_of(doc)
    except CredentialMalformed as exc:
        raise UsageError(exc.message) from exc
    if issuer != key.did:
        raise UsageError(f"the credential's issuer is {issuer}, but the signing key belongs to {key.did}")
    if not isinstance(doc.get("credentialSubject"), Mapping | list):
        raise UsageError("credentialSubject must be an object (or a list of objects)")
    return doc


def _holder_jwk(holder: str | None, doc: Mapping[str, Any]) -> dict[str, str] | None:
    """The `cnf.jwk` of an SD-JWT: the holder's did:key, given or taken from credentialSubject.id."""
    subject = doc.get("credentialSubject")
    candidate = holder
    if candidate is None and isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        candidate = subject["id"] if str(subject["id"]).startswith("did:key:") else None
    if candidate is None:
        return None
    try:
        parsed = parse_did_key(candidate.split("#", 1)[0])
    except DIDInvalid as exc:
        raise UsageError(f"holder {candidate!r}: {exc.message}") from exc
    if parsed.key_type != "Ed25519":
        raise UsageError(f"holder {candidate!r} is not an Ed25519 did:key")
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(parsed.public_key)}


def default_format(
    credential: Mapping[str, Any], *, contexts: Mapping[str, Any] | None = None
) -> ProofFormat:
    """eddsa-rdfc-2022 when the credential canonicalises offline in safe mode, else eddsa-jcs-2022."""
    try:
        rdfc({k: v for k, v in credential.items() if k != "proof"}, contexts=contexts)
    except CredentialMalformed:
        return ProofFormat.EDDSA_JCS_2022
    return ProofFormat.EDDSA_RDFC_2022


def issue(
    credential: Mapping[str, Any],
    *,
    key: IssuerKey,
    format: ProofFormat | str = ProofFormat.EDDSA_RDFC_2022,
    created: datetime | None = None,
    disclosable: Sequence[str] = (),
    holder: str | None = None,
    schema_check: bool = True,
    contexts: Mapping[str, Any] | None = None,
) -> dict[str, Any] | str:
    """Sign `credential` with `key`: a dict with `proof` (Data Integrity) or a compact string (JOSE, SD-JWT).

    `disclosable` (SD-JWT only) lists dotted paths of claims the holder may withhold; `holder` is the
    holder's did:key for SD-JWT key binding (default: credentialSubject.id when it is a did:key).
    `created` defaults to now; `contexts` pins extra JSON-LD contexts (URL → document) for RDFC.
    Raises UsageError for an unusable request and CredentialSchemaInvalid for an invalid IES subject.
    """
    fmt = proof_format(format)
    doc = _checked_copy(credential, key)
    if disclosable and fmt is not ProofFormat.SD_JWT_VC:
        raise UsageError("disclosable claims need the sd-jwt-vc format")
    if created is not None and created.tzinfo is None:
        raise UsageError("created must be timezone-aware")
    if schema_check:
        check_ies_schema(doc)
    if fmt.is_data_integrity:
        return di.add_proof(
            doc,
            key.ed25519(),
            fmt=fmt,
            verification_method=key.verification_method,
            purpose="assertionMethod",
            created=created or datetime.now(UTC),
            contexts=contexts,
        )
    if fmt is ProofFormat.SD_JWT_VC:
        return sdj.issue_sd_jwt(doc, key, disclosable=disclosable, cnf_jwk=_holder_jwk(holder, doc))
    if key.algorithm != _KEY_FOR[fmt]:
        raise UsageError(
            f"{fmt.value} needs a {_KEY_FOR[fmt]} key; {key.verification_method} is {key.algorithm}"
        )
    return jose.sign_compact(doc, key, typ=jose.TYP_VC, cty="vc")
