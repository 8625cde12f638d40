"""Pre-trade feasibility: do a block's scheduled injections fit the feeder's hosting capacity?

Seed §12.3: retail P2P is bounded by feeder hosting capacity and voltage limits, so trades are checked
before they are confirmed (refused with the reason) or curtailed ex post, transparently. The check is a
real AC power flow (pandapower Newton-Raphson) of the feeder with every service point's baseline net
injection plus the trades' scheduled power (energy × 4 for a 15-minute block: a trade adds injection at
the seller's service point and, when the buyer is on this feeder, offtake at the buyer's).

Modes:
- REFUSE: trades are taken in priority order (`priority`, then trade id); the longest run of them that
  still fits is found by galloping and bisection over power flows; the next trade is refused with the
  breach it causes, and the search continues after it. Every accepted trade keeps its full quantity, and
  the accepted set is always one whose power flow was run and found within limits.
- CURTAIL: all trades are kept and scaled down together to the largest total that keeps the flow within
  limits (bisection on the total, to 0.1 % of it or 1 Wh); trades share the accepted total pro-rata to
  their requests (largest remainder), and each trade's curtailed Wh and the breach that forced it are
  recorded.
A baseline that already breaches the limits refuses (or fully curtails) every trade, with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ies.errors import UsageError
from ies.usecases.p2p.market._allocation import largest_remainder
from ies.usecases.p2p.market._feeder import Breach, FeederModel, GridLimits
from ies.usecases.p2p.market._powerflow import FeederNetwork, FlowResult
from ies.usecases.p2p.market._units import BLOCK_SECONDS, Block, Wh

__all__ = ["BlockAssessment", "FeasibilityMode", "ProposedTrade", "TradeDecision", "assess_block"]


class FeasibilityMode(StrEnum):
    REFUSE = "REFUSE"
    CURTAIL = "CURTAIL"


@dataclass(frozen=True, slots=True)
class ProposedTrade:
    """A trade's schedule in one block: `energy_wh` from `seller_service_point` (to `buyer_service_point`
    when that is on this feeder, else None)."""

    trade_id: str
    seller_service_point: str | None
    buyer_service_point: str | None
    energy_wh: Wh
    priority: int = 0


@dataclass(frozen=True, slots=True)
class TradeDecision:
    """What happened to one trade: accepted Wh, curtailed Wh, and, when refused, why."""

    trade_id: str
    requested_wh: Wh
    accepted_wh: Wh
    curtailed_wh: Wh
    refused: bool
    reason: str | None


@dataclass(frozen=True)
class BlockAssessment:
    """The assessment of one block on one feeder, and the final power flow's summary."""

    block: Block
    feeder_id: str
    mode: FeasibilityMode
    decisions: tuple[TradeDecision, ...]
    breaches_if_all_accepted: tuple[Breach, ...]
    max_line_loading_percent: float
    max_trafo_loading_percent: float
    v_min_pu: float
    v_max_pu: float
    power_flows: int


def assess_block(
    feeder: FeederModel,
    block: Block,
    baseline_injection_w: Mapping[str, int],
    trades: Sequence[ProposedTrade],
    *,
    mode: FeasibilityMode = FeasibilityMode.REFUSE,
    limits: GridLimits | None = None,
    network: FeederNetwork | None = None,
) -> BlockAssessment:
    """Assess one block; `baseline_injection_w` is each service point's net injection (W, export > 0).

    Pass `network` (a `FeederNetwork` of this feeder) to reuse one built net across many blocks.
    """
    limits = limits or GridLimits()
    network = network or FeederNetwork(feeder, limits)
    if network.feeder is not feeder:
        raise UsageError("the network passed was built for another feeder model")
    ordered = _checked(feeder, trades)
    solver = _Solver(network, baseline_injection_w, ordered)
    everything = solver.run([t.energy_wh for t in ordered])
    if everything.ok:
        decisions = [TradeDecision(t.trade_id, t.energy_wh, t.energy_wh, 0, False, None) for t in ordered]
        final = everything
    elif mode is FeasibilityMode.REFUSE:
        decisions, final = _refuse(solver, ordered, everything)
    else:
        decisions, final = _curtail(solver, ordered, everything)
    return BlockAssessment(
        block=block,
        feeder_id=feeder.feeder_id,
        mode=mode,
        decisions=tuple(decisions),
        breaches_if_all_accepted=everything.breaches,
        max_line_loading_percent=final.max_line_loading_percent,
        max_trafo_loading_percent=final.max_trafo_loading_percent,
        v_min_pu=final.v_min_pu,
        v_max_pu=final.v_max_pu,
        power_flows=solver.runs,
    )


def _checked(feeder: FeederModel, trades: Sequence[ProposedTrade]) -> list[ProposedTrade]:
    points = {sp.service_point_id for sp in feeder.service_points}
    ids: set[str] = set()
    for t in trades:
        if t.trade_id in ids:
            raise UsageError(f"trade {t.trade_id} is proposed twice")
        ids.add(t.trade_id)
        if t.energy_wh < 0:
            raise UsageError(f"trade {t.trade_id}: negative energy {t.energy_wh} Wh")
        for sp in (t.seller_service_point, t.buyer_service_point):
            if sp is not None and sp not in points:
                raise UsageError(
                    f"trade {t.trade_id}: service point {sp!r} is not on feeder {feeder.feeder_id}"
                )
    return sorted(trades, key=lambda t: (t.priority, t.trade_id))


class _Solver:
    """Runs the flow for the baseline plus given per-trade energies, counting runs."""

    def __init__(self, network: FeederNetwork, baseline: Mapping[str, int], trades: list[ProposedTrade]):
        self.network, self.baseline, self.trades, self.runs = network, baseline, trades, 0

    def run(self, energy_wh: Sequence[int]) -> FlowResult:
        injection = dict(self.baseline)
        for trade, wh in zip(self.trades, energy_wh, strict=True):
            power_w = wh * 3600 // BLOCK_SECONDS  # mean power over the block
            if trade.seller_service_point is not None:
                injection[trade.seller_service_point] = injection.get(trade.seller_service_point, 0) + power_w
            if trade.buyer_service_point is not None:
                injection[trade.buyer_service_point] = injection.get(trade.buyer_service_point, 0) - power_w
        self.runs += 1
        return self.network.solve(injection)


def _refuse(
    solver: _Solver, trades: list[ProposedTrade], everything: FlowResult
) -> tuple[list[TradeDecision], FlowResult]:
    """Accept the longest feasible prefix (bisection), refuse the next trade with its breach, go on."""
    n = len(trades)
    baseline = solver.run([0] * n)
    if not baseline.ok:
        reason = f"the feeder is outside its limits before any trade: {baseline.breaches[0].describe()}"
        return [
            TradeDecision(t.trade_id, t.energy_wh, 0, t.energy_wh, True, reason) for t in trades
        ], baseline
    decisions: dict[int, TradeDecision] = {}
    accepted_flow, start = baseline, 0
    while start < n:
        # Gallop (1, 2, 4, … trades from `start`) to bracket the first infeasible prefix, then bisect:
        # a run of refusals costs one power flow each, a long feasible run O(log n).
        good, step, bad, bad_flow = 0, 1, 0, everything
        while True:
            k = min(step, n - start)
            flow = everything if start == 0 and k == n else solver.run(_schedule(trades, decisions, start, k))
            if flow.ok:
                good, accepted_flow = k, flow
                if k == n - start:
                    break
                step *= 2
            else:
                bad, bad_flow = k, flow
                break
        if not bad:
            break
        while bad - good > 1:
            mid = (good + bad) // 2
            flow = solver.run(_schedule(trades, decisions, start, mid))
            if flow.ok:
                good, accepted_flow = mid, flow
            else:
                bad, bad_flow = mid, flow
        refused = trades[start + good]
        decisions[start + good] = TradeDecision(
            refused.trade_id, refused.energy_wh, 0, refused.energy_wh, True, bad_flow.breaches[0].describe()
        )
        start += good + 1
    out = [
        decisions.get(i, TradeDecision(t.trade_id, t.energy_wh, t.energy_wh, 0, False, None))
        for i, t in enumerate(trades)
    ]
    return out, accepted_flow


def _schedule(trades: list[ProposedTrade], refused: Mapping[int, object], start: int, k: int) -> list[int]:
    """Energies with every trade before `start` that was not refused, and the k trades from `start`."""
    return [
        t.energy_wh if (i < start and i not in refused) or start <= i < start + k else 0
        for i, t in enumerate(trades)
    ]


def _curtail(
    solver: _Solver, trades: list[ProposedTrade], everything: FlowResult
) -> tuple[list[TradeDecision], FlowResult]:
    """Largest pro-rata total that fits (bisection on the total), shared by largest remainder."""
    requested = [t.energy_wh for t in trades]
    total = sum(requested)
    reason = everything.breaches[0].describe()

    def share(amount: int) -> list[int]:
        return largest_remainder(amount, requested)

    low, high = 0, total
    low_flow = solver.run(share(0))
    if not low_flow.ok:
        reason = f"the feeder is outside its limits before any trade: {low_flow.breaches[0].describe()}"
        high = 0
    resolution = max(1, total // 1000)
    while high - low > resolution:
        mid = (low + high) // 2
        flow = solver.run(share(mid))
        if flow.ok:
            low, low_flow = mid, flow
        else:
            high = mid
    accepted = share(low)
    decisions = [
        TradeDecision(t.trade_id, t.energy_wh, a, t.energy_wh - a, False, reason if a < t.energy_wh else None)
        for t, a in zip(trades, accepted, strict=True)
    ]
    return decisions, low_flow
