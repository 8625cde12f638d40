"""A node's own record of its trades: the contract row, its blocks, and merging allocation updates.

Every P2P role keeps the trades it is party to in `p2p_trades` / `p2p_trade_blocks` (a TP for its
customers, an LP for its DISCOM's side). The blocks table holds the numbers; `body` keeps the contract as
last exchanged, for the parts that are not numbers (participants, policy). `current_trade` rebuilds the
wire contract from both, so what a node sends is always what it has recorded.

Merging (`merge_allocations`) applies only the columns the sender is entitled to write — a buyer-side
update cannot change the seller's allocation — and derives FINAL_ALLOC = min(buyer, seller) once both
sides are FINAL, the rule every party applies, so all four converge on the same number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ies.errors import NotFoundError
from ies.store import utcnow
from ies.usecases.p2p.contract import Trade, contract_body, parse_contract
from ies.usecases.p2p.market import Block
from ies.usecases.p2p.tables import TradeBlockRow, TradeRow

__all__ = [
    "CURTAIL_COLUMNS",
    "FINAL",
    "SIDE_COLUMNS",
    "adopt_settlement",
    "current_trade",
    "merge_allocations",
    "save_trade",
    "trade_summary",
]

FINAL = "FINAL"
#: side → (allocation column, status column) on the wire
SIDE_COLUMNS = {
    "buyer": ("BUYER_DISCOM_ALLOC", "BUYER_DISCOM_STATUS"),
    "seller": ("SELLER_DISCOM_ALLOC", "SELLER_DISCOM_STATUS"),
}
#: side → (curtailed Wh column, reason column): what that side's DISCOM cut ex post, and why
CURTAIL_COLUMNS = {
    "buyer": ("BUYER_DISCOM_CURTAILED", "BUYER_DISCOM_CURTAIL_REASON"),
    "seller": ("SELLER_DISCOM_CURTAILED", "SELLER_DISCOM_CURTAIL_REASON"),
}


def save_trade(
    session: Session, trade: Trade, *, transaction_id: str, status: str, body: dict[str, Any] | None = None
) -> TradeRow:
    """Insert or update the row and blocks of a trade (prices and requested quantities)."""
    now = utcnow()
    row = session.get(TradeRow, trade.contract_id)
    buyer = trade.buyer
    policy = trade.policy
    if row is None:
        row = TradeRow(
            contract_id=trade.contract_id,
            transaction_id=transaction_id,
            offer_id=trade.offer_id,
            seller_id=trade.seller.participant_id,
            buyer_id=buyer.participant_id if buyer else "",
            seller_meter=trade.seller.meter_id,
            buyer_meter=buyer.meter_id if buyer else "",
            seller_utility=trade.seller.utility_id,
            buyer_utility=buyer.utility_id if buyer else "",
            seller_platform=trade.seller.platform_id,
            buyer_platform=buyer.platform_id if buyer else "",
            status=status,
            seller_recorded=False,
            buyer_recorded=False,
            allocation_round="",
            policy_name=policy.name if policy else "",
            policy_version=policy.version if policy else "",
            policy_hash=policy.bundle_hash if policy else "",
            body=body or contract_body(trade),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.status = status
        row.body = body or contract_body(trade)
        row.updated_at = now
    prices = trade.column("PRICE_PER_KWH")
    requested = trade.column("REQUESTED_QTY")
    existing = {
        b.block: b
        for b in session.scalars(select(TradeBlockRow).where(TradeBlockRow.contract_id == trade.contract_id))
    }
    for block, qty in requested.items():
        if block in existing:
            existing[block].price_paise_per_kwh = prices.get(block, existing[block].price_paise_per_kwh)
            existing[block].requested_wh = qty
        else:
            session.add(
                TradeBlockRow(
                    contract_id=trade.contract_id,
                    block=block,
                    price_paise_per_kwh=prices.get(block, 0),
                    requested_wh=qty,
                    buyer_status="",
                    seller_status="",
                )
            )
    session.flush()
    return row


def _blocks(session: Session, contract_id: str) -> list[TradeBlockRow]:
    return list(
        session.scalars(
            select(TradeBlockRow)
            .where(TradeBlockRow.contract_id == contract_id)
            .order_by(TradeBlockRow.block)
        )
    )


def current_trade(session: Session, contract_id: str) -> tuple[TradeRow, Trade]:
    """The trade as recorded here: the row, and the contract with every column from the blocks table."""
    row = session.get(TradeRow, contract_id)
    if row is None:
        raise NotFoundError(f"no trade {contract_id} here")
    trade = parse_contract(row.body)
    columns: dict[str, dict[Block, int | str]] = {"PRICE_PER_KWH": {}, "REQUESTED_QTY": {}}
    for b in _blocks(session, contract_id):
        columns["PRICE_PER_KWH"][b.block] = b.price_paise_per_kwh
        columns["REQUESTED_QTY"][b.block] = b.requested_wh
        for side, value, status in (
            ("buyer", b.buyer_alloc_wh, b.buyer_status),
            ("seller", b.seller_alloc_wh, b.seller_status),
        ):
            if value is not None:
                alloc, status_col = SIDE_COLUMNS[side]
                columns.setdefault(alloc, {})[b.block] = value
                columns.setdefault(status_col, {})[b.block] = status
        if b.final_alloc_wh is not None:
            columns.setdefault("FINAL_ALLOC", {})[b.block] = b.final_alloc_wh
        for side, cut, reason in (
            ("buyer", b.buyer_curtailed_wh, b.buyer_curtail_reason),
            ("seller", b.seller_curtailed_wh, b.seller_curtail_reason),
        ):
            if cut:
                cut_col, reason_col = CURTAIL_COLUMNS[side]
                columns.setdefault(cut_col, {})[b.block] = cut
                columns.setdefault(reason_col, {})[b.block] = reason or "curtailed"
    trade = replace(trade, columns=columns, status=row.status)
    if trade.seller_ledger is not None:
        trade.seller_ledger = replace(trade.seller_ledger, allocation_version=row.seller_version)
    if trade.buyer_ledger is not None:
        trade.buyer_ledger = replace(trade.buyer_ledger, allocation_version=row.buyer_version)
    return row, trade


def merge_allocations(
    session: Session, contract_id: str, trade: Trade, sides: Iterable[str], *, author: bool = False
) -> tuple[TradeRow, set[str], bool]:
    """Apply the given sides' allocation columns of `trade` to our blocks; returns (row, sides applied,
    changed).

    Ordering: a ledger numbers its updates to each side (`allocationVersion` on its participant), and
    an update not newer than the one held is not applied — cascades travel over several hops and can
    overtake each other, and a stale update must never overwrite a newer one. An unnumbered update (a
    peer that does not number them) is applied as it comes. With `author`, we are that side's ledger:
    any change bumps our number.

    FINAL_ALLOC is recomputed here (never taken from the sender): min of the two sides when both are
    FINAL, absent otherwise.
    """
    row = session.get(TradeRow, contract_id)
    if row is None:
        raise NotFoundError(f"no trade {contract_id} here")
    applied: set[str] = set()
    for side in sides:
        party = trade.seller_ledger if side == "seller" else trade.buyer_ledger
        incoming = party.allocation_version if party is not None else 0
        held = row.seller_version if side == "seller" else row.buyer_version
        if author or not incoming or incoming > held:
            applied.add(side)
    changed_sides: set[str] = set()
    changed = False
    for b in _blocks(session, contract_id):
        for side in applied:
            if _merge_curtailment(b, side, trade):
                changed_sides.add(side)
            alloc_col, status_col = SIDE_COLUMNS[side]
            value = trade.columns.get(alloc_col, {}).get(b.block)
            status = trade.columns.get(status_col, {}).get(b.block)
            if value is None:
                continue
            if side == "buyer" and (b.buyer_alloc_wh, b.buyer_status) != (int(value), str(status or "")):
                b.buyer_alloc_wh, b.buyer_status = int(value), str(status or "")
                changed_sides.add(side)
            if side == "seller" and (b.seller_alloc_wh, b.seller_status) != (int(value), str(status or "")):
                b.seller_alloc_wh, b.seller_status = int(value), str(status or "")
                changed_sides.add(side)
        final = (
            min(b.buyer_alloc_wh, b.seller_alloc_wh)
            if b.buyer_status == FINAL
            and b.seller_status == FINAL
            and b.buyer_alloc_wh is not None
            and b.seller_alloc_wh is not None
            else None
        )
        if final != b.final_alloc_wh:
            b.final_alloc_wh = final
            changed = True
    for side in applied:
        party = trade.seller_ledger if side == "seller" else trade.buyer_ledger
        attribute = f"{side}_version"
        if author:
            if side in changed_sides:
                setattr(row, attribute, getattr(row, attribute) + 1)
        elif party is not None and party.allocation_version > getattr(row, attribute):
            setattr(row, attribute, party.allocation_version)
    changed = changed or bool(changed_sides)
    if changed:
        row.updated_at = utcnow()
    return row, applied, changed


def _merge_curtailment(b: TradeBlockRow, side: str, trade: Trade) -> bool:
    """Apply a side's curtailment of this block (it only ever grows: a DISCOM never un-curtails)."""
    cut_col, reason_col = CURTAIL_COLUMNS[side]
    value = trade.columns.get(cut_col, {}).get(b.block)
    if value is None or int(value) <= (getattr(b, f"{side}_curtailed_wh") or 0):
        return False
    setattr(b, f"{side}_curtailed_wh", min(int(value), b.requested_wh))
    setattr(b, f"{side}_curtail_reason", str(trade.columns.get(reason_col, {}).get(b.block) or "curtailed"))
    return True


def adopt_settlement(mine: Trade, incoming: Trade) -> bool:
    """Take the seller side's settlement (totals, version, true-up lines) when it is newer than ours.

    Numbered settlements replace only older ones, so an overtaken cascade never rolls a true-up back;
    unnumbered ones (a peer that does not number them) replace ours when they differ.
    """
    if not incoming.revenue_flows:
        return False
    if incoming.settlement_version and incoming.settlement_version <= mine.settlement_version:
        return False
    if (incoming.revenue_flows, incoming.adjustments) == (mine.revenue_flows, mine.adjustments):
        return False
    mine.revenue_flows = incoming.revenue_flows
    mine.settlement_version = incoming.settlement_version
    mine.adjustments = incoming.adjustments
    mine.status = incoming.status
    return True


def all_final(session: Session, contract_id: str) -> bool:
    blocks = _blocks(session, contract_id)
    return bool(blocks) and all(b.final_alloc_wh is not None for b in blocks)


def trade_summary(session: Session, row: TradeRow) -> dict[str, Any]:
    """A trade for operator routes and reports: ids, parties, status, pinned policy, blocks, flows."""
    blocks = _blocks(session, row.contract_id)
    stored = parse_contract(row.body)
    return {
        "contract_id": row.contract_id,
        "transaction_id": row.transaction_id,
        "offer_id": row.offer_id,
        "status": row.status,
        "seller": {
            "id": row.seller_id,
            "meter": row.seller_meter,
            "utility": row.seller_utility,
            "platform": row.seller_platform,
            "recorded": row.seller_recorded,
        },
        "buyer": {
            "id": row.buyer_id,
            "meter": row.buyer_meter,
            "utility": row.buyer_utility,
            "platform": row.buyer_platform,
            "recorded": row.buyer_recorded,
        },
        "policy": {"name": row.policy_name, "version": row.policy_version, "hash": row.policy_hash},
        "market": stored.market or "BILATERAL",
        "aggregators": {
            "seller": stored.seller.aggregator_id,
            "buyer": stored.buyer.aggregator_id if stored.buyer else "",
        },
        "allocation_round": row.allocation_round,
        "blocks": [
            {
                "block": b.block,
                "price_paise_per_kwh": b.price_paise_per_kwh,
                "requested_wh": b.requested_wh,
                "buyer_alloc_wh": b.buyer_alloc_wh,
                "buyer_status": b.buyer_status,
                "seller_alloc_wh": b.seller_alloc_wh,
                "seller_status": b.seller_status,
                "final_alloc_wh": b.final_alloc_wh,
                "curtailed_wh": b.curtailed_wh,
                "curtail_reason": b.seller_curtail_reason or b.buyer_curtail_reason,
            }
            for b in blocks
        ],
        "revenue_flows": stored.revenue_flows,
        "settlement_version": stored.settlement_version,
        "adjustments": stored.adjustments,
    }
