"""The data consumer (a BAP): keep the verified state of its consents from the managers' notifications.

It starts transfers and asks for pages with its signed client (or the node's `/admin/caller/{action}`);
what this module adds is the other direction: every consent `on_update` a manager sends is checked and
kept (`ies.consent.notices.NoticeBook`), and `GET /consent/v1/notices` (operator token) lists the consents
the node may still use and how long it may keep what it received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ies.consent.auth import identify_caller
from ies.consent.notices import NoticeBook
from ies.consent.peers import Peers
from ies.errors import IESError, to_http
from ies.exchange.inbound import InboundMessage

if TYPE_CHECKING:
    from ies.node.runtime import NodeRuntime

__all__ = ["install_consumer"]


def install_consumer(runtime: NodeRuntime, settings: dict[str, Any]) -> NoticeBook:
    managers = settings.get("consent_managers", [])
    book = NoticeBook(
        runtime, Peers(runtime), {str(m) for m in ([managers] if isinstance(managers, str) else managers)}
    )
    previous = runtime.router.handlers.get("on_update")

    async def on_update(msg: InboundMessage) -> dict[str, Any] | None:
        if isinstance(msg.message.get("consentNotification"), dict):
            await book.receive(msg)
            return None
        return await previous(msg) if previous is not None else None

    runtime.router.on("on_update")(on_update)
    router = APIRouter(prefix="/consent/v1", tags=["consent"])

    @router.get("/notices")
    async def notices(request: Request, consent: str | None = None) -> JSONResponse:
        try:
            caller = await identify_caller(
                request.headers.get("authorization"),
                b"",
                admin_token=runtime.admin_token,
                authenticate=runtime.router.verifier.authenticate,
            )
            caller.require("operator")
        except IESError as err:
            status, body = to_http(err)
            return JSONResponse({"error": body}, status_code=status)
        if consent is not None:
            return JSONResponse({"notices": [n for n in [book.state_of(consent)] if n is not None]})
        return JSONResponse({"notices": book.all()})

    runtime.routers.append(router)
    return book
