"""The P2P Rego bundles agree with their Python reference implementations.

Each bundle is built and signed with the project's policy builder, verified and compiled exactly as a
node does (`ies.policy`: build_bundle → load_bundle → CompiledPolicy, evaluated with regopy), then
evaluated on hypothesis-generated inputs next to the Python function.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.identity.keys import SigningKeyPair
from ies.policy.bundle import build_bundle
from ies.policy.engine import CompiledPolicy
from ies.policy.verify import load_bundle
from ies.usecases.p2p.market import (
    CONTRACT_ROLES,
    POLICY_ENTRYPOINTS,
    ContractFacts,
    ContractInterval,
    DiscomCharges,
    RegulatorSettings,
    SettlementPolicy,
    TradeBlock,
    TradeRecord,
    TradeRequestFacts,
    block_start,
    contract_policy_data,
    contract_policy_input,
    network_policy_data,
    network_policy_input,
    network_policy_violations,
    policy_source,
    regulator_input,
    regulator_policy_data,
    regulator_violations,
    settle_trade,
)

from .strategies import BLOCK

KEY = SigningKeyPair.generate()
ALLOW = ("discom-a", "discom-b")


def compiled(kind: str, data: dict[str, Any]) -> CompiledPolicy:
    archive = build_bundle(policy_source(kind, data), KEY, publisher="publisher.example", key_id="k1")
    return CompiledPolicy(load_bundle(archive, [KEY.public_key_b64]), cache_size=0)


@cache
def network_policy() -> CompiledPolicy:
    return compiled("network", network_policy_data(ALLOW))


@cache
def regulator_policy(cap: int, gate: int) -> CompiledPolicy:
    return compiled("regulator", regulator_policy_data(RegulatorSettings(cap, gate)))


def rule_set(violations: Any) -> set[tuple[str, str]]:
    return {(v["rule"], json.dumps(v["details"], sort_keys=True)) for v in violations}


def test_shipped_sources_build_with_their_default_data() -> None:
    for kind, entrypoint in POLICY_ENTRYPOINTS.items():
        source = policy_source(kind)
        assert entrypoint in source.entrypoints
        policy = CompiledPolicy(
            load_bundle(build_bundle(source, KEY, publisher="p", key_id="k"), [KEY.public_key_b64])
        )
        assert policy.ref.name == source.name


# -- network policy ------------------------------------------------------------------------------------

participant = st.sampled_from(["discom-a", "discom-b", "rogue-utility", "tp.example", ""])
quantity = st.none() | st.integers(0, 10_000)


@st.composite
def contracts(draw: st.DrawFn) -> ContractFacts:
    roles = {r: draw(participant) for r in CONTRACT_ROLES if draw(st.booleans()) or draw(st.booleans())}
    intervals = tuple(
        ContractInterval(i, draw(quantity), draw(quantity), draw(quantity), draw(quantity), draw(quantity))
        for i in range(draw(st.integers(0, 4)))
    )
    return ContractFacts(roles, intervals)


@settings(max_examples=200, deadline=None)
@given(contracts())
def test_network_policy_agrees(facts: ContractFacts) -> None:
    decision = network_policy().evaluate(POLICY_ENTRYPOINTS["network"], network_policy_input(facts))
    python = network_policy_violations(facts, ALLOW)
    assert rule_set(decision["violations"]) == rule_set(v.to_dict() for v in python)
    assert decision["allow"] is (not python)


def test_network_policy_examples() -> None:
    good = ContractFacts(
        {"buyerPlatform": "bap.example", "sellerPlatform": "bpp.example", "buyerDiscom": "discom-a",
         "sellerDiscom": "discom-b"},
        (ContractInterval(0, available_wh=20_000, requested_wh=20_000, buyer_alloc_wh=18_500,
                          seller_alloc_wh=19_200, final_alloc_wh=18_500),),
    )  # fmt: skip
    assert (
        network_policy().evaluate(POLICY_ENTRYPOINTS["network"], network_policy_input(good))["allow"] is True
    )
    bad = ContractFacts(
        {"buyerPlatform": "bap.example", "buyerDiscom": "rogue-utility", "sellerDiscom": "discom-b"},
        (ContractInterval(0, available_wh=10_000, requested_wh=10_001, buyer_alloc_wh=5,
                          seller_alloc_wh=9, final_alloc_wh=6),),
    )  # fmt: skip
    decision = network_policy().evaluate(POLICY_ENTRYPOINTS["network"], network_policy_input(bad))
    assert sorted(v["rule"] for v in decision["violations"]) == [
        "FINAL_ALLOC_EXCEEDS_SIDES", "REQUESTED_EXCEEDS_AVAILABLE", "ROLE_UNBOUND", "UTILITY_NOT_ALLOWED",
    ]  # fmt: skip


# -- regulator rules -----------------------------------------------------------------------------------


@st.composite
def trade_requests(draw: st.DrawFn) -> TradeRequestFacts:
    start = block_start(BLOCK)
    lead_s = draw(st.integers(-3600, 4 * 3600))  # around the 2-hour gate
    return TradeRequestFacts(
        participant_id="prosumer-1",
        sanctioned_load_w=draw(st.integers(1, 20_000)),
        block=BLOCK,
        requested_wh=draw(st.integers(0, 30_000)),
        already_traded_wh=draw(st.integers(0, 30_000)),
        requested_at=start - timedelta(seconds=lead_s),
    )


@settings(max_examples=200, deadline=None)
@given(trade_requests(), st.sampled_from([(500, 8), (300, 4), (500, 0)]))
def test_regulator_rules_agree(facts: TradeRequestFacts, setting: tuple[int, int]) -> None:
    decision = regulator_policy(*setting).evaluate(POLICY_ENTRYPOINTS["regulator"], regulator_input(facts))
    python = regulator_violations(facts, RegulatorSettings(*setting))
    assert rule_set(decision["violations"]) == rule_set(v.to_dict() for v in python)


@pytest.mark.parametrize(
    ("traded_wh", "lead", "rules"),
    [
        (6250, timedelta(hours=2), set()),  # 5 kW sanctioned × 500 % × 15 min = 6.25 kWh, exactly at the gate
        (6251, timedelta(hours=2), {"TRADED_POWER_OVER_CAP"}),
        (6250, timedelta(hours=2) - timedelta(seconds=1), {"GATE_CLOSED"}),
    ],
)
def test_regulator_boundaries(traded_wh: int, lead: timedelta, rules: set[str]) -> None:
    facts = TradeRequestFacts("p", 5000, BLOCK, traded_wh - 1000, 1000, block_start(BLOCK) - lead)
    decision = regulator_policy(500, 8).evaluate(POLICY_ENTRYPOINTS["regulator"], regulator_input(facts))
    assert (
        {v["rule"] for v in decision["violations"]}
        == rules
        == {v.rule for v in regulator_violations(facts, RegulatorSettings())}
    )


# -- contract policy (revenue flows) -------------------------------------------------------------------

rates = st.integers(0, 2000)


@st.composite
def contract_cases(draw: st.DrawFn) -> tuple[TradeRecord, list[DiscomCharges], SettlementPolicy]:
    charges = [
        DiscomCharges(d, draw(rates), draw(rates), draw(st.integers(0, 10_000)), draw(rates), 0, 0)
        for d in ("discom-a", "discom-b")
    ]
    blocks = []
    for i in range(draw(st.integers(0, 3))):
        contracted = draw(st.integers(0, 40_000))
        price = draw(st.integers(0, 5000))
        buyer_side, seller_side = draw(st.integers(0, contracted)), draw(st.integers(0, contracted))
        blocks.append(TradeBlock(BLOCK + i, contracted, price, buyer_side, seller_side))
    seller_discom = draw(st.sampled_from(["discom-a", "discom-b"]))
    trade = TradeRecord("t-1", "buyer-1", "seller-1", "discom-a", seller_discom, tuple(blocks))
    payers: st.SearchStrategy[Literal["BUYER", "SELLER"]] = st.sampled_from(("BUYER", "SELLER"))
    return trade, charges, SettlementPolicy(draw(payers), draw(payers), draw(payers))


def flow_dicts(flows: Any) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in flows)


@settings(max_examples=40, deadline=None)
@given(contract_cases())
def test_contract_policy_computes_the_same_flows(
    case: tuple[TradeRecord, list[DiscomCharges], SettlementPolicy],
) -> None:
    trade, charges, policy = case
    rego = compiled("contract", contract_policy_data(charges, policy))
    doc = contract_policy_input(trade)
    python = settle_trade(trade, {c.discom_id: c for c in charges}, policy)
    expected = [
        {"block": f.block, "kind": f.kind.value, "payer_id": f.payer_id, "payer_role": f.payer_role,
         "payee_id": f.payee_id, "payee_role": f.payee_role, "energy_wh": f.energy_wh, "rate": f.rate,
         "amount_paise": f.amount_paise}
        for f in python.flows
    ]  # fmt: skip
    assert flow_dicts(rego.evaluate("deg/contracts/p2p_trading/flows", doc)) == flow_dicts(expected)
    net = rego.evaluate("deg/contracts/p2p_trading/net_by_role", doc)
    assert {k: v for k, v in net.items()} == python.net_by_role
    assert rego.evaluate("deg/contracts/p2p_trading/violations", doc) == []


def test_contract_policy_refuses_unknown_discoms_and_over_allocation() -> None:
    rego = compiled("contract", contract_policy_data([DiscomCharges("discom-a", 1, 1, 1, 1, 0, 0)]))
    trade = TradeRecord("t", "b", "s", "discom-a", "discom-x", (TradeBlock(BLOCK, 10, 100, 11, 10),))
    doc = contract_policy_input(trade)
    rules = {v["rule"] for v in rego.evaluate("deg/contracts/p2p_trading/violations", doc)}
    assert rules == {"UNKNOWN_DISCOM", "ALLOCATION_EXCEEDS_CONTRACT"}
    assert rego.evaluate("deg/contracts/p2p_trading/flows", doc) == []


def test_deg_example_revenue_flows() -> None:
    charges = [DiscomCharges(d, 0, 0, 0, 0, 0, 0) for d in ("TEST_DISCOM_BUYER", "TEST_DISCOM_SELLER")]
    trade = TradeRecord("contract-p2p-001", "buyer", "seller", "TEST_DISCOM_BUYER", "TEST_DISCOM_SELLER", (
        TradeBlock(BLOCK, 20_500, 1250, 18_500, 19_200), TradeBlock(BLOCK + 1, 15_500, 1450, 14_200, 14_700),
    ))  # fmt: skip
    rego = compiled("contract", contract_policy_data(charges))
    flows = rego.evaluate("deg/contracts/p2p_trading/revenue_flows", contract_policy_input(trade))
    assert {f["role"]: f["value_paise"] for f in flows}["seller"] == 43_715  # ₹437.15
    assert sum(f["value_paise"] for f in flows) == 0


def test_a_fraction_of_a_second_past_the_gate_is_late() -> None:
    gate = block_start(BLOCK) - timedelta(hours=2)
    on_time = TradeRequestFacts("p", 5000, BLOCK, 100, 0, gate)
    late = TradeRequestFacts("p", 5000, BLOCK, 100, 0, gate + timedelta(microseconds=1))
    assert regulator_violations(on_time, RegulatorSettings()) == []
    assert [v.rule for v in regulator_violations(late, RegulatorSettings())] == ["GATE_CLOSED"]


def test_unknown_bundle_kind_is_refused() -> None:
    from ies.errors import UsageError

    with pytest.raises(UsageError, match="no P2P policy bundle 'tariffs'"):
        policy_source("tariffs")
