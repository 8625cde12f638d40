"""Vectorised primitives shared by the matching engine and the call auction (numpy, O(n log n)).

Both engines walk two priority-ordered queues (buyers best first, sellers cheapest first) against each
other. Laid out on one energy axis, buyer i covers the units (D[i-1], D[i]] of the cumulative demand D,
seller j the units (S[j-1], S[j]] of cumulative supply S, and the walk is the merge of the two sets of
breakpoints: each segment between consecutive breakpoints is one fill between exactly one buyer and one
seller. The buyer's limit along the axis never rises and the seller's price never falls, so the segments
where limit ≥ price form a prefix, found with one comparison per segment. Sorting dominates the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Walk", "priority_order", "walk"]

I64 = np.int64


def priority_order(prices: NDArray[np.int64], *, descending: bool) -> NDArray[np.intp]:
    """Indices in price priority (best first), ties by index (arrival order): a stable argsort.

    Prices span a narrow range in practice (a few thousand paise/kWh), so when the range fits 16 bits
    the keys are narrowed to uint16, for which numpy's stable sort is a radix sort (O(n), ~6× faster on
    10⁶ orders than the merge sort it uses for int64).
    """
    if prices.size == 0:
        return np.zeros(0, dtype=np.intp)
    keys = -prices if descending else prices
    low = int(keys.min())
    if int(keys.max()) - low < 2**16:
        return np.argsort((keys - low).astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


@dataclass(frozen=True)
class Walk:
    """Segments of the merged walk that cross (limit ≥ price), in order.

    `bid_pos` / `offer_pos` are positions in the priority orders (not original indices), `energy_wh` the
    length of each segment; `volume_wh` = Σ energy_wh.
    """

    bid_pos: NDArray[np.intp]
    offer_pos: NDArray[np.intp]
    energy_wh: NDArray[np.int64]
    volume_wh: int


def walk(
    bid_limit_sorted: NDArray[np.int64],
    bid_qty_sorted: NDArray[np.int64],
    offer_price_sorted: NDArray[np.int64],
    offer_qty_sorted: NDArray[np.int64],
) -> Walk:
    """The crossing segments of two queues already in priority order (see the module docstring)."""
    empty = np.zeros(0, dtype=np.intp)
    if bid_qty_sorted.size == 0 or offer_qty_sorted.size == 0:
        return Walk(empty, empty, np.zeros(0, dtype=I64), 0)
    demand = np.cumsum(bid_qty_sorted, dtype=I64)
    supply = np.cumsum(offer_qty_sorted, dtype=I64)
    reach = min(int(demand[-1]), int(supply[-1]))
    # Both cumulative sums are sorted: a stable sort of their concatenation is one timsort merge, O(n)
    # (np.union1d re-sorts from scratch and is 100× slower here).
    ends = np.sort(np.concatenate([demand, supply]), kind="stable")
    ends = ends[: int(np.searchsorted(ends, reach, side="right"))]
    keep = np.empty(ends.size, dtype=bool)
    if ends.size:
        keep[0] = ends[0] > 0
        np.not_equal(ends[1:], ends[:-1], out=keep[1:])
    ends = ends[keep]
    if ends.size == 0:
        return Walk(empty, empty, np.zeros(0, dtype=I64), 0)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1]
    bid_pos = np.searchsorted(demand, starts, side="right")
    offer_pos = np.searchsorted(supply, starts, side="right")
    crosses = bid_limit_sorted[bid_pos] >= offer_price_sorted[offer_pos]
    count = int(crosses.size if crosses.all() else np.argmin(crosses))
    energy = (ends - starts)[:count]
    return Walk(bid_pos[:count], offer_pos[:count], energy, int(ends[count - 1]) if count else 0)
