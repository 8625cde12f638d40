"""Revocation and suspension: W3C Bitstring Status List v1.0 and the IES DeDi-style revocation registry.

    from ies.credentials.status import allocate, change_status, bitstring_entry, HttpStatusChecker

Issuer side (in the issuer's transaction): `allocate` gives a credential a random index in a list of
≥ 131,072 entries per purpose (revocation, suspension), `bitstring_entry` writes its `credentialStatus`,
`change_status` sets or clears its bit, `list_bits` + `status_list_credential` build the list credential
that the service signs and serves; `dedi.record` / `dedi.lookup` keep the DeDi registry (200 revoked, 404
not), keyed by `revocation_hash` = SHA-256 of the credential id.

Verifier side: `HttpStatusChecker(resolver, max_ttl_s=…)` is the `status_checker` given to
`ies.credentials.verify`; it fetches and verifies status lists over HTTP with a bounded-TTL cache.
"""

from ies.credentials.status.bitstring import (
    MIN_LIST_BITS,
    StatusListError,
    decode_list,
    encode_list,
    get_bit,
    set_bits,
)
from ies.credentials.status.checker import MAX_STATUS_TTL_S, HttpStatusChecker
from ies.credentials.status.dedi import (
    DEDI_STATUS_TYPES,
    REGISTRIES,
    dedi_status_entry,
    registry_for,
    revocation_hash,
)
from ies.credentials.status.entries import bitstring_entry, format_vc_time, status_list_credential
from ies.credentials.status.lists import (
    DEFAULT_LIST_BITS,
    PURPOSES,
    StatusAllocation,
    StatusPurpose,
    allocate,
    change_status,
    entries_for,
    list_bits,
)

__all__ = [
    "DEDI_STATUS_TYPES",
    "DEFAULT_LIST_BITS",
    "MAX_STATUS_TTL_S",
    "MIN_LIST_BITS",
    "PURPOSES",
    "REGISTRIES",
    "HttpStatusChecker",
    "StatusAllocation",
    "StatusListError",
    "StatusPurpose",
    "allocate",
    "bitstring_entry",
    "change_status",
    "decode_list",
    "dedi_status_entry",
    "encode_list",
    "entries_for",
    "format_vc_time",
    "get_bit",
    "list_bits",
    "registry_for",
    "revocation_hash",
    "set_bits",
    "status_list_credential",
]
