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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ies.usecases.p2p.market._book import Bid, Fill, Offer
from ies.usecases.p2p.market._units import Wh

__all__ = ["MatchResult", "match_arrays", "match_orders"]


@dataclass(frozen=True)
class MatchResult:
    """Fills in the order they were made, and what is left of every order and offer (Wh, 0 when done)."""

    fills: tuple[Fill, ...]
    unfilled_wh: dict[str, Wh]
    unsold_wh: dict[str, Wh]


def match_orders(bids: Sequence[Bid], offers: Sequence[Offer]) -> MatchResult:
    """Match a book block by block under the rules in the module docstring."""
    raise NotImplementedError


def match_arrays(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The same matching for one block of orders that accept any source, vectorised (sort + cumsum).

    Arrays are in arrival order (index = time priority). Returns `(bid_index, offer_index, energy_wh)`
    of every fill, in fill order; the price of fill k is `offer_price[offer_index[k]]`. O(n log n).
    """
    raise NotImplementedError
