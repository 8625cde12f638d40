"""Finding a peer's Beckn URL and signing keys from its subscriber id, through the registry.

Why not URLs in the settings: ports are assigned when a sandbox starts, and in a real network the registry
is the one place a subscriber's URL is kept current. Answers are cached for a short TTL (a moved peer is
found again on the next miss) and a node that is itself the registry cannot use this (P2P roles never are).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from ies.errors import NotFoundError, PeerUnreachable, UsageError

__all__ = ["Peer", "PeerDirectory"]


@dataclass(frozen=True)
class Peer:
    subscriber_id: str
    url: str  # the subscriber URL: actions are POSTed to {url}/{action}
    roles: tuple[str, ...]
    keys: dict[str, str]  # key id → base64 Ed25519 public key (ACTIVE keys)

    @property
    def base_url(self) -> str:
        """The node's HTTP root (its subscriber URL without the trailing /beckn)."""
        return self.url[: -len("/beckn")] if self.url.endswith("/beckn") else self.url


@dataclass
class PeerDirectory:
    registry_url: str | None
    ttl_s: float = 30.0
    _cache: dict[str, tuple[float, Peer]] = field(default_factory=dict)
    _http: httpx.AsyncClient | None = None

    async def get(self, subscriber_id: str) -> Peer:
        hit = self._cache.get(subscriber_id)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        if not self.registry_url:
            raise UsageError("this node has no registry_url, so it cannot find its peers")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            resp = await self._http.post(
                f"{self.registry_url.rstrip('/')}/lookup", json={"subscriber_id": subscriber_id}
            )
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}") from None
        rows: Any = resp.json() if resp.status_code == 200 else []
        live = [r for r in rows if isinstance(r, dict) and r.get("subscriber_id") == subscriber_id]
        if not live:
            raise NotFoundError(f"{subscriber_id} is not in the registry")
        keys = {
            str(r["key_id"]): str(r["signing_public_key"])
            for r in live
            if r.get("key_status", "ACTIVE") == "ACTIVE" and r.get("status", "SUBSCRIBED") == "SUBSCRIBED"
        }
        first = live[0]
        peer = Peer(subscriber_id, str(first["url"]), tuple(first.get("roles") or []), keys)
        self._cache[subscriber_id] = (now + self.ttl_s, peer)
        return peer

    async def with_role(self, role: str) -> list[str]:
        """Subscriber ids of every subscribed participant with `role` (registry v1 lookup by type)."""
        if not self.registry_url:
            raise UsageError("this node has no registry_url, so it cannot find its peers")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            resp = await self._http.post(f"{self.registry_url.rstrip('/')}/lookup", json={"type": role})
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}") from None
        rows: Any = resp.json() if resp.status_code == 200 else []
        return sorted(
            {str(r["subscriber_id"]) for r in rows if isinstance(r, dict) and r.get("status") == "SUBSCRIBED"}
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
