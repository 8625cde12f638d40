"""How a data provider learns a consent's current state: from its consent manager, checked, every time.

Why ask every time: a revocation must stop data at the very next request or page, so a provider never
serves from a cached state. The manager's answer is taken only when it checks out:
  (1) the answer is signed by the manager the consent names (an `X-IES-Signature` header in the Beckn
      Signature format over the response body, checked against the registry), and that manager is one
      this provider trusts;
  (2) the artefact passes the schema and purpose checks, and its approval signatures verify (the
      principal's did:key, or this provider's own portal attestation under its registered key);
  (3) the transition records form an unbroken chain (each `prevHash` is the hash of the one before,
      seq 0, 1, 2, …), each signed by the manager, each naming this artefact's digest;
  (4) the state the manager reports is the `to` of the newest record.
A manager that cannot be reached or whose answer fails a check is a refusal (POL_CONSENT_UNVERIFIABLE or
POL_CONSENT_SIGNATURE_INVALID): enforcement fails closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx
import orjson

from ies.consent._time import parse_instant
from ies.consent.artefact import ArtefactInvalid, ConsentArtefact
from ies.consent.auth import get_signing_bytes
from ies.consent.errors import (
    ConsentNotFound,
    ConsentSignatureInvalid,
    ConsentUnverifiable,
    UnknownConsent,
)
from ies.consent.lifecycle import ConsentState
from ies.consent.peers import Peers, api_base
from ies.consent.signatures import PORTAL, portal_key_id, record_hash, verify_approval, verify_record
from ies.errors import AuthError, PeerUnreachable

if TYPE_CHECKING:
    from ies.consent.store import ConsentStore
    from ies.node.runtime import NodeRuntime

__all__ = [
    "RESPONSE_SIGNATURE_HEADER",
    "ConsentSource",
    "LocalConsentSource",
    "RemoteConsentSource",
    "VerifiedConsent",
    "verify_consent_document",
]

RESPONSE_SIGNATURE_HEADER = "X-IES-Signature"
GENESIS_HASH = "0" * 64

KeyLookup = Callable[[str, str], Awaitable[bytes]]


@dataclass(frozen=True)
class VerifiedConsent:
    """A consent as its manager reported it, after checks (1)–(4)."""

    artefact: ConsentArtefact
    state: ConsentState
    seq: int
    as_of: datetime
    manager_id: str

    @property
    def id(self) -> str:
        return self.artefact.id


class ConsentSource(Protocol):
    async def fetch(self, consent_id: str, manager_id: str | None = None) -> VerifiedConsent: ...


async def verify_consent_document(doc: Any, *, manager_id: str, key: KeyLookup) -> VerifiedConsent:
    """Checks (2)–(4) of a manager's `{id, state, seq, artefact, transitions}` document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("transitions"), list) or not doc["transitions"]:
        raise ConsentSignatureInvalid("the manager's answer carries no transition history")
    try:
        artefact = ConsentArtefact.parse(doc.get("artefact"))
    except ArtefactInvalid as exc:
        raise ConsentSignatureInvalid(f"the manager's artefact is invalid: {exc.message}") from None
    if artefact.consent_manager != manager_id:
        raise ConsentSignatureInvalid(
            f"consent {artefact.id} is held by {artefact.consent_manager}, not {manager_id}"
        )
    # (2) approval signatures (a REQUESTED consent has none yet)
    provider_key = None
    for sig in artefact.signatures:
        if sig.get("type") == PORTAL:
            provider_key = await key(*portal_key_id(sig))
    if artefact.signatures:
        verify_approval(artefact, provider_key=provider_key)
    # (3) the chain
    prev = GENESIS_HASH
    keys: dict[str, bytes] = {}
    for seq, record in enumerate(doc["transitions"]):
        if not isinstance(record, dict) or record.get("seq") != seq or record.get("prevHash") != prev:
            raise ConsentSignatureInvalid(f"the transition chain of {artefact.id} is broken at {seq}")
        if record.get("consentId") != artefact.id or record.get("artefactDigest") != artefact.digest:
            raise ConsentSignatureInvalid(f"transition {seq} does not name this artefact")
        method = str((record.get("managerSignature") or {}).get("verificationMethod", ""))
        parts = method.split("|")
        if len(parts) != 3 or parts[0] != manager_id:
            raise ConsentSignatureInvalid(f"transition {seq} is not signed by {manager_id}")
        if parts[1] not in keys:
            keys[parts[1]] = await key(manager_id, parts[1])
        verify_record(record, keys[parts[1]])
        prev = record_hash(record)
    # (4) the state is the newest record's
    last = doc["transitions"][-1]
    if doc.get("state") != last.get("to") or doc.get("seq") != len(doc["transitions"]):
        raise ConsentSignatureInvalid(
            f"the manager reports {doc.get('state')} but its records end at {last.get('to')}"
        )
    return VerifiedConsent(
        artefact,
        ConsentState(str(last["to"])),
        len(doc["transitions"]),
        parse_instant(last["at"]),
        manager_id,
    )


class LocalConsentSource:
    """The node is itself the consent manager: read the store (same checks on what it reads)."""

    def __init__(self, store: ConsentStore, peers: Peers):
        self.store = store
        self.peers = peers

    async def fetch(self, consent_id: str, manager_id: str | None = None) -> VerifiedConsent:
        own = self.store.manager.subscriber_id
        if manager_id not in (None, own):
            raise ConsentUnverifiable(f"this node is consent manager {own}, not {manager_id}")
        try:
            record = self.store.get(consent_id)
        except UnknownConsent:
            raise ConsentNotFound(
                f"consent {consent_id} is unknown to {own}", details={"consentId": consent_id}
            ) from None
        return await verify_consent_document(record.to_dict(), manager_id=own, key=self.peers.key)


class RemoteConsentSource:
    """Ask the consent manager over HTTP, signing the request as this node; trust only listed managers."""

    def __init__(self, runtime: NodeRuntime, peers: Peers, trusted: set[str], *, timeout_s: float = 10.0):
        self.runtime = runtime
        self.peers = peers
        self.trusted = trusted
        self.timeout_s = timeout_s

    async def fetch(self, consent_id: str, manager_id: str | None = None) -> VerifiedConsent:
        if manager_id is None:
            if len(self.trusted) != 1:
                raise ConsentUnverifiable("name the consent manager: this provider trusts several")
            manager_id = next(iter(self.trusted))
        if manager_id not in self.trusted:
            raise ConsentUnverifiable(f"{manager_id} is not a consent manager this provider trusts")
        try:
            base = api_base(await self.peers.url_of(manager_id))
        except PeerUnreachable as exc:
            raise ConsentUnverifiable(f"consent manager {manager_id}: {exc.message}") from None
        path = f"/consent/v1/consents/{quote(consent_id, safe='')}"
        headers = {"Authorization": self.runtime.client.sign(get_signing_bytes(path))}
        try:
            resp = await self.runtime.client.http.get(base + path, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise ConsentUnverifiable(
                f"consent manager {manager_id} unreachable: {exc.__class__.__name__}"
            ) from None
        if resp.status_code == 404:
            raise ConsentNotFound(
                f"consent {consent_id} is unknown to {manager_id}", details={"consentId": consent_id}
            )
        if resp.status_code != 200:
            raise ConsentUnverifiable(f"consent manager {manager_id} answered HTTP {resp.status_code}")
        try:  # (1)
            parsed, _record = await self.runtime.router.verifier.authenticate(
                resp.headers.get(RESPONSE_SIGNATURE_HEADER), resp.content
            )
        except (AuthError, PeerUnreachable) as exc:
            raise ConsentSignatureInvalid(f"the manager's answer is not authentic: {exc.message}") from None
        if parsed.subscriber_id != manager_id:
            raise ConsentSignatureInvalid(f"the answer is signed by {parsed.subscriber_id}, not {manager_id}")
        try:
            doc = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise ConsentSignatureInvalid("the manager's answer is not JSON") from None
        if doc.get("id") != consent_id:
            raise ConsentSignatureInvalid(
                f"asked for {consent_id}, the manager answered about {doc.get('id')}"
            )
        return await verify_consent_document(doc, manager_id=manager_id, key=self.peers.key)
