"""The Beckn v2 LTS context, the action vocabulary and the ACK/NACK bodies.

We emit camelCase (`bapId`, `messageId`, …) and accept the snake_case spelling of older Beckn and the DEG
v1 examples on input (decisions.md). Actions and their callbacks are fixed here, once, so a handler
registered for a misspelt action fails at registration rather than at the first message.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ACTIONS",
    "ALL_ACTIONS",
    "CALLBACKS",
    "Context",
    "ack_body",
    "callback_of",
    "is_callback",
    "nack_body",
    "new_context",
    "normalise_context",
]

BECKN_VERSION = "2.0.0"

ACTIONS: tuple[str, ...] = (
    "discover",
    "select",
    "init",
    "confirm",
    "status",
    "track",
    "update",
    "cancel",
    "rate",
    "support",
)
CALLBACKS: tuple[str, ...] = tuple(f"on_{a}" for a in ACTIONS)
CATALOG_ACTIONS: tuple[str, ...] = ("catalog/publish", "catalog/on_publish")
ALL_ACTIONS: frozenset[str] = frozenset(ACTIONS + CALLBACKS + CATALOG_ACTIONS)

_SNAKE_TO_CAMEL = {
    "bap_id": "bapId",
    "bap_uri": "bapUri",
    "bpp_id": "bppId",
    "bpp_uri": "bppUri",
    "transaction_id": "transactionId",
    "message_id": "messageId",
    "network_id": "networkId",
    "schema_context": "schemaContext",
    "request_digest": "requestDigest",
}


def is_callback(action: str) -> bool:
    return action.startswith("on_") or action == "catalog/on_publish"


def callback_of(action: str) -> str:
    if action == "catalog/publish":
        return "catalog/on_publish"
    return f"on_{action}"


class Context(BaseModel):
    """Beckn context. Only the fields the exchange relies on are typed; the rest pass through."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    action: str
    domain: str | None = None
    version: str | None = None
    bapId: str | None = None
    bapUri: str | None = None
    bppId: str | None = None
    bppUri: str | None = None
    transactionId: str | None = None
    messageId: str = Field(min_length=1, max_length=255)
    networkId: str | None = None
    timestamp: str | None = None
    ttl: str | None = None
    schemaContext: list[str] | None = None

    def sender_id(self) -> str | None:
        """Who must have signed: the BAP for requests, the BPP for callbacks (beckn-onix step 6)."""
        if self.action == "catalog/publish":
            return self.bppId
        return self.bppId if is_callback(self.action) else self.bapId

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def normalise_context(raw: dict[str, Any]) -> dict[str, Any]:
    """Rename snake_case keys to their camelCase names (camelCase wins when both are present)."""
    out = dict(raw)
    for snake, camel in _SNAKE_TO_CAMEL.items():
        if snake in out:
            value = out.pop(snake)
            out.setdefault(camel, value)
    return out


_TTL = re.compile(r"^P(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)$")


def ttl_seconds(ttl: str | None, default: int = 30) -> int:
    if not ttl:
        return default
    match = _TTL.match(ttl)
    if not match or not any(match.groups()):
        return default
    h, m, s = (int(g) if g else 0 for g in match.groups())
    return h * 3600 + m * 60 + s


def new_context(
    action: str,
    *,
    bap_id: str,
    bap_uri: str,
    bpp_id: str | None = None,
    bpp_uri: str | None = None,
    domain: str = "beckn.one:deg:energy",
    network_id: str | None = None,
    transaction_id: str | None = None,
    message_id: str | None = None,
    ttl: str = "PT30S",
) -> Context:
    return Context(
        action=action,
        domain=domain,
        version=BECKN_VERSION,
        bapId=bap_id,
        bapUri=bap_uri,
        bppId=bpp_id,
        bppUri=bpp_uri,
        transactionId=transaction_id or str(uuid.uuid4()),
        messageId=message_id or str(uuid.uuid4()),
        networkId=network_id,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        ttl=ttl,
    )


def ack_body(message_id: str | None) -> dict[str, Any]:
    return {"message": {"status": "ACK", "messageId": message_id}}


def nack_body(message_id: str | None, error: dict[str, Any]) -> dict[str, Any]:
    return {"message": {"status": "NACK", "messageId": message_id, "error": error}}
