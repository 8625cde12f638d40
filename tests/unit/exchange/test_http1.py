"""The node's HTTP/1.1 client against real sockets: keep-alive reuse, every way an answer can go wrong
(closed early, not HTTP, too large, too slow) is a TransportError, and a connection that failed is never
reused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from ies.exchange import http1
from ies.exchange.http1 import Http1Client, TransportError

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def serve(script: Script) -> tuple[asyncio.Server, str, list[int]]:
    """A server running `script` per connection; returns it, its URL and the list of client ports seen."""
    peers: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[1])
        try:
            await script(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/beckn/select", peers


@asynccontextmanager
async def running(
    script: Script, timeout_s: float = 10.0
) -> AsyncIterator[tuple[Http1Client, str, list[int]]]:
    """A scripted server and a client to it, both closed afterwards."""
    server, url, peers = await serve(script)
    client = Http1Client(timeout_s=timeout_s)
    try:
        yield client, url, peers
    finally:
        await client.aclose()
        server.close()


async def echo_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head, body = await read_request(reader)
        assert head.startswith(b"POST /beckn/select HTTP/1.1\r\n")
        writer.write(ok(body))
        await writer.drain()


def test_sequential_requests_reuse_one_connection_and_send_the_exact_bytes() -> None:
    async def go() -> None:
        async with running(echo_forever) as (client, url, peers):
            for i in range(5):
                answer = await client.post(url, b'{"n": %d}' % i, {"Content-Type": "application/json"})
                assert answer.status_code == 200 and answer.json() == {"n": i}
            assert len(peers) == 1  # one connection carried all five

    asyncio.run(go())


def test_concurrent_requests_each_get_their_own_answer() -> None:
    async def go() -> None:
        async with running(echo_forever) as (client, url, peers):
            answers = await asyncio.gather(*(client.post(url, b"[%d]" % i) for i in range(50)))
            assert [a.json() for a in answers] == [[i] for i in range(50)]
            again = await asyncio.gather(*(client.post(url, b"[%d]" % i) for i in range(50)))
            assert [a.json() for a in again] == [[i] for i in range(50)]
            assert len(peers) <= 50  # the second round reused the first round's connections

    asyncio.run(go())


def test_a_chunked_answer_and_connection_close_are_understood() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b'5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n'
        )
        await writer.drain()

    async def go() -> None:
        async with running(script) as (client, url, peers):
            first = await client.post(url, b"{}")
            assert first.status_code == 503 and first.json() == {"a": 1}
            assert first.header("connection") == "close"
            second = await client.post(url, b"{}")  # the closed connection is not reused
            assert second.status_code == 503 and len(peers) == 2

    asyncio.run(go())


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closed without a word
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",  # closed halfway through the body
        b"SMTP ready\r\n\r\n",  # not HTTP at all
    ],
)
def test_an_answer_that_is_not_complete_http_is_a_transport_error(answer: bytes) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def go() -> None:
        async with running(script) as (client, url, _):
            with pytest.raises(TransportError):
                await client.post(url, b"{}")
            assert not any(client._idle.values())  # nothing broken is kept for reuse

    asyncio.run(go())


def test_an_oversized_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "MAX_RESPONSE_BYTES", 1000)

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(ok(b"x" * 5000))
        await writer.drain()
        await asyncio.sleep(1)

    async def go() -> None:
        async with running(script) as (client, url, _):
            with pytest.raises(TransportError, match="exceeds"):
                await client.post(url, b"{}")

    asyncio.run(go())


def test_a_slow_peer_times_out_and_its_connection_is_dropped() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def go() -> None:
        async with running(script, timeout_s=0.2) as (client, url, _):
            with pytest.raises(TransportError, match=r"within 0\.2 s"):
                await client.post(url, b"{}")
            assert not any(client._idle.values())

    asyncio.run(go())


def test_a_refused_connection_is_a_transport_error() -> None:
    async def go() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = Http1Client()
        with pytest.raises(TransportError):
            await client.post(f"http://127.0.0.1:{port}/x", b"{}")

    asyncio.run(go())


def test_a_peer_that_closed_an_idle_connection_gets_a_fresh_one() -> None:
    async def one_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, body = await read_request(reader)
        writer.write(ok(body))  # keep-alive promised, then the connection is closed (an idle timeout)
        await writer.drain()

    async def go() -> None:
        async with running(one_request) as (client, url, peers):
            assert (await client.post(url, b"[1]")).json() == [1]
            await asyncio.sleep(0.1)  # the close reaches us while the connection is idle
            assert (await client.post(url, b"[2]")).json() == [2]
            assert len(peers) == 2

    asyncio.run(go())


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("https://peer.example/beckn/select", {}),  # TLS is httpx's job (BecknClient chooses)
        ("http:///no-host", {}),
        ("http://127.0.0.1:1/x", {"X-Evil": "a\r\nInjected: yes"}),
    ],
)
def test_what_cannot_be_sent_is_a_value_error(url: str, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        asyncio.run(Http1Client().post(url, b"{}", headers))


def test_a_client_used_from_a_second_event_loop_opens_fresh_connections() -> None:
    import socket
    import threading

    ports: list[int] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(ok(b"[]"))
            while conn.recv(65536):  # keep-alive: the connection stays open, looking reusable
                pass

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def accept() -> None:
        for _ in range(2):
            conn, peer = listener.accept()
            ports.append(peer[1])
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
    client = Http1Client(timeout_s=5)
    try:
        for _ in range(2):  # each asyncio.run is a new loop: the first loop's connection cannot be used
            assert asyncio.run(client.post(url, b"{}")).json() == []
        thread.join(5)
        assert len(ports) == 2 and ports[0] != ports[1]
    finally:
        listener.close()


def test_requests_beyond_the_connection_limit_wait_for_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "CONNECTIONS_PER_PEER", 3)

    async def go() -> None:
        async with running(echo_forever) as (client, url, peers):
            answers = await asyncio.gather(*(client.post(url, b"[%d]" % i) for i in range(40)))
            assert [a.json() for a in answers] == [[i] for i in range(40)]
            assert len(peers) == 3

    asyncio.run(go())
