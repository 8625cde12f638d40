"""Continuous-book matching for one trading platform: price-time priority, partial fills, per block.

Rules (documented because every TP must reach the same fills from the same book):
- Buyers' orders are served best first: higher limit price, then earlier `submitted_at`, then order id.
- Each order takes the cheapest acceptable offers first: lower price, then earlier `submitted_at`, then
  offer id, across every seller TP's offers in the book, only from source types the order accepts, and
  never from the buyer's own offers (no self-trade).
- An order takes from an offer only while the offer's price ≤ the order's limit, and fills partially
  across as many offers as needed; an offer is shared by as many orders as needed.
- A fill is priced at the offer's price (the price the seller published in its catalogue and that
  `select`/`init`/`confirm` carry as `PRICE_PER_KWH`); the buyer's limit only decides eligibility.
Blocks never interact.

Two implementations of the same rules: a queue walk per order (any book) and `match_arrays` (numpy,
for blocks where no order restricts source types and nobody is on both sides), which `match_orders`
uses when it applies. The tests check they give the same fills.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ies.usecases.p2p.market._book import Bid, Fill, Offer, SourceType, check_book
from ies.usecases.p2p.market._curves import priority_order, walk
from ies.usecases.p2p.market._units import Block, Wh

__all__ = ["MatchResult", "match_arrays", "match_orders"]


@dataclass(frozen=True)
class MatchResult:
    """Fills in the order they were made, and what is left of every order and offer (Wh, 0 when done)."""

    fills: tuple[Fill, ...]
    unfilled_wh: dict[str, Wh]
    unsold_wh: dict[str, Wh]


def match_orders(bids: Sequence[Bid], offers: Sequence[Offer]) -> MatchResult:
    """Match a book block by block under the rules in the module docstring."""
    check_book(list(bids), list(offers))
    bids_by_block: dict[Block, list[Bid]] = defaultdict(list)
    offers_by_block: dict[Block, list[Offer]] = defaultdict(list)
    for bid in bids:
        bids_by_block[bid.block].append(bid)
    for offer in offers:
        offers_by_block[offer.block].append(offer)
    fills: list[Fill] = []
    unfilled = {b.order_id: b.quantity_wh for b in bids}
    unsold = {o.offer_id: o.quantity_wh for o in offers}
    for block in sorted(bids_by_block.keys() & offers_by_block.keys()):
        block_bids = sorted(bids_by_block[block], key=lambda b: (b.submitted_at, b.order_id))
        block_offers = sorted(offers_by_block[block], key=lambda o: (o.submitted_at, o.offer_id))
        sellers = {o.seller_id for o in block_offers}
        vectorisable = all(not b.source_types and b.buyer_id not in sellers for b in block_bids)
        made = (
            _match_vectorised(block_bids, block_offers)
            if vectorisable
            else _match_queues(block_bids, block_offers)
        )
        for fill in made:
            unfilled[fill.order_id] -= fill.energy_wh
            unsold[fill.offer_id] -= fill.energy_wh
        fills.extend(made)
    return MatchResult(tuple(fills), unfilled, unsold)


def match_arrays(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int64]]:
    """The same matching for one block of orders that accept any source, vectorised (sort + cumsum).

    Arrays are in arrival order (index = time priority). Returns `(bid_index, offer_index, energy_wh)`
    of every fill, in fill order; the price of fill k is `offer_price[offer_index[k]]`. O(n log n).
    """
    bid_order = priority_order(bid_limit, descending=True)
    offer_order = priority_order(offer_price, descending=False)
    segments = walk(
        bid_limit[bid_order], bid_qty[bid_order], offer_price[offer_order], offer_qty[offer_order]
    )
    return bid_order[segments.bid_pos], offer_order[segments.offer_pos], segments.energy_wh


def _fill(bid: Bid, offer: Offer, energy_wh: int) -> Fill:
    return Fill(
        order_id=bid.order_id,
        offer_id=offer.offer_id,
        buyer_id=bid.buyer_id,
        seller_id=offer.seller_id,
        buyer_platform_id=bid.buyer_platform_id,
        seller_platform_id=offer.seller_platform_id,
        block=bid.block,
        energy_wh=energy_wh,
        price_paise_per_kwh=offer.price_paise_per_kwh,
        source_type=offer.source_type,
    )


def _match_vectorised(bids: list[Bid], offers: list[Offer]) -> list[Fill]:
    """One block, inputs in arrival order; see `match_arrays`."""
    bid_idx, offer_idx, energy = match_arrays(
        np.array([b.limit_price_paise_per_kwh for b in bids], dtype=np.int64),
        np.array([b.quantity_wh for b in bids], dtype=np.int64),
        np.array([o.price_paise_per_kwh for o in offers], dtype=np.int64),
        np.array([o.quantity_wh for o in offers], dtype=np.int64),
    )
    return [
        _fill(bids[i], offers[j], int(e))
        for i, j, e in zip(bid_idx.tolist(), offer_idx.tolist(), energy.tolist(), strict=True)
    ]


def _match_queues(bids: list[Bid], offers: list[Offer]) -> list[Fill]:
    """One block, any book: one price-ordered queue per source type; each order looks at the heads of
    the queues it accepts and takes the cheapest (price, then arrival) until it is full or the cheapest
    acceptable offer is above its limit. Inputs are in arrival order."""
    arrival = {id(o): n for n, o in enumerate(offers)}
    queues: dict[SourceType, list[Offer]] = defaultdict(list)
    for offer in sorted(offers, key=lambda o: (o.price_paise_per_kwh, arrival[id(o)])):
        queues[offer.source_type].append(offer)
    heads = dict.fromkeys(queues, 0)
    left = {id(o): o.quantity_wh for o in offers}
    fills: list[Fill] = []
    for bid in sorted(bids, key=lambda b: -b.limit_price_paise_per_kwh):  # stable: arrival within a price
        need = bid.quantity_wh
        sources = [s for s in queues if bid.accepts(s)]
        while need:
            best: Offer | None = None
            for source in sources:
                queue, head = queues[source], heads[source]
                while head < len(queue) and not left[id(queue[head])]:
                    head += 1
                heads[source] = head
                k = head
                while k < len(queue) and (not left[id(queue[k])] or queue[k].seller_id == bid.buyer_id):
                    k += 1
                if k < len(queue) and (best is None or _before(queue[k], best, arrival)):
                    best = queue[k]
            if best is None or best.price_paise_per_kwh > bid.limit_price_paise_per_kwh:
                break
            take = min(need, left[id(best)])
            left[id(best)] -= take
            need -= take
            fills.append(_fill(bid, best, take))
    return fills


def _before(a: Offer, b: Offer, arrival: dict[int, int]) -> bool:
    return (a.price_paise_per_kwh, arrival[id(a)]) < (b.price_paise_per_kwh, arrival[id(b)])
