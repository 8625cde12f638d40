"""A handler that crashes still answers: the peer gets an INTERNAL error callback instead of a timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from ies.exchange.context import new_context
from ies.exchange.inbound import ExchangeRouter, InboundMessage
from ies.exchange.messagelog import MessageLog
from ies.exchange.signing import build_authorization
from ies.exchange.verify import Verifier
from ies.identity.keys import SigningKeyPair
from ies.registry.records import KeyRecord, standing_record
from ies.store import migrate, open_engine, sqlite_url_for

KEY = SigningKeyPair.generate()
RECORD = standing_record("bap.example", "k1", KEY.public_key_b64, url="http://127.0.0.1:1/beckn")


async def keys(sub: str, key: str) -> KeyRecord | None:
    return RECORD if (sub, key) == ("bap.example", "k1") else None


def test_crashing_handler_sends_an_internal_error_callback(tmp_path: Any) -> None:
    engine = open_engine(sqlite_url_for(tmp_path / "n.db"))
    migrate(engine)
    sent: list[tuple[str, dict[str, Any]]] = []

    async def send_callback(_msg: InboundMessage, action: str, answer: dict[str, Any]) -> None:
        sent.append((action, answer))

    router = ExchangeRouter(
        subscriber_id="bpp.example",
        verifier=Verifier(keys),
        log=MessageLog(engine),
        send_callback=send_callback,
    )

    @router.on("select")
    async def broken(_msg: InboundMessage) -> dict[str, Any]:
        raise RuntimeError("bug")

    ctx = new_context(
        "select", bap_id="bap.example", bap_uri="http://127.0.0.1:1/beckn", bpp_id="bpp.example"
    )
    raw = orjson.dumps({"context": ctx.wire(), "message": {}})
    header = build_authorization(
        raw, subscriber_id="bap.example", key_id="k1", key=KEY, created=int(time.time())
    )

    async def go() -> None:
        reply = await router.receive("select", header, raw)
        assert reply.status == 200
        await router.drain()

    asyncio.run(go())
    assert sent == [("on_select", {"__error__": {"code": "INTERNAL", "message": "the handler failed"}})]
