"""IT/OT segmentation: operational-control commands are their own class of message, on their own endpoint.

A command is any object in a Beckn `message` whose `@type` is an operational-control type:

    {"command": {"@type": "DispatchInstruction", "commandId": "…", "target": "did:web:…:assets:der:42",
                 "setpointW": 5000, "start": "…Z", "end": "…Z"}}

(`DispatchInstruction` → DISPATCH, `CurtailmentInstruction` → CURTAILMENT, `LoadControlCommand` →
LOAD_CONTROL). The whole message is scanned, so a command hidden inside a contract is still found.

Why a separate ExchangeRouter and listener: the informational endpoint (trading, data) refuses every
command (`POL_OT_WRONG_ENDPOINT`); the operational router accepts nothing but commands and critical
operational data requests, each decided by the bundle's IT/OT rules (`ies/itot/decision`): a certified-
interface credential is required and trading platforms (BAP/BPP) are refused whatever they hold. It can
be served by its own uvicorn listener (`operational_app`), so a firewall can keep it on the OT network.
Every command is audited (`policy.decision` for the decision, `policy.ot_command` for its execution),
besides the exchange's own `message.in` line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from ies.exchange.inbound import ExchangeRouter, InboundMessage
from ies.policy.catalogue import DataCatalogue
from ies.policy.decision import ConsentCheck, DecisionPoint
from ies.policy.errors import OtNotOperational
from ies.store import session_factory

if TYPE_CHECKING:
    from ies.policy.serving import DataSource

__all__ = [
    "COMMAND_TYPES",
    "Command",
    "CommandSink",
    "find_commands",
    "operational_app",
    "operational_exchange",
    "operational_router",
]

COMMAND_TYPES = {
    "DispatchInstruction": "DISPATCH",
    "CurtailmentInstruction": "CURTAILMENT",
    "LoadControlCommand": "LOAD_CONTROL",
}
# The receiving pipeline refuses bodies over 2 MiB first, and a 2 MiB JSON document has fewer nodes than
# this, so every accepted message is scanned whole (big catalogues included); the cap guards direct calls.
MAX_SCAN_NODES = 1_000_000
COMMAND_ACTIONS = ("confirm", "update")


@dataclass(frozen=True)
class Command:
    kind: str
    body: dict[str, Any]


def find_commands(message: Any) -> list[Command]:
    """Every operational-control object anywhere in `message` (bounded walk, no recursion limit hit)."""
    found: list[Command] = []
    stack = [message]
    seen = 0
    while stack and seen < MAX_SCAN_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            kind = node.get("@type")
            if isinstance(kind, str) and kind in COMMAND_TYPES:
                found.append(Command(COMMAND_TYPES[kind], node))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if stack:  # too big to scan entirely: treat as operational, so the strict endpoint rules apply
        found.append(Command("UNKNOWN", {}))
    return found


CommandSink = Callable[[InboundMessage, Command], Awaitable[dict[str, Any]]]
"""Executes an accepted command (the node's DER/SCADA adapter) and returns its status object."""


def _audit_sink(engine: Engine) -> CommandSink:
    """Default sink: record the accepted command in the audit log and report it as ACCEPTED."""
    from ies.audit import append

    sessions = session_factory(engine)

    async def sink(msg: InboundMessage, command: Command) -> dict[str, Any]:
        with sessions.begin() as session:
            entry = append(
                session,
                "policy.ot_command",
                msg.signer.subscriber_id,
                f"command:{command.kind}",
                {"messageId": msg.context.messageId, "command": command.body},
            )
        return {"commandType": command.kind, "status": "ACCEPTED", "auditSeq": entry.seq}

    return sink


def operational_exchange(
    base: ExchangeRouter,
    point: DecisionPoint,
    catalogue: DataCatalogue,
    *,
    engine: Engine,
    sink: CommandSink | None = None,
    sources: dict[str, DataSource] | None = None,
    consent_check: ConsentCheck | None = None,
) -> ExchangeRouter:
    """An ExchangeRouter for the operational endpoint: same verifier, message log and callbacks as the
    node's router, its own policy (commands and C3 data only, IT/OT rules) and command handlers."""
    from ies.policy.serving import data_requests, install_data_serving, policy_hook

    data_check = policy_hook(point, catalogue, operational=True, consent_check=consent_check)

    async def ot_policy(msg: InboundMessage) -> None:
        commands = find_commands(msg.message)
        if commands:
            for command in commands:
                point.decide_command(msg.signer, command.kind, operational=True)
            return
        if not data_requests(msg.message, catalogue):
            if point.on_decision is not None:
                point.on_decision("deny", OtNotOperational.code)
            raise OtNotOperational(
                "the operational endpoint accepts only operational commands and operational data requests",
                details={"rule": "itot-operational-only"},
            )
        await data_check(msg)

    router = ExchangeRouter(
        subscriber_id=base.subscriber_id,
        verifier=base.verifier,
        log=base.log,
        send_callback=base.send_callback,
        validators=list(base.validators),
        policy=ot_policy,
    )
    execute = sink or _audit_sink(engine)
    install_data_serving(router, point, catalogue, sources or {}, consent_check=consent_check)
    data_handlers = {a: router.handlers[a] for a in ("confirm",)}

    async def run_commands(msg: InboundMessage) -> dict[str, Any]:
        commands = find_commands(msg.message)
        if not commands and "confirm" in data_handlers:
            return dict(await data_handlers["confirm"](msg) or {})
        return {"commandResults": [await execute(msg, c) for c in commands]}

    for action in COMMAND_ACTIONS:
        router.on(action)(run_commands)
    return router


def operational_router(router: ExchangeRouter, prefix: str = "/ot/beckn") -> APIRouter:
    """HTTP routes of the operational endpoint (mount on a separate listener in production)."""
    api = APIRouter()

    @api.post(prefix + "/{action:path}")
    async def receive(action: str, request: Request) -> Response:
        raw = await request.body()
        reply = await router.receive(action, request.headers.get("authorization"), raw)
        return Response(orjson.dumps(reply.body), reply.status, reply.headers, media_type="application/json")

    return api


def operational_app(router: ExchangeRouter, *, title: str = "ies operational endpoint") -> FastAPI:
    """A FastAPI app serving only the operational endpoint, for its own listener (port, interface)."""
    app = FastAPI(title=title)
    app.include_router(operational_router(router))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "endpoint": "operational"}

    return app
