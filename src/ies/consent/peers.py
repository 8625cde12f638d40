"""Finding other participants through the node's registry: their callback URL and their signing keys.

Why the consent layer needs this: a consent manager notifies the data consumer (and provider) at the URL
they registered, checks a provider portal's attestation against the key the provider registered, and a
data provider fetches a consent from the manager the consent names. All three answers come from the
same registry the exchange trusts, never from what a message says about itself.

A node's HTTP API lives at its public URL; the registered subscriber URL is `<public URL>/beckn` (as
`ies node` lays a node out), so the API base is the subscriber URL without that suffix.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from ies.consent.errors import ConsentUnverifiable
from ies.errors import PeerUnreachable
from ies.registry import directory
from ies.registry.records import LookupFilter, Role
from ies.store import session_factory

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["Peers", "api_base"]

BECKN_SUFFIX = "/beckn"


def api_base(subscriber_url: str) -> str:
    url = subscriber_url.rstrip("/")
    return url[: -len(BECKN_SUFFIX)] if url.endswith(BECKN_SUFFIX) else url


class Peers:
    """Registry look-ups for one node, with a short cache of subscriber URLs."""

    def __init__(self, runtime: NodeRuntime, *, ttl_s: float = 30.0):
        self.runtime = runtime
        self.ttl_s = ttl_s
        self._urls: dict[str, tuple[float, str]] = {}

    async def _lookup(self, subscriber_id: str) -> list[dict[str, Any]]:
        rt = self.runtime
        if rt.cfg.has_role(Role.REGISTRY):
            with session_factory(rt.engine)() as session:
                records = directory.lookup(session, LookupFilter(subscriber_id=subscriber_id))
            return [
                {"subscriber_id": r.subscriber_id, "url": r.url, "status": r.subscriber_status}
                for r in records
            ]
        if not rt.cfg.registry_url:
            raise PeerUnreachable("no registry_url configured")
        try:
            resp = await rt.client.http.post(
                f"{rt.cfg.registry_url.rstrip('/')}/lookup", json={"subscriber_id": subscriber_id}, timeout=10
            )
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}") from None
        if resp.status_code != 200 or not isinstance(resp.json(), list):
            raise PeerUnreachable(f"registry lookup answered HTTP {resp.status_code}")
        return [r for r in resp.json() if isinstance(r, dict)]

    async def url_of(self, subscriber_id: str) -> str:
        """The subscriber URL a participant registered (Beckn actions are POSTed under it)."""
        if subscriber_id == self.runtime.cfg.subscriber_id:
            return self.runtime.cfg.beckn_url
        hit = self._urls.get(subscriber_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        for record in await self._lookup(subscriber_id):
            url = record.get("url") or record.get("subscriber_url")
            if record.get("status") == "SUBSCRIBED" and isinstance(url, str) and url:
                self._urls[subscriber_id] = (time.monotonic() + self.ttl_s, url)
                return url
        raise PeerUnreachable(f"{subscriber_id} has no subscribed record in the registry")

    async def key(self, subscriber_id: str, key_id: str) -> bytes:
        """The registered Ed25519 key (raises ConsentUnverifiable when it cannot be found)."""
        try:
            record = await self.runtime.router.verifier.key_source(subscriber_id, key_id)
        except PeerUnreachable as exc:
            raise ConsentUnverifiable(f"cannot look up {subscriber_id}'s key: {exc.message}") from None
        if record is None:
            raise ConsentUnverifiable(f"{subscriber_id} has no registered key {key_id!r}")
        return record.signing_key_bytes()
