"""What an issuer (or verifier) service holds: its store, keys, settings, resolver and status checker.

Why one object handed to the router factories instead of module globals: two issuers (or an issuer and a
verifier) can run in one process — the sandbox, the tests — without sharing keys, caches or settings
(the OpenLEADR pitfall the style anchors name).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Engine

from ies.credentials.model import ProofFormat
from ies.credentials.service.keys import IssuerKeys
from ies.credentials.status.checker import HttpStatusChecker
from ies.errors import UnauthorizedAction, UsageError
from ies.identity.resolver import DIDResolver

__all__ = ["IssuerSettings", "IssuerState", "VerifierState", "require_operator"]


@dataclass(frozen=True)
class IssuerSettings:
    """Issuer policy. `base_url` is where this node is reached: status list and DeDi URLs are built on it."""

    name: str
    base_url: str
    namespace: str
    default_format: ProofFormat | None = None
    """None: eddsa-rdfc-2022 when the credential canonicalises offline, else eddsa-jcs-2022."""
    status_list_format: ProofFormat = ProofFormat.EDDSA_RDFC_2022
    default_validity: timedelta = timedelta(days=365)
    status_list_ttl_s: int = 300
    """How long verifiers may cache a status list (its `ttl` and `Cache-Control: max-age`)."""
    status_list_validity: timedelta = timedelta(hours=24)
    """validUntil of a signed list credential; a list is re-signed at half of it even if unchanged."""
    skew_s: int = 60
    require_holder_binding: bool = True
    digilocker_api_key: bytes | None = field(default=None, repr=False)
    digilocker_issuer_id: str = "in.gov.ies.issuer"
    """The issuer id DigiLocker assigned; URIs are `{issuer_id}-NYCER-{no}` / `…-MPLTR-{no}-{period}`."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"issuer base_url {self.base_url!r} must be an http(s) URL")
        if not 0 <= self.status_list_ttl_s <= 3600:
            raise UsageError("status_list_ttl_s must be between 0 and 3600 seconds")

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"


@dataclass
class VerifierState:
    """A verifier: a DID resolver and the status checker `verify` calls."""

    resolver: DIDResolver
    status_checker: HttpStatusChecker
    skew_s: int = 60

    @classmethod
    def create(cls, resolver: DIDResolver, *, status_ttl_s: float = 300.0, skew_s: int = 60) -> VerifierState:
        checker = HttpStatusChecker(resolver, max_ttl_s=status_ttl_s, skew_s=skew_s)
        return cls(resolver=resolver, status_checker=checker, skew_s=skew_s)

    def close(self) -> None:
        self.status_checker.close()
        self.resolver.close()


@dataclass
class IssuerState:
    """An issuer: store, keys, settings, and the verifier it uses for `/credentials/verify`."""

    engine: Engine
    keys: IssuerKeys
    settings: IssuerSettings
    verifier: VerifierState
    admin_token: str | None = field(default=None, repr=False)
    signed_lists: dict[str, tuple[int, float, Any]] = field(default_factory=dict, repr=False)
    """list id → (version, signed at (monotonic), signed list credential); see `status_service`."""

    @property
    def did(self) -> str:
        return self.keys.did


def require_operator(token: str | None, request: Request) -> None:
    """The node's admin bearer token, compared in constant time (as the node app checks it)."""
    if token is None:
        raise UnauthorizedAction("operator routes are disabled: this issuer has no admin token")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise UnauthorizedAction("operator token required")
