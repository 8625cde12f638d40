"""Pre-trade feasibility: do a block's scheduled injections fit the feeder's hosting capacity?

Seed §12.3: retail P2P is bounded by feeder hosting capacity and voltage limits, so trades are checked
before they are confirmed (refused with the reason) or curtailed ex post, transparently. The check is a
real AC power flow (pandapower Newton-Raphson) of the feeder with every service point's baseline net
injection plus the trades' scheduled power (energy × 4 for a 15-minute block: a trade adds injection at
the seller's service point and, when the buyer is on this feeder, offtake at the buyer's).

Modes:
- REFUSE: trades are taken in priority order (`priority`, then trade id); the largest feasible prefix
  is found by bisection over power flows; the next trade is refused with the breach it causes, and the
  search continues after it. Every accepted trade keeps its full quantity.
- CURTAIL: all trades are kept and scaled down together by the largest factor (bisection, 1 Wh
  resolution over the total) that keeps the flow within limits; each trade's curtailment is recorded, and
  trades share the curtailed Wh pro-rata (largest remainder).
A baseline that already breaches the limits refuses (or fully curtails) every trade, with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ies.usecases.p2p.market._feeder import FeederModel, GridLimits
from ies.usecases.p2p.market._units import Block, Wh

__all__ = ["BlockAssessment", "Breach", "FeasibilityMode", "ProposedTrade", "TradeDecision", "assess_block"]


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
class Breach:
    """A limit broken: kind LINE_THERMAL | TRAFO_THERMAL | OVERVOLTAGE | UNDERVOLTAGE | NO_CONVERGENCE."""

    kind: str
    element: str
    value: float
    limit: float

    def describe(self) -> str:
        if self.kind == "NO_CONVERGENCE":
            return "the power flow does not converge (voltage collapse)"
        unit = "pu" if self.kind.endswith("VOLTAGE") else "%"
        what = self.kind.lower().replace("_", " ")
        return f"{what} at {self.element}: {self.value:.3f} {unit} (limit {self.limit} {unit})"


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
    breaches_without_action: tuple[Breach, ...]
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
) -> BlockAssessment:
    """Assess one block; `baseline_injection_w` is each service point's net injection (W, export > 0)."""
    raise NotImplementedError
