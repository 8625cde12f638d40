"""Verifying: the numbered, fail-closed pipeline every credential goes through."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ies.credentials.model import StatusChecker, VerifiedCredential
from ies.identity.resolver import DIDResolver

__all__ = ["verify"]


def verify(
    vc: Mapping[str, Any] | str,
    *,
    resolver: DIDResolver,
    at: datetime | None = None,
    skew_s: int = 60,
    status_checker: StatusChecker | None = None,
    schema_check: bool = True,
) -> VerifiedCredential:
    raise NotImplementedError
