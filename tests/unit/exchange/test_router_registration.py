"""Handlers are checked when they are registered (a misspelt action fails at start-up, listing valid ones)."""

from __future__ import annotations

import pytest

from ies.exchange.context import (
    ALL_ACTIONS,
    Context,
    callback_of,
    is_callback,
    normalise_context,
    ttl_seconds,
)
from ies.exchange.inbound import ExchangeRouter
from ies.exchange.messagelog import MessageLog
from ies.exchange.verify import Verifier


async def _no_keys(_s: str, _k: str) -> None:
    return None


def test_unknown_action_is_refused_at_registration(tmp_path: object) -> None:
    from ies.store import open_engine

    router = ExchangeRouter(
        subscriber_id="bpp.example",
        verifier=Verifier(_no_keys),  # type: ignore[arg-type]
        log=MessageLog(open_engine("sqlite:///:memory:")),
    )

    @router.on("select")
    async def ok(_msg: object) -> None:
        return None

    assert router.accepts("select") and not router.accepts("init")
    with pytest.raises(ValueError, match=r"unknown Beckn action .selct.*select"):
        router.on("selct")


def test_context_helpers() -> None:
    assert len(ALL_ACTIONS) == 22
    assert callback_of("select") == "on_select" and callback_of("catalog/publish") == "catalog/on_publish"
    assert is_callback("on_status") and not is_callback("status")
    ctx = Context.model_validate(
        normalise_context({"action": "on_select", "message_id": "m", "bpp_id": "b", "bppId": "camel-wins"})
    )
    assert ctx.messageId == "m" and ctx.sender_id() == "camel-wins"
    assert Context(action="catalog/publish", messageId="m", bppId="p").sender_id() == "p"
    assert ttl_seconds("PT30S") == 30 and ttl_seconds("PT1H2M3S") == 3723 and ttl_seconds("P1M") == 30
