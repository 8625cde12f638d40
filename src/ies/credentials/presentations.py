"""Verifiable Presentations: a holder wraps credentials and proves possession of its key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ies.credentials.keys import IssuerKey
from ies.credentials.model import ProofFormat, StatusChecker, VerifiedPresentation
from ies.identity.resolver import DIDResolver

__all__ = ["present", "verify_presentation"]


def present(
    credentials: Sequence[Mapping[str, Any] | str],
    *,
    holder_key: IssuerKey,
    challenge: str,
    domain: str,
    format: ProofFormat | str = ProofFormat.EDDSA_RDFC_2022,
    created: datetime | None = None,
) -> dict[str, Any] | str:
    raise NotImplementedError


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
) -> VerifiedPresentation:
    raise NotImplementedError
