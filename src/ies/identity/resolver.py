"""DID resolution: did:key locally, did:web over HTTP, an override map for the sandbox, and a TTL cache.

Why an override map: in the sandbox every node runs on `http://127.0.0.1:<port>` while its DID is a
real-looking `did:web:bpp.example`; the map says "fetch that DID's documents from this base URL" (or
"this is the document") without touching DNS or TLS. Without an override a did:web is fetched over
https only; plain http is allowed just for loopback hosts (the traffic never leaves the machine) and for
URLs an operator wrote into the override map. Redirects are refused (IES: "200, no redirect"), answers
are capped in size, and the document's `id` must equal the DID asked for.

The resolver is synchronous on purpose (one style per layer): CLI commands and credential checks call it
directly; async handlers call it through `starlette.concurrency.run_in_threadpool`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ies.errors import UsageError
from ies.identity.did_errors import (
    DIDDocumentInvalid,
    DIDInvalid,
    DIDMethodNotSupported,
    DIDNotFound,
    DIDResolutionFailed,
)
from ies.identity.did_key import did_key_document
from ies.identity.did_syntax import parse_did, parse_did_url
from ies.identity.did_web import did_web_location, is_loopback_host
from ies.identity.resolved_key import ResolvedKey, select_verification_method

__all__ = ["MAX_CACHE_TTL_S", "MAX_DOCUMENT_BYTES", "DIDResolver", "Override"]

MAX_DOCUMENT_BYTES = 256 * 1024
"""Largest DID document we read; a node's document is ~2 KB, so this only stops a hostile host."""

MAX_CACHE_TTL_S = 3600.0
"""A document is never cached longer than an hour, so a rotation reaches every verifier within that."""

Override = Mapping[str, Any] | str
"""A DID document to answer with, or an http(s) URL: a base URL (`http://127.0.0.1:8001`) under which
the did:web paths are served, or the full URL of the document when it ends in `.json`."""

_MAX_AGE_RE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_ACCEPT = "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8"


class DIDResolver:
    """Resolve DIDs to documents and DID URLs to public keys. Safe to share between threads."""

    def __init__(
        self,
        overrides: Mapping[str, Override] | None = None,
        *,
        cache_ttl_s: float = 300.0,
        max_cache_entries: int = 512,
        timeout_s: float = 5.0,
        allow_loopback_http: bool = True,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= cache_ttl_s <= MAX_CACHE_TTL_S:
            raise UsageError(f"cache_ttl_s must be between 0 and {MAX_CACHE_TTL_S:.0f} seconds")
        if max_cache_entries < 1:
            raise UsageError("max_cache_entries must be at least 1")
        self._ttl_s = cache_ttl_s
        self._max_entries = max_cache_entries
        self._timeout_s = timeout_s
        self._allow_loopback_http = allow_loopback_http
        self._transport = transport
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self.fetch_count = 0
        """How many HTTP fetches this resolver made (lets callers and tests see the cache work)."""
        self._overrides: dict[str, Override] = {}
        for did, target in (overrides or {}).items():
            self.add_override(did, target)

    # -- configuration -------------------------------------------------------------------------------

    def add_override(self, did: str, target: Override) -> None:
        """Answer `did` from `target` (a document, or an http(s) URL) instead of its normal location."""
        try:
            parse_did(did)
        except DIDInvalid as exc:
            raise UsageError(f"override key: {exc.message}") from exc
        if isinstance(target, str):
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(f"override for {did}: {target!r} is not an http(s) URL")
        elif isinstance(target, Mapping):
            if target.get("id") != did:
                raise UsageError(f"override for {did}: the document's id is {target.get('id')!r}")
        else:
            raise UsageError(f"override for {did} must be a document or a URL")
        self._overrides[did] = target
        self.clear_cache()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> DIDResolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- resolution ----------------------------------------------------------------------------------

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of `did` (a private copy: callers may change it freely)."""
        parsed = parse_did(did)
        target = self._overrides.get(did)
        if isinstance(target, Mapping):
            return copy.deepcopy(dict(target))
        if parsed.method == "key" and target is None:
            return did_key_document(did)
        cached = self._cached(did)
        if cached is not None:
            return copy.deepcopy(cached)
        url = self._document_url(did, parsed.method, target)
        document, max_age_s = self._fetch(url, did)
        self._store(did, document, max_age_s)
        return copy.deepcopy(document)

    def resolve_key(
        self, did_url: str, *, purpose: str | None = "assertionMethod", at: datetime | None = None
    ) -> ResolvedKey:
        """The verification method a DID URL names, checked to be usable for `purpose` at time `at`.

        `purpose` is a verification relationship (`assertionMethod`, `authentication`, `keyAgreement`…)
        or None for any; `at` is an aware datetime (default: now). Expired or revoked keys raise
        `ies.errors.KeyExpiredOrRevoked`; a fragment that names nothing raises VerificationMethodNotFound.
        """
        parts = parse_did_url(did_url)
        if parts.path or parts.query is not None:
            raise DIDInvalid(f"{did_url!r}: DID URLs with a path or query do not name a key")
        document = self.resolve(parts.did)
        return select_verification_method(document, parts.did, parts.fragment, purpose=purpose, at=at)

    def resolve_verification_method(
        self, did_url: str, *, purpose: str | None = "assertionMethod", at: datetime | None = None
    ) -> bytes:
        """The raw 32-byte public key a DID URL (`did:…#fragment`) names; see `resolve_key` for the checks."""
        return self.resolve_key(did_url, purpose=purpose, at=at).public_key

    # -- steps ---------------------------------------------------------------------------------------

    def _document_url(self, did: str, method: str, target: str | None) -> str:
        if method != "web":
            if target is not None:
                return target
            raise DIDMethodNotSupported(
                f"cannot resolve {did}: only did:key and did:web are supported (or give an override)"
            )
        location = did_web_location(did)
        if target is None:
            target = self._host_level_base(did)
        if target is not None:
            if urlsplit(target).path.endswith(".json"):
                return target
            return target.rstrip("/") + location.document_path
        loopback = is_loopback_host(location.host)
        scheme = "http" if loopback and self._allow_loopback_http else "https"
        return location.document_url(scheme=scheme)

    def _host_level_base(self, did: str) -> str | None:
        """An override written for `did:web:<host>` also serves the path-based DIDs under that host."""
        host_did = ":".join(did.split(":")[:3])
        target = self._overrides.get(host_did)
        if host_did != did and isinstance(target, str) and not urlsplit(target).path.endswith(".json"):
            return target
        return None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self._timeout_s, follow_redirects=False, transport=self._transport
                )
            return self._client

    def _fetch(self, url: str, did: str) -> tuple[dict[str, Any], float | None]:
        self.fetch_count += 1
        try:
            with self._http().stream("GET", url, headers={"Accept": _ACCEPT}) as response:
                status = response.status_code
                if status in (404, 410):
                    gone = "deactivated (410)" if status == 410 else "not found (404)"
                    raise DIDNotFound(f"{did}: {url} answered {gone}", details={"url": url})
                if 300 <= status < 400:
                    raise DIDResolutionFailed(
                        f"{did}: {url} answered a redirect ({status}); did:web documents must be served "
                        "directly",
                        details={"url": url, "status": status},
                    )
                if status != 200:
                    raise DIDResolutionFailed(
                        f"{did}: {url} answered HTTP {status}", details={"url": url, "status": status}
                    )
                body = _read_capped(response)
                max_age_s = _max_age(response.headers.get("cache-control", ""))
        except httpx.TimeoutException as exc:
            raise DIDResolutionFailed(f"{did}: {url} did not answer within {self._timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            reason = str(exc)[:200] or type(exc).__name__
            raise DIDResolutionFailed(f"{did}: could not fetch {url}: {reason}") from exc
        return _parse_document(body, did, url), max_age_s

    def _cached(self, did: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._cache.get(did)
            if entry is None:
                return None
            expires_at, document = entry
            if self._clock() >= expires_at:
                del self._cache[did]
                return None
            self._cache.move_to_end(did)
            return document

    def _store(self, did: str, document: dict[str, Any], max_age_s: float | None) -> None:
        ttl_s = self._ttl_s if max_age_s is None else min(self._ttl_s, max_age_s)
        if ttl_s <= 0:
            return
        with self._lock:
            self._cache[did] = (self._clock() + ttl_s, document)
            self._cache.move_to_end(did)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)


def _read_capped(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise DIDResolutionFailed(f"DID document of {declared} bytes exceeds {MAX_DOCUMENT_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise DIDResolutionFailed(f"DID document exceeds {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _max_age(cache_control: str) -> float | None:
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    match = _MAX_AGE_RE.search(cache_control)
    return float(match.group(1)) if match else None


def _parse_document(body: bytes, did: str, url: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DIDDocumentInvalid(f"{did}: {url} did not answer with JSON", details={"url": url}) from exc
    if not isinstance(document, dict):
        raise DIDDocumentInvalid(f"{did}: {url} answered JSON that is not an object", details={"url": url})
    if document.get("id") != did:
        raise DIDDocumentInvalid(
            f"{did}: the document at {url} is for {document.get('id')!r}, not for this DID",
            details={"url": url},
        )
    return document
