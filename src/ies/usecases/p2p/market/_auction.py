"""Uniform-price call auction per block: the "retail local energy exchange" inside one DISCOM.

All orders of a block are collected and cleared at once at one price (seed §12.2.2).

Rules:
1. Demand D(p) = Σ quantity of orders with limit ≥ p; supply S(p) = Σ quantity of offers with price ≤ p.
   The cleared volume V is the largest volume at which the aggregate curves still cross: the most
   energy that can change hands with every buyer paying no more than its limit and every seller getting
   at least its price. Units where the marginal buyer's limit equals the marginal seller's price trade.
2. Which orders trade: orders strictly better than the marginal price tier trade in full; the marginal
   tier (all orders with the marginal limit) shares what is left pro-rata to quantity (same for offers).
   Pro-rata in integer Wh uses the largest-remainder method: floor shares first, then one more Wh to the
   largest remainders, ties by time priority (earlier `submitted_at`, then id). The tier gets exactly
   what is left: no Wh created or lost.
3. The price is the midpoint, rounded down to a whole paisa/kWh, of the equilibrium range [lo, hi]: every
   price in it supports the allocation (accepted buyers' limits ≥ price ≥ rejected buyers' limits, and the
   same for sellers), so lo = max(highest accepted offer price, highest limit of a buyer left (partly)
   unserved) and hi = min(lowest accepted limit, lowest price of a seller left (partly) unsold).
   Midpoint splits the surplus at the margin evenly between the two sides.
4. V = 0 (no crossing) clears nothing and has no price.
Source-type preferences do not apply: the exchange pools every source (a buyer who cares uses the
matching engine). The fills pair buyers with sellers in priority order at the clearing price, so each
pair can be contracted and recorded like any bilateral trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ies.usecases.p2p.market._book import Bid, Fill, Offer
from ies.usecases.p2p.market._units import Block, PaisePerKWh, Wh

__all__ = ["ArrayClearing", "AuctionResult", "call_auction", "clear_arrays"]


@dataclass(frozen=True)
class ArrayClearing:
    """One block's clearing on arrays: volume, price, equilibrium range, per-order and per-offer Wh."""

    volume_wh: Wh
    price_paise_per_kwh: PaisePerKWh | None
    price_low: PaisePerKWh | None
    price_high: PaisePerKWh | None
    bid_alloc_wh: NDArray[np.int64]
    offer_alloc_wh: NDArray[np.int64]


@dataclass(frozen=True)
class AuctionResult:
    """The clearing of one block: price (None when nothing clears), volume, who trades how much."""

    block: Block
    price_paise_per_kwh: PaisePerKWh | None
    volume_wh: Wh
    price_range: tuple[PaisePerKWh, PaisePerKWh] | None
    order_fills_wh: dict[str, Wh]
    offer_fills_wh: dict[str, Wh]
    fills: tuple[Fill, ...]


def call_auction(bids: Sequence[Bid], offers: Sequence[Offer]) -> dict[Block, AuctionResult]:
    """Clear every block that has an order or an offer; one result per block."""
    raise NotImplementedError


def clear_arrays(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> ArrayClearing:
    """Clear one block given as arrays in time-priority order (index = arrival); O(n log n)."""
    raise NotImplementedError
