"""The ledger provider's allocation rounds: pull metered actuals from its DISCOM, allocate, cascade.

A round (`POST /p2p/ledger/rounds {kind, day}`) pulls the day's actuals for every meter with a trade
leg on this DISCOM (one signed `status` pull per meter, so the DISCOM's answer concerns one customer
and can go into that customer's dispute evidence), allocates each side with the market engine
(pro-rata or FIFO, a setting) against what is still contracted — requested less any ex-post
curtailment — marks each block PROVISIONAL or FINAL by the round's kind (PENDING where data is still
missing), then settles what became final and cascades every change to the platforms.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ies.errors import PeerUnreachable
from ies.store import utcnow
from ies.usecases.p2p.contract import CONTEXTS, Trade, parse_contract
from ies.usecases.p2p.evidence import pull_subject
from ies.usecases.p2p.ledger_book import merge_allocations
from ies.usecases.p2p.ledger_settlement import settle_ready
from ies.usecases.p2p.market import (
    AllocationMethod,
    AllocationRound,
    Block,
    TradeLeg,
    allocate_side,
    block_start,
    blocks_of_day,
)
from ies.usecases.p2p.tables import RoundRow, TradeBlockRow, TradeRow
from ies.usecases.p2p.timeseries import build_series, iso, read_series

if TYPE_CHECKING:
    from ies.usecases.p2p.ledger import LedgerState

__all__ = ["NOT_YET", "pull_actuals", "run_round"]

PULL_CONCURRENCY = 16  # meter-data pulls in flight at once
NOT_YET = "PENDING"  # a block whose actuals have not arrived


async def pull_actuals(
    state: LedgerState, meters: list[str], first: Block, last: Block
) -> dict[str, dict[Block, int]]:
    """Net consumption per meter and block (import > 0, export < 0) that the DISCOM holds now.

    One pull per meter: the DISCOM's signed answer then concerns one customer only, so it can go
    into that customer's dispute evidence without disclosing anyone else's consumption.
    """
    discom = await state.node.peer(str(state.node.settings.discom))
    coverage = f"{iso(block_start(first))}/{iso(block_start(last))}"
    semaphore = asyncio.Semaphore(PULL_CONCURRENCY)

    async def one(meter: str) -> tuple[str, dict[Block, int]]:
        series = {
            **build_series({"ENERGY_CONSUMPTION": {first: 0}}),
            "resourceName": meter,
            "clientName": state.utility,
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
            ctx = state.node.context("status", bpp=discom)
            ack, callback = await state.node.runtime.client.request(discom.url, ctx, message, timeout_s=60)
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
        with state.node.transaction() as session:
            state.node.keep_message(session, pull_subject(meter, first), callback)
        return meter, found

    return dict(await asyncio.gather(*(one(m) for m in meters)))


async def run_round(state: LedgerState, kind: AllocationRound, day: date) -> dict[str, Any]:
    blocks = blocks_of_day(day)
    first, last = blocks.start, blocks.stop
    with state.node.sessions() as session:
        trades = session.scalars(select(TradeRow).where(TradeRow.status.in_(("ACTIVE", "COMPLETE")))).all()
        rows = session.scalars(
            select(TradeBlockRow).where(TradeBlockRow.block >= first, TradeBlockRow.block < last)
        ).all()
    by_id = {
        t.contract_id: t
        for t in trades
        if t.seller_utility == state.utility or t.buyer_utility == state.utility
    }
    legs: dict[str, list[TradeLeg]] = {"seller": [], "buyer": []}
    for b in rows:
        t = by_id.get(b.contract_id)
        if t is None:
            continue
        if t.seller_utility == state.utility:
            legs["seller"].append(
                TradeLeg(t.contract_id, t.seller_meter, b.block, b.effective_wh, t.created_at)
            )
        if t.buyer_utility == state.utility:
            legs["buyer"].append(
                TradeLeg(t.contract_id, t.buyer_meter, b.block, b.effective_wh, t.created_at)
            )
    meters = sorted({leg.customer_id for side in legs.values() for leg in side})
    actuals = await pull_actuals(state, meters, first, last) if meters else {}
    method = AllocationMethod.FIFO if state.node.settings.allocation == "fifo" else AllocationMethod.PRO_RATA
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
    async with state.lock:
        with state.node.transaction() as session:
            for contract_id, cols in updates.items():
                t = by_id[contract_id]
                sides = {s for s in ("seller", "buyer") if getattr(t, f"{s}_utility") == state.utility}
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
                "blocks_missing": len(
                    {(leg.customer_id, leg.block) for side in legs.values() for leg in side} - present
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
            state.node.audit(session, "p2p.allocation.round", f"{state.utility}:{day.isoformat()}", summary)
    settled = await settle_ready(state, changed)
    await state.cascade(sorted(set(changed) | set(settled)))
    return {**summary, "settled": len(settled)}
