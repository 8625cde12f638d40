"""What the demo verifies after a day of trading: the invariants an operator or regulator would check.

Each check compares what separate node processes recorded; none trusts one node's summary:
- every trade any platform holds as confirmed is recorded by the seller's ledger for the seller side and
  by the buyer's ledger for the buyer side (one ledger holds both sides inside one DISCOM);
- the four parties (two platforms, two ledgers) hold the same FINAL_ALLOC in every block;
- FINAL_ALLOC ≤ min(buyer allocation, seller allocation); each meter's allocations in a block sum to
  no more than it measured (export for sellers, import for buyers);
- every settled trade's revenue flows sum to zero, to the paisa.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ies.usecases.p2p.settle import sum_paise

__all__ = ["Checks", "check_network"]


@dataclass
class Checks:
    trades: int = 0
    recorded_both_ledgers: int = 0
    converged: int = 0
    flows_balanced: int = 0
    settled: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.problems and self.recorded_both_ledgers == self.trades and self.converged == self.trades
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "trades": self.trades,
            "recorded_both_ledgers": self.recorded_both_ledgers,
            "converged_four_parties": self.converged,
            "settled": self.settled,
            "flows_balanced": self.flows_balanced,
            "problems": self.problems[:50],
        }


def _finals(trade: Mapping[str, Any]) -> dict[int, Any]:
    return {int(b["block"]): b["final_alloc_wh"] for b in trade["blocks"]}


def check_network(
    platforms: Mapping[str, list[dict[str, Any]]],
    ledgers: Mapping[str, list[dict[str, Any]]],
    ledger_of_utility: Mapping[str, str],
    readings: Mapping[str, Mapping[str, Mapping[str, list[Any]]]],
) -> Checks:
    """`platforms`/`ledgers`: node name → its trades; `readings`: utility → meter → block → [imp, exp]."""
    checks = Checks()
    live = {"ACTIVE", "COMPLETE"}
    by_ledger = {name: {t["contract_id"]: t for t in trades} for name, trades in ledgers.items()}
    by_platform = {name: {t["contract_id"]: t for t in trades} for name, trades in platforms.items()}
    confirmed: dict[str, dict[str, Any]] = {}
    for trades in by_platform.values():
        for cid, t in trades.items():
            if t["status"] in live:
                confirmed[cid] = t
    checks.trades = len(confirmed)
    seller_alloc: dict[tuple[str, int], int] = defaultdict(int)
    buyer_alloc: dict[tuple[str, int], int] = defaultdict(int)
    for cid, t in sorted(confirmed.items()):
        s_ledger = ledger_of_utility.get(t["seller"]["utility"], "")
        b_ledger = ledger_of_utility.get(t["buyer"]["utility"], "")
        s_rec = by_ledger.get(s_ledger, {}).get(cid)
        b_rec = by_ledger.get(b_ledger, {}).get(cid)
        if (
            s_rec
            and b_rec
            and s_rec["seller"]["recorded"]
            and b_rec["buyer"]["recorded"]
            and s_rec["status"] in live
            and b_rec["status"] in live
        ):
            checks.recorded_both_ledgers += 1
        else:
            checks.problems.append(f"{cid}: not recorded by both ledgers")
        views = [
            v
            for v in (
                by_platform.get(t["seller"]["platform"], {}).get(cid),
                by_platform.get(t["buyer"]["platform"], {}).get(cid),
                s_rec,
                b_rec,
            )
            if v
        ]
        finals = [_finals(v) for v in views]
        if len(views) == 4 and all(f == finals[0] for f in finals):
            checks.converged += 1
        else:
            checks.problems.append(f"{cid}: the parties hold different FINAL_ALLOC")
        reference = s_rec or t
        for b in reference["blocks"]:
            final, ba, sa = b["final_alloc_wh"], b["buyer_alloc_wh"], b["seller_alloc_wh"]
            if final is not None and (ba is None or sa is None or final > min(ba, sa)):
                checks.problems.append(f"{cid} block {b['block']}: FINAL_ALLOC above a side's allocation")
            if sa is not None:
                seller_alloc[(t["seller"]["meter"], int(b["block"]))] += int(sa)
        for b in (b_rec or t)["blocks"]:
            if b["buyer_alloc_wh"] is not None:
                buyer_alloc[(t["buyer"]["meter"], int(b["block"]))] += int(b["buyer_alloc_wh"])
        if reference.get("revenue_flows"):
            checks.settled += 1
            if sum_paise(reference["revenue_flows"]) == 0:
                checks.flows_balanced += 1
            else:
                checks.problems.append(f"{cid}: revenue flows do not sum to zero")
    metered = {m: blocks for per_utility in readings.values() for m, blocks in per_utility.items()}
    for (meter, block), wh in seller_alloc.items():
        exported = int(metered.get(meter, {}).get(str(block), [0, 0])[1])
        if wh > exported:
            checks.problems.append(
                f"{meter} block {block}: sellers allocated {wh} Wh > {exported} Wh exported"
            )
    for (meter, block), wh in buyer_alloc.items():
        imported = int(metered.get(meter, {}).get(str(block), [0, 0])[0])
        if wh > imported:
            checks.problems.append(
                f"{meter} block {block}: buyers allocated {wh} Wh > {imported} Wh imported"
            )
    return checks


def refusals_by_rule(events: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for e in events:
        for rule, n in (e.get("by_rule") or {}).items():
            out[rule] += int(n)
    return dict(sorted(out.items()))
