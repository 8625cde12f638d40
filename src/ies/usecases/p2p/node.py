"""Installing a node's P2P role (`settings["p2p"]["role"]`), and the routes every P2P role serves.

    tp       a trading platform: seller desk (BPP handlers, offers, catalogue) and buyer desk (bids,
             discovery, matching, contracts), onboarding, the allocation relay
    ledger   a DISCOM's Ledger Provider (`ies.usecases.p2p.ledger`)
    discom   a DISCOM (`ies.usecases.p2p.discom`)
    aggregator  a registered aggregator trading for its prosumers through a platform (`aggregation`)
    cds      a catalogue discovery service that also reads the devkit's discovery filter (see `catalog`)

Common operator routes: `GET /p2p/trades`, `GET /p2p/trades/{id}`, `GET /p2p/events`,
`GET /p2p/evidence/{id}`, `POST /p2p/policy/bundles` (a new signed version of a rule bundle),
`POST /p2p/audit/verify`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from ies._http import error_response
from ies.audit import check_log
from ies.errors import IESError, UsageError
from ies.exchange.inbound import InboundMessage
from ies.usecases.p2p.base import P2PNode, json_body, on, require_operator
from ies.usecases.p2p.ledger_book import trade_summary
from ies.usecases.p2p.rules import RuleBook
from ies.usecases.p2p.settings import load_settings
from ies.usecases.p2p.tables import EventRow, TradeRow

if TYPE_CHECKING:
    from ies.node.app import NodeRuntime

__all__ = ["install_role"]

log = logging.getLogger("ies.p2p")


def install_role(runtime: NodeRuntime) -> P2PNode:
    raw = dict(runtime.cfg.settings.get("p2p") or {})
    if raw.get("role") == "cds":
        _install_cds_filter(runtime)
        return P2PNode(runtime, load_settings({"role": "tp", "ledgers": {"-": "-"}}))
    settings = load_settings(raw)
    node = P2PNode(runtime, settings)
    node.rules = RuleBook(runtime.engine, settings.policy_bundles, settings.policy_trusted_keys)
    if settings.role == "discom":
        from ies.usecases.p2p.discom import install_discom

        install_discom(node)
    elif settings.role == "ledger":
        from ies.usecases.p2p.ledger import install_ledger

        install_ledger(node)
    elif settings.role == "aggregator":
        from ies.usecases.p2p.aggregation import install_aggregator

        install_aggregator(node)
    else:
        _install_platform(node)
    _install_common(node)
    return node


def _install_platform(node: P2PNode) -> None:
    from ies.usecases.p2p.aggregation import install_agent_routes
    from ies.usecases.p2p.buyer import BuyerDesk, install_buyer
    from ies.usecases.p2p.platform import enrol_all, relay_status
    from ies.usecases.p2p.seller import SellerDesk, install_seller

    runtime = node.runtime
    seller = SellerDesk(node)
    buyer = BuyerDesk(node)
    install_seller(node, seller)
    install_buyer(node, buyer)
    install_agent_routes(node, seller, buyer)
    runtime.catalog = {"id": f"p2p-{node.subscriber_id}", "descriptor": {"name": "P2P offers"}, "offers": []}

    @on(node, "on_status")
    async def on_status(msg: InboundMessage) -> None:
        await relay_status(node, msg)

    router = APIRouter(prefix="/p2p")

    @router.post("/prosumers")
    async def prosumers(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            items = body.get("prosumers") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise UsageError("give prosumers[{participant_id, record | credential}]")
            return JSONResponse({"prosumers": await enrol_all(node, items)})
        except IESError as err:
            return error_response(err)

    runtime.routers.append(router)


def _install_cds_filter(runtime: NodeRuntime) -> None:
    """Wrap the CDS's discover handler so the devkit's `offers[*][?…]` filter means `offers[?…]`."""
    from ies.usecases.p2p.catalog import strict_filter

    inner = runtime.router.handlers.get("discover")
    if inner is None:
        raise UsageError("the cds P2P role needs a node with the CDS role")

    async def discover(msg: InboundMessage) -> dict[str, Any] | None:
        intent = msg.message.get("intent")
        filters = intent.get("filters") if isinstance(intent, dict) else None
        if isinstance(filters, dict) and isinstance(filters.get("expression"), str):
            strict = strict_filter(filters["expression"])
            if strict != filters["expression"]:
                log.info("discover filter %r read as %r (RFC 9535)", filters["expression"], strict)
                filters["expression"] = strict
        return await inner(msg)

    runtime.router.handlers["discover"] = discover


def _install_common(node: P2PNode) -> None:
    router = APIRouter(prefix="/p2p")

    @router.get("/trades")
    def trades(request: Request, status: str | None = None, limit: int = 10_000) -> JSONResponse:
        try:
            require_operator(node, request)
            with node.sessions() as session:
                query = select(TradeRow).order_by(TradeRow.created_at).limit(min(max(limit, 1), 100_000))
                if status:
                    query = query.where(TradeRow.status == status)
                return JSONResponse({"trades": [trade_summary(session, r) for r in session.scalars(query)]})
        except IESError as err:
            return error_response(err)

    @router.get("/events")
    def events(request: Request, kind: str = "refusal") -> JSONResponse:
        try:
            require_operator(node, request)
            with node.sessions() as session:
                by_rule = dict(
                    session.execute(
                        select(EventRow.rule, func.count())
                        .where(EventRow.kind == kind)
                        .group_by(EventRow.rule)
                    ).all()
                )
                recent = [
                    {
                        "at": e.at.isoformat(),
                        "rule": e.rule,
                        "subject": e.subject,
                        "message": e.message,
                        "bundle": {"name": e.bundle_name, "version": e.bundle_version, "hash": e.bundle_hash},
                    }
                    for e in session.scalars(
                        select(EventRow)
                        .where(EventRow.kind == kind)
                        .order_by(EventRow.event_id.desc())
                        .limit(200)
                    )
                ]
            return JSONResponse({"by_rule": by_rule, "recent": recent})
        except IESError as err:
            return error_response(err)

    @router.get("/evidence/{contract_id}")
    def evidence(contract_id: str, request: Request) -> JSONResponse:
        from ies.usecases.p2p.evidence import collect

        try:
            require_operator(node, request)
            return JSONResponse(collect(node, contract_id))
        except IESError as err:
            return error_response(err)

    @router.post("/policy/bundles")
    async def install_bundle(request: Request) -> JSONResponse:
        """Install a new signed version of a P2P rule bundle (`{"archive_b64": …}`), e.g. a DISCOM's new
        tariff in its contract policy: new contracts pin it, existing ones keep theirs."""
        try:
            require_operator(node, request)
            body = await json_body(request)
            try:
                archive = base64.b64decode(str(body["archive_b64"]), validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise UsageError("give archive_b64: the signed bundle archive, base64") from None
            assert node.rules is not None
            installed = node.rules.install(archive)
            with node.transaction() as session:
                node.audit(session, "p2p.policy.install", installed["name"], installed)
            return JSONResponse(installed)
        except IESError as err:
            return error_response(err)

    @router.post("/audit/verify")
    def audit_verify(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            answer = check_log(node.runtime.engine).to_dict()
            answer["findings"] = answer["findings"][:20]
            return JSONResponse(answer)
        except IESError as err:
            return error_response(err)

    node.runtime.routers.append(router)
