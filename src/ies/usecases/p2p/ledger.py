"""The Ledger Provider role: one per DISCOM, the regulated record of every P2P trade on its side.

Beckn (all signed, all from the trading platforms, never from another ledger):
- `init`: pre-trade feasibility of the trade's blocks on this DISCOM's feeders (`grid`), answered in
  `on_init`, or refused there with the breach (POL_P2P_FEEDER_INFEASIBLE). When the operator has set
  ex-post curtailment (`feasibility = "curtail"`), an infeasible trade is accepted and curtailed later.
- `on_confirm` forwarded by a platform: the trade is RECORDED BEFORE THE ACK — the ACK is the
  platform's proof that the ledger holds the trade (IES guide: a confirmed trade is a recorded trade). The
  exchange ACKs only after its pre-ACK hook returns, so recording runs there; any refusal becomes the
  NACK. Recording is idempotent per (contract, side).
- `on_cancel` forwarded by a platform: the trade is marked CANCELLED (also before the ACK); used when
  the other side's ledger could not record, so no ledger keeps a half-made trade.
- `on_status` cascaded by a platform: the other side's allocations and curtailment (merged, never
  overwriting ours) and, from the seller side's ledger, the settlement with its true-up adjustments.

The work between messages lives beside this module: allocation rounds (`ledger_rounds`), settlement
and its history (`ledger_settlement`), ex-post curtailment (`curtailment`) and the operator routes
(`ledger_routes`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from sqlalchemy import select

from ies.errors import PolicyError, SchemaValidationFailed
from ies.exchange.inbound import InboundMessage
from ies.store import utcnow
from ies.usecases.p2p.base import LedgerUnavailable, P2PNode, on
from ies.usecases.p2p.contract import Trade, contract_body, parse_contract
from ies.usecases.p2p.grid import GridView, ScheduledLeg, load_grid
from ies.usecases.p2p.ledger_book import adopt_settlement, current_trade, merge_allocations, save_trade
from ies.usecases.p2p.ledger_routes import install_ledger_routes
from ies.usecases.p2p.ledger_settlement import settle_ready
from ies.usecases.p2p.market import Block, ContractFacts, ContractInterval, GridLimits
from ies.usecases.p2p.tables import TradeBlockRow, TradeRow

__all__ = ["LedgerState", "install_ledger"]

FeasibilityModeName = Literal["refuse", "curtail"]


class LedgerState:
    def __init__(self, node: P2PNode):
        self.node = node
        self.grid: GridView | None = None
        self.lock = asyncio.Lock()
        self.suspended = False  # the operator suspends recording for maintenance: confirmations NACK
        #: refuse infeasible trades at init, or accept them and curtail ex post (the operator's choice)
        self.feasibility: FeasibilityModeName = node.settings.feasibility

    @property
    def utility(self) -> str:
        return str(self.node.settings.utility_id)

    def my_sides(self, trade: Trade) -> set[str]:
        sides = set()
        if trade.seller.utility_id == self.utility:
            sides.add("seller")
        if trade.buyer is not None and trade.buyer.utility_id == self.utility:
            sides.add("buyer")
        return sides

    def sides_signed_by(self, trade: Trade, signer: str) -> set[str]:
        """The sides of the trade on our DISCOM whose platform is the signer."""
        sides = set()
        for side in self.my_sides(trade):
            party = trade.seller if side == "seller" else trade.buyer
            if party is not None and party.platform_id == signer:
                sides.add(side)
        return sides

    async def grid_view(self, meters: list[str]) -> GridView:
        """The feeder model, reloaded when it does not know a meter (connections arrive over time)."""
        if self.grid is None or any(m not in self.grid.meter_point for m in meters):
            discom = await self.node.peer(str(self.node.settings.discom))
            s = self.node.settings
            limits = GridLimits(
                s.voltage_min_pu, s.voltage_max_pu, s.max_loading_percent, s.max_loading_percent
            )
            self.grid = await asyncio.to_thread(load_grid, discom.base_url, discom.subscriber_id, limits)
        return self.grid

    # -- feasibility ---------------------------------------------------------------------------------
    async def check_feasible(self, trade: Trade) -> None:
        """Refuse (Infeasible) a trade whose blocks would breach a feeder limit, in refuse mode; in
        curtail mode only check that the meters are on this grid (the curtailment run does the rest)."""
        sides = self.my_sides(trade)
        meters = [trade.seller.meter_id] if "seller" in sides else []
        if "buyer" in sides and trade.buyer is not None:
            meters.append(trade.buyer.meter_id)
        grid = await self.grid_view(meters)
        for meter in meters:
            if meter not in grid.meter_point:
                raise PolicyError(
                    f"meter {meter} is not connected to {self.utility}'s grid", code="POL_P2P_METER_UNKNOWN"
                )
        if self.feasibility == "curtail":
            return
        requested = trade.column("REQUESTED_QTY")
        legs = self.scheduled(list(requested), exclude=trade.contract_id)
        for block, wh in requested.items():
            legs.append(
                ScheduledLeg(
                    trade.contract_id,
                    block,
                    wh,
                    trade.seller.meter_id if "seller" in sides else None,
                    trade.buyer.meter_id if "buyer" in sides and trade.buyer else None,
                )
            )
        await asyncio.to_thread(grid.check, legs, trade.contract_id)

    def scheduled(
        self, blocks: list[Block], exclude: str = "", *, as_requested: bool = False
    ) -> list[ScheduledLeg]:
        """Every recorded leg on this grid in `blocks`: what is still contracted (requested less
        curtailed), or with `as_requested` the original schedule (what a curtailment run starts from)."""
        with self.node.sessions() as session:
            rows = session.execute(
                select(
                    TradeBlockRow.contract_id,
                    TradeBlockRow.block,
                    TradeBlockRow.requested_wh,
                    TradeBlockRow.seller_curtailed_wh,
                    TradeBlockRow.buyer_curtailed_wh,
                    TradeRow.seller_meter,
                    TradeRow.buyer_meter,
                    TradeRow.seller_utility,
                    TradeRow.buyer_utility,
                )
                .join(TradeRow, TradeRow.contract_id == TradeBlockRow.contract_id)
                .where(
                    TradeBlockRow.block.in_(blocks),
                    TradeRow.status.in_(("ACTIVE", "COMPLETE")),
                    TradeRow.contract_id != exclude,
                )
            ).all()
        return [
            ScheduledLeg(
                cid,
                block,
                wh if as_requested else max(wh - max(cs or 0, cb or 0), 0),
                sm if su == self.utility else None,
                bm if bu == self.utility else None,
            )
            for cid, block, wh, cs, cb, sm, bm, su, bu in rows
        ]

    # -- recording -----------------------------------------------------------------------------------
    async def record(self, msg: InboundMessage) -> None:
        trade = parse_contract(msg.message.get("contract"))
        if not trade.contract_id or trade.status != "ACTIVE" or trade.buyer is None:
            raise SchemaValidationFailed(
                "a forwarded on_confirm carries an ACTIVE contract with an id and a buyer"
            )
        sides = self.sides_signed_by(trade, msg.signature.subscriber_id)
        if not sides:
            raise PolicyError(
                f"{msg.signature.subscriber_id} is not the platform of a party on {self.utility}",
                code="POL_P2P_NOT_YOUR_LEDGER",
            )
        if self.suspended:
            raise LedgerUnavailable(f"the ledger of {self.utility} has suspended recording (maintenance)")
        async with self.lock:
            with self.node.sessions() as session:
                row = session.get(TradeRow, trade.contract_id)
                done = row is not None and all(getattr(row, f"{s}_recorded") for s in sides)
            if done:
                return  # idempotent: the platform repeated a confirmation we already hold
            network_ref = self._check_rules(trade)
            await self.check_feasible(trade)
            with self.node.transaction() as session:
                row = save_trade(
                    session,
                    trade,
                    transaction_id=msg.context.transactionId or "",
                    status="ACTIVE",
                    body=msg.message["contract"],
                )
                for side in sides:
                    setattr(row, f"{side}_recorded", True)
                self.node.keep_message(session, trade.contract_id, msg)
                self.node.decided(session, trade.contract_id, {"network": network_ref})
                self.node.audit(
                    session,
                    "p2p.trade.recorded",
                    trade.contract_id,
                    {
                        "sides": sorted(sides),
                        "blocks": len(trade.blocks),
                        "policy": trade.policy.wire() if trade.policy else None,
                    },
                )

    def _check_rules(self, trade: Trade) -> dict[str, str]:
        assert self.node.rules is not None and trade.buyer is not None
        requested = trade.column("REQUESTED_QTY")
        available = trade.column("AVAILABLE_QTY") or requested  # the seller TP checked it against its offer
        facts = ContractFacts(
            roles={
                "buyerPlatform": trade.buyer.platform_id,
                "sellerPlatform": trade.seller.platform_id,
                "buyerDiscom": trade.buyer.utility_id,
                "sellerDiscom": trade.seller.utility_id,
            },
            intervals=tuple(
                ContractInterval(i, available.get(b), requested[b]) for i, b in enumerate(sorted(requested))
            ),
        )
        return self.node.rules.check_network(facts, self.node.settings.tariffs.keys())

    async def cancel(self, msg: InboundMessage) -> None:
        trade = parse_contract(msg.message.get("contract"))
        if not self.sides_signed_by(trade, msg.signature.subscriber_id):
            raise PolicyError(
                "only a platform of a party on this DISCOM may cancel here", code="POL_P2P_NOT_YOUR_LEDGER"
            )
        async with self.lock:
            with self.node.transaction() as session:
                row = session.get(TradeRow, trade.contract_id)
                if row is None or row.status == "CANCELLED":
                    return
                row.status = "CANCELLED"
                row.updated_at = utcnow()
                self.node.keep_message(session, trade.contract_id, msg)
                self.node.audit(
                    session, "p2p.trade.cancelled", trade.contract_id, {"by": msg.signature.subscriber_id}
                )

    # -- allocation ----------------------------------------------------------------------------------
    # -- cascade -------------------------------------------------------------------------------------
    async def cascade(self, contract_ids: list[str]) -> None:
        """Send each changed trade to the platform of our side (the seller's when both are ours)."""
        semaphore = asyncio.Semaphore(16)

        async def one(contract_id: str) -> None:
            async with semaphore:
                with self.node.sessions() as session:
                    row, trade = current_trade(session, contract_id)
                    platform = (
                        row.seller_platform if row.seller_utility == self.utility else row.buyer_platform
                    )
                    transaction = row.transaction_id
                to = await self.node.peer(platform)
                await self.node.send_one_way(to, "on_status", {"contract": contract_body(trade)}, transaction)

        await asyncio.gather(*(one(c) for c in contract_ids))

    async def receive_status(self, msg: InboundMessage) -> None:
        trade = parse_contract(msg.message.get("contract"))
        with self.node.sessions() as session:
            row = session.get(TradeRow, trade.contract_id)
            if row is None:
                return
            peer_sides = {s for s in ("seller", "buyer") if getattr(row, f"{s}_utility") != self.utility}
        async with self.lock:
            with self.node.transaction() as session:
                row, applied, changed = merge_allocations(session, trade.contract_id, trade, peer_sides)
                if row.seller_utility != self.utility and "seller" in applied:
                    _, mine = current_trade(session, trade.contract_id)
                    if adopt_settlement(mine, trade):
                        row.body, row.status = contract_body(mine), mine.status
                        changed = True
                if changed:
                    self.node.keep_message(session, trade.contract_id, msg)
        if changed:
            settled = await settle_ready(self, [trade.contract_id])
            await self.cascade(settled)


def _import_power_flow() -> None:
    import pandapower  # noqa: F401


def install_ledger(node: P2PNode) -> None:
    runtime = node.runtime
    state = LedgerState(node)

    @on(node, "init")
    async def init(msg: InboundMessage) -> dict[str, Any]:
        trade = parse_contract(msg.message.get("contract"))
        if not state.sides_signed_by(trade, msg.signature.subscriber_id):
            raise PolicyError(
                "only a platform of a party on this DISCOM may ask", code="POL_P2P_NOT_YOUR_LEDGER"
            )
        await state.check_feasible(trade)
        return {"contract": msg.message["contract"]}

    async def record_last() -> None:
        """Record in the pre-ACK hook, after every other check the node runs there (installed later):
        a message any of them refuses is NACKed before anything is written."""
        previous = runtime.router.policy

        async def before_ack(msg: InboundMessage) -> None:
            if previous is not None:
                await previous(msg)
            if msg.action == "on_confirm":
                await state.record(msg)
            elif msg.action == "on_cancel":
                await state.cancel(msg)

        runtime.router.policy = before_ack

    runtime.startup.append(record_last)

    @on(node, "on_confirm")
    async def on_confirm(msg: InboundMessage) -> None:
        return None  # recorded before the ACK (before_ack)

    @on(node, "on_cancel")
    async def on_cancel(msg: InboundMessage) -> None:
        return None

    @on(node, "on_status")
    async def on_status(msg: InboundMessage) -> None:
        await state.receive_status(msg)

    install_ledger_routes(node, state)

    async def warm_up() -> None:
        """Import the power-flow stack now, not during the first trade's init (it takes seconds)."""
        asyncio.get_running_loop().create_task(asyncio.to_thread(_import_power_flow))

    runtime.startup.append(warm_up)
