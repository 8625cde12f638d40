"""Ex-post curtailment: the DISCOM's ledger provider scales infeasible blocks down instead of refusing.

Seed §12.3 and issue 7 item 5: when the operator sets curtailment mode (`feasibility = "curtail"` in
the ledger's settings, or `POST /p2p/ledger/feasibility`), trades whose blocks would breach a feeder's
thermal or voltage limits are accepted at `init`, and after trading closes the ledger runs one
curtailment pass over the day (`POST /p2p/ledger/curtailment {day}`): every (feeder, block) outside its
proven envelope gets the market engine's CURTAIL power flow, which scales that block's trades down
pro-rata to the largest total within limits.

Transparency: each cut is written into the contract record as the side's `…_DISCOM_CURTAILED` Wh and
`…_DISCOM_CURTAIL_REASON` (the breach that forced it) for that block, recorded as an event and in the
audit log, and cascaded like an allocation (LP → its platform → the peer platform → the peer LP), so
every party holds the same curtailment. What is contracted from then on is requested − curtailed: the
allocation caps each leg there, and settlement charges no deviation for energy the DISCOM cut.

A pass starts from the original schedule each time and a cut only ever grows, so running it again
(after more trades were accepted) is safe.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from ies.errors import ConflictError
from ies.store import utcnow
from ies.usecases.p2p.contract import Trade, parse_contract
from ies.usecases.p2p.ledger_book import CURTAIL_COLUMNS, merge_allocations
from ies.usecases.p2p.market import Block, blocks_of_day
from ies.usecases.p2p.tables import EventRow, TradeRow

if TYPE_CHECKING:
    from ies.usecases.p2p.ledger import LedgerState

__all__ = ["curtail_day"]


async def curtail_day(state: LedgerState, day: date) -> dict[str, Any]:
    """Run the ex-post curtailment pass over one IST day of this DISCOM's recorded trades."""
    if state.feasibility != "curtail":
        raise ConflictError(
            f"the ledger of {state.utility} refuses infeasible trades at init (feasibility = refuse); "
            "set curtailment mode first"
        )
    legs = state.scheduled(list(blocks_of_day(day)), as_requested=True)
    meters = sorted({m for leg in legs for m in (leg.seller_meter, leg.buyer_meter) if m})
    grid = await state.grid_view(meters)
    flows_before = grid.power_flows
    cuts = await asyncio.to_thread(grid.curtail, legs)
    by_trade: dict[str, dict[Block, tuple[int, str]]] = defaultdict(dict)
    for (contract_id, block), cut in cuts.items():
        by_trade[contract_id][block] = cut
    changed: list[str] = []
    node = state.node
    async with state.lock:
        with node.transaction() as session:
            for contract_id, blocks in sorted(by_trade.items()):
                row = session.get(TradeRow, contract_id)
                if row is None:
                    continue
                sides = {s for s in ("seller", "buyer") if getattr(row, f"{s}_utility") == state.utility}
                columns: dict[str, dict[Block, int | str]] = {}
                for side in sides:
                    cut_col, reason_col = CURTAIL_COLUMNS[side]
                    columns[cut_col] = {b: wh for b, (wh, _) in blocks.items()}
                    columns[reason_col] = {b: why for b, (_, why) in blocks.items()}
                carrier = Trade(contract_id, row.offer_id, parse_contract(row.body).seller, columns=columns)
                _, _applied, did_change = merge_allocations(session, contract_id, carrier, sides, author=True)
                if not did_change:
                    continue
                changed.append(contract_id)
                for block, (wh, why) in sorted(blocks.items()):
                    session.add(
                        EventRow(
                            at=utcnow(),
                            kind="curtailment",
                            rule="FEEDER_CURTAILED",
                            subject=contract_id,
                            message=why,
                            details={"block": block, "curtailed_wh": wh, "sides": sorted(sides)},
                        )
                    )
                node.audit(
                    session,
                    "p2p.curtailment",
                    contract_id,
                    {
                        "blocks": {
                            str(b): {"curtailed_wh": wh, "reason": why} for b, (wh, why) in blocks.items()
                        }
                    },
                )
    await state.cascade(changed)
    return {
        "day": day.isoformat(),
        "legs_checked": len(legs),
        "trades_curtailed": len(changed),
        "curtailed_wh": sum(wh for blocks in by_trade.values() for wh, _ in blocks.values()),
        "power_flows": grid.power_flows - flows_before,
    }
