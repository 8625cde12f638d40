"""Verifying a credential: one function, numbered steps in the order of the VC specs, failing closed.

Why it raises instead of returning a verdict (sigstore's lesson): a result nobody inspects cannot pass a
forged credential. Each step raises its own `CredentialInvalid` subclass, so the reason a verifier reports
(`VC_SIGNATURE_INVALID`, `VC_UNKNOWN_KEY`, `VC_EXPIRED`…) is exact. The steps:

    (1) detect the format and parse (Data Integrity document, VC-JOSE compact JWS, SD-JWT)
    (2) resolve the issuer's DID and the verification method the proof names; it must be the issuer's
    (3) check the proof purpose: the proof says assertionMethod and the DID document authorises the key for it
    (4) check the signature (then, for SD-JWT, that every disclosure is one the issuer signed)
    (5) check the validity window (validFrom/validUntil, JWT nbf/exp, proof created/expires) ± clock skew
    (6) check status through the injected checker (a declared status is never silently skipped)
    (7) validate IES credential subjects against their schema (ElectricityCredential, MeterDataCredential,
        MeterDataRequestCredential) through `ies.schemas`
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ies.credentials import data_integrity as di
from ies.credentials import jose
from ies.credentials import sd_jwt as sdj
from ies.credentials.errors import (
    CredentialExpired,
    CredentialMalformed,
    CredentialNotYetValid,
    CredentialSchemaInvalid,
    ProofPurposeInvalid,
    StatusUnavailable,
)
from ies.credentials.issuer_keys import PublicKey, resolve_public_key
from ies.credentials.model import ProofFormat, StatusChecker, VerifiedCredential
from ies.credentials.timeutil import from_numeric_date, parse_xsd
from ies.errors import UsageError
from ies.identity.resolver import DIDResolver
from ies.schemas import validate

__all__ = [
    "IES_CREDENTIAL_TYPES",
    "Secured",
    "check_ies_schema",
    "issuer_of",
    "parse_secured",
    "verify",
    "verify_secured",
    "window_from_jwt",
]

IES_CREDENTIAL_TYPES = ("MeterDataRequestCredential", "MeterDataCredential", "ElectricityCredential")
"""Credential types whose subject is validated against the IES schemas (most specific first)."""

ENVELOPED_PREFIXES = {
    "data:application/vc+jwt,": "jwt",
    "data:application/vc+sd-jwt,": "sd-jwt",
    "data:application/dc+sd-jwt,": "sd-jwt",
}


@dataclass
class Secured:
    """A credential (or presentation) parsed in step (1): what its proof claims, not yet checked."""

    format: ProofFormat
    document: dict[str, Any]
    """The data-model view: the JSON-LD document without proof, or the JWT payload (`vc` claim unwrapped)."""
    signer: str
    verification_method: str
    purpose: str
    raw: dict[str, Any] | str
    di_proof: di.DIProof | None = None
    jws: jose.CompactJWS | None = None
    sd: sdj.SDJWT | None = None
    not_before: list[datetime] = field(default_factory=list)
    not_after: list[datetime] = field(default_factory=list)
    disclosed: tuple[str, ...] = ()
    undisclosed: int = 0


def issuer_of(document: Mapping[str, Any]) -> str:
    """The issuer's id (`issuer` is a URL string or an object with `id`)."""
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise CredentialMalformed("the credential has no issuer id")
    return issuer


def _types(document: Mapping[str, Any]) -> tuple[str, ...]:
    value = document.get("type")
    values = value if isinstance(value, list) else [value]
    return tuple(v for v in values if isinstance(v, str))


def _unwrap_enveloped(value: Mapping[str, Any]) -> str | None:
    if "EnvelopedVerifiableCredential" not in _types(value):
        return None
    ident = value.get("id")
    for prefix in ENVELOPED_PREFIXES:
        if isinstance(ident, str) and ident.startswith(prefix):
            return ident[len(prefix) :]
    raise CredentialMalformed(
        "an EnvelopedVerifiableCredential id must be a data: URL of a vc+jwt or vc+sd-jwt"
    )


def _absolute_kid(kid: str | None, signer: str, what: str) -> str:
    if kid is None:
        raise CredentialMalformed(f"{what} header has no kid naming the signing key")
    return signer + kid if kid.startswith("#") else kid


def _window_from_document(secured: Secured) -> None:
    doc = secured.document
    start = parse_xsd(doc.get("validFrom"), "validFrom") or parse_xsd(doc.get("issuanceDate"), "issuanceDate")
    until = parse_xsd(doc.get("validUntil"), "validUntil") or parse_xsd(
        doc.get("expirationDate"), "expirationDate"
    )
    secured.not_before += [start] if start else []
    secured.not_after += [until] if until else []


def window_from_jwt(secured: Secured, claims: Mapping[str, Any]) -> None:
    nbf, exp = from_numeric_date(claims.get("nbf"), "nbf"), from_numeric_date(claims.get("exp"), "exp")
    secured.not_before += [nbf] if nbf else []
    secured.not_after += [exp] if exp else []


def _parse_jose(token: str) -> Secured:
    jws = jose.parse_compact(token, what="VC-JOSE credential")
    if jws.header.get("typ") in (jose.TYP_VP, "vp+ld+jwt"):
        raise CredentialMalformed("this JWT is a presentation; verify it with verify_presentation")
    payload = jws.payload
    legacy = payload.get("vc")  # VC-JWT 1.1: the credential sits in the `vc` claim
    document = dict(legacy) if isinstance(legacy, Mapping) else dict(payload)
    iss = payload.get("iss")
    signer = str(iss) if isinstance(legacy, Mapping) and isinstance(iss, str) else issuer_of(document)
    if isinstance(iss, str) and iss != signer:
        raise CredentialMalformed(f"JWT iss {iss!r} differs from the credential issuer {signer!r}")
    fmt = ProofFormat.VC_JOSE_ES256 if jws.alg == "ES256" else ProofFormat.VC_JOSE_EDDSA
    vm = _absolute_kid(jws.kid, signer, "VC-JOSE")
    secured = Secured(fmt, document, signer, vm, "assertionMethod", token, jws=jws)
    window_from_jwt(secured, payload)
    _window_from_document(secured)
    return secured


def _parse_sd_jwt(token: str) -> Secured:
    sd = sdj.parse_sd_jwt(token)
    payload = sd.issuer_jwt.payload
    signer = issuer_of(payload) if "issuer" in payload else str(payload.get("iss", ""))
    if not signer:
        raise CredentialMalformed("the SD-JWT has no issuer")
    if isinstance(payload.get("iss"), str) and payload["iss"] != signer:
        raise CredentialMalformed(
            f"SD-JWT iss {payload['iss']!r} differs from the credential issuer {signer!r}"
        )
    vm = _absolute_kid(sd.issuer_jwt.kid, signer, "SD-JWT")
    secured = Secured(ProofFormat.SD_JWT_VC, dict(payload), signer, vm, "assertionMethod", token, sd=sd)
    secured.jws = sd.issuer_jwt
    window_from_jwt(secured, payload)
    _window_from_document(secured)
    return secured


def _parse_data_integrity(document: Mapping[str, Any]) -> Secured:
    proof = di.parse_proof(document)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    types = _types(unsecured)
    signer = unsecured.get("holder") if "VerifiablePresentation" in types else issuer_of(unsecured)
    if not isinstance(signer, str) or not signer:
        raise CredentialMalformed("the presentation has no holder")
    secured = Secured(
        proof.format,
        unsecured,
        signer,
        proof.verification_method,
        proof.purpose,
        dict(document),
        di_proof=proof,
    )
    secured.not_after += [proof.expires] if proof.expires else []
    secured.not_before += [proof.created] if proof.created else []
    _window_from_document(secured)
    return secured


def parse_secured(value: Mapping[str, Any] | str) -> Secured:
    """Step (1): recognise the format and parse it, without trusting anything yet."""
    if isinstance(value, str):
        token = value.strip()
        if "~" in token:
            return _parse_sd_jwt(token)
        if token.count(".") == 2:
            return _parse_jose(token)
        raise CredentialMalformed("a string credential must be a compact JWS or an SD-JWT")
    if not isinstance(value, Mapping):
        raise CredentialMalformed("a credential is a JSON object or a compact JWT string")
    enveloped = _unwrap_enveloped(value)
    if enveloped is not None:
        return parse_secured(enveloped)
    if "proof" not in value:
        raise CredentialMalformed("the credential carries no proof (and is not a JWT)")
    # A private copy: what the result reports must be what was verified, whatever the caller does later.
    return _parse_data_integrity(copy.deepcopy(dict(value)))


def check_signature(secured: Secured, key: PublicKey, *, contexts: Mapping[str, Any] | None = None) -> None:
    """Step (4): the signature, and for SD-JWT the disclosures against the signed digests."""
    if secured.di_proof is not None:
        assert isinstance(secured.raw, dict)
        di.check_signature(secured.raw, secured.di_proof, key, contexts=contexts)
        return
    assert secured.jws is not None
    jose.check_signature(secured.jws, key, what=secured.format.value)
    if secured.sd is not None:
        rebuilt = sdj.reconstruct(secured.sd.issuer_jwt.payload, secured.sd.disclosures)
        secured.document = rebuilt.credential
        secured.disclosed, secured.undisclosed = rebuilt.disclosed, rebuilt.undisclosed


def check_window(secured: Secured, at: datetime, skew_s: int) -> tuple[datetime | None, datetime | None]:
    """Step (5): latest start and earliest end of every window the credential and its proof declare."""
    skew = timedelta(seconds=skew_s)
    start = max(secured.not_before, default=None)
    until = min(secured.not_after, default=None)
    if start is not None and at + skew < start:
        raise CredentialNotYetValid(f"not valid before {start.isoformat()} (checked at {at.isoformat()})")
    if until is not None and at - skew >= until:
        raise CredentialExpired(f"expired at {until.isoformat()} (checked at {at.isoformat()})")
    return start, until


def _status_entries(secured: Secured) -> tuple[Mapping[str, Any], ...]:
    status = secured.document.get("credentialStatus")
    if status is None and secured.jws is not None:
        status = secured.jws.payload.get("status")
    entries = status if isinstance(status, list) else [status] if status is not None else []
    if not all(isinstance(e, Mapping) for e in entries):
        raise CredentialMalformed("credentialStatus must be an object or an array of objects")
    return tuple(entries)


def check_ies_schema(document: Mapping[str, Any]) -> None:
    """Step (7): an IES credential type must satisfy its schema (CredentialSchemaInvalid otherwise)."""
    types = _types(document)
    family = next((t for t in IES_CREDENTIAL_TYPES if t in types), None)
    if family is None:
        return
    try:
        report = validate({k: v for k, v in document.items() if k != "proof"}, family, jsonld=False)
    except UsageError as exc:
        raise CredentialSchemaInvalid(f"{family}: {exc.message}") from exc
    if not report.valid:
        first = report.errors[0]
        raise CredentialSchemaInvalid(
            f"{family}@{report.version}: [{first.rule}] at {first.path or '/'}: {first.message}",
            details={"errors": [f"{e.rule} {e.path}: {e.message}" for e in report.errors[:20]]},
        )


def verify_secured(
    secured: Secured,
    *,
    resolver: DIDResolver,
    at: datetime,
    skew_s: int,
    purpose: str,
    contexts: Mapping[str, Any] | None = None,
) -> tuple[PublicKey, datetime | None, datetime | None]:
    """Steps (2)-(5) for a parsed credential or presentation: (signing key, window start, window end)."""
    # (2) the issuer's key, named by the proof
    key = resolve_public_key(
        resolver, secured.verification_method, signer=secured.signer, relationship=purpose, at=at
    )
    # (3) the proof's purpose
    if secured.purpose != purpose:
        raise ProofPurposeInvalid(f"the proof is for {secured.purpose!r}, expected {purpose!r}")
    # (4) the signature
    check_signature(secured, key, contexts=contexts)
    # (5) the validity window
    start, until = check_window(secured, at, skew_s)
    return key, start, until


def verify(
    vc: Mapping[str, Any] | str,
    *,
    resolver: DIDResolver,
    at: datetime | None = None,
    skew_s: int = 60,
    status_checker: StatusChecker | None = None,
    schema_check: bool = True,
    contexts: Mapping[str, Any] | None = None,
) -> VerifiedCredential:
    """Verify a credential in any supported format; returns what was verified or raises CredentialInvalid.

    `at` is the moment of verification (aware; default now), `skew_s` the clock skew tolerated on every
    bound, `contexts` extra JSON-LD contexts pinned by the caller (URL → document) for RDFC.
    """
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        raise UsageError("the verification time `at` must be timezone-aware")
    if skew_s < 0:
        raise UsageError("skew_s must not be negative")
    # (1) detect the format and parse
    secured = parse_secured(vc)
    types = _types(secured.document)
    if "VerifiablePresentation" in types:
        raise CredentialMalformed("this is a presentation; verify it with verify_presentation")
    # (2)-(5)
    key, start, until = verify_secured(
        secured, resolver=resolver, at=at, skew_s=skew_s, purpose="assertionMethod", contexts=contexts
    )
    subject = secured.document.get("credentialSubject")
    holder_key = None
    if secured.sd is not None and secured.sd.key_binding is not None:
        holder_key = sdj.check_key_binding(secured.sd, at=at, skew_s=skew_s).method_id
    result = VerifiedCredential(
        format=secured.format,
        credential=secured.document,
        issuer=secured.signer,
        verification_method=key.method_id,
        raw=secured.raw,
        id=secured.document.get("id") if isinstance(secured.document.get("id"), str) else None,
        types=types,
        subject_id=subject.get("id")
        if isinstance(subject, Mapping) and isinstance(subject.get("id"), str)
        else None,
        valid_from=start,
        valid_until=until,
        status_entries=_status_entries(secured),
        disclosed=secured.disclosed,
        holder_key=holder_key,
    )
    # (6) status
    if status_checker is not None:
        status_checker(result)
    elif result.status_entries:
        raise StatusUnavailable(
            "the credential declares credentialStatus but no status checker was given "
            "(pass one, or UnsafeNoStatusCheck() to skip on purpose)"
        )
    # (7) schema of IES credential subjects
    if schema_check and not secured.undisclosed:
        # An SD-JWT with withheld claims cannot satisfy `required`; the issuer validated it in full.
        check_ies_schema(secured.document)
    return result
