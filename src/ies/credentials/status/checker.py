"""The verifier's status check: fetch the issuer's status list (or ask its DeDi registry), bounded cache.

Why a bounded TTL: revocation must reach every verifier on its next check, but fetching a 16 KiB list for
every credential would make the issuer a bottleneck and learn when each verifier works. A list is kept for
the smallest of `max_ttl_s` (the verifier's bound), the list's own `ttl`, the server's `Cache-Control:
max-age` and the list credential's `validUntil`; after that the next check refetches, so a revocation is
seen at most `max_ttl_s` after it happened.

Steps for a `BitstringStatusListEntry` (Bitstring Status List v1.0 §3.2 "Validate Algorithm"):
  (1) read `statusPurpose`, `statusListIndex` (a decimal string) and `statusListCredential` (an http(s) URL);
  (2) fetch the list credential (cached) and verify it with `ies.credentials.verify` — proof, issuer key,
      validity window;
  (3) require it to be a BitstringStatusListCredential issued by the credential's own issuer
      (a list signed by anyone else says nothing about this credential);
  (4) require its purpose to match the entry's (STATUS_VERIFICATION_ERROR);
  (5) expand `encodedList` (≥ 131,072 entries, STATUS_LIST_LENGTH_ERROR) and read the bit
      (STATUS_RANGE_ERROR when outside); 1 means revoked / suspended.
For a `dediregistry` / `dedi` entry: GET its `id`; 200 means revoked (suspended for a suspension entry),
404 means in good standing, anything else is a refusal. Every failure to check raises StatusUnavailable:
the checker never answers "valid" for a status it could not read.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ies.credentials.errors import (
    CredentialInvalid,
    CredentialRevoked,
    CredentialSuspended,
    StatusUnavailable,
)
from ies.credentials.model import VerifiedCredential
from ies.credentials.status.bitstring import StatusListError, decode_list, get_bit
from ies.credentials.status.dedi import DEDI_STATUS_TYPES
from ies.credentials.status.entries import (
    BITSTRING_ENTRY_TYPE,
    BITSTRING_LIST_CREDENTIAL_TYPE,
    BITSTRING_LIST_TYPE,
)
from ies.errors import UsageError
from ies.identity.did_web import is_loopback_host
from ies.identity.resolver import DIDResolver

__all__ = ["MAX_LIST_RESPONSE_BYTES", "MAX_STATUS_TTL_S", "HttpStatusChecker"]

MAX_STATUS_TTL_S = 3600.0
"""No verifier keeps a status list longer than an hour, whatever it is configured with."""

MAX_LIST_RESPONSE_BYTES = 4 * 1024 * 1024
"""A 16 KiB list compresses to a few hundred bytes; 4 MiB leaves room for huge lists, stops a hostile host."""

_MAX_AGE_RE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_INDEX_RE = re.compile(r"^(0|[1-9][0-9]{0,9})$")
_ACCEPT = "application/vc+ld+json, application/vc+jwt;q=0.9, application/json;q=0.8"


@dataclass(frozen=True)
class _CachedList:
    expires_at: float
    issuer: str
    purposes: frozenset[str]
    raw: bytes


class HttpStatusChecker:
    """A `StatusChecker` for `ies.credentials.verify`: Bitstring Status Lists and DeDi registries over HTTP.

    Safe to share between threads. Status URLs must be https; plain http is allowed only for loopback
    hosts (the sandbox), and only while `allow_loopback_http` is true.
    """

    def __init__(
        self,
        resolver: DIDResolver,
        *,
        max_ttl_s: float = 300.0,
        skew_s: int = 60,
        timeout_s: float = 5.0,
        allow_loopback_http: bool = True,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 256,
    ) -> None:
        if not 0 <= max_ttl_s <= MAX_STATUS_TTL_S:
            raise UsageError(f"max_ttl_s must be between 0 and {MAX_STATUS_TTL_S:.0f} seconds")
        self.resolver = resolver
        self.max_ttl_s = max_ttl_s
        self.skew_s = skew_s
        self._allow_loopback_http = allow_loopback_http
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._lists: OrderedDict[str, _CachedList] = OrderedDict()
        self._dedi: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport)
        self.fetch_count = 0
        """HTTP requests made so far (tests and operators see the cache at work)."""

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpStatusChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clear_cache(self) -> None:
        with self._lock:
            self._lists.clear()
            self._dedi.clear()

    # -- the StatusChecker protocol ------------------------------------------------------------------

    def __call__(self, credential: VerifiedCredential) -> None:
        for entry in credential.status_entries:
            kind = entry.get("type")
            if kind == BITSTRING_ENTRY_TYPE:
                self._check_bitstring(credential, entry)
            elif kind in DEDI_STATUS_TYPES:
                self._check_dedi(credential, entry)
            else:
                raise StatusUnavailable(
                    f"credentialStatus type {kind!r} is not one this verifier can check",
                    details={"type": str(kind)},
                )

    # -- Bitstring Status List -----------------------------------------------------------------------

    def _check_bitstring(self, credential: VerifiedCredential, entry: Mapping[str, Any]) -> None:
        purpose = entry.get("statusPurpose")
        index_text = entry.get("statusListIndex")
        url = entry.get("statusListCredential")
        if not isinstance(purpose, str) or not isinstance(url, str):
            raise StatusUnavailable("a BitstringStatusListEntry lacks statusPurpose or statusListCredential")
        if not isinstance(index_text, str) or not _INDEX_RE.fullmatch(index_text):
            raise StatusUnavailable(f"statusListIndex {index_text!r} is not a decimal string")
        status_list = self._status_list(url)
        if status_list.issuer != credential.issuer:
            raise StatusListError(
                f"status list {url} is issued by {status_list.issuer}, not by the credential's issuer "
                f"{credential.issuer}",
                code="VC_STATUS_VERIFICATION_ERROR",
            )
        if purpose not in status_list.purposes:
            raise StatusListError(
                f"status list {url} is for {sorted(status_list.purposes)}, the entry says {purpose!r}",
                code="VC_STATUS_VERIFICATION_ERROR",
            )
        if get_bit(status_list.raw, int(index_text)):
            self._refuse(credential, purpose, f"status list {url} index {index_text}")

    def _status_list(self, url: str) -> _CachedList:
        now = self._clock()
        with self._lock:
            cached = self._lists.get(url)
            if cached is not None and now < cached.expires_at:
                self._lists.move_to_end(url)
                return cached
        body, max_age_s = self._get(url, accept=_ACCEPT, cap=MAX_LIST_RESPONSE_BYTES)
        if body is None:
            raise StatusUnavailable(f"status list {url} was not found (404)")
        fresh = self._verify_list(url, body, max_age_s, now)
        with self._lock:
            self._lists[url] = fresh
            self._lists.move_to_end(url)
            while len(self._lists) > self._max_entries:
                self._lists.popitem(last=False)
        return fresh

    def _verify_list(self, url: str, body: bytes, max_age_s: float | None, now: float) -> _CachedList:
        from ies.credentials.verify import verify  # the pipeline imports pyld; load it on first use

        document: Any = _parse_list_body(body, url)
        try:
            verified = verify(document, resolver=self.resolver, skew_s=self.skew_s, schema_check=False)
        except CredentialInvalid as exc:
            raise StatusUnavailable(
                f"status list {url} does not verify: [{exc.code}] {exc.message}", details={"url": url}
            ) from exc
        if BITSTRING_LIST_CREDENTIAL_TYPE not in verified.types:
            raise StatusListError(
                f"{url} is not a BitstringStatusListCredential", code="VC_STATUS_VERIFICATION_ERROR"
            )
        if verified.id is not None and verified.id != url:
            raise StatusListError(
                f"the status list at {url} says its id is {verified.id}", code="VC_STATUS_VERIFICATION_ERROR"
            )
        subject = verified.credential.get("credentialSubject")
        if isinstance(subject, list) and len(subject) == 1:
            subject = subject[0]
        if not isinstance(subject, dict) or subject.get("type") != BITSTRING_LIST_TYPE:
            raise StatusListError(f"{url}: credentialSubject is not a BitstringStatusList")
        declared = subject.get("statusPurpose")
        purposes = frozenset([declared] if isinstance(declared, str) else declared or [])
        raw = decode_list(subject.get("encodedList", ""))
        ttl_s = self.max_ttl_s
        if isinstance(subject.get("ttl"), int) and subject["ttl"] >= 0:
            ttl_s = min(ttl_s, subject["ttl"] / 1000)
        if max_age_s is not None:
            ttl_s = min(ttl_s, max_age_s)
        if verified.valid_until is not None:
            ttl_s = min(ttl_s, max(0.0, (verified.valid_until - datetime.now(UTC)).total_seconds()))
        return _CachedList(now + ttl_s, verified.issuer, purposes, raw)

    # -- DeDi-style registry -------------------------------------------------------------------------

    def _check_dedi(self, credential: VerifiedCredential, entry: Mapping[str, Any]) -> None:
        url = entry.get("id")
        purpose = entry.get("statusPurpose", "revocation")
        if not isinstance(url, str):
            raise StatusUnavailable("a DeDi status entry lacks its lookup URL (`id`)")
        now = self._clock()
        with self._lock:
            cached = self._dedi.get(url)
        if cached is not None and now < cached[0]:
            status = cached[1]
        else:
            body, max_age_s = self._get(url, accept="application/json", cap=64 * 1024)
            status = 404 if body is None else 200
            ttl_s = self.max_ttl_s if max_age_s is None else min(self.max_ttl_s, max_age_s)
            with self._lock:
                self._dedi[url] = (now + ttl_s, status)
                while len(self._dedi) > self._max_entries * 16:
                    self._dedi.popitem(last=False)
        if status == 200:
            self._refuse(credential, str(purpose), f"DeDi registry record {url}")

    # -- shared steps --------------------------------------------------------------------------------

    def _refuse(self, credential: VerifiedCredential, purpose: str, where: str) -> None:
        details = {"credential": credential.id or "", "where": where}
        if purpose == "suspension":
            raise CredentialSuspended(f"credential {credential.id} is suspended ({where})", details=details)
        if purpose == "revocation":
            raise CredentialRevoked(f"credential {credential.id} is revoked ({where})", details=details)
        raise StatusUnavailable(
            f"status purpose {purpose!r} is not one this verifier acts on", details=details
        )

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return
        if (
            parts.scheme == "http"
            and parts.hostname
            and self._allow_loopback_http
            and is_loopback_host(parts.hostname)
        ):
            return
        raise StatusUnavailable(f"status URL {url!r} is not https (plain http only for loopback hosts)")

    def _get(self, url: str, *, accept: str, cap: int) -> tuple[bytes | None, float | None]:
        """(body, max-age) of a 200; (None, max-age) of a 404; StatusUnavailable for anything else."""
        self._check_url(url)
        self.fetch_count += 1
        try:
            with self._client.stream("GET", url, headers={"Accept": accept}) as response:
                max_age_s = _max_age(response.headers.get("cache-control", ""))
                if response.status_code == 404:
                    return None, max_age_s
                if response.status_code != 200:
                    raise StatusUnavailable(
                        f"{url} answered HTTP {response.status_code}", details={"url": url}
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise StatusUnavailable(f"{url} answered more than {cap} bytes", details={"url": url})
                    chunks.append(chunk)
                return b"".join(chunks), max_age_s
        except httpx.HTTPError as exc:
            raise StatusUnavailable(
                f"could not fetch {url}: {str(exc)[:200] or type(exc).__name__}", details={"url": url}
            ) from exc


def _parse_list_body(body: bytes, url: str) -> Any:
    text = body.strip()
    if text.startswith(b"{"):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise StatusUnavailable(f"status list {url} is not valid JSON") from exc
    try:
        return text.decode("ascii")  # a compact JWS (VC-JOSE) list credential
    except UnicodeDecodeError as exc:
        raise StatusUnavailable(f"status list {url} is neither JSON nor a compact JWS") from exc


def _max_age(cache_control: str) -> float | None:
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    match = _MAX_AGE_RE.search(cache_control)
    return float(match.group(1)) if match else None
