"""The Ledger Provider role: one per DISCOM, the regulated record of every P2P trade on its side.

Beckn (all signed, all from the trading platforms, never from another ledger):
- `init`: pre-trade feasibility of the trade's blocks on this DISCOM's feeders (`grid`), answered in
  `on_init`, or refused there with the breach (POL_P2P_FEEDER_INFEASIBLE).
- `on_confirm` forwarded by a platform: the trade is RECORDED BEFORE THE ACK — the ACK is the
  platform's proof that the ledger holds the trade (IES guide: a confirmed trade is a recorded trade). The
  exchange ACKs only after its pre-ACK hook returns, so recording runs there; any refusal becomes the
  NACK. Recording is idempotent per (contract, side).
- `on_cancel` forwarded by a platform: the trade is marked CANCELLED (also before the ACK); used when
  the other side's ledger could not record, so no ledger keeps a half-made trade.
- `on_status` cascaded by a platform: the other side's allocations (merged, never overwriting ours) and,
  from the seller side's ledger, the settlement.

Operator routes (`/p2p/ledger/…`): run an allocation round for a day (pull actuals from the DISCOM,
allocate this side, cascade), list trades, settlement statements per participant.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import select

from ies.errors import IESError, PeerUnreachable, PolicyError, SchemaValidationFailed, UsageError
from ies.exchange.inbound import InboundMessage
from ies.store import utcnow
from ies.usecases.p2p.base import LedgerUnavailable, P2PNode, error_response, json_body, on, require_operator
from ies.usecases.p2p.contract import CONTEXTS, Trade, contract_body, parse_contract
from ies.usecases.p2p.evidence import pull_subject
from ies.usecases.p2p.grid import GridView, ScheduledLeg, load_grid
from ies.usecases.p2p.ledger_book import (
    all_final,
    current_trade,
    merge_allocations,
    save_trade,
    trade_summary,
)
from ies.usecases.p2p.market import (
    AllocationMethod,
    AllocationRound,
    Block,
    ContractFacts,
    ContractInterval,
    GridLimits,
    TradeLeg,
    TradeSettlement,
    allocate_side,
    block_start,
    blocks_of_day,
    settlement_statement,
    statement_csv,
)
from ies.usecases.p2p.settings import Charges
from ies.usecases.p2p.settle import record_from_blocks, revenue_flows, settle
from ies.usecases.p2p.tables import RoundRow, TradeBlockRow, TradeRow
from ies.usecases.p2p.timeseries import build_series, iso, read_series

__all__ = ["install_ledger"]

PULL_CONCURRENCY = 16  # meter-data pulls in flight at once
NOT_YET = "PENDING"  # a block whose actuals have not arrived


class LedgerState:
    def __init__(self, node: P2PNode):
        self.node = node
        self.grid: GridView | None = None
        self.lock = asyncio.Lock()
        self.suspended = False  # the operator suspends recording for maintenance: confirmations NACK

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
        requested = trade.column("REQUESTED_QTY")
        legs = self._scheduled(list(requested), exclude=trade.contract_id)
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

    def _scheduled(self, blocks: list[Block], exclude: str) -> list[ScheduledLeg]:
        with self.node.sessions() as session:
            rows = session.execute(
                select(
                    TradeBlockRow.contract_id,
                    TradeBlockRow.block,
                    TradeBlockRow.requested_wh,
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
                cid, block, wh, sm if su == self.utility else None, bm if bu == self.utility else None
            )
            for cid, block, wh, sm, bm, su, bu in rows
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
    async def pull_actuals(self, meters: list[str], first: Block, last: Block) -> dict[str, dict[Block, int]]:
        """Net consumption per meter and block (import > 0, export < 0) that the DISCOM holds now.

        One pull per meter: the DISCOM's signed answer then concerns one customer only, so it can go
        into that customer's dispute evidence without disclosing anyone else's consumption.
        """
        discom = await self.node.peer(str(self.node.settings.discom))
        coverage = f"{iso(block_start(first))}/{iso(block_start(last))}"
        semaphore = asyncio.Semaphore(PULL_CONCURRENCY)

        async def one(meter: str) -> tuple[str, dict[Block, int]]:
            series = {
                **build_series({"ENERGY_CONSUMPTION": {first: 0}}),
                "resourceName": meter,
                "clientName": self.utility,
            }
            series["intervals"][0]["payloads"][0]["values"] = []
            resource = {
                "id": f"actuals-{meter}",
                "resourceAttributes": {
                    "@context": CONTEXTS["DatasetItem"],
                    "@type": "DatasetItem",
                    "schema:temporalCoverage": coverage,
                    "dataPayload": [series],
                },
            }
            message = {
                "contract": {
                    "id": pull_subject(meter, first),
                    "status": {"code": "ACTIVE"},
                    "commitments": [
                        {
                            "id": "pull",
                            "resources": [resource],
                            "offer": {"id": "meter-data", "resourceIds": [resource["id"]]},
                        }
                    ],
                }
            }
            async with semaphore:
                ctx = self.node.context("status", bpp=discom)
                ack, callback = await self.node.runtime.client.request(discom.url, ctx, message, timeout_s=60)
            if not ack.ok or callback is None or "error" in callback.body:
                reason = (callback.body.get("error") if callback else None) or ack.error
                raise PeerUnreachable(f"the DISCOM refused the meter-data pull for {meter}: {reason}")
            found: dict[Block, int] = {}
            for commitment in callback.message.get("contract", {}).get("commitments", []):
                for res in commitment.get("resources", []):
                    for answer in (res.get("resourceAttributes") or {}).get("dataPayload") or []:
                        if answer.get("resourceName") == meter:
                            column = read_series(answer).get("ENERGY_CONSUMPTION", {})
                            found.update({b: int(v) for b, v in column.items() if first <= b < last})
            with self.node.transaction() as session:
                self.node.keep_message(session, pull_subject(meter, first), callback)
            return meter, found

        return dict(await asyncio.gather(*(one(m) for m in meters)))

    async def run_round(self, kind: AllocationRound, day: date) -> dict[str, Any]:
        blocks = blocks_of_day(day)
        first, last = blocks.start, blocks.stop
        with self.node.sessions() as session:
            trades = session.scalars(
                select(TradeRow).where(TradeRow.status.in_(("ACTIVE", "COMPLETE")))
            ).all()
            rows = session.scalars(
                select(TradeBlockRow).where(TradeBlockRow.block >= first, TradeBlockRow.block < last)
            ).all()
        by_id = {
            t.contract_id: t
            for t in trades
            if t.seller_utility == self.utility or t.buyer_utility == self.utility
        }
        legs: dict[str, list[TradeLeg]] = {"seller": [], "buyer": []}
        for b in rows:
            t = by_id.get(b.contract_id)
            if t is None:
                continue
            if t.seller_utility == self.utility:
                legs["seller"].append(
                    TradeLeg(t.contract_id, t.seller_meter, b.block, b.requested_wh, t.created_at)
                )
            if t.buyer_utility == self.utility:
                legs["buyer"].append(
                    TradeLeg(t.contract_id, t.buyer_meter, b.block, b.requested_wh, t.created_at)
                )
        meters = sorted({leg.customer_id for side in legs.values() for leg in side})
        actuals = await self.pull_actuals(meters, first, last) if meters else {}
        method = (
            AllocationMethod.FIFO if self.node.settings.allocation == "fifo" else AllocationMethod.PRO_RATA
        )
        present = {(m, b) for m, col in actuals.items() for b in col}
        status = "FINAL" if kind in (AllocationRound.FINAL, AllocationRound.TRUE_UP) else "PROVISIONAL"
        updates: dict[str, dict[str, dict[Block, int | str]]] = defaultdict(dict)
        for side, side_legs in legs.items():
            metered = {
                (m, b): max(v, 0) if side == "buyer" else max(-v, 0)
                for m, col in actuals.items()
                for b, v in col.items()
            }
            shares = allocate_side(side_legs, metered, method)
            alloc_col, status_col = (
                ("BUYER_DISCOM_ALLOC", "BUYER_DISCOM_STATUS")
                if side == "buyer"
                else ("SELLER_DISCOM_ALLOC", "SELLER_DISCOM_STATUS")
            )
            for leg in side_legs:
                cols = updates[leg.trade_id]
                cols.setdefault(alloc_col, {})[leg.block] = shares[(leg.trade_id, leg.block)]
                cols.setdefault(status_col, {})[leg.block] = (
                    status if (leg.customer_id, leg.block) in present else NOT_YET
                )
        changed: list[str] = []
        async with self.lock:
            with self.node.transaction() as session:
                for contract_id, cols in updates.items():
                    t = by_id[contract_id]
                    sides = {s for s in ("seller", "buyer") if getattr(t, f"{s}_utility") == self.utility}
                    carrier = Trade(
                        contract_id=contract_id,
                        offer_id=t.offer_id,
                        seller=parse_contract(t.body).seller,
                        columns=cols,
                    )
                    row, _applied, did_change = merge_allocations(
                        session, contract_id, carrier, sides, author=True
                    )
                    row.allocation_round = kind.value
                    if did_change:
                        changed.append(contract_id)
                summary = {
                    "kind": kind.value,
                    "day": day.isoformat(),
                    "trades": len(updates),
                    "changed": len(changed),
                    "meters": len(meters),
                    "blocks_missing": sum(
                        1
                        for m in meters
                        for b in range(first, last)
                        if (m, b) not in present
                        and any(leg.customer_id == m and leg.block == b for s in legs.values() for leg in s)
                    ),
                }
                session.add(
                    RoundRow(
                        kind=kind.value,
                        first_block=first,
                        last_block=last,
                        started_at=utcnow(),
                        summary=summary,
                    )
                )
                self.node.audit(session, "p2p.allocation.round", f"{self.utility}:{day.isoformat()}", summary)
        settled = await self.settle_ready(changed)
        await self.cascade(sorted(set(changed) | set(settled)))
        return {**summary, "settled": len(settled)}

    # -- settlement ----------------------------------------------------------------------------------
    def settlement_of(self, row: TradeRow, blocks: list[dict[str, Any]]) -> TradeSettlement:
        """Settle a trade under the contract policy it was made under (fail closed on any doubt).

        The charges come from the pinned contract bundle (a tariff change is a new bundle version, and
        a contract keeps its version); the market engine computes the per-block flows, and the Rego
        contract policy's own net per role must agree with them to the paisa.
        """
        assert self.node.rules is not None
        record = record_from_blocks(
            row.contract_id,
            buyer_id=row.buyer_id,
            seller_id=row.seller_id,
            buyer_utility=row.buyer_utility,
            seller_utility=row.seller_utility,
            blocks=blocks,
        )
        pinned = self.node.rules.pinned("contract", row.policy_name, row.policy_version, row.policy_hash)
        tariffs = {u: c.for_discom(u) for u, c in self.node.settings.tariffs.items()}
        for utility, rates in self.node.rules.contract_charges(pinned).items():
            base = self.node.settings.tariffs.get(utility) or Charges.model_validate({})
            tariffs[utility] = base.model_copy(update=rates).for_discom(utility)
        settlement = settle(record, tariffs)
        if pinned is not None:
            rego = self.node.rules.contract_net_by_role(pinned, record)
            mine = {k: v for k, v in settlement.net_by_role.items() if v or k in rego}
            if {k: v for k, v in rego.items() if v or k in mine} != mine:
                raise PolicyError(
                    f"contract policy {pinned.ref.name} {pinned.ref.version} and the settlement engine "
                    "disagree "
                    f"on {row.contract_id}: {rego} vs {settlement.net_by_role}",
                    code="POL_P2P_SETTLEMENT_MISMATCH",
                )
        return settlement

    async def settle_ready(self, contract_ids: list[str]) -> list[str]:
        """Settle every listed trade we are the seller side of whose blocks are all FINAL on both sides."""
        done = []
        async with self.lock:
            with self.node.transaction() as session:
                for contract_id in contract_ids:
                    row = session.get(TradeRow, contract_id)
                    if (
                        row is None
                        or row.seller_utility != self.utility
                        or not all_final(session, contract_id)
                    ):
                        continue
                    summary = trade_summary(session, row)
                    try:
                        flows = revenue_flows(self.settlement_of(row, summary["blocks"]))
                    except IESError as err:
                        self.node.refuse(
                            session, str(err.details.get("rule") or err.code), contract_id, err.message
                        )
                        continue
                    if flows == summary["revenue_flows"]:
                        continue
                    _, trade = current_trade(session, contract_id)
                    trade.revenue_flows = flows
                    trade.status = "COMPLETE"
                    row.body = contract_body(trade)
                    row.status = "COMPLETE"
                    row.seller_version += 1  # the settlement is the seller side's update
                    self.node.audit(
                        session,
                        "p2p.settlement",
                        contract_id,
                        {
                            "flows": flows,
                            "policy": {
                                "name": row.policy_name,
                                "version": row.policy_version,
                                "hash": row.policy_hash,
                            },
                        },
                    )
                    done.append(contract_id)
        return done

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
                if trade.revenue_flows and row.seller_utility != self.utility and "seller" in applied:
                    _, mine = current_trade(session, trade.contract_id)
                    mine.revenue_flows, mine.status = trade.revenue_flows, trade.status
                    row.body, row.status = contract_body(mine), trade.status
                    changed = True
                if changed:
                    self.node.keep_message(session, trade.contract_id, msg)
        if changed:
            settled = await self.settle_ready([trade.contract_id])
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

    async def warm_up() -> None:
        """Import the power-flow stack now, not during the first trade's init (it takes seconds)."""
        asyncio.get_running_loop().create_task(asyncio.to_thread(_import_power_flow))

    runtime.startup.append(warm_up)
    router = APIRouter(prefix="/p2p/ledger")

    @router.post("/recording")
    async def recording(request: Request) -> JSONResponse:
        """Suspend (maintenance) or resume recording; while suspended every forwarded confirmation is
        NACKed, so no platform can proceed with a trade this ledger does not hold."""
        try:
            require_operator(node, request)
            body = await json_body(request)
            state.suspended = bool(body.get("suspended", False))
            with node.transaction() as session:
                node.audit(session, "p2p.ledger.recording", state.utility, {"suspended": state.suspended})
            return JSONResponse({"suspended": state.suspended})
        except IESError as err:
            return error_response(err)

    @router.post("/grid/refresh")
    async def refresh(request: Request) -> JSONResponse:
        """Reload the feeder model from the DISCOM (after onboarding) and prove its envelopes."""
        try:
            require_operator(node, request)
            state.grid = None
            grid = await state.grid_view([])
            return JSONResponse(
                {
                    "feeders": len(grid.feeders),
                    "meters": len(grid.meter_point),
                    "power_flows": grid.power_flows,
                }
            )
        except IESError as err:
            return error_response(err)

    @router.post("/rounds")
    async def rounds(request: Request) -> JSONResponse:
        try:
            require_operator(node, request)
            body = await json_body(request)
            try:
                kind = AllocationRound(str(body.get("kind", "FINAL")).upper())
                day = date.fromisoformat(str(body["day"]))
            except (KeyError, ValueError):
                raise UsageError("give day (YYYY-MM-DD) and kind PROVISIONAL, FINAL or TRUE_UP") from None
            return JSONResponse(await state.run_round(kind, day))
        except IESError as err:
            return error_response(err)

    @router.get("/statements")
    async def statements(request: Request, participant: str, format: str = "json") -> Any:
        try:
            require_operator(node, request)
            settlements = []
            with node.sessions() as session:
                for row in session.scalars(select(TradeRow).where(TradeRow.status == "COMPLETE")):
                    settlements.append(state.settlement_of(row, trade_summary(session, row)["blocks"]))
            rows = settlement_statement(participant, settlements)
            if format == "csv":
                return PlainTextResponse(statement_csv(rows), media_type="text/csv")
            return JSONResponse(
                {
                    "participant": participant,
                    "rows": [r.as_dict() for r in rows],
                    "total_paise": sum(r.amount_paise for r in rows),
                }
            )
        except IESError as err:
            return error_response(err)

    runtime.routers.append(router)
