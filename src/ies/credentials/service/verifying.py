"""Verification as a service: unwrap what VC-API clients send, run `ies.credentials.verify`, report checks.

Why a layer over `verify`: the wire carries credentials in three shapes — a JSON-LD document with an
embedded proof, a compact JWS / SD-JWT string, or a VC 2.0 `EnvelopedVerifiableCredential` whose `id` is
a `data:` URL holding the JWS — and VC-API clients expect `{verified, checks, warnings, errors}` rather
than an exception. Verification still raises inside; only this edge turns a refusal into a report.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ies.credentials.errors import CredentialInvalid
from ies.credentials.model import VerifiedCredential, VerifiedPresentation
from ies.credentials.presentations import verify_presentation
from ies.credentials.service.state import VerifierState
from ies.credentials.verify import verify
from ies.errors import UsageError

__all__ = ["CHECKS", "presentation_report", "unwrap", "verification_report", "verify_with"]

CHECKS = ["proof", "issuer", "validity", "status", "schema"]
_ENVELOPE_MEDIA = ("application/vc+jwt", "application/vc+sd-jwt", "application/dc+sd-jwt", "application/jwt")


def unwrap(value: Any) -> dict[str, Any] | str:
    """A credential as `verify` takes it: the JSON-LD dict, or the compact string inside an envelope."""
    if isinstance(value, str):
        return value.strip()
    if not isinstance(value, dict):
        raise UsageError("verifiableCredential must be a JSON object or a compact JWS string")
    types = value.get("type")
    types = [types] if isinstance(types, str) else types or []
    if "EnvelopedVerifiableCredential" in types or "EnvelopedVerifiablePresentation" in types:
        data_url = value.get("id")
        if not isinstance(data_url, str) or not data_url.startswith("data:") or "," not in data_url:
            raise UsageError("an enveloped credential carries a data: URL in its id")
        media, payload = data_url[len("data:") :].split(",", 1)
        if media.split(";", 1)[0] not in _ENVELOPE_MEDIA:
            raise UsageError(f"enveloped media type {media!r} is not one we verify")
        return unquote(payload)
    return value


def verify_with(state: VerifierState, value: Any) -> VerifiedCredential:
    return verify(
        unwrap(value), resolver=state.resolver, skew_s=state.skew_s, status_checker=state.status_checker
    )


def _summary(result: VerifiedCredential) -> dict[str, Any]:
    return {
        "id": result.id,
        "issuer": result.issuer,
        "types": list(result.types),
        "format": result.format.value,
        "verificationMethod": result.verification_method,
        "subject": result.subject_id,
        "validUntil": result.valid_until.isoformat() if result.valid_until else None,
        "disclosed": list(result.disclosed),
    }


def verification_report(state: VerifierState, value: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, VC-API verification result): 200 verified, 400 refused (with the reason's code)."""
    try:
        result = verify_with(state, value)
    except CredentialInvalid as err:
        return 400, {"verified": False, "checks": [], "warnings": [], "errors": [err.to_dict()]}
    return 200, {
        "verified": True,
        "checks": CHECKS,
        "warnings": [],
        "errors": [],
        "credential": _summary(result),
        "credentialSubject": result.credential.get("credentialSubject"),
    }


def presentation_report(state: VerifierState, body: Any) -> tuple[int, dict[str, Any]]:
    """Verify `{verifiablePresentation, options: {challenge, domain}}` (holder binding included)."""
    if not isinstance(body, dict) or "verifiablePresentation" not in body:
        raise UsageError("body must be {verifiablePresentation, options: {challenge, domain}}")
    options = body.get("options") or {}
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str) or not isinstance(domain, str):
        raise UsageError("options.challenge and options.domain are required strings")
    try:
        result: VerifiedPresentation = verify_presentation(
            unwrap(body["verifiablePresentation"]),
            resolver=state.resolver,
            challenge=challenge,
            domain=domain,
            skew_s=state.skew_s,
            status_checker=state.status_checker,
        )
    except CredentialInvalid as err:
        return 400, {"verified": False, "checks": [], "warnings": [], "errors": [err.to_dict()]}
    return 200, {
        "verified": True,
        "checks": ["proof", "challenge", "domain", "holder", *CHECKS[1:]],
        "warnings": [],
        "errors": [],
        "holder": result.holder,
        "credentials": [
            {**_summary(c), "credentialSubject": c.credential.get("credentialSubject")}
            for c in result.credentials
        ],
    }
