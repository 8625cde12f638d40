"""The calling side: sign, send, retry with backoff, and await the asynchronous `on_*` callback.

Why the callback wait lives here: a Beckn request is answered twice — an ACK on the same connection and,
later, a signed `on_<action>` POSTed back to our own server. The client registers a future under the
request's messageId before sending; the receiving pipeline resolves it when the callback arrives.

Retries re-sign with a fresh `created` and keep the messageId; if an earlier attempt did arrive, the peer
answers NET_REPLAYED_MESSAGE, which we take as delivered rather than failed.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from ies._types import as_object, as_str
from ies.errors import CallbackTimeout, PeerUnreachable
from ies.exchange.context import Context, callback_of
from ies.exchange.http1 import Http1Client, TransportError
from ies.exchange.inbound import InboundMessage
from ies.exchange.messagelog import LoggedMessage, MessageLog
from ies.exchange.signing import build_authorization, digest_b64
from ies.identity.keys import SigningKeyPair

__all__ = ["Ack", "BecknClient"]

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Ack:
    status: str  # ACK | NACK
    http_status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "ACK"

    @property
    def error(self) -> dict[str, Any] | None:
        err = (
            self.body.get("message", {}).get("error") if isinstance(self.body.get("message"), dict) else None
        )
        return err if isinstance(err, dict) else None


class BecknClient:
    def __init__(
        self,
        *,
        subscriber_id: str,
        key_id: str,
        key: SigningKeyPair,
        log: MessageLog | None = None,
        retries: int = 3,
        backoff_s: float = 0.2,
        timeout_s: float = 10.0,
        signature_ttl_s: int = 300,
    ):
        self.subscriber_id = subscriber_id
        self.key_id = key_id
        self.key = key
        self.log = log
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.signature_ttl_s = signature_ttl_s
        self._http: httpx.AsyncClient | None = None
        self._http1: Http1Client | None = None
        self._pending: dict[str, asyncio.Future[InboundMessage]] = {}
        self._refused: dict[str, str] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.timeout_s, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)
            )
        return self._http

    async def _post(self, url: str, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST over the lean HTTP/1.1 client for http:// peers (decision 0004), httpx for https://."""
        if url.startswith("http://"):
            if self._http1 is None:
                self._http1 = Http1Client(timeout_s=self.timeout_s)
            answer = await self._http1.post(url, raw, headers)
            return answer.status_code, answer.content
        resp = await self.http.post(url, content=raw, headers=headers)
        return resp.status_code, resp.content

    def sign(self, body: bytes, created: int | None = None) -> str:
        created = int(time.time()) if created is None else created
        return build_authorization(
            body,
            subscriber_id=self.subscriber_id,
            key_id=self.key_id,
            key=self.key,
            created=created,
            expires=created + self.signature_ttl_s,
        )

    async def send(self, url: str, body: dict[str, Any]) -> Ack:
        """POST a signed body; retry transport failures and 5xx with exponential backoff and jitter."""
        raw = orjson.dumps(body)
        ctx = body.get("context", {}) if isinstance(body.get("context"), dict) else {}
        action = str(ctx.get("action", "?"))
        last_error = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random()))
            header = self.sign(raw)
            try:
                status_code, content = await self._post(
                    url, raw, {"Authorization": header, "Content-Type": "application/json"}
                )
            except (httpx.HTTPError, TransportError) as exc:
                last_error = f"{exc.__class__.__name__}: {exc}"
                continue
            except ValueError as exc:  # an unusable URL or header: no attempt could succeed
                await self._log(action, ctx, url, "FAILED", "NET_PEER_UNREACHABLE", None, raw, None)
                raise PeerUnreachable(f"cannot send to {url!r}: {exc}") from None
            if status_code in RETRY_STATUSES and attempt < self.retries:
                last_error = f"HTTP {status_code}"
                continue
            try:
                answer = orjson.loads(content)
            except orjson.JSONDecodeError:
                answer = {}
            if not isinstance(answer, dict):
                answer = {}
            message = as_object(answer.get("message"))
            status = str(message.get("status", "NACK"))
            code = as_str(as_object(message.get("error")).get("code"))
            if attempt and code == "NET_REPLAYED_MESSAGE":
                status, code = "ACK", None  # an earlier attempt arrived
            await self._log(action, ctx, url, status, code, status_code, raw, header)
            return Ack(status=status, http_status=status_code, body=answer)
        await self._log(action, ctx, url, "FAILED", "NET_PEER_UNREACHABLE", None, raw, None)
        raise PeerUnreachable(f"{url} unreachable after {self.retries + 1} attempts ({last_error})")

    async def _log(
        self,
        action: str,
        ctx: dict[str, Any],
        url: str,
        outcome: str,
        code: str | None,
        status: int | None,
        raw: bytes,
        header: str | None,
    ) -> None:
        if self.log is None:
            return
        key_id = f"{self.subscriber_id}|{self.key_id}|ed25519" if header else None
        await self.log.arecord(
            LoggedMessage(
                direction="out",
                action=action,
                sender_id=self.subscriber_id,
                receiver=url,
                message_id=ctx.get("messageId") or ctx.get("message_id"),
                transaction_id=ctx.get("transactionId") or ctx.get("transaction_id"),
                outcome=outcome,
                error_code=code,
                http_status=status,
                digest=digest_b64(raw),
                key_id=key_id,
                body=raw.decode("utf-8", "replace"),
            )
        )

    # -- request / callback correlation ----------------------------------------------------------
    def resolve(self, msg: InboundMessage) -> None:
        """Called by the receiving pipeline for every accepted callback."""
        future = self._pending.get(msg.context.messageId)
        if future is not None and not future.done() and msg.action == callback_of(self._action_of(future)):
            future.set_result(msg)

    def note_refused_callback(self, message_id: str | None, action: str, code: str) -> None:
        """Our pipeline refused a callback for a pending request: remember why, to explain a timeout.

        The request is not failed on the spot: anyone who learns a messageId could otherwise cancel it
        with a forged callback; the genuine callback may still arrive.
        """
        if message_id in self._pending:
            self._refused[message_id] = f"{action} arrived but was refused with {code}"

    @staticmethod
    def _action_of(future: asyncio.Future[InboundMessage]) -> str:
        return getattr(future, "ies_action", "")

    async def request(
        self, url: str, context: Context, message: dict[str, Any], *, timeout_s: float = 10.0
    ) -> tuple[Ack, InboundMessage | None]:
        """Send a request and wait for its callback (matched by messageId and action)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[InboundMessage] = loop.create_future()
        future.ies_action = context.action  # type: ignore[attr-defined]
        self._pending[context.messageId] = future
        try:
            ack = await self.send(
                f"{url.rstrip('/')}/{context.action}", {"context": context.wire(), "message": message}
            )
            if not ack.ok:
                return ack, None
            try:
                callback = await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                why = self._refused.get(context.messageId)
                raise CallbackTimeout(
                    f"no {callback_of(context.action)} for message {context.messageId} within {timeout_s} s"
                    + (f" ({why})" if why else ""),
                    details={"refused": why} if why else None,
                ) from None
            return ack, callback
        finally:
            self._pending.pop(context.messageId, None)
            self._refused.pop(context.messageId, None)

    async def aclose(self) -> None:
        if self._http1 is not None:
            await self._http1.aclose()
            self._http1 = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
