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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ies.errors import InternalError
from ies.usecases.p2p.market._allocation import largest_remainder
from ies.usecases.p2p.market._book import Bid, Fill, Offer, check_book
from ies.usecases.p2p.market._curves import I64, priority_order, walk
from ies.usecases.p2p.market._units import Block, PaisePerKWh, Wh

__all__ = ["ArrayClearing", "AuctionResult", "call_auction", "clear_arrays", "equilibrium_range"]


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
    check_book(list(bids), list(offers))
    bids_by_block: dict[Block, list[Bid]] = defaultdict(list)
    offers_by_block: dict[Block, list[Offer]] = defaultdict(list)
    for bid in bids:
        bids_by_block[bid.block].append(bid)
    for offer in offers:
        offers_by_block[offer.block].append(offer)
    results: dict[Block, AuctionResult] = {}
    for block in sorted(bids_by_block.keys() | offers_by_block.keys()):
        block_bids = sorted(bids_by_block[block], key=lambda b: (b.submitted_at, b.order_id))
        block_offers = sorted(offers_by_block[block], key=lambda o: (o.submitted_at, o.offer_id))
        results[block] = _clear_block(block, block_bids, block_offers)
    return results


def clear_arrays(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> ArrayClearing:
    """Clear one block given as arrays in time-priority order (index = arrival); O(n log n)."""
    bid_order = priority_order(bid_limit, descending=True)
    offer_order = priority_order(offer_price, descending=False)
    limits, bqty = bid_limit[bid_order], bid_qty[bid_order]
    prices, oqty = offer_price[offer_order], offer_qty[offer_order]
    volume = walk(limits, bqty, prices, oqty).volume_wh
    bid_alloc = np.zeros(bid_limit.size, dtype=I64)
    offer_alloc = np.zeros(offer_price.size, dtype=I64)
    if volume == 0:
        return ArrayClearing(0, None, None, None, bid_alloc, offer_alloc)
    bid_sorted, bid_tier = _fill_to(volume, -limits, bqty)
    offer_sorted, offer_tier = _fill_to(volume, prices, oqty)
    bid_alloc[bid_order] = bid_sorted
    offer_alloc[offer_order] = offer_sorted
    low, high = equilibrium_range(
        marginal_limit=int(limits[bid_tier]),
        marginal_price=int(prices[offer_tier]),
        best_unserved_limit=_first_short(limits, bid_sorted, bqty),
        best_unsold_price=_first_short(prices, offer_sorted, oqty),
    )
    return ArrayClearing(volume, (low + high) // 2, low, high, bid_alloc, offer_alloc)


def equilibrium_range(
    *,
    marginal_limit: int,
    marginal_price: int,
    best_unserved_limit: int | None,
    best_unsold_price: int | None,
) -> tuple[int, int]:
    """[lo, hi] of rule 3: the prices that support an allocation, from its marginal and next orders."""
    low = marginal_price if best_unserved_limit is None else max(marginal_price, best_unserved_limit)
    high = marginal_limit if best_unsold_price is None else min(marginal_limit, best_unsold_price)
    if low > high:  # pragma: no cover - impossible for a crossing allocation; fail loudly if it ever is
        raise InternalError(f"empty equilibrium price range [{low}, {high}]")
    return low, high


def _first_short(
    prices_sorted: NDArray[np.int64], alloc_sorted: NDArray[np.int64], qty_sorted: NDArray[np.int64]
) -> int | None:
    """Price of the first order in priority order left (partly) unfilled, None when all are full."""
    short = np.flatnonzero(alloc_sorted < qty_sorted)
    return int(prices_sorted[short[0]]) if short.size else None


def _fill_to(volume: int, keys: NDArray[np.int64], qty: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """Allocate `volume` along one priority-ordered side (`keys` ascending = better first): full fills
    above the marginal tier, pro-rata inside it (rule 2). Returns the allocations and the position of the
    first order of the marginal tier."""
    cumulative = np.cumsum(qty, dtype=I64)
    marginal = int(np.searchsorted(cumulative, volume, side="left"))
    tier_key = keys[marginal]
    first = int(np.searchsorted(keys, tier_key, side="left"))
    last = int(np.searchsorted(keys, tier_key, side="right"))
    alloc = np.zeros(qty.size, dtype=I64)
    alloc[:first] = qty[:first]
    above = int(cumulative[first - 1]) if first else 0
    alloc[first:last] = _pro_rata(volume - above, qty[first:last])
    return alloc, first


def _pro_rata(total: int, weights: NDArray[np.int64]) -> NDArray[np.int64]:
    """Largest remainder in numpy: floor shares, then +1 to the largest remainders (earlier first)."""
    weight_sum = int(weights.sum())
    if total == weight_sum:
        return weights.copy()
    if weights.size and total * int(weights.max()) >= 2**62:  # the products would overflow int64
        return np.array(largest_remainder(total, weights.tolist()), dtype=I64)
    product = total * weights
    shares = product // weight_sum
    left = total - int(shares.sum())
    if left:
        remainders = product % weight_sum
        winners = np.lexsort((np.arange(weights.size), -remainders))[:left]
        shares[winners] += 1
    return shares


def _clear_block(block: Block, bids: list[Bid], offers: list[Offer]) -> AuctionResult:
    clearing = clear_arrays(
        np.array([b.limit_price_paise_per_kwh for b in bids], dtype=I64),
        np.array([b.quantity_wh for b in bids], dtype=I64),
        np.array([o.price_paise_per_kwh for o in offers], dtype=I64),
        np.array([o.quantity_wh for o in offers], dtype=I64),
    )
    order_fills = {b.order_id: int(q) for b, q in zip(bids, clearing.bid_alloc_wh.tolist(), strict=True)}
    offer_fills = {o.offer_id: int(q) for o, q in zip(offers, clearing.offer_alloc_wh.tolist(), strict=True)}
    fills: list[Fill] = []
    if clearing.price_paise_per_kwh is not None and clearing.price_low is not None:
        fills = _pair(bids, offers, clearing)
        price_range: tuple[int, int] | None = (clearing.price_low, int(clearing.price_high or 0))
    else:
        price_range = None
    return AuctionResult(
        block=block,
        price_paise_per_kwh=clearing.price_paise_per_kwh,
        volume_wh=clearing.volume_wh,
        price_range=price_range,
        order_fills_wh=order_fills,
        offer_fills_wh=offer_fills,
        fills=tuple(fills),
    )


def _pair(bids: list[Bid], offers: list[Offer], clearing: ArrayClearing) -> list[Fill]:
    """Bilateral fills at the clearing price: traded quantities of both sides, each in priority order,
    walked against each other (every pair of overlapping units is one fill)."""
    price = clearing.price_paise_per_kwh
    assert price is not None
    bid_limits = np.array([b.limit_price_paise_per_kwh for b in bids], dtype=I64)
    offer_prices = np.array([o.price_paise_per_kwh for o in offers], dtype=I64)
    bid_order = priority_order(bid_limits, descending=True)
    offer_order = priority_order(offer_prices, descending=False)
    # Every traded unit crosses at the clearing price: walk with flat prices so no segment is cut off.
    segments = walk(
        np.zeros(bid_order.size, dtype=I64),
        clearing.bid_alloc_wh[bid_order],
        np.zeros(offer_order.size, dtype=I64),
        clearing.offer_alloc_wh[offer_order],
    )
    fills = []
    for bp, op, energy in zip(segments.bid_pos.tolist(), segments.offer_pos.tolist(),
                              segments.energy_wh.tolist(), strict=True):  # fmt: skip
        bid, offer = bids[int(bid_order[bp])], offers[int(offer_order[op])]
        fills.append(
            Fill(
                order_id=bid.order_id,
                offer_id=offer.offer_id,
                buyer_id=bid.buyer_id,
                seller_id=offer.seller_id,
                buyer_platform_id=bid.buyer_platform_id,
                seller_platform_id=offer.seller_platform_id,
                block=bid.block,
                energy_wh=int(energy),
                price_paise_per_kwh=price,
                source_type=offer.source_type,
            )
        )
    return fills
