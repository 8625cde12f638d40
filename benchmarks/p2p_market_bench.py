"""P2P market engine throughput: call auction and price-time matching against HiGHS, same run.

    python benchmarks/p2p_market_bench.py [--sizes 10000 100000 1000000] [--repeat 3] [--no-lp]

For each book size (orders a side, one 15-minute block), a random book is generated (limits and offer
prices in whole paise/kWh around ₹6, 0.1–5 kWh each, so price ties and a shared marginal tier are the
norm), then timed:

- `clear_arrays`  uniform-price call auction (sort + cumsum + searchsorted, pro-rata marginal tier);
- `match_arrays`  price-time matching of the same book (fills priced at the offer);
- `sort floor`    the two stable argsorts alone: the n log n floor any price-priority engine pays;
- `call_auction (objects)`, `match_orders (objects)`  the same book as `Bid`/`Offer` dataclasses, as the
                  network layer calls it (book checks, arrival sort, conversion, result dicts and fills);
                  only up to `--objects-max` orders a side;
- `HiGHS LP`      the same clearing as a linear programme (`clear_lp`: scipy.optimize.linprog, method
                  "highs"), the baseline, asserted to give the identical cleared volume, price and
                  equilibrium price range.

Times are the best of `--repeat` runs, CPU seconds of this process (the machine is shared; CPU time is
not inflated by other sessions' load) and wall seconds. The scaling column divides each time by
n·log2(n) relative to the smallest size: ≈ 1 means n log n growth.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ies.usecases.p2p.market import (
    Bid,
    Offer,
    SourceType,
    block_start,
    call_auction,
    clear_arrays,
    clear_lp,
    match_arrays,
    match_orders,
)

TARGET_S = {100_000: 0.1, 1_000_000: 1.0}


def book(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    bid_limit = np.clip(rng.normal(600, 120, n), 100, 2000).astype(np.int64)
    offer_price = np.clip(rng.normal(560, 120, n), 100, 2000).astype(np.int64)
    bid_qty = rng.integers(100, 5000, n, dtype=np.int64)
    offer_qty = rng.integers(100, 5000, n, dtype=np.int64)
    return bid_limit, bid_qty, offer_price, offer_qty


def objects(arrays: tuple[np.ndarray, ...]) -> tuple[list[Bid], list[Offer]]:
    bl, bq, op, oq = (a.tolist() for a in arrays)
    at = block_start(0)
    bids = [
        Bid(f"b{i}", f"buyer{i}", "tp-b", 0, q, p, at) for i, (p, q) in enumerate(zip(bl, bq, strict=True))
    ]
    offers = [
        Offer(f"o{i}", f"seller{i}", "tp-s", 0, q, p, SourceType.SOLAR, at)
        for i, (p, q) in enumerate(zip(op, oq, strict=True))
    ]
    return bids, offers


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best CPU s, best wall s, last result)."""
    best_cpu = best_wall = math.inf
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-lp", action="store_true", help="skip the HiGHS baseline")
    parser.add_argument("--objects-max", type=int, default=100_000, help="largest book timed as objects")
    args = parser.parse_args(argv)

    rows = []
    first: dict[str, float] = {}
    for n in sorted(args.sizes):
        bl, bq, op, oq = book(n, seed=n)
        contenders: dict[str, tuple[float, float]] = {}
        cpu, wall, auction = timed(lambda: clear_arrays(bl, bq, op, oq), args.repeat)  # noqa: B023
        contenders["clear_arrays"] = (cpu, wall)
        cpu, wall, fills = timed(lambda: match_arrays(bl, bq, op, oq), args.repeat)  # noqa: B023
        contenders["match_arrays"] = (cpu, wall)
        cpu, wall, _ = timed(
            lambda: (np.argsort(-bl, kind="stable"), np.argsort(op, kind="stable")),  # noqa: B023
            args.repeat,
        )
        contenders["sort floor (int64)"] = (cpu, wall)
        if n <= args.objects_max:
            book_bids, book_offers = objects((bl, bq, op, oq))
            cpu, wall, by_block = timed(lambda: call_auction(book_bids, book_offers), 1)  # noqa: B023
            assert by_block[0].volume_wh == auction.volume_wh
            contenders["call_auction (objects)"] = (cpu, wall)
            cpu, wall, matched = timed(lambda: match_orders(book_bids, book_offers), 1)  # noqa: B023
            assert sum(f.energy_wh for f in matched.fills) == auction.volume_wh
            contenders["match_orders (objects)"] = (cpu, wall)
        assert int(fills[2].sum()) == auction.volume_wh, "matching and auction cross at different volumes"
        if not args.no_lp:
            cpu, wall, lp = timed(lambda: clear_lp(bl, bq, op, oq), 1)  # noqa: B023
            contenders["HiGHS LP"] = (cpu, wall)
            same = (auction.volume_wh, auction.price_paise_per_kwh, auction.price_low, auction.price_high)
            assert same == (lp.volume_wh, lp.price_paise_per_kwh, lp.price_low, lp.price_high), (same, lp)
        nlogn = n * math.log2(n)
        for name, (cpu, wall) in contenders.items():
            first.setdefault(name, cpu / nlogn)
            lp_cpu = contenders.get("HiGHS LP", (math.nan,))[0]
            rows.append((n, name, cpu, wall, lp_cpu / cpu, (cpu / nlogn) / first[name]))
        target = TARGET_S.get(n)
        met = target is not None and contenders["clear_arrays"][1] < target
        verdict = "" if target is None else f"; wall-time target {target} s {'met' if met else 'MISSED'}"
        print(
            f"n={n:>9,} a side: {auction.volume_wh / 1e6:,.1f} MWh cleared at "
            f"{auction.price_paise_per_kwh} paise/kWh (range {auction.price_low}–{auction.price_high}), "
            f"{fills[0].size:,} fills" + ("" if args.no_lp else "; HiGHS LP identical") + verdict,
            flush=True,
        )

    print()
    print("| orders a side | contender | CPU s | wall s | × faster than HiGHS | scaling vs n log n |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, name, cpu, wall, speedup, scaling in rows:
        speed = "—" if math.isnan(speedup) else f"{speedup:,.0f}"
        print(f"| {n:,} | {name} | {cpu:.4f} | {wall:.4f} | {speed} | {scaling:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
