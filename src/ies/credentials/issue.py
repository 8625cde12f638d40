"""Issuing: sign a credential in any supported proof format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ies.credentials.keys import IssuerKey
from ies.credentials.model import ProofFormat

__all__ = ["issue"]


def issue(
    credential: Mapping[str, Any],
    *,
    key: IssuerKey,
    format: ProofFormat | str = ProofFormat.EDDSA_RDFC_2022,
    created: datetime | None = None,
    disclosable: Sequence[str] = (),
    holder: str | None = None,
    schema_check: bool = True,
) -> dict[str, Any] | str:
    raise NotImplementedError
