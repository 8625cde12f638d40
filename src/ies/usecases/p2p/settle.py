"""From recorded trade blocks to the market engine's settlement, and from its flows to the wire.

`record_of` turns a node's trade row and blocks into the engine's `TradeRecord`; `revenue_flows` turns a
`TradeSettlement` into the DEG `RevenueFlow.revenueFlows[]` lines (one line per flow kind and role, INR on
the wire with the exact paise beside it), which sum to zero for every trade because each engine flow is
a transfer. The same functions serve the ledger provider that settles and `verify-evidence`, which
settles again from the evidence alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ies.errors import SchemaValidationFailed
from ies.usecases.p2p.market import (
    DiscomCharges,
    SettlementPolicy,
    TradeBlock,
    TradeRecord,
    TradeSettlement,
    settle_trade,
)

__all__ = [
    "ROLE_ON_WIRE",
    "adjustment_holds",
    "lines_by_key",
    "record_from_blocks",
    "revenue_flows",
    "settle",
    "sum_paise",
]

#: engine roles → DEG contract roles
ROLE_ON_WIRE = {
    "buyer": "buyerPlatform",
    "seller": "sellerPlatform",
    "buyerDiscom": "buyerDiscom",
    "sellerDiscom": "sellerDiscom",
}


def record_from_blocks(
    contract_id: str,
    *,
    buyer_id: str,
    seller_id: str,
    buyer_utility: str,
    seller_utility: str,
    blocks: Sequence[Mapping[str, Any]],
) -> TradeRecord:
    """A TradeRecord from block dicts (`block`, `requested_wh`, `price_paise_per_kwh`, both allocations,
    optionally `curtailed_wh`): what is contracted is what was requested less what the DISCOM curtailed
    ex post, so a curtailed seller owes no deviation for energy it was told not to inject."""
    out = []
    for b in blocks:
        if b.get("buyer_alloc_wh") is None or b.get("seller_alloc_wh") is None:
            raise SchemaValidationFailed(
                f"trade {contract_id}: block {b.get('block')} is not allocated on both sides"
            )
        out.append(
            TradeBlock(
                block=int(b["block"]),
                contracted_wh=max(int(b["requested_wh"]) - int(b.get("curtailed_wh") or 0), 0),
                price_paise_per_kwh=int(b["price_paise_per_kwh"]),
                buyer_alloc_wh=int(b["buyer_alloc_wh"]),
                seller_alloc_wh=int(b["seller_alloc_wh"]),
            )
        )
    return TradeRecord(contract_id, buyer_id, seller_id, buyer_utility, seller_utility, tuple(out))


def settle(record: TradeRecord, tariffs: Mapping[str, DiscomCharges]) -> TradeSettlement:
    missing = {record.buyer_discom_id, record.seller_discom_id} - set(tariffs)
    if missing:
        raise SchemaValidationFailed(
            f"no tariff for {', '.join(sorted(missing))}: cannot settle {record.trade_id}"
        )
    return settle_trade(record, tariffs, SettlementPolicy())


def revenue_flows(settlement: TradeSettlement) -> list[dict[str, Any]]:
    """One wire line per (flow kind, role): + received, − paid; INR value and exact paise."""
    net: dict[tuple[str, str], int] = defaultdict(int)
    parties: dict[str, str] = {}
    for flow in settlement.flows:
        payer, payee = ROLE_ON_WIRE[flow.payer_role], ROLE_ON_WIRE[flow.payee_role]
        net[(flow.kind.value, payer)] -= flow.amount_paise
        net[(flow.kind.value, payee)] += flow.amount_paise
        parties[payer], parties[payee] = flow.payer_id, flow.payee_id
    lines = []
    for (kind, role), paise in sorted(net.items()):
        if paise == 0:
            continue
        lines.append(
            {
                "role": role,
                "participantId": parties[role],
                "kind": kind,
                "value": float(Decimal(paise) / 100),
                "valuePaise": paise,
                "currency": "INR",
                "description": f"{kind.lower().replace('_', ' ')} ({'received' if paise > 0 else 'paid'})",
            }
        )
    return lines


def sum_paise(lines: Sequence[Mapping[str, Any]]) -> int:
    """Σ of wire lines in paise (exact: `valuePaise` when present, else the INR value × 100)."""
    total = 0
    for line in lines:
        if "valuePaise" in line:
            total += int(line["valuePaise"])
        else:
            total += int(Decimal(str(line.get("value", 0))) * 100)
    return total


def lines_by_key(lines: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Wire lines as {(kind, role): paise}, zero entries dropped (how totals and adjustments compare)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        out[(str(line.get("kind")), str(line.get("role")))] += sum_paise([line])
    return {k: v for k, v in out.items() if v}


def adjustment_holds(
    previous: Sequence[Mapping[str, Any]],
    adjustment: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
) -> bool:
    """previous totals + adjustment lines = current totals, for every (kind, role), to the paisa."""
    total = defaultdict(int, lines_by_key(previous))
    for key, paise in lines_by_key(adjustment).items():
        total[key] += paise
    return {k: v for k, v in total.items() if v} == lines_by_key(current)
