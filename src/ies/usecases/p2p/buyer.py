"""The buyer platform (BAP): its customers' bids, discovery, matching, and select → init → confirm.

`POST /p2p/bids` takes a customer's buy orders per block; the regulator's rules (cap on traded power,
gate closure) and eligibility are checked on the spot, so an over-cap or late bid is refused at once with
its rule. `POST /p2p/trade` then: discovers every EnergyTradeOffer on the network through the CDS
(JSONPath filter), matches the open bids against them with the market engine (price-time priority,
partial fills across offers and seller platforms), and turns each (buyer, offer) pair of fills into one
contract (or, with `market = "auction"`, clears one uniform-price call auction per DISCOM and block:
`proposals`): `select` → `init` (the seller side checks its rules and its ledger's feasibility) → our own
ledger's feasibility for the buyer's side → `confirm` → forward the confirmed contract to the buyer's
ledger and wait for its ACK. If that ledger does not record it, the seller platform is asked to `cancel`
(it un-records the trade at the seller's ledger), so both ledgers agree: recorded on both, or neither.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ies._http import error_response
from ies.errors import IESError, PeerUnreachable, UsageError
from ies.store import utcnow
from ies.usecases.p2p.base import LedgerUnavailable, P2PNode, json_body, require_operator
from ies.usecases.p2p.catalog import CatalogOffer, market_offers, offers_from_catalogs
from ies.usecases.p2p.contract import Trade, contract_body, parse_contract
from ies.usecases.p2p.ledger_book import save_trade
from ies.usecases.p2p.market import Bid, SourceType, block_at
from ies.usecases.p2p.platform import (
    customer_of,
    known_prosumer,
    ledger_party,
    prosumer,
    regulator_check,
    traded_wh,
)
from ies.usecases.p2p.proposals import CALL_AUCTION, Proposal, auctioned, matched
from ies.usecases.p2p.tables import BidRow, ProsumerRow

__all__ = ["BuyerDesk", "install_buyer"]

REQUEST_TIMEOUT_S = 60.0  # a callback slower than this fails the proposal (refused NET_CALLBACK_TIMEOUT)


class TradeRefused(IESError):
    code = "P2P_TRADE_REFUSED"


class BuyerDesk:
    def __init__(self, node: P2PNode):
        self.node = node

    # -- bids ----------------------------------------------------------------------------------------
    def add_bid(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            participant = str(body["participant_id"])
            sources = sorted({SourceType(str(s).upper()).value for s in body.get("source_types", [])})
            blocks = {
                int(b["block"]): (int(b["quantity_wh"]), int(b["limit_price_paise_per_kwh"]))
                for b in body["blocks"]
            }
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                "give participant_id and blocks[{block, quantity_wh, limit_price_paise_per_kwh}]"
            ) from None
        if not blocks or any(q <= 0 or p < 0 for q, p in blocks.values()):
            raise UsageError("a bid needs blocks with a positive quantity and a non-negative limit price")
        now = utcnow()
        with self.node.sessions() as session:
            row = known_prosumer(self.node, session, participant)
            already = traded_wh(session, participant, list(blocks))
            for bid in session.scalars(
                select(BidRow).where(BidRow.participant_id == participant, BidRow.block.in_(list(blocks)))
            ):
                already[bid.block] = already.get(bid.block, 0) + bid.quantity_wh - bid.filled_wh
            regulator_check(
                self.node,
                session,
                row,
                {b: q for b, (q, _) in blocks.items()},
                now,
                already=already,
                subject=participant,
            )
        ids = []
        with self.node.transaction() as session:
            for block, (qty, limit) in sorted(blocks.items()):
                order_id = f"bid-{uuid.uuid4().hex[:16]}"
                session.add(
                    BidRow(
                        order_id=order_id,
                        participant_id=participant,
                        block=block,
                        quantity_wh=qty,
                        limit_price_paise_per_kwh=limit,
                        source_types=",".join(sources),
                        filled_wh=0,
                        submitted_at=now,
                    )
                )
                ids.append(order_id)
            self.node.audit(session, "p2p.bid", participant, {"orders": len(ids)})
        return {"participant_id": participant, "orders": ids}

    # -- discovery and matching ----------------------------------------------------------------------
    async def discover(self) -> list[CatalogOffer]:
        """Every EnergyTradeOffer on the network, asked of the CDS one seller platform at a time.

        One `discover` per platform (the BPPs listed in the registry) keeps each `on_discover` to one
        platform's catalogue: a single answer holding every platform's offers grows with the network,
        and receivers bound the size of what they accept.
        """
        cds = self.node.runtime.cfg.cds_url
        if not cds:
            raise UsageError("this platform has no cds_url to discover from")
        offers: list[CatalogOffer] = []
        for platform in await self.node.peers.with_role("BPP"):
            expression = (
                f"$.catalogs[?@.bppId=='{platform}'].offers[?@.offerAttributes['@type']=='EnergyTradeOffer']"
            )
            ctx = self.node.context("discover")
            message = {"intent": {"filters": {"type": "jsonpath", "expression": expression}}}
            ack, callback = await self.node.runtime.client.request(cds, ctx, message, timeout_s=60)
            if not ack.ok or callback is None:
                raise PeerUnreachable(f"discovery failed: {ack.error}")
            found, _problems = offers_from_catalogs(callback.message.get("catalogs") or [])
            offers += found
        return offers

    def proposals(
        self, offers: list[CatalogOffer], market: str = "bilateral"
    ) -> tuple[list[Proposal], list[dict[str, Any]]]:
        """The open bids (blocks still before their gate) against the offers, by the market mechanism;
        returns the proposals and, for an auction, each block's clearing."""
        assert self.node.rules is not None
        gate = self.node.rules.regulator_settings.gate_closure_blocks
        first_open = block_at(datetime.now(UTC)) + gate + 1
        with self.node.sessions() as session:
            rows = session.scalars(
                select(BidRow).where(BidRow.block >= first_open, BidRow.filled_wh < BidRow.quantity_wh)
            ).all()
            utility = {p.participant_id: p.utility_id for p in session.scalars(select(ProsumerRow))}
        bids = [
            Bid(
                r.order_id,
                r.participant_id,
                self.node.subscriber_id,
                r.block,
                r.quantity_wh - r.filled_wh,
                r.limit_price_paise_per_kwh,
                r.submitted_at,
                frozenset(SourceType(s) for s in r.source_types.split(",") if s),
            )
            for r in rows
        ]
        book = market_offers(offers, not_before=first_open)
        if market == "auction":
            return auctioned(bids, offers, book, utility)
        return matched(bids, offers, book), []

    # -- one contract --------------------------------------------------------------------------------
    async def _request(
        self, url: str, action: str, message: dict[str, Any], txn: str, bpp: Any
    ) -> dict[str, Any]:
        ctx = self.node.context(action, bpp=bpp, transaction_id=txn)
        ack, callback = await self.node.runtime.client.request(url, ctx, message, timeout_s=REQUEST_TIMEOUT_S)
        if not ack.ok:
            err = ack.error or {}
            raise TradeRefused(
                str(err.get("message", f"{action} was refused")),
                code=str(err.get("code", "NACK")),
                details=err.get("details") or {},
            )
        assert callback is not None
        if "error" in callback.body:
            err = callback.body["error"]
            raise TradeRefused(
                str(err.get("message", "")),
                code=str(err.get("code", "REFUSED")),
                details=err.get("details") or {},
            )
        with self.node.transaction() as session:
            contract_id = str((callback.message.get("contract") or {}).get("id") or txn)
            self.node.keep_message(session, contract_id, callback)
        return callback.message

    async def execute(self, proposal: Proposal) -> Trade:
        seller_tp = await self.node.peer(proposal.offer.bpp_id)
        with self.node.sessions() as session:
            row = prosumer(session, proposal.buyer_id)
            buyer = customer_of(self.node, row)
        txn = str(uuid.uuid4())
        draft = Trade(
            contract_id="",
            offer_id=proposal.offer.offer_id,
            seller=proposal.offer.seller,
            buyer=buyer,
            buyer_ledger=await ledger_party(self.node, buyer.utility_id),
            source_type=proposal.offer.source_type,
            columns={"REQUESTED_QTY": dict(proposal.energy_wh)},
            market=proposal.market,
        )
        if proposal.market == CALL_AUCTION:  # the exchange's clearing price is the agreed price
            draft.columns["PRICE_PER_KWH"] = dict(proposal.price)
        answer = await self._request(
            seller_tp.url, "select", {"contract": contract_body(draft)}, txn, seller_tp
        )
        trade = parse_contract(answer.get("contract"))
        over = [b for b, p in trade.column("PRICE_PER_KWH").items() if p > proposal.price.get(b, -1)]
        if over:
            raise TradeRefused(
                f"the seller's price changed in blocks {over[:3]}",
                code="POL_P2P_PRICE_CHANGED",
                details={"rule": "PRICE_CHANGED"},
            )
        answer = await self._request(
            seller_tp.url, "init", {"contract": contract_body(trade)}, txn, seller_tp
        )
        trade = parse_contract(answer.get("contract"))
        ledger = await self.node.peer(draft.buyer_ledger.ledger_id)  # type: ignore[union-attr]
        await self._request(ledger.url, "init", {"contract": contract_body(trade)}, txn, ledger)
        with self.node.sessions() as session:
            regulator_ref = regulator_check(
                self.node,
                session,
                row,
                trade.column("REQUESTED_QTY"),
                datetime.now(UTC),
                subject=trade.contract_id,
            )
        with self.node.transaction() as session:
            save_trade(session, trade, transaction_id=txn, status="DRAFT")
        answer = await self._request(
            seller_tp.url, "confirm", {"contract": contract_body(trade)}, txn, seller_tp
        )
        trade = parse_contract(answer.get("contract"))
        body = contract_body(trade)
        try:
            ack = await self.node.send_one_way(ledger, "on_confirm", {"contract": body}, txn)
            if not ack.ok:
                raise LedgerUnavailable(f"the buyer's ledger refused to record: {ack.error}")
        except (PeerUnreachable, LedgerUnavailable) as err:
            await self._undo(seller_tp, trade, txn)
            failure = LedgerUnavailable(
                f"the buyer's ledger provider did not record the trade: {err.message}"
            )
            raise failure from None
        with self.node.transaction() as session:
            saved = save_trade(session, trade, transaction_id=txn, status="ACTIVE", body=body)
            saved.buyer_recorded = True
            saved.seller_recorded = (
                True  # the seller platform answered on_confirm only after its ledger's ACK
            )
            for order_id, blocks in proposal.orders.items():
                bid = session.get(BidRow, order_id)
                if bid is not None:
                    bid.filled_wh += sum(blocks.values())
            self.node.decided(session, trade.contract_id, {"regulator": regulator_ref})
            self.node.audit(
                session, "p2p.trade.confirmed", trade.contract_id, {"ledger": ledger.subscriber_id}
            )
        return trade

    async def _undo(self, seller_tp: Any, trade: Trade, txn: str) -> None:
        trade.status = "CANCELLED"
        await self._request(seller_tp.url, "cancel", {"contract": contract_body(trade)}, txn, seller_tp)
        with self.node.transaction() as session:
            save_trade(session, trade, transaction_id=txn, status="CANCELLED")

    async def trade(self, concurrency: int, market: str | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        market = market or self.node.settings.market
        offers = await self.discover()
        proposals, clearings = self.proposals(offers, market)
        if clearings:
            with self.node.transaction() as session:
                self.node.audit(
                    session, "p2p.auction.cleared", self.node.subscriber_id, {"clearings": clearings}
                )
        semaphore = asyncio.Semaphore(concurrency)
        refused: Counter[str] = Counter()
        confirmed: list[Trade] = []

        async def run(p: Proposal) -> None:
            async with semaphore:
                try:
                    confirmed.append(await self.execute(p))
                except IESError as err:
                    rule = str(err.details.get("rule") or err.code)
                    refused[rule] += 1
                    with self.node.transaction() as session:
                        self.node.refuse(session, rule, p.buyer_id, err.message, {"offer": p.offer.offer_id})

        await asyncio.gather(*(run(p) for p in proposals))
        elapsed = time.perf_counter() - started
        return {
            "market": market,
            "clearings": clearings,
            "offers_discovered": len(offers),
            "proposals": len(proposals),
            "confirmed": len(confirmed),
            "energy_wh": sum(sum(t.column("REQUESTED_QTY").values()) for t in confirmed),
            "refused": dict(refused),
            "elapsed_s": round(elapsed, 3),
            "trades_per_s": round(len(confirmed) / elapsed, 2) if elapsed else 0.0,
        }


def install_buyer(node: P2PNode, desk: BuyerDesk) -> None:
    runtime = node.runtime
    router = APIRouter(prefix="/p2p")

    @router.post("/bids")
    async def bids(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            if isinstance(body, dict) and "bids" in body:
                results = []
                for item in body["bids"]:
                    try:
                        results.append(desk.add_bid(item))
                    except IESError as err:
                        results.append({"error": err.to_dict()})
                return JSONResponse({"bids": results})
            return JSONResponse(desk.add_bid(body))
        except IESError as err:
            return error_response(err)

    @router.post("/trade")
    async def trade(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            concurrency = int(body.get("concurrency", 8))
            if not 1 <= concurrency <= 64:
                raise UsageError("concurrency is 1…64")
            market = body.get("market")
            if market not in (None, "bilateral", "auction"):
                raise UsageError("market is bilateral or auction")
            return JSONResponse(await desk.trade(concurrency, market))
        except IESError as err:
            return error_response(err)

    runtime.routers.append(router)
