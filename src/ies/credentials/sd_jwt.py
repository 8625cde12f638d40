"""SD-JWT VC: selective disclosure with holder key binding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ies.credentials.keys import IssuerKey

__all__ = ["disclosable_paths", "sd_present"]


def sd_present(
    sd_jwt: str,
    *,
    reveal: Sequence[str],
    holder_key: IssuerKey,
    nonce: str,
    aud: str,
    at: datetime | None = None,
) -> str:
    raise NotImplementedError


def disclosable_paths(sd_jwt: str) -> list[str]:
    raise NotImplementedError
