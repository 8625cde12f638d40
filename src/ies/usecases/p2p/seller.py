"""The seller platform (BPP): its customers' offers, the catalogue it publishes, and select → init →
confirm → (cancel) for trades against those offers.

- `select`: the buyer names an offer and REQUESTED_QTY per block; we bind the seller, its ledger and the
  policy the contract is made under, add PRICE_PER_KWH (the offer's, or a higher price the buyer
  proposes — a local exchange's uniform clearing price; never a lower one) and the still-unsold
  AVAILABLE_QTY, check the network rules (roles bound, requested ≤ available) and keep the draft.
- `init`: the regulator's rules for the seller (cap, gate closure) and pre-trade feasibility asked of the
  seller's ledger provider (`init` → `on_init`, refused there with the breach).
- `confirm`: idempotent per contract (a repeated confirm gets the same answer, nothing counted twice).
  Availability is re-checked and reserved, the ACTIVE contract is forwarded to the seller's ledger, and
  only its ACK makes the trade ACTIVE here; no ACK → the reservation is released, the trade is FAILED and
  the buyer gets an error (DEG_ASYNC_ACK_TIMEOUT or the ledger's refusal) — nothing half-recorded.
- `cancel` from the buyer platform, when the buyer's ledger could not record: the seller's ledger is told
  (before its ACK it marks the trade CANCELLED) and the reservation is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ies._http import error_response
from ies.errors import (
    ConflictError,
    IESError,
    NotFoundError,
    PeerUnreachable,
    SchemaValidationFailed,
    UsageError,
)
from ies.exchange.inbound import InboundMessage
from ies.store import utcnow
from ies.usecases.p2p.base import LedgerUnavailable, P2PNode, json_body, on, require_operator
from ies.usecases.p2p.catalog import CatalogOffer, OfferBlock, build_catalog
from ies.usecases.p2p.contract import PolicyRef, Trade, contract_body, parse_contract
from ies.usecases.p2p.ledger_book import current_trade, save_trade
from ies.usecases.p2p.market import Block, ContractFacts, ContractInterval, SourceType, Violation, block_at
from ies.usecases.p2p.platform import customer_of, known_prosumer, ledger_party, prosumer, regulator_check
from ies.usecases.p2p.rules import RuleViolation
from ies.usecases.p2p.tables import OfferBlockRow, ProsumerRow, TradeRow

__all__ = ["SellerDesk", "install_seller"]


class SellerDesk:
    def __init__(self, node: P2PNode):
        self.node = node
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.publish_pending = False
        self.offer_lock = asyncio.Lock()

    # -- offers and catalogue ------------------------------------------------------------------------
    def add_offer(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            participant = str(body["participant_id"])
            source = SourceType(str(body.get("source_type", "SOLAR")).upper()).value
            blocks = {
                int(b["block"]): (int(b["price_paise_per_kwh"]), int(b["available_wh"]))
                for b in body["blocks"]
            }
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                "give participant_id, source_type and blocks[{block, price_paise_per_kwh, available_wh}]"
            ) from None
        if not blocks or any(p < 0 or q <= 0 for p, q in blocks.values()):
            raise UsageError("an offer needs blocks with a non-negative price and a positive quantity")
        offer_id = str(body.get("offer_id") or f"offer-{uuid.uuid4().hex[:12]}")
        now = utcnow()
        with self.node.sessions() as session:
            row = known_prosumer(self.node, session, participant)
            regulator_check(
                self.node,
                session,
                row,
                {b: q for b, (_, q) in blocks.items()},
                now,
                already={},
                subject=offer_id,
            )
        with self.node.transaction() as session:
            if (
                session.scalar(select(OfferBlockRow).where(OfferBlockRow.offer_id == offer_id).limit(1))
                is not None
            ):
                raise ConflictError(f"offer {offer_id} exists")
            for block, (price, qty) in blocks.items():
                session.add(
                    OfferBlockRow(
                        offer_id=offer_id,
                        block=block,
                        participant_id=participant,
                        source_type=source,
                        price_paise_per_kwh=price,
                        available_wh=qty,
                        sold_wh=0,
                        created_at=now,
                    )
                )
            self.node.audit(
                session, "p2p.offer", offer_id, {"participant": participant, "blocks": len(blocks)}
            )
        return {"offer_id": offer_id, "blocks": len(blocks)}

    def catalog(self) -> dict[str, Any]:
        now_block = block_at(datetime.now(UTC))
        with self.node.sessions() as session:
            rows = session.scalars(select(OfferBlockRow).where(OfferBlockRow.block > now_block)).all()
            people = {p.participant_id: p for p in session.scalars(select(ProsumerRow))}
        grouped: dict[str, list[OfferBlockRow]] = defaultdict(list)
        for r in rows:
            grouped[r.offer_id].append(r)
        policy = self.policy_ref()
        offers = []
        for offer_id, blocks in sorted(grouped.items()):
            first = blocks[0]
            offers.append(
                CatalogOffer(
                    offer_id=offer_id,
                    seller=customer_of(self.node, people[first.participant_id]),
                    source_type=first.source_type,
                    created_at=first.created_at,
                    blocks=tuple(
                        OfferBlock(b.block, b.price_paise_per_kwh, b.available_wh - b.sold_wh)
                        for b in sorted(blocks, key=lambda b: b.block)
                    ),
                    policy=policy,
                )
            )
        cfg = self.node.runtime.cfg
        return build_catalog(self.node.subscriber_id, cfg.beckn_url, offers, f"P2P offers on {cfg.name}")

    async def publish(self) -> dict[str, Any]:
        cfg = self.node.runtime.cfg
        if not cfg.cds_url:
            raise UsageError("this platform has no cds_url to publish to")
        catalog = await asyncio.to_thread(self.catalog)
        self.node.runtime.catalog = catalog
        ctx = self.node.runtime.context_for("catalog/publish", None, None, None)
        ack = await self.node.runtime.client.send(
            f"{cfg.cds_url.rstrip('/')}/catalog/publish",
            {"context": ctx.wire(), "message": {"catalogs": [catalog]}},
        )
        if not ack.ok:
            raise PeerUnreachable(f"the CDS refused the catalogue: {ack.error}")
        return {"offers": len(catalog["offers"]), "ack": ack.status}

    def policy_ref(self) -> PolicyRef:
        assert self.node.rules is not None
        ref = self.node.rules.bundle_ref("contract")
        return PolicyRef(
            url=f"ies-policy:{ref['name']}",
            query_path="data.deg.contracts.p2p_trading",
            name=ref["name"],
            version=ref["version"],
            bundle_hash=ref["hash"],
        )

    # -- the contract --------------------------------------------------------------------------------
    def _offer_blocks(self, offer_id: str) -> dict[Block, OfferBlockRow]:
        with self.node.sessions() as session:
            rows = session.scalars(select(OfferBlockRow).where(OfferBlockRow.offer_id == offer_id)).all()
        if not rows:
            raise NotFoundError(f"no offer {offer_id} on this platform")
        return {r.block: r for r in rows}

    def _network_check(self, trade: Trade, available: dict[Block, int], subject: str) -> dict[str, str]:
        assert self.node.rules is not None
        requested = trade.column("REQUESTED_QTY")
        roles = {
            "sellerPlatform": trade.seller.platform_id,
            "buyerPlatform": trade.buyer.platform_id if trade.buyer else "",
            "sellerDiscom": trade.seller.utility_id,
            "buyerDiscom": trade.buyer.utility_id if trade.buyer else "",
        }
        intervals = tuple(
            ContractInterval(i, available.get(b, 0), requested[b]) for i, b in enumerate(sorted(requested))
        )
        try:
            return self.node.rules.check_network(
                ContractFacts(roles, intervals), self.node.settings.ledgers.keys()
            )
        except RuleViolation as err:
            with self.node.transaction() as session:
                self.node.refuse(
                    session, err.violation.rule, subject, err.message, err.violation.details, err.bundle
                )
            raise

    async def select(self, msg: InboundMessage) -> dict[str, Any]:
        incoming = parse_contract(msg.message.get("contract"))
        requested = incoming.column("REQUESTED_QTY")
        if not requested or incoming.buyer is None or incoming.buyer_ledger is None:
            raise SchemaValidationFailed(
                "select needs REQUESTED_QTY per block, the buyer and the buyer's ledger"
            )
        offer = self._offer_blocks(incoming.offer_id)
        first = next(iter(offer.values()))
        with self.node.sessions() as session:
            seller = customer_of(self.node, prosumer(session, first.participant_id))
        missing = sorted(set(requested) - set(offer))
        if missing:
            raise SchemaValidationFailed(
                f"blocks {missing[:3]} are not in offer {incoming.offer_id}",
                details={"rule": "BLOCK_NOT_OFFERED"},
            )
        proposed = incoming.column("PRICE_PER_KWH")
        below = sorted(b for b, p in proposed.items() if b in offer and p < offer[b].price_paise_per_kwh)
        if below:
            refusal = RuleViolation(
                Violation(
                    "PRICE_BELOW_OFFER",
                    f"the proposed price is below the offer's in blocks {below[:3]}",
                    {"blocks": below[:10]},
                ),
                {},
            )
            with self.node.transaction() as session:
                self.node.refuse(session, "PRICE_BELOW_OFFER", incoming.offer_id, refusal.message)
            raise refusal
        contract_id = f"p2p-{uuid.uuid4().hex}"
        trade = Trade(
            contract_id=contract_id,
            offer_id=incoming.offer_id,
            seller=seller,
            buyer=incoming.buyer,
            seller_ledger=await ledger_party(self.node, seller.utility_id),
            buyer_ledger=incoming.buyer_ledger,
            source_type=first.source_type,
            status="DRAFT",
            policy=self.policy_ref(),
            market=incoming.market,
            columns={
                # the offer's price, or a higher one the buyer proposes (a local exchange's clearing price)
                "PRICE_PER_KWH": {
                    b: max(offer[b].price_paise_per_kwh, proposed.get(b, 0)) for b in requested
                },
                "AVAILABLE_QTY": {b: offer[b].available_wh - offer[b].sold_wh for b in requested},
                "REQUESTED_QTY": dict(requested),
            },
        )
        self._network_check(trade, trade.column("AVAILABLE_QTY"), contract_id)
        with self.node.transaction() as session:
            save_trade(session, trade, transaction_id=msg.context.transactionId or "", status="DRAFT")
            self.node.keep_message(session, contract_id, msg)
        return {"contract": contract_body(trade)}

    def _draft(self, msg: InboundMessage) -> tuple[TradeRow, Trade, Trade]:
        incoming = parse_contract(msg.message.get("contract"))
        with self.node.sessions() as session:
            row, trade = current_trade(session, incoming.contract_id)
        if (
            row.transaction_id != msg.context.transactionId
            or row.buyer_platform != msg.signature.subscriber_id
        ):
            raise NotFoundError(f"no contract {incoming.contract_id} in this transaction")
        return row, trade, incoming

    async def init(self, msg: InboundMessage) -> dict[str, Any]:
        row, trade, _ = self._draft(msg)
        if row.status != "DRAFT":
            raise ConflictError(f"contract {row.contract_id} is {row.status}, not a draft")
        requested = trade.column("REQUESTED_QTY")
        try:
            with self.node.sessions() as session:
                regulator_check(
                    self.node,
                    session,
                    prosumer(session, row.seller_id),
                    requested,
                    datetime.now(UTC),
                    subject=row.contract_id,
                )
            await self._ask_ledger(trade, row.transaction_id)
        except IESError:
            self._set_status(row.contract_id, "REFUSED")  # the draft ends here; the refusal is recorded
            raise
        with self.node.transaction() as session:
            self.node.keep_message(session, row.contract_id, msg)
        return {"contract": contract_body(trade)}

    async def _ask_ledger(self, trade: Trade, transaction_id: str) -> None:
        assert trade.seller_ledger is not None
        ledger = await self.node.peer(trade.seller_ledger.ledger_id)
        ctx = self.node.context("init", bpp=ledger, transaction_id=transaction_id)
        ack, callback = await self.node.runtime.client.request(
            ledger.url, ctx, {"contract": contract_body(trade)}, timeout_s=self.node.settings.ledger_timeout_s
        )
        error = (callback.body.get("error") if callback is not None else None) or (
            None if ack.ok else ack.error
        )
        if error:
            with self.node.transaction() as session:
                rule = str((error.get("details") or {}).get("rule") or error.get("code", "LEDGER_REFUSED"))
                self.node.refuse(
                    session,
                    rule,
                    trade.contract_id,
                    str(error.get("message", "")),
                    error.get("details") or {},
                )
            raise IESError(
                str(error.get("message", "the ledger refused")),
                code=str(error.get("code", "POL_P2P_REFUSED")),
                details=error.get("details") or {},
            )

    async def confirm(self, msg: InboundMessage) -> dict[str, Any]:
        row, trade, _ = self._draft(msg)
        async with self.locks[row.contract_id]:
            with self.node.sessions() as session:
                row, trade = current_trade(session, row.contract_id)
            if row.status in ("ACTIVE", "COMPLETE") and row.seller_recorded:
                return {"contract": row.body}  # a repeated confirm: the same answer, nothing counted twice
            if row.status != "DRAFT":
                raise ConflictError(f"contract {row.contract_id} is {row.status}")
            requested = trade.column("REQUESTED_QTY")
            async with self.offer_lock:
                offer = self._offer_blocks(trade.offer_id)
                network_ref = self._network_check(
                    trade, {b: offer[b].available_wh - offer[b].sold_wh for b in requested}, row.contract_id
                )
                with self.node.transaction() as session:
                    regulator_ref = regulator_check(
                        self.node,
                        session,
                        prosumer(session, row.seller_id),
                        requested,
                        datetime.now(UTC),
                        subject=row.contract_id,
                    )
                    self.node.decided(
                        session, row.contract_id, {"network": network_ref, "regulator": regulator_ref}
                    )
                    for block, wh in requested.items():
                        session.get(OfferBlockRow, (trade.offer_id, block)).sold_wh += wh  # type: ignore[union-attr]
                    session.get(TradeRow, row.contract_id).status = "CONFIRMING"  # type: ignore[union-attr]
            trade.status = "ACTIVE"
            body = contract_body(trade)
            try:
                assert trade.seller_ledger is not None
                ledger = await self.node.peer(trade.seller_ledger.ledger_id)
                ack = await self.node.runtime.client.send(
                    f"{ledger.url.rstrip('/')}/on_confirm",
                    {
                        "context": self.node.context(
                            "on_confirm", bap=ledger, transaction_id=row.transaction_id
                        ).wire(),
                        "message": {"contract": body},
                    },
                )
                if not ack.ok:
                    err = ack.error or {}
                    raise IESError(
                        f"the seller's ledger refused to record: {err.get('message', '')}",
                        code=str(err.get("code", "DEG_LEDGER_REFUSED")),
                        details=err.get("details") or {},
                    )
            except IESError as err:
                failure = (
                    err
                    if not isinstance(err, PeerUnreachable)
                    else LedgerUnavailable(
                        f"the seller's ledger provider did not acknowledge the trade: {err.message}"
                    )
                )
                self._release(row.contract_id, trade.offer_id, requested, "FAILED")
                with self.node.transaction() as session:
                    rule = str(failure.details.get("rule") or failure.code)
                    self.node.refuse(session, rule, row.contract_id, failure.message, {"side": "seller"})
                raise failure from None
            with self.node.transaction() as session:
                saved = save_trade(
                    session, trade, transaction_id=row.transaction_id, status="ACTIVE", body=body
                )
                saved.seller_recorded = True
                self.node.keep_message(session, row.contract_id, msg)
                self.node.audit(
                    session, "p2p.trade.confirmed", row.contract_id, {"ledger": trade.seller_ledger.ledger_id}
                )
        self.schedule_publish()
        return {"contract": body}

    def _set_status(self, contract_id: str, status: str) -> None:
        with self.node.transaction() as session:
            row = session.get(TradeRow, contract_id)
            if row is not None:
                row.status = status
                row.updated_at = utcnow()

    def _release(self, contract_id: str, offer_id: str, requested: dict[Block, int], status: str) -> None:
        with self.node.transaction() as session:
            for block, wh in requested.items():
                offer_row = session.get(OfferBlockRow, (offer_id, block))
                if offer_row is not None:
                    offer_row.sold_wh -= wh
            trade_row = session.get(TradeRow, contract_id)
            if trade_row is not None:
                trade_row.status = status
                trade_row.updated_at = utcnow()

    async def cancel(self, msg: InboundMessage) -> dict[str, Any]:
        row, trade, _ = self._draft(msg)
        async with self.locks[row.contract_id]:
            with self.node.sessions() as session:
                row, trade = current_trade(session, row.contract_id)
            if row.status == "CANCELLED":
                return {"contract": row.body}
            if row.status != "ACTIVE":
                raise ConflictError(
                    f"contract {row.contract_id} is {row.status}; only an ACTIVE trade is cancelled"
                )
            trade.status = "CANCELLED"
            body = contract_body(trade)
            assert trade.seller_ledger is not None
            ledger = await self.node.peer(trade.seller_ledger.ledger_id)
            ack = await self.node.send_one_way(ledger, "on_cancel", {"contract": body}, row.transaction_id)
            if not ack.ok:
                raise LedgerUnavailable(
                    f"the seller's ledger did not acknowledge the cancellation: {ack.error}"
                )
            self._release(row.contract_id, trade.offer_id, trade.column("REQUESTED_QTY"), "CANCELLED")
            with self.node.transaction() as session:
                session.get(TradeRow, row.contract_id).body = body  # type: ignore[union-attr]
                self.node.keep_message(session, row.contract_id, msg)
                self.node.audit(
                    session, "p2p.trade.cancelled", row.contract_id, {"by": msg.signature.subscriber_id}
                )
        self.schedule_publish()
        return {"contract": body}

    def schedule_publish(self) -> None:
        """Republish the catalogue soon (once for a burst of confirmations)."""
        if self.publish_pending or not self.node.runtime.cfg.cds_url:
            return
        self.publish_pending = True

        async def later() -> None:
            await asyncio.sleep(1.0)
            self.publish_pending = False
            with contextlib.suppress(IESError):  # the next confirmation schedules another attempt
                await self.publish()

        asyncio.get_running_loop().create_task(later())


def install_seller(node: P2PNode, desk: SellerDesk) -> None:
    runtime = node.runtime
    for action, handler in (
        ("select", desk.select),
        ("init", desk.init),
        ("confirm", desk.confirm),
        ("cancel", desk.cancel),
    ):
        on(node, action)(handler)
    router = APIRouter(prefix="/p2p/offers")

    @router.post("")
    async def add(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            items = body.get("offers") if isinstance(body, dict) and "offers" in body else [body]
            if not isinstance(items, list):
                raise UsageError("give one offer or offers[]")
            if "offers" not in body:
                results = [desk.add_offer(body)]
            else:
                results = []
                for item in items:
                    try:
                        results.append(desk.add_offer(item))
                    except IESError as err:  # one refused offer does not hold up the others
                        results.append({"error": err.to_dict()})
            published = await desk.publish() if body.get("publish", True) else None
            return JSONResponse({"offers": results, "published": published})
        except IESError as err:
            return error_response(err)

    @router.get("")
    async def listing(request: Request) -> JSONResponse:
        """Every offer block with what is still available and what is sold (the operator's view)."""
        try:
            require_operator(node, request)
            with node.sessions() as session:
                rows = session.scalars(
                    select(OfferBlockRow).order_by(OfferBlockRow.offer_id, OfferBlockRow.block)
                )
                out = [
                    {
                        "offer_id": r.offer_id,
                        "participant_id": r.participant_id,
                        "block": r.block,
                        "price_paise_per_kwh": r.price_paise_per_kwh,
                        "available_wh": r.available_wh,
                        "sold_wh": r.sold_wh,
                    }
                    for r in rows
                ]
            return JSONResponse({"blocks": out})
        except IESError as err:
            return error_response(err)

    @router.post("/publish")
    async def publish(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            return JSONResponse(await desk.publish())
        except IESError as err:
            return error_response(err)

    runtime.routers.append(router)
