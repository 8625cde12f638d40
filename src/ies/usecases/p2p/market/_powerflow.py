"""One feeder's AC power flow with pandapower: build the net once, then solve it per injection pattern.

Model → solver → results: `FeederNetwork` turns a `FeederModel` into pandapower tables once (buses,
lines, transformers, one load per service point); `solve` writes the per-block powers into the load
table, runs Newton-Raphson (`pandapower.runpp`) and reads the `res_*` tables into a `FlowResult`, in our
own element names, with every limit the block breaks. pandapower is imported here only, lazily: it takes
seconds to import and the rest of the market engine does not need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ies.errors import UsageError
from ies.usecases.p2p.market._feeder import Breach, FeederModel, GridLimits

__all__ = ["FeederNetwork", "FlowResult"]

# Typical equipment (no such data in the asset registry): 66/11 kV substation transformer at nominal
# tap behind a stiff grid (1.0 pu); 11 kV/415 V distribution transformers.
_SUBSTATION_TRAFO = {"vk_percent": 10.0, "vkr_percent": 0.5, "pfe_kw": 0.0, "i0_percent": 0.0}
_DT = {"vk_percent": 4.5, "vkr_percent": 1.2, "pfe_kw": 0.0, "i0_percent": 0.0}
_MV_C_NF_PER_KM = 10.0
_LV_C_NF_PER_KM = 0.0
_MIN_CABLE_KM = 0.001


@dataclass(frozen=True)
class FlowResult:
    """The solved flow: extremes and every breach (empty when the block is within limits)."""

    converged: bool
    breaches: tuple[Breach, ...]
    max_line_loading_percent: float
    max_trafo_loading_percent: float
    v_min_pu: float
    v_max_pu: float

    @property
    def ok(self) -> bool:
        return self.converged and not self.breaches


class FeederNetwork:
    """A feeder's pandapower net, with the service points' load rows kept for fast updates."""

    def __init__(self, feeder: FeederModel, limits: GridLimits):
        import pandapower as pp  # lazy: see module docstring

        self._pp = pp
        self.feeder = feeder
        self.limits = limits
        net = pp.create_empty_network(name=feeder.feeder_id)
        hv = pp.create_bus(net, vn_kv=feeder.hv_voltage_kv, name=f"substation:{feeder.substation_id}:hv")
        mv0 = pp.create_bus(net, vn_kv=feeder.voltage_kv, name=f"substation:{feeder.substation_id}:mv")
        pp.create_ext_grid(net, hv, vm_pu=1.0)
        pp.create_transformer_from_parameters(
            net,
            hv,
            mv0,
            sn_mva=feeder.substation_mva,
            vn_hv_kv=feeder.hv_voltage_kv,
            vn_lv_kv=feeder.voltage_kv,
            name=f"substation:{feeder.substation_id}",
            **_SUBSTATION_TRAFO,
        )
        mv_bus_at: dict[float, int] = {0.0: mv0}
        previous_km, previous_bus = 0.0, mv0
        for km in sorted({t.distance_km for t in feeder.transformers if t.distance_km > 0}):
            bus = pp.create_bus(net, vn_kv=feeder.voltage_kv, name=f"feeder:{feeder.feeder_id}:{km}km")
            pp.create_line_from_parameters(
                net,
                previous_bus,
                bus,
                length_km=km - previous_km,
                r_ohm_per_km=feeder.trunk_r_ohm_per_km,
                x_ohm_per_km=feeder.trunk_x_ohm_per_km,
                c_nf_per_km=_MV_C_NF_PER_KM,
                max_i_ka=feeder.trunk_max_i_ka,
                name=f"trunk:{feeder.feeder_id}:{previous_km}-{km}km",
            )
            mv_bus_at[km] = bus
            previous_km, previous_bus = km, bus
        lv_bus_of: dict[str, int] = {}
        for t in feeder.transformers:
            lv = pp.create_bus(net, vn_kv=t.secondary_voltage_v / 1000, name=f"dt:{t.transformer_id}:lv")
            pp.create_transformer_from_parameters(
                net,
                mv_bus_at[t.distance_km if t.distance_km > 0 else 0.0],
                lv,
                sn_mva=t.rated_kva / 1000,
                vn_hv_kv=feeder.voltage_kv,
                vn_lv_kv=t.secondary_voltage_v / 1000,
                name=f"dt:{t.transformer_id}",
                **_DT,
            )
            lv_bus_of[t.transformer_id] = lv
        self._load_row: dict[str, int] = {}
        for sp in feeder.service_points:
            dt = next(t for t in feeder.transformers if t.transformer_id == sp.transformer_id)
            bus = pp.create_bus(net, vn_kv=dt.secondary_voltage_v / 1000, name=f"sp:{sp.service_point_id}")
            pp.create_line_from_parameters(
                net,
                lv_bus_of[sp.transformer_id],
                bus,
                length_km=max(sp.cable_length_m / 1000, _MIN_CABLE_KM),
                r_ohm_per_km=feeder.service_r_ohm_per_km,
                x_ohm_per_km=feeder.service_x_ohm_per_km,
                c_nf_per_km=_LV_C_NF_PER_KM,
                max_i_ka=feeder.service_max_i_ka,
                name=f"service:{sp.service_point_id}",
            )
            self._load_row[sp.service_point_id] = pp.create_load(net, bus, p_mw=0.0, q_mvar=0.0)
        self._q_per_p = math.tan(math.acos(feeder.power_factor))
        self.net: Any = net

    def solve(self, injection_w: Mapping[str, int]) -> FlowResult:
        """Power flow with each service point injecting `injection_w[sp]` W (negative = consuming).

        Consumption draws reactive power at the feeder's power factor; injection is at unity (inverters).
        """
        unknown = injection_w.keys() - self._load_row.keys()
        if unknown:
            raise UsageError(f"feeder {self.feeder.feeder_id} has no service point {sorted(unknown)[0]!r}")
        net = self.net
        for sp, row in self._load_row.items():
            p_mw = -injection_w.get(sp, 0) / 1e6
            net.load.at[row, "p_mw"] = p_mw
            net.load.at[row, "q_mvar"] = p_mw * self._q_per_p if p_mw > 0 else 0.0
        try:
            self._pp.runpp(net, algorithm="nr", init="flat", voltage_depend_loads=False, numba=False)
        except self._pp.LoadflowNotConverged:
            return FlowResult(
                False,
                (Breach("NO_CONVERGENCE", self.feeder.feeder_id, 0.0, 0.0),),
                math.inf,
                math.inf,
                0.0,
                math.inf,
            )
        return self._results()

    def _results(self) -> FlowResult:
        net, limits = self.net, self.limits
        breaches: list[Breach] = []
        for name, loading in zip(net.line.name, net.res_line.loading_percent, strict=True):
            if loading > limits.max_line_loading_percent:
                breaches.append(Breach("LINE_THERMAL", name, float(loading), limits.max_line_loading_percent))
        for name, loading in zip(net.trafo.name, net.res_trafo.loading_percent, strict=True):
            if loading > limits.max_trafo_loading_percent:
                breaches.append(
                    Breach("TRAFO_THERMAL", name, float(loading), limits.max_trafo_loading_percent)
                )
        for name, vm in zip(net.bus.name, net.res_bus.vm_pu, strict=True):
            if vm > limits.v_max_pu:
                breaches.append(Breach("OVERVOLTAGE", name, float(vm), limits.v_max_pu))
            elif vm < limits.v_min_pu:
                breaches.append(Breach("UNDERVOLTAGE", name, float(vm), limits.v_min_pu))
        breaches.sort(key=lambda b: -abs(b.value - b.limit) / b.limit)  # worst first
        return FlowResult(
            converged=True,
            breaches=tuple(breaches),
            max_line_loading_percent=float(net.res_line.loading_percent.max()) if len(net.line) else 0.0,
            max_trafo_loading_percent=float(net.res_trafo.loading_percent.max()),
            v_min_pu=float(net.res_bus.vm_pu.min()),
            v_max_pu=float(net.res_bus.vm_pu.max()),
        )
