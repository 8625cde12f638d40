"""The value types of the credentials API: proof formats, verification results and the status-check seam.

Why a separate module: the issuer service, the CLI and the status-list code all import these types
without pulling in pyld or joserfc, and the verification pipeline fills them in step by step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "ProofFormat",
    "StatusChecker",
    "UnsafeNoStatusCheck",
    "VerifiedCredential",
    "VerifiedPresentation",
]

_log = logging.getLogger(__name__)


class ProofFormat(StrEnum):
    """How a credential is secured. The value is the name used on the wire, in the CLI and in the API."""

    EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
    """W3C Data Integrity, RDF Dataset Canonicalization (RDFC-1.0) + Ed25519: the default for issuing."""
    EDDSA_JCS_2022 = "eddsa-jcs-2022"
    """W3C Data Integrity, JSON Canonicalization (RFC 8785) + Ed25519: same keys, no JSON-LD processing."""
    ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
    """The legacy Linked Data suite every IES example carries (URDNA2015 + Ed25519, no proof @context)."""
    VC_JOSE_ES256 = "vc-jose-es256"
    """VC-JOSE-COSE compact JWS (`typ: vc+jwt`) with ES256 / P-256, the IES guides' default."""
    VC_JOSE_EDDSA = "vc-jose-eddsa"
    """VC-JOSE-COSE compact JWS (`typ: vc+jwt`) with EdDSA / Ed25519."""
    SD_JWT_VC = "sd-jwt-vc"
    """Selective disclosure JWT (`typ: vc+sd-jwt`), ES256 or EdDSA after the key, with holder key binding."""

    @property
    def is_data_integrity(self) -> bool:
        """True for the formats whose result is a JSON-LD document carrying an embedded `proof`."""
        return self in (
            ProofFormat.EDDSA_RDFC_2022,
            ProofFormat.EDDSA_JCS_2022,
            ProofFormat.ED25519_SIGNATURE_2020,
        )


@dataclass(frozen=True)
class VerifiedCredential:
    """What `verify` returns once every step passed (it raises otherwise, so holding one means "valid").

    `credential` is the credential in the VC Data Model shape whatever the format: the JSON-LD document
    without its proof, the JWT payload, or the SD-JWT payload with only the disclosed claims put back.
    `raw` is exactly what was verified (a dict or the compact string), for callers that store or forward
    the credential as they received it. The DeDi revocation registry does not hash it: its record key is
    the SHA-256 of the credential's `id` (`ies.credentials.status.revocation_hash`), the one value every
    proof format carries unchanged (and a hash of the content could not appear in the credential it hashes).
    """

    format: ProofFormat
    credential: dict[str, Any]
    issuer: str
    verification_method: str
    raw: dict[str, Any] | str = field(repr=False)
    id: str | None = None
    types: tuple[str, ...] = ()
    subject_id: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    status_entries: tuple[Mapping[str, Any], ...] = ()
    disclosed: tuple[str, ...] = ()
    """SD-JWT only: the dotted paths of the claims the holder disclosed (`credentialSubject.fullName`)."""
    holder_key: str | None = None
    """The key the holder proved possession of (SD-JWT key binding, or the VP signer), when there was one."""


@dataclass(frozen=True)
class VerifiedPresentation:
    """A presentation whose holder proof, challenge, domain and every enclosed credential verified."""

    format: ProofFormat
    holder: str
    verification_method: str
    challenge: str
    domain: str
    credentials: tuple[VerifiedCredential, ...]
    presentation: dict[str, Any] = field(repr=False, default_factory=dict)


class StatusChecker(Protocol):
    """Checks revocation/suspension of a credential whose signature and validity window already verified.

    Called once per credential with the partly verified result; it returns None when the credential is
    in good standing and RAISES `CredentialRevoked`, `CredentialSuspended` or `StatusUnavailable`
    otherwise (fail closed: a checker that cannot reach a status list must raise, not return).
    It is called for every credential when given (a DeDi-style registry needs no `credentialStatus`);
    when none is given and the credential declares a `credentialStatus`, `verify` refuses with
    VC_STATUS_UNAVAILABLE unless the caller passed `UnsafeNoStatusCheck()` on purpose.
    """

    def __call__(self, credential: VerifiedCredential) -> None: ...


class UnsafeNoStatusCheck:
    """A status checker that checks nothing, for tests and offline demos only; it logs a warning each call."""

    def __call__(self, credential: VerifiedCredential) -> None:
        _log.warning(
            "UnsafeNoStatusCheck: status of credential %s was NOT checked", credential.id or "(no id)"
        )
