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

from ies.usecases.p2p.market._auction import ArrayClearing

__all__ = ["clear_lp"]


def clear_lp(
    bid_limit: NDArray[np.int64],
    bid_qty: NDArray[np.int64],
    offer_price: NDArray[np.int64],
    offer_qty: NDArray[np.int64],
) -> ArrayClearing:
    """Clear one block with `scipy.optimize.linprog(method="highs")`; allocations rounded to Wh."""
    raise NotImplementedError
