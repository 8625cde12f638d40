"""Beckn HTTP message signatures, exactly as BECKN-006 and beckn-onix compute them.

Steps (BECKN-006 "Signing Beckn APIs in HTTP", draft-cavage-12 profile):
  1. digest    = base64(BLAKE2b-512(raw body bytes))  — the bytes on the wire, never a re-serialisation
  2. signing string (no trailing newline):
        (created): C\\n(expires): E\\ndigest: BLAKE-512=D
  3. signature = base64(Ed25519(seed, signing string))
  4. Authorization: Signature keyId="sub|key|ed25519",algorithm="ed25519",created="C",expires="E",
                    headers="(created) (expires) digest",signature="S"

Callbacks may use the 4-line variant that appends `request-signature: …` (beckn-onix); we accept it when
the header's `headers` parameter names it, but never emit it (decisions.md).

This module is pure: no registry, no clock, no I/O. `ies.exchange.verify` adds key lookup, clock and replay.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from ies.errors import SignatureInvalid, SignatureMissing
from ies.identity.keys import SigningKeyPair, verify_ed25519

__all__ = [
    "DEFAULT_SIGNATURE_TTL_S",
    "ParsedSignature",
    "build_authorization",
    "digest_b64",
    "parse_authorization",
    "signing_string",
    "verify_parsed",
]

#: beckn-onix signs with expires = created + 300 s.
DEFAULT_SIGNATURE_TTL_S = 300

STANDARD_HEADERS = "(created) (expires) digest"
CALLBACK_HEADERS = "(created) (expires) digest request-signature"

#: A header longer than this is refused before parsing (a Signature header is ~300 bytes).
MAX_HEADER_LENGTH = 4096

_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


def digest_b64(body: bytes) -> str:
    """base64 of the unkeyed 64-byte BLAKE2b digest of the body bytes."""
    return base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode("ascii")


def signing_string(created: int, expires: int, digest: str, request_signature: str | None = None) -> bytes:
    text = f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest}"
    if request_signature is not None:
        text += f"\nrequest-signature: {request_signature}"
    return text.encode("utf-8")


def build_authorization(
    body: bytes,
    *,
    subscriber_id: str,
    key_id: str,
    key: SigningKeyPair,
    created: int,
    expires: int | None = None,
) -> str:
    """The value of the Authorization header for these exact body bytes."""
    if "|" in subscriber_id or "|" in key_id or '"' in subscriber_id + key_id:
        raise SignatureInvalid("subscriber id and key id may not contain '|' or '\"'")
    if expires is None:
        expires = created + DEFAULT_SIGNATURE_TTL_S
    signature = base64.b64encode(key.sign(signing_string(created, expires, digest_b64(body)))).decode("ascii")
    return (
        f'Signature keyId="{subscriber_id}|{key_id}|ed25519",algorithm="ed25519",'
        f'created="{created}",expires="{expires}",headers="{STANDARD_HEADERS}",signature="{signature}"'
    )


@dataclass(frozen=True)
class ParsedSignature:
    """The parameters of a Signature header, checked for form but not yet for truth."""

    subscriber_id: str
    key_id: str
    algorithm: str
    created: int
    expires: int
    headers: str
    signature: bytes
    signature_b64: str
    request_signature: str | None = None


def parse_authorization(header: str | None, *, request_signature: str | None = None) -> ParsedSignature:
    """Parse a Signature header (steps 1–2 of the receiving side), raising AUT_* errors on any fault."""
    if header is None or not header.strip():
        raise SignatureMissing("no Authorization header")
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureInvalid("Authorization header is too long")
    text = header.strip()
    if not text.startswith("Signature "):
        raise SignatureInvalid("Authorization scheme is not 'Signature'")
    rest = text[len("Signature ") :].strip()
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None:
            raise SignatureInvalid("malformed Signature parameters")
        name = match.group(1)
        if name in params:
            raise SignatureInvalid(f"duplicate Signature parameter {name!r}")
        params[name] = match.group(2)
        pos = match.end()
    for required in ("keyId", "algorithm", "created", "expires", "headers", "signature"):
        if required not in params:
            raise SignatureInvalid(f"Signature header lacks {required!r}")
    parts = params["keyId"].split("|")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise SignatureInvalid("keyId must be 'subscriber_id|unique_key_id|ed25519'")
    if params["algorithm"].lower() != "ed25519" or parts[2].lower() != "ed25519":
        raise SignatureInvalid("only the ed25519 algorithm is accepted")
    try:
        created = int(params["created"])
        expires = int(params["expires"])
    except ValueError:
        raise SignatureInvalid("created and expires must be integer Unix times") from None
    headers = " ".join(params["headers"].split())
    if headers not in (STANDARD_HEADERS, CALLBACK_HEADERS):
        raise SignatureInvalid(f"unsupported signed headers {headers!r}")
    if headers == CALLBACK_HEADERS and request_signature is None:
        raise SignatureInvalid("signature covers request-signature but the request signature is unknown")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("signature is not base64") from None
    if len(signature) != 64:
        raise SignatureInvalid("an Ed25519 signature is 64 bytes")
    return ParsedSignature(
        subscriber_id=parts[0],
        key_id=parts[1],
        algorithm="ed25519",
        created=created,
        expires=expires,
        headers=headers,
        signature=signature,
        signature_b64=params["signature"],
        request_signature=request_signature if headers == CALLBACK_HEADERS else None,
    )


def verify_parsed(parsed: ParsedSignature, body: bytes, public_key: bytes) -> None:
    """Check the signature over the recomputed digest of `body`; raise SignatureInvalid if it fails."""
    message = signing_string(parsed.created, parsed.expires, digest_b64(body), parsed.request_signature)
    if not verify_ed25519(public_key, message, parsed.signature):
        raise SignatureInvalid("signature does not verify for this body and key")
