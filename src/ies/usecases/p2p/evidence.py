"""A node's part of a dispute bundle for one trade: what it recorded, and the signed messages behind it.

Each part holds: the trade as this node recorded it (blocks, allocations, flows, pinned policy); every
P2P message about the trade this node RECEIVED, with the exact Signature header — messages signed by
the other parties, which is what evidence needs (a party's own signature proves nothing to it); for a
ledger provider, the DISCOM's signed meter-data answers for the trade's meters (one pull per meter, so
they hold no other customer's data) and the allocation context (every leg of those meters in the
trade's blocks, which pro-rata and FIFO allocation depend on, each at what is still contracted after any
ex-post curtailment); for the seller side's ledger, every settlement it made of the trade (the blocks it
settled, the totals and each true-up's adjustment lines); and the allocation rounds it ran.
`ies p2p evidence` gathers the parts of every node into one bundle; `verify_bundle` in
`ies.usecases.p2p.dispute` checks it without trusting any of them.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import or_, select

from ies.usecases.p2p.base import P2PNode
from ies.usecases.p2p.ledger_book import current_trade, trade_summary
from ies.usecases.p2p.tables import MessageRow, RoundRow, SettlementRow, TradeBlockRow, TradeRow

__all__ = ["collect", "pull_subject"]


def pull_subject(meter_id: str, first_block: int) -> str:
    """The evidence key under which a ledger keeps the DISCOM's answer for one meter and day."""
    return f"meter:{meter_id}:{first_block}"


def collect(node: P2PNode, contract_id: str) -> dict[str, Any]:
    with node.sessions() as session:
        row, _trade = current_trade(session, contract_id)
        summary = trade_summary(session, row)
        blocks = [b["block"] for b in summary["blocks"]]
        first = min(blocks) if blocks else 0
        subjects = [contract_id]
        context: list[dict[str, Any]] = []
        settlements: list[dict[str, Any]] = []
        if node.settings.role == "ledger":
            meters = [
                m
                for m, u in ((row.seller_meter, row.seller_utility), (row.buyer_meter, row.buyer_utility))
                if u == node.settings.utility_id
            ]
            day_start = first - (first + 22) % 96
            subjects += [pull_subject(m, day_start) for m in meters]
            legs = session.execute(
                select(
                    TradeRow.contract_id,
                    TradeRow.seller_meter,
                    TradeRow.buyer_meter,
                    TradeRow.created_at,
                    TradeRow.status,
                    TradeBlockRow.block,
                    TradeBlockRow.requested_wh,
                    TradeBlockRow.seller_curtailed_wh,
                    TradeBlockRow.buyer_curtailed_wh,
                )
                .join(TradeBlockRow, TradeBlockRow.contract_id == TradeRow.contract_id)
                .where(
                    TradeBlockRow.block.in_(blocks),
                    or_(TradeRow.seller_meter.in_(meters), TradeRow.buyer_meter.in_(meters)),
                )
            ).all()
            context = [
                {
                    "contract_id": c,
                    "seller_meter": sm,
                    "buyer_meter": bm,
                    "traded_at": at.isoformat(),
                    "status": st,
                    "block": b,
                    "contracted_wh": max(wh - max(cs or 0, cb or 0), 0),
                }
                for c, sm, bm, at, st, b, wh, cs, cb in legs
            ]
            settlements = [
                {
                    "version": r.version,
                    "round": r.round,
                    "blocks": r.blocks,
                    "flows": r.flows,
                    "adjustment": r.adjustment,
                    "at": r.at.isoformat(),
                }
                for r in session.scalars(
                    select(SettlementRow)
                    .where(SettlementRow.contract_id == contract_id)
                    .order_by(SettlementRow.version)
                )
            ]
        messages = [
            {
                "action": m.action,
                "signer": m.signer,
                "authorization": m.authorization,
                "body": m.body,
                "received_at": m.at.isoformat(),
                "subject": m.contract_id,
            }
            for m in session.scalars(
                select(MessageRow)
                .where(MessageRow.contract_id.in_(subjects))
                .order_by(MessageRow.message_row)
            )
        ]
        rounds = [
            {
                "kind": r.kind,
                "first_block": r.first_block,
                "last_block": r.last_block,
                "started_at": r.started_at.isoformat(),
                "summary": r.summary,
            }
            for r in session.scalars(
                select(RoundRow).where(RoundRow.first_block <= first, RoundRow.last_block > first)
            )
        ]
    policy_bundle = None
    if node.rules is not None and row.policy_name:
        pinned = node.rules.pinned("contract", row.policy_name, row.policy_version, row.policy_hash)
        if pinned is not None:
            policy_bundle = {
                **pinned.ref.to_dict(),
                "archive_b64": base64.b64encode(pinned.bundle.archive).decode("ascii"),
                "publisher_key": str(pinned.bundle.signature["public_key"]),
            }
    return {
        "policy_bundle": policy_bundle,
        "node": node.subscriber_id,
        "role": node.settings.role,
        "utility_id": node.settings.utility_id,
        "allocation": node.settings.allocation,
        "trade": summary,
        "messages": messages,
        "allocation_context": context,
        "settlements": settlements,
        "rounds": rounds,
    }
