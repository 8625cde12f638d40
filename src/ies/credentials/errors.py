"""Why a credential or presentation was refused: one error class per reason, each with a stable code.

Why one class per reason (and not one class with a code argument): callers catch what they can act on
(`except CredentialRevoked`) and the HTTP/CLI mappings of `ies.errors` work per class; the `code` string is
what a verifier reports on the wire (`POST /credentials/verify` answers it, `ies vc verify` prints it).

    IESError
    └── CredentialInvalid                 VC_INVALID                 HTTP 400  exit 1
        ├── CredentialMalformed           VC_MALFORMED               not a credential we can read
        ├── UnsupportedProofFormat        VC_UNSUPPORTED_FORMAT      a proof type / alg we do not accept
        ├── CredentialSignatureInvalid    VC_SIGNATURE_INVALID       signature does not match the content
        ├── UnknownKey                    VC_UNKNOWN_KEY             the key named is not the issuer's
        ├── IssuerUnreachable             VC_ISSUER_UNRESOLVABLE     issuer DID could not be resolved
        ├── ProofPurposeInvalid           VC_PROOF_PURPOSE           proof made for another purpose
        ├── CredentialExpired             VC_EXPIRED                 after validUntil (+ skew)
        ├── CredentialNotYetValid         VC_NOT_YET_VALID           before validFrom (− skew)
        ├── CredentialRevoked             VC_REVOKED                 status check: revoked
        ├── CredentialSuspended           VC_SUSPENDED               status check: suspended
        ├── StatusUnavailable             VC_STATUS_UNAVAILABLE      status could not be checked
        ├── CredentialSchemaInvalid       VC_SCHEMA_INVALID          IES subject fails its schema
        ├── DisclosureInvalid             VC_DISCLOSURE_INVALID      SD-JWT disclosure not signed over
        └── PresentationInvalid           VP_INVALID                 presentation-level failures
            ├── ChallengeMismatch         VP_CHALLENGE_MISMATCH      challenge / nonce differs
            ├── DomainMismatch            VP_DOMAIN_MISMATCH         domain / aud differs
            └── HolderMismatch            VP_HOLDER_MISMATCH         signer is not the holder / subject

Every error is a refusal (exit 1): input the CLI cannot use at all (not JSON, unreadable file) is
`ies.errors.InvalidJSON`/`UsageError` raised before verification starts.
"""

from __future__ import annotations

from ies.errors import IESError

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
    "IssuerUnreachable",
    "PresentationInvalid",
    "ProofPurposeInvalid",
    "StatusUnavailable",
    "UnknownKey",
    "UnsupportedProofFormat",
]


class CredentialInvalid(IESError):
    """A credential or presentation was refused; `code` says why (see the module docstring)."""

    code = "VC_INVALID"
    http_status = 400
    exit_code = 1


class CredentialMalformed(CredentialInvalid):
    """Not a credential we can read: missing members, wrong types, JSON-LD that does not expand safely."""

    code = "VC_MALFORMED"


class UnsupportedProofFormat(CredentialInvalid):
    code = "VC_UNSUPPORTED_FORMAT"


class CredentialSignatureInvalid(CredentialInvalid):
    code = "VC_SIGNATURE_INVALID"


class UnknownKey(CredentialInvalid):
    """The proof names a key the issuer's DID document does not publish (or not as the issuer's)."""

    code = "VC_UNKNOWN_KEY"


class IssuerUnreachable(CredentialInvalid):
    """The issuer's DID could not be resolved (network, bad document): fail closed, say so distinctly."""

    code = "VC_ISSUER_UNRESOLVABLE"


class ProofPurposeInvalid(CredentialInvalid):
    code = "VC_PROOF_PURPOSE"


class CredentialExpired(CredentialInvalid):
    code = "VC_EXPIRED"


class CredentialNotYetValid(CredentialInvalid):
    code = "VC_NOT_YET_VALID"


class CredentialRevoked(CredentialInvalid):
    code = "VC_REVOKED"


class CredentialSuspended(CredentialInvalid):
    code = "VC_SUSPENDED"


class StatusUnavailable(CredentialInvalid):
    """The credential declares a status that was not (or could not be) checked: never assume "valid"."""

    code = "VC_STATUS_UNAVAILABLE"


class CredentialSchemaInvalid(CredentialInvalid):
    code = "VC_SCHEMA_INVALID"


class DisclosureInvalid(CredentialInvalid):
    """An SD-JWT disclosure whose digest the issuer did not sign (a forged-in claim), or a bad KB-JWT."""

    code = "VC_DISCLOSURE_INVALID"


class PresentationInvalid(CredentialInvalid):
    code = "VP_INVALID"


class ChallengeMismatch(PresentationInvalid):
    code = "VP_CHALLENGE_MISMATCH"


class DomainMismatch(PresentationInvalid):
    code = "VP_DOMAIN_MISMATCH"


class HolderMismatch(PresentationInvalid):
    code = "VP_HOLDER_MISMATCH"
