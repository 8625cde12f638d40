"""Serving a status list: build it from the store, sign it as a credential, cache it until it changes.

Why cache by version: every verifier fetches the list, so signing it on every request would put an RDFC
canonicalisation on each hit. A signed list is reused while its `version` (moved by every bit change) is
the same and it is younger than half its validity; the next request after a revocation signs afresh, so a
revocation is visible at once to anyone fetching, and to caching verifiers after their TTL.
"""

from __future__ import annotations

import time
from typing import Any

from ies.credentials.issue import issue
from ies.credentials.service.state import IssuerState
from ies.credentials.status import list_bits, status_list_credential
from ies.credentials.tables import StatusListRow
from ies.errors import NotFoundError
from ies.store import session_factory, utcnow

__all__ = ["signed_status_list"]


def signed_status_list(state: IssuerState, list_id: str) -> dict[str, Any] | str:
    """The signed BitstringStatusListCredential of one of this issuer's lists (NotFoundError if unknown)."""
    with session_factory(state.engine)() as session:
        row = session.get(StatusListRow, list_id)
        if row is None or row.issuer != state.did:
            raise NotFoundError(f"no status list {list_id!r}")
        cached = state.signed_lists.get(list_id)
        max_age_s = state.settings.status_list_validity.total_seconds() / 2
        if cached is not None and cached[0] == row.version and time.monotonic() - cached[1] < max_age_s:
            signed: dict[str, Any] | str = cached[2]
            return signed
        row, raw = list_bits(session, list_id)  # the version read with the bits is the one we sign
        version, purpose = row.version, row.purpose
    settings = state.settings
    now = utcnow().replace(microsecond=0)
    unsigned = status_list_credential(
        list_url=settings.url(f"/credentials/status-lists/{list_id}"),
        issuer={"id": state.did, "name": settings.name},
        purpose=purpose,
        raw=raw,
        valid_from=now,
        valid_until=now + settings.status_list_validity,
        ttl_ms=settings.status_list_ttl_s * 1000,
    )
    key = state.keys.for_format(settings.status_list_format)
    signed = issue(unsigned, key=key, format=settings.status_list_format, created=now, schema_check=False)
    state.signed_lists[list_id] = (version, time.monotonic(), signed)
    return signed
