"""Authenticating an inbound signed Beckn message, failing closed.

Steps follow beckn-onix's signvalidator and BECKN-006, numbered so a failure names the step:
  (1) parse the Signature header                         → AUT_SIGNATURE_MISSING / AUT_SIGNATURE_INVALID
  (2) look the key up in the registry (cached)           → AUT_SUBSCRIBER_NOT_FOUND
  (3) key and participant status, key validity window    → AUT_KEY_EXPIRED_OR_REVOKED
  (4) `created` not more than `skew` in the future, `now` not past `expires`   → AUT_SIGNATURE_INVALID
  (5) digest of the raw bytes received, Ed25519 check    → AUT_SIGNATURE_INVALID
  (6) the signer is the context's sender (bapId for requests, bppId for callbacks) → AUT_UNAUTHORIZED_ACTION
Every step raises; there is no result value that a caller could forget to look at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ies.errors import (
    KeyExpiredOrRevoked,
    SignatureInvalid,
    SubscriberNotFound,
    UnauthorizedAction,
)
from ies.exchange.signing import ParsedSignature, parse_authorization, verify_parsed
from ies.registry.records import KeyRecord, KeyStatus, SubscriberStatus

__all__ = ["KeySource", "Verifier", "check_key_usable", "check_sender"]

KeySource = Callable[[str, str], Awaitable[KeyRecord | None]]

DEFAULT_SKEW_S = 5


def check_key_usable(record: KeyRecord, at: datetime) -> None:
    """Step (3): the key may sign at time `at`."""
    if record.subscriber_status == SubscriberStatus.UNDER_SUBSCRIPTION or (
        record.subscriber_status == SubscriberStatus.INITIATED
    ):
        raise SubscriberNotFound(f"{record.subscriber_id} is not yet subscribed")
    if record.subscriber_status != SubscriberStatus.SUBSCRIBED:
        raise KeyExpiredOrRevoked(f"{record.subscriber_id} is {record.subscriber_status}")
    if record.key_status != KeyStatus.ACTIVE:
        raise KeyExpiredOrRevoked(f"key {record.key_id} is {record.key_status}")
    if at < record.valid_from:
        raise KeyExpiredOrRevoked(f"key {record.key_id} is not valid before {record.valid_from.isoformat()}")
    if at >= record.valid_until:
        raise KeyExpiredOrRevoked(f"key {record.key_id} expired at {record.valid_until.isoformat()}")


def check_sender(parsed: ParsedSignature, sender_id: str | None) -> None:
    """Step (6): a participant may only sign its own messages."""
    if sender_id is None or parsed.subscriber_id != sender_id:
        raise UnauthorizedAction(
            f"message signed by {parsed.subscriber_id!r} but its context names sender {sender_id!r}"
        )


@dataclass
class Verifier:
    key_source: KeySource
    skew_s: int = DEFAULT_SKEW_S
    clock: Callable[[], float] = lambda: datetime.now(UTC).timestamp()

    async def authenticate(
        self, header: str | None, body: bytes, *, request_signature: str | None = None
    ) -> tuple[ParsedSignature, KeyRecord]:
        """Steps (1)–(5). Returns the parsed signature and the signer's key record."""
        parsed = parse_authorization(header, request_signature=request_signature)  # (1)
        record = await self.key_source(parsed.subscriber_id, parsed.key_id)  # (2)
        if record is None:
            raise SubscriberNotFound(f"no key {parsed.key_id!r} registered for {parsed.subscriber_id!r}")
        now = self.clock()
        check_key_usable(record, datetime.fromtimestamp(now, UTC))  # (3)
        if parsed.created > now + self.skew_s:  # (4)
            raise SignatureInvalid(f"signature created {parsed.created - int(now)} s in the future")
        if now > parsed.expires:
            raise SignatureInvalid("signature has expired")
        if parsed.expires < parsed.created:
            raise SignatureInvalid("signature expires before it was created")
        verify_parsed(parsed, body, record.signing_key_bytes())  # (5)
        return parsed, record
