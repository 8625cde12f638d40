"""Stable identifiers of registry entities, as `did:web` strings.

Why this shape (decisions.md, "Asset identifiers", after the IES register guide): a DISCOM is
`did:web:<discom>`, its assets are `did:web:<discom>:assets:<class>:<id>`, its consumers
`…:consumers:<no>` and its service points `…:connections:<id>` (the spelling the IES MeterData
examples use for service delivery points). The DISCOM's internal id is kept verbatim when it is made of
DID id-chars (`A-Z a-z 0-9 . - _`); every other character is %-encoded from its UTF-8 bytes, so the
mapping is one-to-one and an id containing `:` or `/` cannot forge another entity's DID.

Identifiers are built here and only here, and are never parsed for meaning: the class, DISCOM and local
id of an entity are stored in their own columns.
"""

from __future__ import annotations

import re

from ies.errors import UsageError

__all__ = ["MAX_DID_CHARS", "MAX_LOCAL_ID_CHARS", "encode_id_segment", "entity_did", "validate_discom_host"]

MAX_LOCAL_ID_CHARS = 128
"""Longest internal id accepted; meter serials and consumer numbers are far shorter in practice."""

MAX_DID_CHARS = 512
"""Longest DID stored (the width of the id columns)."""

_VERBATIM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_")

# A DNS host name (RFC 1123 labels), optionally with a port, which did:web writes as %3A.
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"(:[0-9]{1,5})?$"
)


def encode_id_segment(local_id: str) -> str:
    """%-encode every character of `local_id` that is not a DID id-char (UTF-8 bytes, upper-case hex)."""
    if not local_id or local_id != local_id.strip():
        raise UsageError(f"internal id {local_id!r} is empty or has surrounding spaces")
    if len(local_id) > MAX_LOCAL_ID_CHARS:
        raise UsageError(f"internal id is longer than {MAX_LOCAL_ID_CHARS} characters")
    out: list[str] = []
    for ch in local_id:
        if ch in _VERBATIM:
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def validate_discom_host(discom: str) -> str:
    """Return the DISCOM's host name (lower-cased) or raise UsageError if it is not a host name."""
    if not isinstance(discom, str) or not _HOST_RE.match(discom):
        raise UsageError(f"DISCOM {discom!r} is not a host name such as 'discom.example' (did:web)")
    return discom.lower()


def entity_did(discom: str, did_path: tuple[str, ...], local_id: str) -> str:
    """The DID of one entity: `did:web:<discom>` followed by the class path and the encoded internal id.

    `did_path` comes from the structure definition (`("assets", "meter")`, `("consumers",)`, or `()` for
    the DISCOM itself, whose internal id is its host name).
    """
    host = validate_discom_host(discom).replace(":", "%3A")
    if not did_path:
        return f"did:web:{host}"
    did = ":".join(["did:web", host, *did_path, encode_id_segment(local_id)])
    if len(did) > MAX_DID_CHARS:
        raise UsageError(f"identifier would be longer than {MAX_DID_CHARS} characters: {did[:80]}…")
    return did
