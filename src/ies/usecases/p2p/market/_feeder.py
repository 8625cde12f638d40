"""A feeder model small enough to fill from the asset registry, and its pandapower network.

    substation (ext grid, HV/MV transformer) → feeder trunk (MV line sections, ordered by distance)
      → distribution transformers (MV/LV) → service points (LV service cable, load/injection)

The registry has the hierarchy and the ratings (DT `rated_kva`, service point `sanctioned_load_w`);
line impedances and lengths are not in it, so they have documented defaults here (typical 11 kV
overhead trunk and LV service cable). The pandapower net is built once per model and only the
per-block powers change between power flows (model → solver → results: the model is never mutated).
"""

from __future__ import annotations

from dataclasses import dataclass

from ies.errors import UsageError

__all__ = ["Breach", "DistributionTransformer", "FeederModel", "GridLimits", "ServicePointModel"]


@dataclass(frozen=True)
class DistributionTransformer:
    """A DT on the feeder, `distance_km` along the trunk from the substation."""

    transformer_id: str
    rated_kva: int
    distance_km: float
    secondary_voltage_v: int = 415


@dataclass(frozen=True)
class ServicePointModel:
    """A connection fed by DT `transformer_id` through `cable_length_m` of LV service cable."""

    service_point_id: str
    transformer_id: str
    sanctioned_load_w: int
    cable_length_m: float = 30.0


@dataclass(frozen=True)
class FeederModel:
    """One feeder and everything below it. Defaults: 11 kV, 10 MVA substation transformer, ACSR-like
    trunk (0.27 + j0.35 Ω/km, 0.3 kA) and LV service cable (0.64 + j0.08 Ω/km, 0.14 kA)."""

    feeder_id: str
    substation_id: str
    transformers: tuple[DistributionTransformer, ...]
    service_points: tuple[ServicePointModel, ...]
    voltage_kv: float = 11.0
    hv_voltage_kv: float = 66.0
    substation_mva: float = 10.0
    trunk_r_ohm_per_km: float = 0.27
    trunk_x_ohm_per_km: float = 0.35
    trunk_max_i_ka: float = 0.3
    service_r_ohm_per_km: float = 0.64
    service_x_ohm_per_km: float = 0.08
    service_max_i_ka: float = 0.14
    power_factor: float = 0.95

    def __post_init__(self) -> None:
        dts = {t.transformer_id for t in self.transformers}
        if len(dts) != len(self.transformers):
            raise UsageError(f"feeder {self.feeder_id}: duplicate transformer ids")
        sps = [s.service_point_id for s in self.service_points]
        if len(set(sps)) != len(sps):
            raise UsageError(f"feeder {self.feeder_id}: duplicate service point ids")
        for sp in self.service_points:
            if sp.transformer_id not in dts:
                raise UsageError(
                    f"feeder {self.feeder_id}: service point {sp.service_point_id} names unknown "
                    f"transformer {sp.transformer_id}"
                )
        for t in self.transformers:
            if t.rated_kva <= 0 or t.distance_km < 0:
                raise UsageError(f"transformer {t.transformer_id}: rating and distance must be positive")


@dataclass(frozen=True)
class GridLimits:
    """Operating limits a block's power flow must respect (0.94–1.06 pu by default)."""

    v_min_pu: float = 0.94
    v_max_pu: float = 1.06
    max_line_loading_percent: float = 100.0
    max_trafo_loading_percent: float = 100.0

    def __post_init__(self) -> None:
        if not 0 < self.v_min_pu < 1 < self.v_max_pu:
            raise UsageError(f"voltage limits {self.v_min_pu}–{self.v_max_pu} pu must straddle 1.0")
        if self.max_line_loading_percent <= 0 or self.max_trafo_loading_percent <= 0:
            raise UsageError("loading limits must be positive")


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
