"""Settlement with charge coherence (`_settlement`), bills and statements (`_billing`)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.usecases.p2p.market import (
    BillLineKind,
    DiscomCharges,
    FlowKind,
    MeteredBlock,
    SettlementPolicy,
    TradeBlock,
    TradeRecord,
    monthly_bill,
    settle_trade,
    settlement_adjustment,
    settlement_statement,
    statement_csv,
)

from .strategies import BLOCK

DA = DiscomCharges("discom-a", 50, 100, 350, 900, 800, 300, fixed_charge_paise_per_month=12_000)
DB = DiscomCharges("discom-b", 60, 110, 400, 1000, 850, 320)
CHARGES = {c.discom_id: c for c in (DA, DB)}

# The DEG wave-2 on_status example: two blocks, FINAL_ALLOC 18.5 and 14.2 kWh at ₹12.50 and ₹14.50.
DEG_BLOCKS = (
    TradeBlock(BLOCK, 20_500, 1250, 18_500, 19_200),
    TradeBlock(BLOCK + 1, 15_500, 1450, 14_200, 14_700),
)


def trade(
    buyer_discom: str = "discom-a", seller_discom: str = "discom-b", blocks=DEG_BLOCKS, tid: str = "t1"
) -> TradeRecord:
    return TradeRecord(tid, "buyer", "seller", buyer_discom, seller_discom, tuple(blocks))


class TestFlows:
    def test_energy_matches_the_deg_example(self) -> None:
        s = settle_trade(trade(), CHARGES)
        assert s.total(FlowKind.ENERGY) == 43_715  # ₹437.15

    def test_inter_discom_charges_are_unbundled_and_go_to_the_right_discom(self) -> None:
        s = settle_trade(trade(), CHARGES)
        wheeling = {(f.block, f.payee_id): f.amount_paise for f in s.flows if f.kind is FlowKind.WHEELING}
        assert wheeling == {(BLOCK, "discom-b"): 1110, (BLOCK, "discom-a"): 925,
                            (BLOCK + 1, "discom-b"): 852, (BLOCK + 1, "discom-a"): 710}  # fmt: skip
        css = [(f.payer_id, f.payee_id, f.amount_paise) for f in s.flows if f.kind is FlowKind.CROSS_SUBSIDY]
        assert css == [("buyer", "discom-a", 1850), ("buyer", "discom-a", 1420)]
        losses = {
            (f.block, f.payee_id): (f.payer_id, f.amount_paise) for f in s.flows if f.kind is FlowKind.LOSSES
        }
        # 18.5 kWh × ₹12.50 × 4 % = ₹9.25 to discom-b; × 3.5 % = ₹8.09375 → 809 paise to discom-a
        assert losses[(BLOCK, "discom-b")] == ("seller", 925) and losses[(BLOCK, "discom-a")] == (
            "seller",
            809,
        )

    def test_intra_discom_pays_wheeling_and_losses_once(self) -> None:
        s = settle_trade(trade("discom-a", "discom-a"), CHARGES)
        assert [f.payee_id for f in s.flows if f.kind is FlowKind.WHEELING] == ["discom-a", "discom-a"]
        assert len([f for f in s.flows if f.kind is FlowKind.LOSSES]) == 2

    def test_deviations_at_each_discoms_rate(self) -> None:
        s = settle_trade(trade(), CHARGES)
        under = [
            (f.payer_id, f.payee_id, f.energy_wh, f.amount_paise)
            for f in s.flows
            if f.kind is FlowKind.UNDER_DELIVERY
        ]
        assert under == [("seller", "discom-b", 1300, 1300), ("seller", "discom-b", 800, 800)]
        over = [
            (f.payer_id, f.payee_id, f.energy_wh, f.amount_paise)
            for f in s.flows
            if f.kind is FlowKind.UNDER_CONSUMPTION
        ]
        assert over == [("buyer", "discom-a", 2000, 1800), ("buyer", "discom-a", 1300, 1170)]

    def test_payers_follow_the_policy(self) -> None:
        policy = SettlementPolicy(wheeling_payer="SELLER", cross_subsidy_payer="SELLER", loss_payer="BUYER")
        s = settle_trade(trade(), CHARGES, policy)
        payers = {f.kind: f.payer_id for f in s.flows}
        assert payers[FlowKind.WHEELING] == payers[FlowKind.CROSS_SUBSIDY] == "seller"
        assert payers[FlowKind.LOSSES] == "buyer"

    def test_flows_sum_to_zero(self) -> None:
        s = settle_trade(trade(), CHARGES)
        assert sum(s.net_by_party.values()) == 0 == sum(s.net_by_role.values())

    def test_bad_trades_are_refused(self) -> None:
        with pytest.raises(UsageError, match="no charges"):
            settle_trade(trade(buyer_discom="nowhere"), CHARGES)
        with pytest.raises(UsageError, match="exceeds the contracted"):
            settle_trade(trade(blocks=[TradeBlock(BLOCK, 100, 1000, 101, 100)]), CHARGES)
        with pytest.raises(UsageError, match="twice"):
            settle_trade(trade(blocks=[DEG_BLOCKS[0], DEG_BLOCKS[0]]), CHARGES)


charges_strategy = st.builds(
    DiscomCharges,
    st.sampled_from(["discom-a", "discom-b"]),
    st.integers(0, 500), st.integers(0, 500), st.integers(0, 2000), st.integers(0, 3000),
    st.integers(0, 1500), st.integers(0, 1000),
)  # fmt: skip
policy_strategy = st.builds(SettlementPolicy, *(st.sampled_from(["BUYER", "SELLER"]) for _ in range(3)))


@st.composite
def trade_blocks(draw: st.DrawFn) -> list[TradeBlock]:
    out = []
    for i in range(draw(st.integers(0, 4))):
        contracted = draw(st.integers(0, 50_000))
        price = draw(st.integers(0, 5000))
        buyer_side, seller_side = draw(st.integers(0, contracted)), draw(st.integers(0, contracted))
        out.append(TradeBlock(BLOCK + i, contracted, price, buyer_side, seller_side))
    return out


@st.composite
def charge_table(draw: st.DrawFn) -> dict[str, DiscomCharges]:
    a, b = draw(charges_strategy), draw(charges_strategy)
    return {
        "discom-a": DiscomCharges("discom-a", *_rates(a)),
        "discom-b": DiscomCharges("discom-b", *_rates(b)),
    }


def _rates(c: DiscomCharges) -> tuple[int, ...]:
    return (
        c.wheeling_paise_per_kwh, c.cross_subsidy_paise_per_kwh, c.loss_basis_points,
        c.deviation_paise_per_kwh, c.import_tariff_paise_per_kwh, c.export_rate_paise_per_kwh,
    )  # fmt: skip


@settings(max_examples=150)
@given(trade_blocks(), charge_table(), policy_strategy, st.booleans())
def test_every_trade_sums_to_zero_and_rounds_within_half_a_paisa(blocks, charges, policy, inter) -> None:
    t = trade("discom-a", "discom-b" if inter else "discom-a", blocks)
    s = settle_trade(t, charges, policy)
    assert sum(s.net_by_party.values()) == 0
    for f in s.flows:
        per = 10_000_000 if f.kind is FlowKind.LOSSES else 1000
        assert f.amount_paise >= 0 and abs(f.amount_paise - Fraction(f.energy_wh * f.rate, per)) <= Fraction(
            1, 2
        )
    energy = {f.block: f.energy_wh for f in s.flows if f.kind is FlowKind.ENERGY}
    assert energy == {b.block: b.final_alloc_wh for b in blocks if b.final_alloc_wh}


@settings(max_examples=100)
@given(trade_blocks(), trade_blocks(), charge_table(), st.booleans())
def test_true_up_brings_previous_exactly_to_current(first, second, charges, inter) -> None:
    previous = settle_trade(trade("discom-a", "discom-b" if inter else "discom-a", first), charges)
    current = settle_trade(trade("discom-a", "discom-b" if inter else "discom-a", second), charges)
    adjustment = settlement_adjustment(previous, current)
    assert sum(adjustment.net_by_party.values()) == 0
    parties = previous.net_by_party.keys() | current.net_by_party.keys()
    for p in parties:
        assert previous.net_by_party.get(p, 0) + adjustment.net_by_party.get(
            p, 0
        ) == current.net_by_party.get(p, 0)


class TestBillAndStatements:
    def metered(self) -> list[MeteredBlock]:
        return [
            MeteredBlock(BLOCK, 0, 19_200),
            MeteredBlock(BLOCK + 1, 500, 14_700),
            MeteredBlock(BLOCK + 2, 3000, 0),
        ]

    def test_bill_excludes_traded_volume_and_includes_the_charges(self) -> None:
        s = settle_trade(trade(), CHARGES)
        bill = monthly_bill("seller", DB, self.metered(), [s])
        lines = {line.kind: line for line in bill.lines}
        assert bill.traded_export_wh == 18_500 + 14_200
        assert lines[BillLineKind.IMPORT].energy_wh == 3500  # nothing bought by trades
        assert lines[BillLineKind.EXPORT_CREDIT].energy_wh == 19_200 + 14_700 - 32_700
        assert lines[BillLineKind.EXPORT_CREDIT].amount_paise == -384  # 1.2 kWh × 3.20
        owed = sum(f.amount_paise for f in s.flows if f.payer_id == "seller" and f.payee_id == "discom-b")
        charge_kinds = {BillLineKind.LOSSES, BillLineKind.UNDER_DELIVERY}
        assert sum(line.amount_paise for line in bill.lines if line.kind in charge_kinds) == owed
        assert bill.total_paise == sum(line.amount_paise for line in bill.lines)

    def test_buyer_bill_at_its_own_discom(self) -> None:
        s = settle_trade(trade(), CHARGES)
        metered = [MeteredBlock(BLOCK, 20_000, 0), MeteredBlock(BLOCK + 1, 14_200, 0)]
        bill = monthly_bill("buyer", DA, metered, [s])
        lines = {line.kind: line for line in bill.lines}
        assert lines[BillLineKind.IMPORT].energy_wh == 1500
        assert lines[BillLineKind.FIXED].amount_paise == 12_000
        assert lines[BillLineKind.CROSS_SUBSIDY].amount_paise == 1850 + 1420
        assert lines[BillLineKind.WHEELING].amount_paise == 925 + 710  # only discom-a's share

    def test_traded_more_than_metered_is_refused(self) -> None:
        s = settle_trade(trade(), CHARGES)
        with pytest.raises(UsageError, match="more than metered"):
            monthly_bill("seller", DB, [MeteredBlock(BLOCK, 0, 100), MeteredBlock(BLOCK + 1, 0, 14_700)], [s])
        with pytest.raises(UsageError, match="no meter data"):
            monthly_bill("seller", DB, [MeteredBlock(BLOCK, 0, 19_200)], [s])

    def test_statement_rows_sum_to_the_net_position_and_write_as_csv(self) -> None:
        s = settle_trade(trade(), CHARGES)
        rows = settlement_statement("seller", [s])
        assert sum(r.amount_paise for r in rows) == s.net_by_party["seller"]
        parsed = list(csv.DictReader(io.StringIO(statement_csv(rows))))
        assert len(parsed) == len(rows) and parsed[0].keys() == rows[0].as_dict().keys()
        assert sum(int(r["amount_paise"]) for r in parsed) == s.net_by_party["seller"]


@settings(max_examples=60)
@given(st.lists(trade_blocks(), min_size=1, max_size=6), charge_table())
def test_money_is_conserved_across_a_book(books, charges) -> None:
    """Settle many trades between a few people: every paisa paid is received by someone, statements
    agree with settlements, and each DISCOM's charges in bills equal what the flows owe it."""
    people = ["p0", "p1", "p2"]
    settlements = []
    for i, blocks in enumerate(books):
        buyer, seller = people[i % 3], people[(i + 1) % 3]
        t = TradeRecord(
            f"t{i}", buyer, seller, "discom-a", "discom-b" if i % 2 else "discom-a", tuple(blocks)
        )
        settlements.append(settle_trade(t, charges))
    net: dict[str, int] = defaultdict(int)
    for s in settlements:
        for party, amount in s.net_by_party.items():
            net[party] += amount
    assert sum(net.values()) == 0
    for p in people:
        assert sum(r.amount_paise for r in settlement_statement(p, settlements)) == net[p]
