"""Pre-trade feasibility with a real AC power flow (`_feasibility`, `_powerflow`, pandapower)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.usecases.p2p.market import (
    DistributionTransformer,
    FeasibilityMode,
    FeederModel,
    GridLimits,
    ProposedTrade,
    ServicePointModel,
    assess_block,
)
from ies.usecases.p2p.market._powerflow import FeederNetwork

from .strategies import BLOCK

pytest.importorskip("pandapower")

FEEDER = FeederModel(
    feeder_id="fdr-7",
    substation_id="ss-1",
    transformers=(DistributionTransformer("dt-a", 25, 1.0), DistributionTransformer("dt-b", 63, 3.0)),
    service_points=tuple(
        [ServicePointModel(f"a{i}", "dt-a", 5000) for i in range(3)]
        + [ServicePointModel(f"b{i}", "dt-b", 10_000, cable_length_m=200) for i in range(3)]
    ),
)
BASE = {"a0": -1000, "a1": -1000, "a2": -1000, "b0": -2000, "b1": -2000, "b2": -2000}


@pytest.fixture(scope="module")
def network() -> FeederNetwork:
    return FeederNetwork(FEEDER, GridLimits())


def trade(tid: str, seller: str, wh: int, buyer: str | None = None, priority: int = 0) -> ProposedTrade:
    return ProposedTrade(tid, seller, buyer, wh, priority)


def test_small_trades_fit_with_one_power_flow(network: FeederNetwork) -> None:
    result = assess_block(
        FEEDER, BLOCK, BASE, [trade("t1", "a0", 1000), trade("t2", "b1", 2000)], network=network
    )
    assert [(d.trade_id, d.accepted_wh, d.refused) for d in result.decisions] == [
        ("t1", 1000, False),
        ("t2", 2000, False),
    ]
    assert result.power_flows == 1 and result.breaches_if_all_accepted == ()
    assert 0.94 <= result.v_min_pu <= result.v_max_pu <= 1.06


def test_transformer_overload_refuses_the_trade_that_breaks_it(network: FeederNetwork) -> None:
    # dt-a is 25 kVA; each trade injects 2500 Wh over 15 min = 10 kW behind it.
    trades = [trade(f"t{i}", f"a{i % 3}", 2500, priority=i) for i in range(4)]
    result = assess_block(FEEDER, BLOCK, BASE, trades, network=network)
    refused = [(d.trade_id, d.reason) for d in result.decisions if d.refused]
    assert [tid for tid, _ in refused] == ["t2", "t3"]
    assert all(reason and reason.startswith("trafo thermal at dt:dt-a") for _, reason in refused)
    assert result.max_trafo_loading_percent <= 100
    assert any(b.kind == "TRAFO_THERMAL" and b.element == "dt:dt-a" for b in result.breaches_if_all_accepted)


def test_priority_decides_who_is_refused(network: FeederNetwork) -> None:
    trades = [trade("early", "a0", 5000, priority=1), trade("late", "a1", 5000, priority=2)]
    result = assess_block(FEEDER, BLOCK, BASE, trades, network=network)
    assert {d.trade_id: d.refused for d in result.decisions} == {"early": False, "late": True}


def test_buyer_on_the_same_transformer_relieves_it(network: FeederNetwork) -> None:
    alone = assess_block(FEEDER, BLOCK, BASE, [trade("t", "a0", 7500)], network=network)
    local = assess_block(FEEDER, BLOCK, BASE, [trade("t", "a0", 7500, buyer="a1")], network=network)
    assert alone.decisions[0].refused and not local.decisions[0].refused


def test_voltage_limits_are_configurable() -> None:
    trades = [trade("t", "b0", 5000)]  # 20 kW at the end of 200 m of service cable
    default = assess_block(FEEDER, BLOCK, BASE, trades)
    tight = assess_block(FEEDER, BLOCK, BASE, trades, limits=GridLimits(v_min_pu=0.94, v_max_pu=1.01))
    assert not default.decisions[0].refused
    reason = tight.decisions[0].reason
    assert tight.decisions[0].refused and reason is not None and reason.startswith("overvoltage at sp:b0")
    assert default.v_max_pu > 1.01


def test_curtailment_is_pro_rata_and_recorded(network: FeederNetwork) -> None:
    trades = [trade("t1", "a0", 4000), trade("t2", "a1", 2000), trade("t3", "a2", 2000)]
    result = assess_block(FEEDER, BLOCK, BASE, trades, mode=FeasibilityMode.CURTAIL, network=network)
    accepted = sum(d.accepted_wh for d in result.decisions)
    assert 0 < accepted < 8000
    for d, t in zip(result.decisions, trades, strict=True):
        assert not d.refused and d.accepted_wh + d.curtailed_wh == t.energy_wh
        assert abs(d.accepted_wh - Fraction(accepted * t.energy_wh, 8000)) < 1
        assert d.reason is not None and "trafo thermal" in d.reason
    assert result.max_trafo_loading_percent <= 100
    # within 0.1 % of the largest total that fits: 8 Wh more would break the transformer limit
    more = assess_block(FEEDER, BLOCK, BASE, [trade("all", "a0", accepted + 16)], network=network)
    assert more.decisions[0].refused


def test_baseline_outside_limits_refuses_everything(network: FeederNetwork) -> None:
    overloaded = dict(BASE, a0=-40_000)
    result = assess_block(FEEDER, BLOCK, overloaded, [trade("t", "b0", 100)], network=network)
    reason = result.decisions[0].reason
    assert result.decisions[0].refused and reason is not None and reason.startswith("the feeder is outside")
    curtailed = assess_block(
        FEEDER, BLOCK, overloaded, [trade("t", "b0", 100)], mode=FeasibilityMode.CURTAIL, network=network
    )
    assert curtailed.decisions[0].accepted_wh == 0 and curtailed.decisions[0].curtailed_wh == 100


def test_power_balance_of_the_solved_flow(network: FeederNetwork) -> None:
    """pandapower consistency check: what the grid feeds in = consumption − injection + losses."""
    result = network.solve({"a0": 3000, "b1": -8000})
    assert result.ok
    net = network.net
    fed_mw = float(net.res_ext_grid.p_mw.sum())
    losses_mw = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    assert fed_mw == pytest.approx(
        float(net.res_load.p_mw.sum()) + losses_mw, abs=1e-7
    )  # NR tolerance 1e-8 MVA
    assert float(net.res_load.p_mw.sum()) == pytest.approx((8000 - 3000) / 1e6)


def test_bad_input_is_refused(network: FeederNetwork) -> None:
    with pytest.raises(UsageError, match="not on feeder"):
        assess_block(FEEDER, BLOCK, BASE, [trade("t", "elsewhere", 1)], network=network)
    with pytest.raises(UsageError, match="proposed twice"):
        assess_block(FEEDER, BLOCK, BASE, [trade("t", "a0", 1), trade("t", "a1", 1)], network=network)
    with pytest.raises(UsageError, match="no service point"):
        network.solve({"nowhere": 1})
    with pytest.raises(UsageError, match="unknown transformer"):
        FeederModel("f", "s", (), (ServicePointModel("x", "dt-missing", 1000),))
    with pytest.raises(UsageError, match="straddle"):
        GridLimits(v_min_pu=1.01)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(BASE)), st.integers(0, 4000)), max_size=6))
def test_accepted_set_is_always_within_limits(schedule: list[tuple[str, int]]) -> None:
    network = FeederNetwork(FEEDER, GridLimits())
    trades = [trade(f"t{i}", sp, wh, priority=i) for i, (sp, wh) in enumerate(schedule)]
    result = assess_block(FEEDER, BLOCK, BASE, trades, network=network)
    injection = dict(BASE)
    for d, t in zip(result.decisions, trades, strict=True):
        assert d.accepted_wh + d.curtailed_wh == t.energy_wh
        injection[t.seller_service_point or ""] += d.accepted_wh * 4
    assert network.solve(injection).ok
