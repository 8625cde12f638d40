"""Looking up participants' keys in a registry over HTTP, with a bounded-TTL cache.

Why a cache: every inbound message needs its sender's key; asking the registry each time would make the
registry the bottleneck of the whole network (beckn-onix caches for 5 minutes). The TTL bounds how long a
suspension takes to reach every verifier; the key's own `valid_until` is checked on every message, so
rotation windows are exact regardless of the cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from ies.errors import PeerUnreachable
from ies.registry.records import DEDI_WILDCARD, KeyRecord

__all__ = ["RegistryClient", "dedi_lookup_path"]


def dedi_lookup_path(subscriber_id: str, key_id: str) -> str:
    return f"/lookup/{quote(subscriber_id, safe='')}/{DEDI_WILDCARD}/{quote(key_id, safe='')}"


@dataclass
class RegistryClient:
    """Resolves (subscriber id, key id) to a KeyRecord through a registry's DeDi lookup."""

    base_url: str
    ttl_s: float = 60.0
    timeout_s: float = 5.0
    max_entries: int = 10_000
    _cache: dict[tuple[str, str], tuple[float, KeyRecord]] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None

    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url.rstrip("/"), timeout=self.timeout_s)
        return self._client

    async def get_key(self, subscriber_id: str, key_id: str) -> KeyRecord | None:
        now = time.monotonic()
        hit = self._cache.get((subscriber_id, key_id))
        if hit is not None and hit[0] > now:
            return hit[1]
        client = await self._http()
        try:
            resp = await client.get(dedi_lookup_path(subscriber_id, key_id))
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"registry {self.base_url} unreachable: {exc.__class__.__name__}") from exc
        if resp.status_code == 404:
            self._cache.pop((subscriber_id, key_id), None)
            return None
        if resp.status_code != 200:
            raise PeerUnreachable(f"registry answered HTTP {resp.status_code}")
        data = resp.json()["data"]
        details = data["details"]
        record = KeyRecord(
            subscriber_id=details["subscriber_id"],
            key_id=data["record_id"],
            url=details["url"],
            roles=details.get("roles") or [details.get("type", "")],
            domains=[details["domain"]] if details.get("domain") else [],
            network_memberships=data.get("network_memberships", []),
            signing_public_key=details["signing_public_key"],
            encr_public_key=details.get("encr_public_key", ""),
            subscriber_status=details.get("status", "SUBSCRIBED"),
            key_status=details.get("key_status", "ACTIVE"),
            valid_from=details["valid_from"],
            valid_until=details["valid_until"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
        )
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[(subscriber_id, key_id)] = (now + self.ttl_s, record)
        return record

    def invalidate(self) -> None:
        self._cache.clear()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
