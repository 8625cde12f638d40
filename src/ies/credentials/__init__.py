"""Verifiable credentials: issue, present and verify W3C VCs in every proof format IES uses.

    from ies.credentials import IssuerKey, ProofFormat, issue, verify, present, verify_presentation

    key = IssuerKey("did:web:discom.example#key-1", signing_key_pair)         # or a P-256 key for ES256
    vc = issue(credential, key=key)                                             # eddsa-rdfc-2022 by default
    jwt = issue(credential, key=key, format=ProofFormat.VC_JOSE_EDDSA)           # compact JWS string
    sd = issue(credential, key=key, format=ProofFormat.SD_JWT_VC,
               disclosable=["credentialSubject.customerDetails.fullName"])
    ok = verify(vc, resolver=DIDResolver(overrides), status_checker=checker)   # raises CredentialInvalid
    ok.credential, ok.issuer, ok.format, ok.valid_until

    vp = present([vc], holder_key=IssuerKey.did_key(holder_pair), challenge=nonce, domain="bank.example")
    verify_presentation(vp, resolver=resolver, challenge=nonce, domain="bank.example")
    shown = sd_present(sd, reveal=["credentialSubject.customerProfile"], holder_key=holder, nonce=n, aud=a)
    verify_presentation(shown, resolver=resolver, challenge=n, domain=a)        # sees only what was revealed

Proof formats (`ProofFormat`): `eddsa-rdfc-2022` (default), `eddsa-jcs-2022`, `Ed25519Signature2020`,
`vc-jose-es256`, `vc-jose-eddsa`, `sd-jwt-vc`. Data Integrity formats return the credential as a dict
with an embedded `proof`; the JOSE and SD-JWT formats return a compact string. `verify` detects the
format from its input.

`verify` follows numbered steps and RAISES on the first failure (sigstore style, so an unchecked result
cannot pass quietly): (1) detect the format and parse; (2) resolve the issuer DID and the verification
method the proof names, which must belong to the issuer; (3) check the proof purpose (assertionMethod);
(4) check the signature; (5) check the validity window with `skew_s` seconds of clock skew; (6) check
status through the injected `status_checker` (refusing a credential that declares `credentialStatus`
when no checker is given, unless `UnsafeNoStatusCheck()` is passed); (7) validate the subject of IES
credential types (ElectricityCredential, MeterDataCredential, MeterDataRequestCredential) against its
schema through `ies.schemas`. Each refusal is a `CredentialInvalid` subclass with a stable code
(`VC_SIGNATURE_INVALID`, `VC_UNKNOWN_KEY`, `VC_EXPIRED`, … — see `ies.credentials.errors`).

JSON-LD canonicalisation (RDFC-1.0) runs fully offline: contexts come from package data through
`ies.schemas.jsonld.offline_document_loader` plus the contexts bundled in `ies/credentials/contexts/`.
"""

from ies.credentials.errors import (
    ChallengeMismatch,
    CredentialExpired,
    CredentialInvalid,
    CredentialMalformed,
    CredentialNotYetValid,
    CredentialRevoked,
    CredentialSchemaInvalid,
    CredentialSignatureInvalid,
    CredentialSuspended,
    DisclosureInvalid,
    DomainMismatch,
    HolderMismatch,
    IssuerUnreachable,
    PresentationInvalid,
    ProofPurposeInvalid,
    StatusUnavailable,
    UnknownKey,
    UnsupportedProofFormat,
)
from ies.credentials.issue import default_format, issue
from ies.credentials.keys import IssuerKey, verification_method_entry
from ies.credentials.model import (
    ProofFormat,
    StatusChecker,
    UnsafeNoStatusCheck,
    VerifiedCredential,
    VerifiedPresentation,
)
from ies.credentials.presentations import present, verify_presentation
from ies.credentials.sd_jwt import disclosable_paths, sd_present
from ies.credentials.verify import verify

__all__ = [
    "ChallengeMismatch",
    "CredentialExpired",
    "CredentialInvalid",
    "CredentialMalformed",
    "CredentialNotYetValid",
    "CredentialRevoked",
    "CredentialSchemaInvalid",
    "CredentialSignatureInvalid",
    "CredentialSuspended",
    "DisclosureInvalid",
    "DomainMismatch",
    "HolderMismatch",
    "IssuerKey",
    "IssuerUnreachable",
    "PresentationInvalid",
    "ProofFormat",
    "ProofPurposeInvalid",
    "StatusChecker",
    "StatusUnavailable",
    "UnknownKey",
    "UnsafeNoStatusCheck",
    "UnsupportedProofFormat",
    "VerifiedCredential",
    "VerifiedPresentation",
    "default_format",
    "disclosable_paths",
    "issue",
    "present",
    "sd_present",
    "verification_method_entry",
    "verify",
    "verify_presentation",
]
