"""The ledger provider's view of its DISCOM's grid, and the pre-trade feasibility check built on it.

The feeder model comes from the DISCOM's asset registry (`GET /assets` on the DISCOM node: feeders,
distribution transformers, service points, meters), read once and cached; the power flow is the market
engine's `assess_block` (pandapower).

Why a screen in front of the power flow: one AC power flow of a feeder takes tens of milliseconds, and a
day of trades asks about every block of every trade. So, per feeder, two "envelope" power flows run once
when the model is loaded: every service point injecting (and, separately, drawing) its envelope power at
the same time. A block whose scheduled net power at every service point lies within the envelope (and
whose per-transformer sum lies within the envelope's) is inside a state the power flow has already shown
to be within limits — in a radial feeder, voltage rise and loading grow monotonically with injection —
so it is accepted without a new power flow. Any other block gets the full power flow with every
scheduled trade, and the new trade is refused with the breach the power flow reports — or, when the
operator has set ex-post curtailment, `curtail` scales every trade of such a block down pro-rata.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ies.errors import PeerUnreachable, PolicyError
from ies.usecases.p2p.market import (
    Block,
    DistributionTransformer,
    FeasibilityMode,
    FeederModel,
    FeederNetwork,
    GridLimits,
    ProposedTrade,
    ServicePointModel,
    assess_block,
)

__all__ = ["GridView", "Infeasible", "ScheduledLeg", "load_grid"]

ENVELOPE_SHARE = 0.5
"""Share of a transformer's rating the envelope spreads over its service points (in each direction)."""
BLOCK_HOURS_INV = 4  # W = Wh × 4 for a 15-minute block
MAX_HALVINGS = 4
SQRT3 = 3**0.5


class Infeasible(PolicyError):
    """A trade would breach the feeder's thermal or voltage limits in a block."""

    code = "POL_P2P_FEEDER_INFEASIBLE"


@dataclass(frozen=True)
class ScheduledLeg:
    """One recorded or proposed trade in one block on this DISCOM's grid."""

    trade_id: str
    block: Block
    energy_wh: int
    seller_meter: str | None  # on this grid
    buyer_meter: str | None  # on this grid


@dataclass
class GridView:
    feeders: dict[str, FeederModel]
    meter_point: dict[str, tuple[str, str]]  # meter → (feeder id, service point id)
    limits: GridLimits
    envelope_w: dict[str, int] = field(default_factory=dict)  # service point → |W| proven safe
    networks: dict[str, FeederNetwork] = field(default_factory=dict)  # built once per feeder
    dt_envelope_w: dict[str, int] = field(default_factory=dict)
    power_flows: int = 0

    def network(self, feeder: FeederModel) -> FeederNetwork:
        if feeder.feeder_id not in self.networks:
            self.networks[feeder.feeder_id] = FeederNetwork(feeder, self.limits)
        return self.networks[feeder.feeder_id]

    def feeder_of(self, meter: str) -> str | None:
        found = self.meter_point.get(meter)
        return found[0] if found else None

    def prove_envelopes(self) -> None:
        """Find, per feeder, an envelope the power flow proves safe in both directions.

        Start from ENVELOPE_SHARE of each transformer's rating (shared by its service points) and of each
        service cable's rating; halve until both envelope power flows stay within limits (at most
        MAX_HALVINGS times). A feeder that never passes gets no envelope: every check on it is a full
        power flow.
        """
        for feeder in self.feeders.values():
            per_dt: dict[str, list[ServicePointModel]] = defaultdict(list)
            for sp in feeder.service_points:
                per_dt[sp.transformer_id].append(sp)
            rating_v = {t.transformer_id: t.secondary_voltage_v for t in feeder.transformers}
            share = ENVELOPE_SHARE
            for _ in range(MAX_HALVINGS + 1):
                envelope: dict[str, int] = {}
                dt_envelope: dict[str, int] = {}
                for dt in feeder.transformers:
                    points = per_dt.get(dt.transformer_id, [])
                    dt_envelope[dt.transformer_id] = int(dt.rated_kva * 1000 * feeder.power_factor * share)
                    for sp in points:
                        cable_w = (
                            feeder.service_max_i_ka
                            * 1000
                            * rating_v[sp.transformer_id]
                            * SQRT3
                            * feeder.power_factor
                        )
                        envelope[sp.service_point_id] = int(
                            min(dt_envelope[dt.transformer_id] / len(points), cable_w * share)
                        )
                if not envelope:
                    break
                ok = True
                for sign in (1, -1):
                    result = assess_block(
                        feeder,
                        0,
                        {sp: sign * w for sp, w in envelope.items()},
                        [],
                        mode=FeasibilityMode.REFUSE,
                        limits=self.limits,
                        network=self.network(feeder),
                    )
                    self.power_flows += result.power_flows
                    ok = ok and not result.breaches_if_all_accepted
                if ok:
                    self.envelope_w.update(envelope)
                    self.dt_envelope_w.update(dt_envelope)
                    break
                share /= 2

    def check(self, legs: list[ScheduledLeg], new_trade: str) -> None:
        """Raise Infeasible if adding `new_trade`'s legs to the other scheduled legs breaches a limit."""
        for (feeder_id, block), group in sorted(self._by_feeder_block(legs).items()):
            if not any(leg.trade_id == new_trade for leg in group):
                continue
            net = self._net_injection(group, feeder_id)
            if self._within_envelope(feeder_id, net):
                continue
            self._power_flow(feeder_id, block, group, new_trade)

    def _net_injection(self, legs: list[ScheduledLeg], feeder_id: str) -> dict[str, int]:
        """Scheduled net power (W, export > 0) per service point of this feeder."""
        net: dict[str, int] = defaultdict(int)
        for leg in {(leg.trade_id, leg.block): leg for leg in legs}.values():
            for meter, sign in ((leg.seller_meter, 1), (leg.buyer_meter, -1)):
                found = self.meter_point.get(meter) if meter else None
                if found is not None and found[0] == feeder_id:
                    net[found[1]] += sign * leg.energy_wh * BLOCK_HOURS_INV
        return net

    def _within_envelope(self, feeder_id: str, net: Mapping[str, int]) -> bool:
        feeder = self.feeders[feeder_id]
        dt_of = {sp.service_point_id: sp.transformer_id for sp in feeder.service_points}
        per_dt: dict[str, int] = defaultdict(int)
        for sp, w in net.items():
            if abs(w) > self.envelope_w.get(sp, -1):
                return False
            per_dt[dt_of[sp]] += w
        return all(abs(w) <= self.dt_envelope_w.get(dt, -1) for dt, w in per_dt.items())

    def curtail(self, legs: list[ScheduledLeg]) -> dict[tuple[str, Block], tuple[int, str]]:
        """Ex-post curtailment of the scheduled legs: every (feeder, block) outside its envelope gets a
        CURTAIL power flow, which scales its trades down pro-rata to the largest total within limits.

        Returns {(trade, block): (curtailed Wh, reason)} for every leg that loses energy; a trade whose
        two ends are on different feeders keeps the larger of the two cuts.
        """
        cuts: dict[tuple[str, Block], tuple[int, str]] = {}
        for (feeder_id, block), group in sorted(self._by_feeder_block(legs).items()):
            if self._within_envelope(feeder_id, self._net_injection(group, feeder_id)):
                continue
            feeder = self.feeders[feeder_id]
            result = assess_block(
                feeder,
                block,
                {},
                self._proposed(feeder_id, group, ""),
                mode=FeasibilityMode.CURTAIL,
                limits=self.limits,
                network=self.network(feeder),
            )
            self.power_flows += result.power_flows
            for decision in result.decisions:
                held = cuts.get((decision.trade_id, block))
                if decision.curtailed_wh > 0 and (held is None or decision.curtailed_wh > held[0]):
                    reason = f"feeder {feeder_id.rsplit(':', 1)[-1]}, block {block}: {decision.reason}"
                    cuts[(decision.trade_id, block)] = (decision.curtailed_wh, reason)
        return cuts

    def _by_feeder_block(self, legs: list[ScheduledLeg]) -> dict[tuple[str, Block], list[ScheduledLeg]]:
        grouped: dict[tuple[str, Block], list[ScheduledLeg]] = defaultdict(list)
        for leg in legs:
            for meter in (leg.seller_meter, leg.buyer_meter):
                feeder = self.feeder_of(meter) if meter else None
                if feeder is not None:
                    grouped[(feeder, leg.block)].append(leg)
        return grouped

    def _proposed(self, feeder_id: str, legs: list[ScheduledLeg], new_trade: str) -> list[ProposedTrade]:
        """The legs as the engine's trades on this feeder (ends elsewhere left out); `new_trade` last."""
        on_feeder = {sp.service_point_id for sp in self.feeders[feeder_id].service_points}

        def point(meter: str | None) -> str | None:
            found = self.meter_point.get(meter) if meter else None
            return found[1] if found and found[1] in on_feeder else None

        unique = {(leg.trade_id, leg.block): leg for leg in legs}.values()
        return [
            ProposedTrade(
                leg.trade_id,
                point(leg.seller_meter),
                point(leg.buyer_meter),
                leg.energy_wh,
                priority=1 if leg.trade_id == new_trade else 0,
            )
            for leg in sorted(unique, key=lambda g: (g.trade_id == new_trade, g.trade_id))
        ]

    def _power_flow(self, feeder_id: str, block: Block, legs: list[ScheduledLeg], new_trade: str) -> None:
        feeder = self.feeders[feeder_id]
        proposed = self._proposed(feeder_id, legs, new_trade)
        result = assess_block(
            feeder,
            block,
            {},
            proposed,
            mode=FeasibilityMode.REFUSE,
            limits=self.limits,
            network=self.network(feeder),
        )
        self.power_flows += result.power_flows
        for decision in result.decisions:
            if decision.trade_id == new_trade and decision.refused:
                raise Infeasible(
                    f"feeder {feeder_id.rsplit(':', 1)[-1]}, block {block}: {decision.reason}",
                    details={"rule": "FEEDER_INFEASIBLE", "feeder": feeder_id, "block": block},
                )


def load_grid(discom_base_url: str, discom_host: str, limits: GridLimits) -> GridView:
    """Read the DISCOM's feeders, transformers, service points and meters from its asset registry."""

    def fetch(entity_class: str) -> list[dict[str, Any]]:
        try:
            resp = httpx.get(
                f"{discom_base_url.rstrip('/')}/assets",
                params={"discom": discom_host, "class": entity_class, "limit": 10_000},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            raise PeerUnreachable(f"DISCOM asset registry unreachable: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise PeerUnreachable(f"DISCOM asset registry answered HTTP {resp.status_code}")
        return list(resp.json()["entities"])

    feeders = {str(f["id"]): f for f in fetch("feeder")}
    dts = fetch("dt")
    points = fetch("service-point")
    meters = fetch("meter")
    dt_feeder = {str(d["id"]): str(d["parent_id"]) for d in dts}
    models: dict[str, FeederModel] = {}
    for feeder_id, feeder in feeders.items():
        mine = sorted((d for d in dts if d["parent_id"] == feeder_id), key=lambda d: str(d["id"]))
        transformers = tuple(
            DistributionTransformer(str(d["id"]), int(d["attributes"]["rated_kva"]), 0.5 * (i + 1))
            for i, d in enumerate(mine)
        )
        service_points = tuple(
            ServicePointModel(str(p["id"]), str(p["parent_id"]), int(p["attributes"]["sanctioned_load_w"]))
            for p in points
            if dt_feeder.get(str(p["parent_id"])) == feeder_id
        )
        models[feeder_id] = FeederModel(
            feeder_id=feeder_id,
            substation_id=str(feeder["parent_id"]),
            transformers=transformers,
            service_points=service_points,
        )
    point_dt = {str(p["id"]): str(p["parent_id"]) for p in points}
    meter_point = {
        str(m["local_id"]): (dt_feeder[point_dt[str(m["parent_id"])]], str(m["parent_id"]))
        for m in meters
        if point_dt.get(str(m["parent_id"])) in dt_feeder
    }
    view = GridView(models, meter_point, limits)
    view.prove_envelopes()
    return view
