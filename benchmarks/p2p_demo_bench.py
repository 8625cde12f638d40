"""End-to-end P2P throughput: the whole demo day over real node processes, next to the exchange's own
round-trip rate measured on the same network in the same run.

    python benchmarks/p2p_demo_bench.py [--prosumers 200] [--discoms 2] [--market bilateral|auction]
                                        [--base-port 19500]

Prints trades confirmed per second (select → init → both ledgers' feasibility → confirm → both ledgers
record), the wall time of each phase of the day, and, as the baseline, signed request/callback round trips
per second between the two trading platforms (`/admin/burst`, the exchange's load test) measured right
after the demo on the same processes. Their ratio is the number of round trips a trade costs in practice.
The invariants of the demo (recorded by both ledgers, four parties agree, flows sum to zero) are checked
and reported too: a fast run that does not balance is not a result.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ies.usecases.p2p.demo import run_demo
from ies.usecases.p2p.driver import Driver
from ies.usecases.p2p.market import IST


def round_trips(driver: Driver, count: int = 400) -> dict[str, Any]:
    """Signed `status` round trips tp-2 → tp-1 (an unknown contract: answered with an error callback)."""
    target = driver.node("tp-1")
    spec = {
        "action": "status",
        "count": count,
        "concurrency": 16,
        "bpp_id": target.subscriber_id,
        "bpp_uri": target.beckn_url,
        "message": {"contract": {"id": "benchmark-probe"}},
    }
    return dict(driver.call("tp-2", "POST", "/admin/burst", spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prosumers", type=int, default=200)
    parser.add_argument("--discoms", type=int, default=2, choices=(1, 2))
    parser.add_argument("--base-port", type=int, default=19500)
    parser.add_argument("--market", default="bilateral", choices=("bilateral", "auction"))
    args = parser.parse_args()
    day = (datetime.now(IST) + timedelta(days=2)).date()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ies-p2p-bench-") as home:
        result = run_demo(
            args.prosumers,
            args.discoms,
            day,
            Path(home),
            base_port=args.base_port,
            progress=lambda m: print(f"  {m}", flush=True),
            probe=round_trips,
            market=args.market,
        )
    wall = time.perf_counter() - started
    confirmed = sum(int(r["confirmed"]) for r in result.trade_runs.values())
    trading = result.timings["trading_s"]
    trades_per_s = confirmed / trading if trading else 0.0
    baseline = float(result.probe.get("round_trips_per_s", 0.0))
    print()
    print(
        f"P2P demo day: {args.prosumers} prosumers, {args.discoms} DISCOM(s), 96 blocks, {confirmed} trades "
        f"({args.market} market)"
    )
    for phase, seconds in result.timings.items():
        print(f"  {phase:<24} {seconds:8.1f} s")
    print(f"  {'whole run':<24} {wall:8.1f} s")
    print(f"end-to-end trades/s (contracting, incl. both ledgers): {trades_per_s:.2f}")
    print(
        f"baseline: signed round trips/s tp-2 → tp-1 on the same network: {baseline:.1f} "
        f"(p50 {result.probe.get('latency_ms', {}).get('p50')} ms)"
    )
    if baseline:
        print(
            f"ratio: {baseline / trades_per_s:.1f} round-trip equivalents per trade" if trades_per_s else ""
        )
    print(f"checks: {result.checks.to_dict()}")


if __name__ == "__main__":
    main()
