"""The JSON an issuer writes: `BitstringStatusListEntry` objects and the `BitstringStatusListCredential`.

Why separate from the store: these are pure shapes from Bitstring Status List v1.0 §2.1 (entry) and §2.2
(list credential), used by the issuer service when it stamps a credential and when it serves a list, and
by tests that build lists by hand. The list credential is returned unsigned; the service signs it with the
same `ies.credentials.issue` as every other credential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ies.credentials.status.bitstring import encode_list
from ies.credentials.status.lists import StatusAllocation

__all__ = [
    "BITSTRING_ENTRY_TYPE",
    "BITSTRING_LIST_CREDENTIAL_TYPE",
    "BITSTRING_LIST_TYPE",
    "VC_V2_CONTEXT",
    "bitstring_entry",
    "format_vc_time",
    "status_list_credential",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
BITSTRING_ENTRY_TYPE = "BitstringStatusListEntry"
BITSTRING_LIST_TYPE = "BitstringStatusList"
BITSTRING_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"


def format_vc_time(moment: datetime) -> str:
    """XML Schema dateTimeStamp in UTC with a `Z`, seconds precision (what validFrom/validUntil carry)."""
    if moment.tzinfo is None:
        raise ValueError("credential times must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def bitstring_entry(list_url: str, allocation: StatusAllocation) -> dict[str, Any]:
    """The `credentialStatus` entry for one allocated index (§2.1: the index is written as a string)."""
    return {
        "id": f"{list_url}#{allocation.index}",
        "type": BITSTRING_ENTRY_TYPE,
        "statusPurpose": allocation.purpose,
        "statusListIndex": str(allocation.index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    *,
    list_url: str,
    issuer: dict[str, Any] | str,
    purpose: str,
    raw: bytes,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """The unsigned status list credential for a raw bitstring (§2.2); its `id` is the URL it is served at.

    `ttl_ms` is the spec's hint of how long a verifier may cache the list; verifiers use the smaller of it
    and their own bound.
    """
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": BITSTRING_LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_list(raw),
    }
    if ttl_ms is not None:
        subject["ttl"] = int(ttl_ms)
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", BITSTRING_LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_vc_time(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = format_vc_time(valid_until)
    return credential
