"""Signed node-to-node HTTP for the P2P calls that are not Beckn transactions.

Two conversations need one network participant to act at another's HTTP interface without being its
operator: an aggregator enrolling and trading for its prosumers at a trading platform, and a DISCOM
fetching its own ledger provider's settlements to bill its customers. Neither is a Beckn action (no
catalogue, no contract), but both need what the exchange gives a Beckn message: the caller proven by
its registered key, its registry role and status checked, and a captured request useless to replay.

So the body is signed exactly like a Beckn message (BECKN-006 `Authorization: Signature …` over the
BLAKE2b digest of the raw bytes) and the receiver runs the same verifier the exchange uses (registry
lookup, key and subscriber status, validity window, Ed25519), then checks the role it requires. Each
signature is accepted once while it is valid (`ReplayGuard`), so a replayed enrolment or bid is refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from fastapi import Request

from ies.errors import IESError, PeerUnreachable, UnauthorizedAction, UsageError
from ies.exchange.signing import build_authorization
from ies.registry.records import KeyRecord
from ies.usecases.p2p.base import P2PNode

__all__ = ["ReplayGuard", "SignedCaller", "signed_caller", "signed_post"]

SIGNATURE_TTL_S = 60
MAX_REMEMBERED = 100_000


@dataclass
class ReplayGuard:
    """Signatures seen and still valid; a repeat is refused (per node object, never module state)."""

    seen: dict[str, int] = field(default_factory=dict)

    def check(self, signature: str, expires: int) -> None:
        now = int(time.time())
        if len(self.seen) > MAX_REMEMBERED:
            self.seen = {s: e for s, e in self.seen.items() if e >= now}
        if signature in self.seen:
            raise UnauthorizedAction("this signed request was already received (replay)")
        self.seen[signature] = expires


@dataclass(frozen=True)
class SignedCaller:
    """Who called, as the registry knows them (`record.roles`, `record.subscriber_status`)."""

    subscriber_id: str
    record: KeyRecord
    body: Any


async def signed_post(node: P2PNode, url: str, body: dict[str, Any], *, timeout_s: float = 60.0) -> Any:
    """POST `body` signed with this node's key; the peer's answer, or its error raised as an IESError.

    A fresh `request_id` goes into every body: two identical requests in the same second would
    otherwise carry the same (deterministic Ed25519) signature, and the second would read as a replay.
    """
    raw = orjson.dumps({**body, "request_id": uuid.uuid4().hex})
    created = int(time.time())
    header = build_authorization(
        raw,
        subscriber_id=node.subscriber_id,
        key_id=node.runtime.keys.key_id,
        key=node.runtime.keys.signing,
        created=created,
        expires=created + SIGNATURE_TTL_S,
    )
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            resp = await client.post(
                url, content=raw, headers={"Authorization": header, "Content-Type": "application/json"}
            )
    except httpx.HTTPError as exc:
        raise PeerUnreachable(f"{url} unreachable: {exc.__class__.__name__}") from None
    try:
        answer = resp.json()
    except ValueError:
        raise PeerUnreachable(f"{url} answered HTTP {resp.status_code} without JSON") from None
    if resp.status_code >= 400:
        err = answer.get("error", {}) if isinstance(answer, dict) else {}
        raise IESError(
            str(err.get("message", f"HTTP {resp.status_code}")),
            code=str(err.get("code", "P2P_PEER_REFUSED")),
            details=err.get("details") or {},
        )
    return answer


async def signed_caller(node: P2PNode, request: Request, guard: ReplayGuard, *, role: str) -> SignedCaller:
    """Authenticate a signed request: (1)–(5) the exchange's verifier over the raw body, (6) not a replay,
    (7) the signer holds `role` in the registry. Raises AUT_* errors; never returns an unchecked caller."""
    raw = await request.body()
    parsed, record = await node.runtime.router.verifier.authenticate(
        request.headers.get("authorization"), raw
    )
    guard.check(parsed.signature_b64, parsed.expires)  # (6)
    if role not in record.roles:  # (7)
        raise UnauthorizedAction(
            f"{parsed.subscriber_id} is not registered as {role} (registry roles: {', '.join(record.roles)})",
            code=f"POL_P2P_NOT_{role}",
        )
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise UsageError("body is not JSON") from None
    return SignedCaller(parsed.subscriber_id, record, body)
