"""A lean HTTP/1.1 client for the Beckn hot path: POST bytes, read the whole answer, keep the connection.

Why it exists (decision 0004): with many requests in flight, httpx's connection pool (httpcore) walks
every pooled connection and polls its socket on every request, so its cost grows with concurrency; at 64
in flight it was over half of a node's CPU in the signed round-trip benchmark. A node only ever POSTs a
small JSON body to a peer and reads a small answer, which needs very little of HTTP: this client writes
the request itself, parses the answer with `httptools` (llhttp, the parser uvicorn already uses, so no new
dependency), and keeps idle connections per peer in a LIFO stack.

Scope: plain `http://` — the sandbox and nodes behind a TLS-terminating proxy. `https://` URLs go through
httpx (`BecknClient` chooses). Every failure to get a complete answer is a `TransportError`; the caller
(`BecknClient.send`) decides whether to retry, and a retried Beckn message keeps its messageId, so a
request that did arrive is recognised by the peer's replay guard rather than processed twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools
import orjson

__all__ = ["Http1Client", "Http1Response", "TransportError"]

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
IDLE_PER_PEER = 128
#: Open connections per peer at most; more requests in flight wait for one (time counted in the timeout),
#: so a burst cannot exhaust the process's file descriptors.
CONNECTIONS_PER_PEER = 256


class TransportError(Exception):
    """No complete HTTP answer: refused, reset, closed early, timed out, or not HTTP."""


@dataclass(frozen=True)
class Http1Response:
    status_code: int
    headers: tuple[tuple[bytes, bytes], ...]
    content: bytes

    def json(self) -> object:
        return orjson.loads(self.content)

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


@lru_cache(maxsize=1024)
def _target(url: str) -> tuple[str, int, str, bytes]:
    """(host, port, path, Host header) of an http:// URL; anything else is a ValueError."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not a plain http:// URL: {url!r}")
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return parts.hostname, port, path, host_header.encode("idna")


def _header_line(name: str, value: str) -> bytes:
    if any(c in name or c in value for c in "\r\n\0") or ":" in name:
        raise ValueError(f"header {name!r} holds a forbidden character")
    return f"{name}: {value}\r\n".encode("latin-1")


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request on it at a time (no pipelining)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._waiter: asyncio.Future[Http1Response] | None = None
        self._reset()

    def _reset(self) -> None:
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0

    # -- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(TransportError(f"the peer's answer is not valid HTTP/1.1 ({exc})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        why = f": {exc}" if exc else ""
        self._fail(TransportError(f"the peer closed the connection before answering{why}"))

    # -- httptools callbacks -----------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_RESPONSE_BYTES:
            self._fail(TransportError(f"the peer's answer exceeds {MAX_RESPONSE_BYTES} bytes"))
            self.close()
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer = Http1Response(self.parser.get_status_code(), tuple(self._headers), b"".join(self._body))
        keep = self.parser.should_keep_alive()
        self._reset()
        if not keep:
            self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    # -- use ---------------------------------------------------------------------------------------
    def _fail(self, exc: TransportError) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes) -> Http1Response:
        assert self.transport is not None and self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._waiter


class Http1Client:
    """POST to plain-HTTP peers over pooled keep-alive connections.

    Connections belong to the event loop that opened them: used from another loop (a second
    `asyncio.run`), the client forgets the old loop's idle connections instead of reusing them.
    """

    def __init__(self, *, timeout_s: float = 10.0, user_agent: str = "ies"):
        self.timeout_s = timeout_s
        self.user_agent = user_agent
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._slots: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(self, url: str, content: bytes, headers: dict[str, str] | None = None) -> Http1Response:
        host, port, path, host_header = _target(url)
        head = [
            b"POST ",
            path.encode("latin-1"),
            b" HTTP/1.1\r\nHost: ",
            host_header,
            b"\r\nUser-Agent: ",
            self.user_agent.encode("latin-1"),
            b"\r\nContent-Length: ",
            str(len(content)).encode(),
            b"\r\n",
        ]
        for name, value in (headers or {}).items():
            head.append(_header_line(name, value))
        request = b"".join([*head, b"\r\n", content])
        key = (host, port)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # the old loop's transports and semaphores cannot serve this one
            self._idle, self._slots, self._loop = {}, {}, loop
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = asyncio.Semaphore(CONNECTIONS_PER_PEER)
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout_s), slots:
                conn = await self._acquire(key)
                answer = await conn.exchange(request)
        except TimeoutError:
            if conn is not None:
                conn.close()
            raise TransportError(f"no answer from {host}:{port} within {self.timeout_s} s") from None
        except OSError as exc:
            if conn is not None:
                conn.close()
            raise TransportError(f"{host}:{port}: {exc.strerror or exc}") from None
        except BaseException:  # cancelled, or the connection failed: it cannot carry another request
            if conn is not None:
                conn.close()
            raise
        self._release(key, conn)
        return answer

    async def _acquire(self, key: tuple[str, int]) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        loop = asyncio.get_running_loop()
        _transport, conn = await loop.create_connection(_Connection, *key)
        return conn

    def _release(self, key: tuple[str, int], conn: _Connection) -> None:
        if conn.closed:
            return
        idle = self._idle.setdefault(key, [])
        if len(idle) >= IDLE_PER_PEER:
            conn.close()
        else:
            idle.append(conn)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
