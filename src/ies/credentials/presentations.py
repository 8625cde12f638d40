"""Verifiable Presentations: the holder wraps credentials and proves, for one verifier and one moment, that
it holds the key the credentials were issued to.

Why challenge and domain: a presentation without them can be replayed by anyone who saw it once. The
verifier picks a fresh `challenge` (nonce) and names itself as `domain` (audience); the holder signs both
(Data Integrity proof with proofPurpose `authentication`, or `nonce`/`aud` claims of a `vp+jwt`, or the
key-binding JWT of an SD-JWT). Holder binding: the presentation's signer must be its `holder`, and with
`require_holder_binding` every credential's subject must be that holder (IES: "a VP signed by the
credentialSubject.id key with challenge/domain").

`verify_presentation` follows numbered steps like `verify`: (1) parse; (2) resolve the holder's key
(authentication); (3) proof purpose; (4) signature; (5) challenge and domain; (6) verify every enclosed
credential with `verify` (its own steps 1-7); (7) holder binding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ies.credentials import data_integrity as di
from ies.credentials import jose
from ies.credentials import sd_jwt as sdj
from ies.credentials.errors import (
    ChallengeMismatch,
    CredentialMalformed,
    DomainMismatch,
    HolderMismatch,
    PresentationInvalid,
)
from ies.credentials.issue import CONTEXT_V2, proof_format
from ies.credentials.keys import IssuerKey
from ies.credentials.model import ProofFormat, StatusChecker, VerifiedCredential, VerifiedPresentation
from ies.credentials.timeutil import to_numeric_date
from ies.credentials.verify import Secured, parse_secured, verify, verify_secured, window_from_jwt
from ies.errors import UsageError
from ies.identity.did_key import did_key_from_ed25519
from ies.identity.resolver import DIDResolver

__all__ = ["present", "verify_presentation"]

_ENVELOPE_MEDIA = {"jwt": "application/vc+jwt", "sd-jwt": "application/vc+sd-jwt"}


def _envelope(credential: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(credential, Mapping):
        return dict(credential)
    token = credential.strip()
    media = _ENVELOPE_MEDIA["sd-jwt" if "~" in token else "jwt"]
    return {"@context": CONTEXT_V2, "id": f"data:{media},{token}", "type": "EnvelopedVerifiableCredential"}


def present(
    credentials: Sequence[Mapping[str, Any] | str],
    *,
    holder_key: IssuerKey,
    challenge: str,
    domain: str,
    format: ProofFormat | str = ProofFormat.EDDSA_RDFC_2022,
    created: datetime | None = None,
    contexts: Mapping[str, Any] | None = None,
) -> dict[str, Any] | str:
    """A presentation of `credentials` signed by the holder for this `challenge` and `domain`.

    Data Integrity formats give a JSON-LD VP with an `authentication` proof; VC-JOSE formats a `vp+jwt`
    with `nonce`/`aud`. JWT credentials travel as EnvelopedVerifiableCredential. SD-JWT credentials are
    presented with `sd_present` (the key-binding JWT is their presentation proof).
    """
    fmt = proof_format(format)
    if not challenge or not domain:
        raise UsageError("a presentation needs a non-empty challenge and domain")
    if fmt is ProofFormat.SD_JWT_VC:
        raise UsageError("SD-JWT credentials are presented with sd_present (key-binding JWT)")
    moment = created or datetime.now(UTC)
    vp: dict[str, Any] = {
        "@context": [CONTEXT_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder_key.did,
        "verifiableCredential": [_envelope(c) for c in credentials],
    }
    if fmt.is_data_integrity:
        return di.add_proof(
            vp,
            holder_key.ed25519(),
            fmt=fmt,
            verification_method=holder_key.verification_method,
            purpose="authentication",
            created=moment,
            challenge=challenge,
            domain=domain,
            contexts=contexts,
        )
    wanted = "P-256" if fmt is ProofFormat.VC_JOSE_ES256 else "Ed25519"
    if holder_key.algorithm != wanted:
        raise UsageError(f"{fmt.value} needs a {wanted} holder key")
    claims = {**vp, "nonce": challenge, "aud": domain, "iat": to_numeric_date(moment)}
    return jose.sign_compact(claims, holder_key, typ=jose.TYP_VP, cty="vp")


def _parse_jwt_presentation(token: str) -> Secured:
    jws = jose.parse_compact(token, what="VC-JOSE presentation")
    if jws.header.get("typ") not in (jose.TYP_VP, "vp+ld+jwt", "JWT", None):
        raise CredentialMalformed(f"JWT typ {jws.header.get('typ')!r} is not a presentation (vp+jwt)")
    payload = jws.payload
    legacy = payload.get("vp")
    document = dict(legacy) if isinstance(legacy, Mapping) else dict(payload)
    holder = document.get("holder") or payload.get("iss")
    if not isinstance(holder, str) or not holder:
        raise CredentialMalformed("the presentation names no holder")
    kid = jws.kid
    if kid is None:
        raise CredentialMalformed("the presentation JWT header has no kid")
    vm = holder + kid if kid.startswith("#") else kid
    fmt = ProofFormat.VC_JOSE_ES256 if jws.alg == "ES256" else ProofFormat.VC_JOSE_EDDSA
    secured = Secured(fmt, document, holder, vm, "authentication", token, jws=jws)
    window_from_jwt(secured, payload)
    return secured


def _check_challenge_and_domain(secured: Secured, challenge: str, domain: str) -> None:
    if secured.di_proof is not None:
        got_challenge, got_domain = secured.di_proof.challenge, secured.di_proof.domain
    else:
        assert secured.jws is not None
        claims = secured.jws.payload
        got_challenge, got_domain = claims.get("nonce"), claims.get("aud")
    if got_challenge != challenge:
        raise ChallengeMismatch("the presentation was made for another challenge (a replay?)")
    domains = got_domain if isinstance(got_domain, list) else [got_domain]
    if domain not in domains:
        raise DomainMismatch(f"the presentation was made for {got_domain!r}, not for {domain!r}")


def _enclosed(document: Mapping[str, Any]) -> list[Any]:
    value = document.get("verifiableCredential", [])
    return value if isinstance(value, list) else [value]


def _verify_sd_jwt_presentation(
    token: str,
    *,
    resolver: DIDResolver,
    challenge: str,
    domain: str,
    at: datetime,
    skew_s: int,
    status_checker: StatusChecker | None,
    schema_check: bool,
) -> VerifiedPresentation:
    sd = sdj.parse_sd_jwt(token)
    if sd.key_binding is None:
        raise HolderMismatch("an SD-JWT presentation needs a key-binding JWT")
    holder_key = sdj.check_key_binding(sd, at=at, skew_s=skew_s, nonce=challenge, aud=domain)
    credential = verify(
        token,
        resolver=resolver,
        at=at,
        skew_s=skew_s,
        status_checker=status_checker,
        schema_check=schema_check,
    )
    holder = did_key_from_ed25519(holder_key.ed25519) if holder_key.ed25519 is not None else "cnf.jwk"
    subject = credential.subject_id
    if subject is not None and subject.startswith("did:key:") and subject != holder:
        raise HolderMismatch(f"the credential is about {subject}, but {holder} presented it")
    return VerifiedPresentation(
        format=ProofFormat.SD_JWT_VC,
        holder=holder,
        verification_method="cnf.jwk",
        challenge=challenge,
        domain=domain,
        credentials=(credential,),
        presentation={},
    )


def verify_presentation(
    vp: Mapping[str, Any] | str,
    *,
    resolver: DIDResolver,
    challenge: str,
    domain: str,
    at: datetime | None = None,
    skew_s: int = 60,
    status_checker: StatusChecker | None = None,
    schema_check: bool = True,
    require_holder_binding: bool = True,
    contexts: Mapping[str, Any] | None = None,
) -> VerifiedPresentation:
    """Verify a presentation (Data Integrity VP, `vp+jwt`, or SD-JWT with key binding) and its credentials."""
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        raise UsageError("the verification time `at` must be timezone-aware")
    if not challenge or not domain:
        raise UsageError("verifying a presentation needs the challenge and domain the verifier issued")
    options: dict[str, Any] = {"status_checker": status_checker, "schema_check": schema_check}
    # (1) parse
    if isinstance(vp, str) and "~" in vp:
        return _verify_sd_jwt_presentation(
            vp, resolver=resolver, challenge=challenge, domain=domain, at=at, skew_s=skew_s, **options
        )
    secured = _parse_jwt_presentation(vp.strip()) if isinstance(vp, str) else parse_secured(vp)
    if "VerifiablePresentation" not in (secured.document.get("type") or []):
        raise PresentationInvalid("the document is not a VerifiablePresentation")
    # (2)-(4) holder key, proof purpose, signature (and the proof's own time bounds)
    key, _, _ = verify_secured(
        secured, resolver=resolver, at=at, skew_s=skew_s, purpose="authentication", contexts=contexts
    )
    # (5) challenge and domain
    _check_challenge_and_domain(secured, challenge, domain)
    # (6) every enclosed credential
    verified: list[VerifiedCredential] = []
    for entry in _enclosed(secured.document):
        if not isinstance(entry, Mapping | str):
            raise CredentialMalformed("verifiableCredential holds something that is not a credential")
        verified.append(verify(entry, resolver=resolver, at=at, skew_s=skew_s, contexts=contexts, **options))
    # (7) holder binding
    if require_holder_binding:
        for credential in verified:
            if credential.subject_id != secured.signer:
                raise HolderMismatch(
                    f"credential {credential.id or ''} is about {credential.subject_id!r}, "
                    f"but {secured.signer} presented it"
                )
    return VerifiedPresentation(
        format=secured.format,
        holder=secured.signer,
        verification_method=key.method_id,
        challenge=challenge,
        domain=domain,
        credentials=tuple(verified),
        presentation=secured.document,
    )
