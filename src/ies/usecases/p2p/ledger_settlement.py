"""The ledger provider's settlement: under the pinned contract policy, numbered, with explicit true-ups.

The seller side's LP settles a trade once every block is FINAL on both sides. Each settlement is kept
(`p2p_settlements`: the blocks it settled and the flow totals) and numbered; when a later round changes
the allocation (a TRUE_UP after corrected meter data), the new settlement travels with its explicit
adjustment lines — the market engine's `settlement_adjustment(previous, current)` — so every party can
book the difference instead of silently replacing a total. previous totals + adjustment = new totals,
to the paisa, for every role and flow kind; a settlement that would break that is not sent.

The same module answers the LP's own DISCOM when it bills (`settlements_for_billing`): per trade of the
DISCOM's meters in a period, the per-block flows recomputed under the pinned policy (the buyer side's LP
of an inter-DISCOM trade recomputes them too, and says whether they match the totals it was sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from ies.errors import IESError, InternalError, PolicyError
from ies.store import utcnow
from ies.usecases.p2p.contract import contract_body
from ies.usecases.p2p.ledger_book import all_final, current_trade, trade_summary
from ies.usecases.p2p.market import (
    StatementRow,
    TradeSettlement,
    settlement_adjustment,
    settlement_statement,
)
from ies.usecases.p2p.settings import Charges
from ies.usecases.p2p.settle import (
    adjustment_holds,
    lines_by_key,
    record_from_blocks,
    revenue_flows,
    settle,
)
from ies.usecases.p2p.tables import SettlementRow, TradeBlockRow, TradeRow

if TYPE_CHECKING:
    from ies.usecases.p2p.ledger import LedgerState

__all__ = ["settle_ready", "settlement_of", "settlements_for_billing", "statement_rows"]


def settlement_of(state: LedgerState, row: TradeRow, blocks: list[dict[str, Any]]) -> TradeSettlement:
    """Settle a trade under the contract policy it was made under (fail closed on any doubt).

    The charges come from the pinned contract bundle (a tariff change is a new bundle version, and a
    contract keeps its version); the market engine computes the per-block flows, and the Rego contract
    policy's own net per role must agree with them to the paisa.
    """
    node = state.node
    assert node.rules is not None
    record = record_from_blocks(
        row.contract_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        buyer_utility=row.buyer_utility,
        seller_utility=row.seller_utility,
        blocks=blocks,
    )
    pinned = node.rules.pinned("contract", row.policy_name, row.policy_version, row.policy_hash)
    tariffs = {u: c.for_discom(u) for u, c in node.settings.tariffs.items()}
    for utility, rates in node.rules.contract_charges(pinned).items():
        base = node.settings.tariffs.get(utility) or Charges.model_validate({})
        tariffs[utility] = base.model_copy(update=rates).for_discom(utility)
    settlement = settle(record, tariffs)
    if pinned is not None:
        rego = node.rules.contract_net_by_role(pinned, record)
        mine = {k: v for k, v in settlement.net_by_role.items() if v or k in rego}
        if {k: v for k, v in rego.items() if v or k in mine} != mine:
            raise PolicyError(
                f"contract policy {pinned.ref.name} {pinned.ref.version} and the settlement engine "
                f"disagree on {row.contract_id}: {rego} vs {settlement.net_by_role}",
                code="POL_P2P_SETTLEMENT_MISMATCH",
            )
    return settlement


async def settle_ready(state: LedgerState, contract_ids: Iterable[str]) -> list[str]:
    """Settle every listed trade we are the seller side of whose blocks are all FINAL on both sides;
    a trade already settled on other numbers gets a new version with its adjustment lines."""
    node = state.node
    done = []
    async with state.lock:
        with node.transaction() as session:
            for contract_id in contract_ids:
                row = session.get(TradeRow, contract_id)
                if row is None or row.seller_utility != state.utility or not all_final(session, contract_id):
                    continue
                summary = trade_summary(session, row)
                previous = session.scalars(
                    select(SettlementRow)
                    .where(SettlementRow.contract_id == contract_id)
                    .order_by(SettlementRow.version.desc())
                    .limit(1)
                ).first()
                try:
                    current = settlement_of(state, row, summary["blocks"])
                    flows = revenue_flows(current)
                    if previous is not None and lines_by_key(flows) == lines_by_key(previous.flows):
                        continue
                    adjustment = None
                    if previous is not None:
                        before = settlement_of(state, row, previous.blocks)
                        adjustment = revenue_flows(settlement_adjustment(before, current))
                        if not adjustment_holds(previous.flows, adjustment, flows):
                            raise InternalError(
                                f"{contract_id}: settlement {previous.version} + its adjustment "
                                "does not give the new settlement"
                            )
                except IESError as err:
                    node.refuse(session, str(err.details.get("rule") or err.code), contract_id, err.message)
                    continue
                version = previous.version + 1 if previous is not None else 1
                session.add(
                    SettlementRow(
                        contract_id=contract_id,
                        version=version,
                        round=row.allocation_round,
                        blocks=summary["blocks"],
                        flows=flows,
                        adjustment=adjustment,
                        at=utcnow(),
                    )
                )
                _, trade = current_trade(session, contract_id)
                trade.revenue_flows, trade.settlement_version = flows, version
                if adjustment is not None:
                    trade.adjustments = [*trade.adjustments, {"version": version, "lines": adjustment}]
                trade.status = "COMPLETE"
                row.body = contract_body(trade)
                row.status = "COMPLETE"
                row.seller_version += 1  # the settlement is the seller side's update
                node.audit(
                    session,
                    "p2p.settlement",
                    contract_id,
                    {
                        "version": version,
                        "flows": flows,
                        "adjustment": adjustment,
                        "policy": {
                            "name": row.policy_name,
                            "version": row.policy_version,
                            "hash": row.policy_hash,
                        },
                    },
                )
                done.append(contract_id)
    return done


def statement_rows(state: LedgerState, participant: str) -> list[StatementRow]:
    """A participant's statement over the settled trades this ledger holds (current settlement)."""
    settlements = []
    with state.node.sessions() as session:
        rows = session.scalars(
            select(TradeRow).where(
                TradeRow.status == "COMPLETE",
                or_(TradeRow.seller_id == participant, TradeRow.buyer_id == participant),
            )
        )
        for row in rows:
            settlements.append(settlement_of(state, row, trade_summary(session, row)["blocks"]))
    return settlement_statement(participant, settlements)


def settlements_for_billing(
    state: LedgerState, meters: list[str] | None, first: int, last: int
) -> dict[str, Any]:
    """Per trade of our DISCOM's meters with a block in [first, last): its per-block flows if it is
    settled (COMPLETE), else listed as pending — what the DISCOM needs to bill those meters."""
    settled, pending = [], []
    with state.node.sessions() as session:
        in_period = select(TradeBlockRow.contract_id).where(
            TradeBlockRow.block >= first, TradeBlockRow.block < last
        )  # a subquery, not DISTINCT over the rows: PostgreSQL cannot compare their JSON bodies
        query = select(TradeRow).where(
            TradeRow.contract_id.in_(in_period), TradeRow.status.in_(("ACTIVE", "COMPLETE"))
        )
        for row in session.scalars(query):
            ours = [
                (side, meter)
                for side, meter, utility in (
                    ("seller", row.seller_meter, row.seller_utility),
                    ("buyer", row.buyer_meter, row.buyer_utility),
                )
                if utility == state.utility and (meters is None or meter in meters)
            ]
            if not ours:
                continue
            parties = {
                "seller": {"id": row.seller_id, "meter": row.seller_meter, "utility": row.seller_utility},
                "buyer": {"id": row.buyer_id, "meter": row.buyer_meter, "utility": row.buyer_utility},
            }
            if row.status != "COMPLETE":
                pending.append({"contract_id": row.contract_id, **parties})
                continue
            summary = trade_summary(session, row)
            settlement = settlement_of(state, row, summary["blocks"])
            settled.append(
                {
                    "contract_id": row.contract_id,
                    **parties,
                    "settlement_version": summary["settlement_version"],
                    "matches_signed_totals": lines_by_key(revenue_flows(settlement))
                    == lines_by_key(summary["revenue_flows"]),
                    "flows": [{**asdict(f), "kind": f.kind.value} for f in settlement.flows],
                }
            )
    return {"utility_id": state.utility, "settled": settled, "pending": pending}
