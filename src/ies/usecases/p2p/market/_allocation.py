"""Allocating metered actuals across a customer's trades: what the Ledger Provider does after delivery.

A customer may hold several trades in one block; its meter reports one number (export for a seller,
import for a buyer). The LP splits that number across the trades by a policy setting:
- PRO_RATA: each trade gets actual × contracted / Σ contracted, capped at its contracted quantity, in
  integer Wh by the largest-remainder method (ties: earlier trade first, then trade id);
- FIFO: trades in trade-time order each take `min(contracted, remaining actual)` (the inter-retailer
  rule: 5 + 4 kWh traded, 8 injected → 5 + 3).
Either way a customer's allocations in a block sum to exactly min(actual, Σ contracted): never more than
the meter saw, never more than was traded, no Wh created or lost.

Each side is allocated independently; a trade's FINAL_ALLOC is min(buyer-side, seller-side allocation).
Rounds (PROVISIONAL on early data, FINAL on validated data, TRUE_UP when corrected data arrives after
settlement) run the same allocation on newer actuals; `true_up` gives the per-trade change to settle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ies.errors import UsageError
from ies.usecases.p2p.market._units import Block, Wh

__all__ = [
    "AllocationMethod",
    "AllocationRound",
    "AllocationRun",
    "LegKey",
    "TradeLeg",
    "allocate_side",
    "largest_remainder",
    "run_allocation_round",
    "true_up",
]

LegKey = tuple[str, Block]
"""(trade id, block): the unit a side's allocation is given for."""


class AllocationMethod(StrEnum):
    PRO_RATA = "PRO_RATA"
    FIFO = "FIFO"


class AllocationRound(StrEnum):
    PROVISIONAL = "PROVISIONAL"
    FINAL = "FINAL"
    TRUE_UP = "TRUE_UP"


@dataclass(frozen=True, slots=True)
class TradeLeg:
    """One side of a trade in one block: `customer_id` buys (or sells) `contracted_wh` in `block`."""

    trade_id: str
    customer_id: str
    block: Block
    contracted_wh: Wh
    traded_at: datetime


@dataclass(frozen=True)
class AllocationRun:
    """One round's allocations: each side's, and FINAL_ALLOC = min of the two, per (trade, block)."""

    round: AllocationRound
    method: AllocationMethod
    buyer_side_wh: dict[LegKey, Wh]
    seller_side_wh: dict[LegKey, Wh]
    final_wh: dict[LegKey, Wh]


def largest_remainder(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """`total` split in proportion to `weights` into integers summing to exactly `total`.

    Floor shares first, then one unit each to the largest remainders (ties: lower index first). With
    `caps` (default: the weights) no share exceeds its cap; `total` must not exceed Σ caps. Weights and
    total are non-negative. Exact integer arithmetic: remainders are compared as fractions over Σ weights.
    """
    caps = list(weights) if caps is None else list(caps)
    if total < 0 or any(w < 0 for w in weights):
        raise UsageError("largest_remainder needs non-negative total and weights")
    if total > sum(caps):
        raise UsageError(f"cannot place {total} within caps summing to {sum(caps)}")
    denominator = sum(weights)
    if total == 0 or denominator == 0:
        if total:
            raise UsageError("cannot split a positive total over zero weights")
        return [0] * len(weights)
    shares = [min(total * w // denominator, c) for w, c in zip(weights, caps, strict=True)]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % denominator), i))
    while left:
        progressed = False
        for i in order:
            if left and shares[i] < caps[i]:
                shares[i] += 1
                left -= 1
                progressed = True
        if not progressed:  # pragma: no cover - excluded by the caps check above
            raise UsageError("largest_remainder could not place every unit")
    return shares


def allocate_side(
    legs: Iterable[TradeLeg], metered_wh: Mapping[tuple[str, Block], Wh], method: AllocationMethod
) -> dict[LegKey, Wh]:
    """Allocate each (customer, block)'s metered Wh across that customer's legs in the block.

    A customer with legs in a block but no metered value is allocated 0 on each (nothing verified, nothing
    settled). Metered values must not be negative.
    """
    groups: dict[tuple[str, Block], list[TradeLeg]] = defaultdict(list)
    seen: set[LegKey] = set()
    for leg in legs:
        if leg.contracted_wh < 0:
            raise UsageError(f"trade {leg.trade_id}: negative contracted quantity {leg.contracted_wh} Wh")
        key = (leg.trade_id, leg.block)
        if key in seen:
            raise UsageError(f"trade {leg.trade_id} has two legs on one side in block {leg.block}")
        seen.add(key)
        groups[(leg.customer_id, leg.block)].append(leg)
    out: dict[LegKey, Wh] = {}
    for group_key, group in groups.items():
        actual = metered_wh.get(group_key, 0)
        if actual < 0:
            raise UsageError(f"metered value for {group_key[0]} in block {group_key[1]} is negative")
        group.sort(key=lambda g: (g.traded_at, g.trade_id))
        contracted = [g.contracted_wh for g in group]
        usable = min(actual, sum(contracted))
        if method is AllocationMethod.FIFO:
            shares = []
            remaining = usable
            for qty in contracted:
                take = min(qty, remaining)
                shares.append(take)
                remaining -= take
        else:
            shares = largest_remainder(usable, contracted)
        for g, share in zip(group, shares, strict=True):
            out[(g.trade_id, g.block)] = share
    return out


def run_allocation_round(
    round_: AllocationRound,
    method: AllocationMethod,
    buy_legs: Sequence[TradeLeg],
    sell_legs: Sequence[TradeLeg],
    metered_import_wh: Mapping[tuple[str, Block], Wh],
    metered_export_wh: Mapping[tuple[str, Block], Wh],
) -> AllocationRun:
    """Allocate buyers' imports and sellers' exports, then FINAL_ALLOC = min(buyer side, seller side).

    Every trade must have exactly one buy leg and one sell leg in each of its blocks.
    """
    buyer = allocate_side(buy_legs, metered_import_wh, method)
    seller = allocate_side(sell_legs, metered_export_wh, method)
    if buyer.keys() != seller.keys():
        missing = sorted(buyer.keys() ^ seller.keys())[:3]
        raise UsageError(f"trades without both a buy and a sell leg: {missing}")
    final = {key: min(buyer[key], seller[key]) for key in buyer}
    return AllocationRun(round_, method, buyer, seller, final)


def true_up(previous: AllocationRun, current: AllocationRun) -> dict[LegKey, Wh]:
    """The change in FINAL_ALLOC per (trade, block) from `previous` to `current` (non-zero changes only).

    The money side of a true-up is `settlement_adjustment(settled on previous, settled on current)`,
    the difference of the rounded flows, so the adjusted total equals settling on `current` to the paisa.
    """
    keys = previous.final_wh.keys() | current.final_wh.keys()
    deltas = {k: current.final_wh.get(k, 0) - previous.final_wh.get(k, 0) for k in keys}
    return {k: d for k, d in sorted(deltas.items()) if d}
