"""The signed client against a real local HTTP server: retries with backoff on 5xx and transport errors,
re-signs each attempt, treats a replay NACK after a retry as delivered, and gives up with NET_*."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ies.errors import PeerUnreachable
from ies.exchange.context import new_context
from ies.exchange.outbound import BecknClient
from ies.exchange.signing import parse_authorization, verify_parsed
from ies.identity.keys import SigningKeyPair

KEY = SigningKeyPair.generate()


class FlakyPeer:
    """Answers 503 to the first `fail` requests, then ACK (or a replay NACK when `replay_after_retry`)."""

    def __init__(self, fail: int, replay_after_retry: bool = False):
        self.fail = fail
        self.replay_after_retry = replay_after_retry
        self.seen: list[tuple[str, bytes]] = []
        app = FastAPI()

        @app.post("/beckn/{action}")
        async def receive(action: str, request: Request) -> JSONResponse:
            raw = await request.body()
            self.seen.append((request.headers["authorization"], raw))
            mid = orjson.loads(raw)["context"]["messageId"]
            if len(self.seen) <= self.fail:
                return JSONResponse({"message": {"status": "NACK", "messageId": mid}}, status_code=503)
            if self.replay_after_retry:
                err = {"code": "NET_REPLAYED_MESSAGE", "message": "seen"}
                return JSONResponse({"message": {"status": "NACK", "messageId": mid, "error": err}}, 409)
            return JSONResponse({"message": {"status": "ACK", "messageId": mid}})

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def peer_factory() -> Iterator[list[FlakyPeer]]:
    peers: list[FlakyPeer] = []
    yield peers
    for p in peers:
        p.close()


def body() -> dict[str, object]:
    ctx = new_context("select", bap_id="bap.example", bap_uri="http://127.0.0.1:1/beckn")
    return {"context": ctx.wire(), "message": {}}


def client() -> BecknClient:
    return BecknClient(subscriber_id="bap.example", key_id="k1", key=KEY, retries=3, backoff_s=0.01)


def test_retries_5xx_then_acks_with_a_fresh_valid_signature_each_time(peer_factory: list[FlakyPeer]) -> None:
    peer = FlakyPeer(fail=2)
    peer_factory.append(peer)

    async def go() -> None:
        c = client()
        ack = await c.send(f"http://127.0.0.1:{peer.port}/beckn/select", body())
        await c.aclose()
        assert ack.ok and ack.http_status == 200

    asyncio.run(go())
    assert len(peer.seen) == 3
    raws = {raw for _h, raw in peer.seen}
    assert len(raws) == 1  # the same bytes each time (same messageId)
    for header, raw in peer.seen:
        verify_parsed(parse_authorization(header), raw, KEY.public_key)


def test_replay_nack_after_a_retry_counts_as_delivered(peer_factory: list[FlakyPeer]) -> None:
    peer = FlakyPeer(fail=1, replay_after_retry=True)
    peer_factory.append(peer)

    async def go() -> None:
        c = client()
        ack = await c.send(f"http://127.0.0.1:{peer.port}/beckn/select", body())
        await c.aclose()
        assert ack.ok

    asyncio.run(go())


def test_gives_up_with_net_peer_unreachable(peer_factory: list[FlakyPeer]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    async def go() -> None:
        c = client()
        try:
            with pytest.raises(PeerUnreachable) as exc:
                await c.send(f"http://127.0.0.1:{closed_port}/beckn/select", body())
            assert "4 attempts" in exc.value.message
        finally:
            await c.aclose()

    asyncio.run(go())


def test_a_4xx_nack_is_not_retried(peer_factory: list[FlakyPeer]) -> None:
    peer = FlakyPeer(fail=0, replay_after_retry=True)  # first answer is a 409 replay NACK: final
    peer_factory.append(peer)

    async def go() -> None:
        c = client()
        ack = await c.send(f"http://127.0.0.1:{peer.port}/beckn/select", body())
        await c.aclose()
        assert not ack.ok and ack.error == {"code": "NET_REPLAYED_MESSAGE", "message": "seen"}

    asyncio.run(go())
    assert len(peer.seen) == 1


def test_an_unusable_peer_url_fails_at_once_without_retrying() -> None:
    async def go() -> None:
        c = client()
        try:
            with pytest.raises(PeerUnreachable) as exc:
                await c.send("http:///beckn/select", body())  # no host: no attempt could succeed
            assert exc.value.code == "NET_PEER_UNREACHABLE"
            assert "cannot send" in exc.value.message and "attempts" not in exc.value.message  # not retried
        finally:
            await c.aclose()

    asyncio.run(go())
