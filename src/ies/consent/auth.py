"""Who is calling the consent API: the node's operator, a network participant, or a data principal.

Why three kinds: a data consumer asks for consents and a data provider attests on its portal (both are
registered participants and sign with their Beckn keys, checked against the registry exactly as the
exchange checks a Beckn message); a data principal has no registry record, only a did:key, and signs
with it in the same `Signature` header format (`keyId="did:key:z…|z…|ed25519"`), checked against the
key inside the DID; the operator of the consent manager uses the node's bearer token.

What is signed: the raw body for POSTs; for GETs, which have none, the bytes `GET <path>?<query>`, so a
captured header opens only the one resource it was made for, and only until it expires.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ies.errors import SignatureInvalid, UnauthorizedAction
from ies.exchange.signing import build_authorization, parse_authorization, verify_parsed
from ies.identity.did_errors import DIDInvalid
from ies.identity.did_key import parse_did_key
from ies.identity.keys import SigningKeyPair
from ies.registry.records import KeyRecord

__all__ = ["Caller", "get_signing_bytes", "identify_caller", "principal_authorization", "request_target"]

CallerKind = Literal["operator", "participant", "principal", "anonymous"]

#: A principal's header is good for this long at most, whatever `expires` it claims.
PRINCIPAL_MAX_TTL_S = 300
SKEW_S = 30


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    id: str | None = None
    authorization: str | None = None

    def require(self, *kinds: CallerKind) -> Caller:
        if self.kind not in kinds:
            wanted = " or ".join(kinds)
            raise UnauthorizedAction(f"this needs a signature by the {wanted}; the caller is {self.kind}")
        return self


def get_signing_bytes(path_with_query: str) -> bytes:
    """What a GET's Signature header covers: the path and query exactly as sent (percent-encoded)."""
    return f"GET {path_with_query}".encode()


def request_target(scope: Mapping[str, Any]) -> str:
    """The path and query of an ASGI request as the client sent them (undecoded), for `get_signing_bytes`."""
    raw = scope.get("raw_path") or str(scope.get("path", "")).encode()
    query = scope.get("query_string") or b""
    target = raw.decode("latin-1")
    return target + ("?" + query.decode("latin-1") if query else "")


def principal_authorization(key: SigningKeyPair, body: bytes, *, ttl_s: int = 60) -> str:
    """A Signature header made with a principal's did:key (for the CLI and wallets)."""
    from ies.consent.signatures import principal_did_of

    did = principal_did_of(key)
    created = int(time.time())
    return build_authorization(
        body,
        subscriber_id=did,
        key_id=did.removeprefix("did:key:"),
        key=key,
        created=created,
        expires=created + ttl_s,
    )


def _principal(header: str, signed: bytes) -> Caller:
    parsed = parse_authorization(header)
    try:
        did = parse_did_key(parsed.subscriber_id)
    except DIDInvalid as exc:
        raise SignatureInvalid(f"keyId names no usable did:key: {exc.message}") from None
    if did.key_type != "Ed25519" or parsed.key_id != did.multibase:
        raise SignatureInvalid("a principal signs with the Ed25519 key its did:key names")
    now = time.time()
    if (
        parsed.created > now + SKEW_S
        or now > parsed.expires
        or parsed.expires - parsed.created > PRINCIPAL_MAX_TTL_S
    ):
        raise SignatureInvalid("the principal's signature is expired, from the future or too long-lived")
    verify_parsed(parsed, signed, did.public_key)
    return Caller("principal", did.did, header)


async def identify_caller(
    authorization: str | None,
    signed: bytes,
    *,
    admin_token: str,
    authenticate: Callable[[str | None, bytes], Awaitable[tuple[object, KeyRecord]]],
) -> Caller:
    """The caller behind an Authorization header (raising AUT_* when a signature is present but wrong).

    `authenticate` is the node's exchange verifier (registry keys, validity, clock skew, Ed25519).
    """
    if not authorization:
        return Caller("anonymous")
    if authorization.startswith("Bearer "):
        if hmac.compare_digest(authorization.encode(), f"Bearer {admin_token}".encode()):
            return Caller("operator", "operator", None)
        raise UnauthorizedAction("wrong operator token")
    if 'keyId="did:key:' in authorization:
        return _principal(authorization, signed)
    _parsed, record = await authenticate(authorization, signed)
    return Caller("participant", record.subscriber_id, authorization)
