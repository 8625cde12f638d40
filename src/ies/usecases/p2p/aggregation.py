"""Aggregators: a registered network participant trading on behalf of its prosumers through a platform.

Issue 7 item 1 and seed §12: small prosumers reach the market through an aggregator. Here an aggregator
is its own node, subscribed in the registry with role AGGREGATOR (`role = "aggregator"` in its P2P
settings, `platform` naming the trading platform it trades through). It never holds a customer account
at a DISCOM and never contracts itself: its prosumers stay the parties of their trades (their meters
are what is allocated and settled), and the contract names the aggregator beside each of them
(`EnergyCustomer.aggregatorId`).

Aggregator → platform is signed node-to-node HTTP (`signed_http`): the platform authenticates the
request against the registry (key, subscriber status) and requires the AGGREGATOR role, then:

    POST /p2p/agent/prosumers   enrol prosumers: each with the DISCOM's signed record or credential,
                                verified exactly as for a prosumer enrolling in person
    POST /p2p/agent/offers      offers of its prosumers (regulator's rules as for anyone)
    POST /p2p/agent/bids        bids of its prosumers
    POST /p2p/agent/trades      the trades of its prosumers

An aggregator may act only for prosumers it enrolled; a prosumer enrolled in person (or by another
aggregator) is refused (POL_P2P_NOT_REPRESENTED). On the aggregator node the same four operations are
its operator's routes (`/p2p/aggregator/…`), each forwarded, signed, to its platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select

from ies._http import error_response
from ies.errors import IESError, PolicyError, UsageError
from ies.usecases.p2p.base import P2PNode, json_body, require_operator
from ies.usecases.p2p.ledger_book import trade_summary
from ies.usecases.p2p.platform import enrol_all
from ies.usecases.p2p.signed_http import ReplayGuard, SignedCaller, signed_caller, signed_post
from ies.usecases.p2p.tables import ProsumerRow, TradeRow

if TYPE_CHECKING:
    from ies.usecases.p2p.buyer import BuyerDesk
    from ies.usecases.p2p.seller import SellerDesk

__all__ = ["install_agent_routes", "install_aggregator"]

MAX_ITEMS = 5000
AGENT_ACTIONS = ("prosumers", "offers", "bids", "trades")


class NotRepresented(PolicyError):
    """The aggregator asked to act for a prosumer it did not enrol."""

    code = "POL_P2P_NOT_REPRESENTED"


def _items(body: Any, key: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    if (
        not isinstance(items, list)
        or not 1 <= len(items) <= MAX_ITEMS
        or not all(isinstance(i, dict) for i in items)
    ):
        raise UsageError(f"give {key}: a list of 1…{MAX_ITEMS} objects")
    return items


def _represented(node: P2PNode, aggregator: str, participant: str) -> None:
    with node.sessions() as session:
        row = session.get(ProsumerRow, participant)
    if row is None or row.aggregator_id != aggregator:
        with node.transaction() as session:
            node.refuse(session, "NOT_REPRESENTED", participant or "-", f"{aggregator} does not represent it")
        raise NotRepresented(
            f"{aggregator} did not enrol {participant} on this platform", details={"rule": "NOT_REPRESENTED"}
        )


# -- the trading platform's side ------------------------------------------------------------------------
def install_agent_routes(node: P2PNode, seller: SellerDesk, buyer: BuyerDesk) -> None:
    """The platform's `/p2p/agent/…` routes, for registered aggregators only."""
    router = APIRouter(prefix="/p2p/agent")
    guard = ReplayGuard()

    async def prosumers(caller: SignedCaller) -> dict[str, Any]:
        items = _items(caller.body, "prosumers")
        return {"prosumers": await enrol_all(node, items, aggregator=caller.subscriber_id)}

    def orders(add: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Callable[..., Any]:
        async def run(caller: SignedCaller) -> dict[str, Any]:
            results = []
            for item in _items(caller.body, key):
                try:
                    _represented(node, caller.subscriber_id, str(item.get("participant_id", "")))
                    results.append(add(item))
                except IESError as err:
                    results.append({"participant_id": item.get("participant_id"), "error": err.to_dict()})
            answer: dict[str, Any] = {key: results}
            if key == "offers" and any("error" not in r for r in results):
                answer["published"] = await seller.publish()
            return answer

        return run

    async def trades(caller: SignedCaller) -> dict[str, Any]:
        with node.sessions() as session:
            mine = select(ProsumerRow.participant_id).where(ProsumerRow.aggregator_id == caller.subscriber_id)
            rows = session.scalars(
                select(TradeRow)
                .where(or_(TradeRow.seller_id.in_(mine), TradeRow.buyer_id.in_(mine)))
                .order_by(TradeRow.created_at)
            )
            return {"trades": [trade_summary(session, r) for r in rows]}

    handlers: dict[str, Callable[[SignedCaller], Awaitable[dict[str, Any]]]] = {
        "prosumers": prosumers,
        "offers": orders(seller.add_offer, "offers"),
        "bids": orders(buyer.add_bid, "bids"),
        "trades": trades,
    }

    @router.post("/{action}")
    async def agent(action: str, request: Request) -> JSONResponse:
        try:
            if action not in handlers:
                raise UsageError(f"unknown agent action {action!r}: one of {', '.join(AGENT_ACTIONS)}")
            caller = await signed_caller(node, request, guard, role="AGGREGATOR")
            answer = await handlers[action](caller)
            if action != "trades":
                with node.transaction() as session:
                    node.audit(
                        session, f"p2p.agent.{action}", caller.subscriber_id, {"items": len(answer[action])}
                    )
            return JSONResponse(answer)
        except IESError as err:
            return error_response(err)

    node.runtime.routers.append(router)


# -- the aggregator's own node ----------------------------------------------------------------------------
def install_aggregator(node: P2PNode) -> None:
    """An aggregator node's operator routes, each forwarded signed to its trading platform."""
    router = APIRouter(prefix="/p2p/aggregator")

    @router.post("/{action}")
    async def forward(action: str, request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            if action not in AGENT_ACTIONS:
                raise UsageError(f"unknown action {action!r}: one of {', '.join(AGENT_ACTIONS)}")
            body = await json_body(request)
            platform = await node.peer(str(node.settings.platform))
            answer = await signed_post(node, f"{platform.base_url}/p2p/agent/{action}", body or {})
            if action != "trades":
                with node.transaction() as session:
                    node.audit(
                        session,
                        f"p2p.aggregator.{action}",
                        platform.subscriber_id,
                        {"items": len(answer.get(action) or []), "refused": _refused(answer.get(action))},
                    )
            return JSONResponse(answer)
        except IESError as err:
            return error_response(err)

    node.runtime.routers.append(router)


def _refused(results: Any) -> int:
    return sum(1 for r in results or [] if isinstance(r, dict) and "error" in r)
