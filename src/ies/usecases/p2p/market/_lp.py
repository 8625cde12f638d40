"""The call auction solved as a linear programme with HiGHS: an independent check of `clear_arrays`.

    maximise   Σ (limit_i + ½) · x_i − Σ price_j · y_j
    subject to Σ x_i = Σ y_j,  0 ≤ x_i ≤ bid_qty_i,  0 ≤ y_j ≤ offer_qty_j

Welfare maximisation picks the efficient volume; the ½ paise/kWh bonus per unit bought makes units at
zero surplus (limit = price) trade, as rule 1 of the auction says, without changing anything else (prices
are integers, so every other unit's surplus keeps its sign). The price is then read off the LP's solution
with the same equilibrium-range rule as `_auction` (rule 3), using only which orders the LP accepted.
Used by the benchmark and by the tests; never on a node's hot path (it is orders of magnitude slower).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ies.errors import InternalError
from ies.usecases.p2p.market._auction import ArrayClearing, equilibrium_range
from ies.usecases.p2p.market._curves import I64

__all__ = ["clear_lp"]


def clear_lp(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> ArrayClearing:
    """Clear one block with `scipy.optimize.linprog(method="highs")`; allocations rounded to Wh.

    A vertex of this LP has at most one variable strictly between its bounds, whose value is then a
    difference of integer quantities, so rounding the solution to Wh is exact (checked: the rounded
    solution must balance, else InternalError).
    """
    from scipy import sparse  # heavy imports, needed only here
    from scipy.optimize import linprog

    nb, no = bid_limit.size, offer_price.size
    if nb == 0 or no == 0:
        return ArrayClearing(0, None, None, None, np.zeros(nb, dtype=I64), np.zeros(no, dtype=I64))
    cost = np.concatenate([-(bid_limit.astype(np.float64) + 0.5), offer_price.astype(np.float64)])
    balance = sparse.csr_array(
        (
            np.concatenate([np.ones(nb), -np.ones(no)]),
            (np.zeros(nb + no, dtype=np.int64), np.arange(nb + no)),
        ),
        shape=(1, nb + no),
    )
    bounds = np.column_stack([np.zeros(nb + no), np.concatenate([bid_qty, offer_qty]).astype(np.float64)])
    solved = linprog(cost, A_eq=balance, b_eq=np.zeros(1), bounds=bounds, method="highs")
    if solved.status != 0:
        raise InternalError(f"HiGHS could not clear the block: {solved.message}")
    values = np.rint(solved.x).astype(I64)
    bid_alloc, offer_alloc = values[:nb], values[nb:]
    volume = int(bid_alloc.sum())
    if volume != int(offer_alloc.sum()):
        raise InternalError("the LP solution does not balance after rounding to Wh")
    if volume == 0:
        return ArrayClearing(0, None, None, None, bid_alloc, offer_alloc)
    low, high = equilibrium_range(
        marginal_limit=int(bid_limit[bid_alloc > 0].min()),
        marginal_price=int(offer_price[offer_alloc > 0].max()),
        best_unserved_limit=_best(bid_limit[bid_alloc < bid_qty], highest=True),
        best_unsold_price=_best(offer_price[offer_alloc < offer_qty], highest=False),
    )
    return ArrayClearing(volume, (low + high) // 2, low, high, bid_alloc, offer_alloc)


def _best(prices: NDArray[np.int64], *, highest: bool) -> int | None:
    if prices.size == 0:
        return None
    return int(prices.max() if highest else prices.min())
