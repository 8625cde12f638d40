"""Allocation of metered actuals across a customer's trades (`_allocation`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.usecases.p2p.market import (
    AllocationMethod,
    AllocationRound,
    TradeLeg,
    allocate_side,
    largest_remainder,
    run_allocation_round,
    true_up,
)

from .strategies import BLOCK, T0

FIFO, PRO_RATA = AllocationMethod.FIFO, AllocationMethod.PRO_RATA


def leg(trade: str, qty: int, *, customer: str = "c", t: int = 0, block: int = BLOCK) -> TradeLeg:
    return TradeLeg(trade, customer, block, qty, T0 + timedelta(seconds=t))


class TestExamples:
    def test_fifo_inter_retailer_example(self) -> None:
        # 5 + 4 kWh traded, 8 kWh injected → 5 + 3 (IES inter-retailer draft)
        legs = [leg("late", 4000, t=2), leg("early", 5000, t=1)]
        assert allocate_side(legs, {("c", BLOCK): 8000}, FIFO) == {
            ("early", BLOCK): 5000,
            ("late", BLOCK): 3000,
        }

    def test_pro_rata_same_example(self) -> None:
        legs = [leg("late", 4000, t=2), leg("early", 5000, t=1)]
        # 8000 × 5/9 = 4444.4, 8000 × 4/9 = 3555.6 → the larger remainder gets the Wh
        assert allocate_side(legs, {("c", BLOCK): 8000}, PRO_RATA) == {
            ("early", BLOCK): 4444,
            ("late", BLOCK): 3556,
        }

    def test_more_metered_than_traded_caps_at_contract(self) -> None:
        legs = [leg("a", 1000), leg("b", 2000)]
        for method in AllocationMethod:
            assert allocate_side(legs, {("c", BLOCK): 10_000}, method) == {
                ("a", BLOCK): 1000,
                ("b", BLOCK): 2000,
            }

    def test_no_meter_data_allocates_nothing(self) -> None:
        assert allocate_side([leg("a", 1000)], {}, PRO_RATA) == {("a", BLOCK): 0}

    def test_final_alloc_is_the_smaller_side(self) -> None:
        # DEG example: buyer side 18.5, seller side 19.2 → FINAL_ALLOC 18.5
        buys = [leg("t", 20_500, customer="buyer")]
        sells = [leg("t", 20_500, customer="seller")]
        run = run_allocation_round(
            AllocationRound.FINAL, FIFO, buys, sells, {("buyer", BLOCK): 18_500}, {("seller", BLOCK): 19_200}
        )
        assert run.final_wh == {("t", BLOCK): 18_500}

    def test_true_up_reports_changed_trades_only(self) -> None:
        buys = [leg("t1", 1000, customer="b"), leg("t2", 1000, customer="b", t=1)]
        sells = [leg("t1", 1000, customer="s1"), leg("t2", 1000, customer="s2")]
        exports = {("s1", BLOCK): 1000, ("s2", BLOCK): 1000}
        provisional = run_allocation_round(
            AllocationRound.PROVISIONAL, FIFO, buys, sells, {("b", BLOCK): 1200}, exports
        )
        final = run_allocation_round(AllocationRound.FINAL, FIFO, buys, sells, {("b", BLOCK): 1900}, exports)
        assert true_up(provisional, final) == {("t2", BLOCK): 700}

    def test_bad_input_is_refused(self) -> None:
        with pytest.raises(UsageError, match="negative"):
            allocate_side([leg("a", 10)], {("c", BLOCK): -1}, FIFO)
        with pytest.raises(UsageError, match="two legs"):
            allocate_side([leg("a", 10), leg("a", 5)], {}, FIFO)
        with pytest.raises(UsageError, match="both a buy and a sell"):
            run_allocation_round(AllocationRound.FINAL, FIFO, [leg("a", 1)], [], {}, {})


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_largest_remainder_is_exact_and_fair(total_share: int, weights: list[int]) -> None:
    total = min(total_share, sum(weights))
    shares = largest_remainder(total, weights)
    assert sum(shares) == total
    if sum(weights):
        for s, w in zip(shares, weights, strict=True):
            assert 0 <= s <= w and abs(s - Fraction(total * w, sum(weights))) < 1


legs_strategy = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]), st.integers(0, 2), st.integers(0, 5000), st.integers(0, 30)
    ),
    max_size=15,
)
meter_strategy = st.dictionaries(
    st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.integers(BLOCK, BLOCK + 2)), st.integers(0, 12_000)
)


@settings(max_examples=150)
@given(legs_strategy, meter_strategy, st.sampled_from(list(AllocationMethod)))
def test_conservation_on_random_books(
    raw: list[tuple[str, int, int, int]], metered: dict, method: AllocationMethod
) -> None:
    legs = [leg(f"t{i}", qty, customer=c, t=t, block=BLOCK + b) for i, (c, b, qty, t) in enumerate(raw)]
    out = allocate_side(legs, metered, method)
    per_group: dict[tuple[str, int], int] = defaultdict(int)
    contracted: dict[tuple[str, int], int] = defaultdict(int)
    for g in legs:
        share = out[(g.trade_id, g.block)]
        assert 0 <= share <= g.contracted_wh
        per_group[(g.customer_id, g.block)] += share
        contracted[(g.customer_id, g.block)] += g.contracted_wh
    for key, total in per_group.items():
        assert total == min(metered.get(key, 0), contracted[key])  # ≤ metered, nothing lost


@settings(max_examples=100)
@given(legs_strategy, meter_strategy, meter_strategy, st.sampled_from(list(AllocationMethod)))
def test_final_alloc_never_exceeds_either_side(
    raw: list[tuple[str, int, int, int]], imports: dict, exports: dict, method: AllocationMethod
) -> None:
    buys = [leg(f"t{i}", qty, customer=c, t=t, block=BLOCK + b) for i, (c, b, qty, t) in enumerate(raw)]
    sells = [
        leg(f"t{i}", qty, customer=f"s{i % 2}", t=t, block=BLOCK + b) for i, (_, b, qty, t) in enumerate(raw)
    ]
    exports = {(f"s{i % 2}", k[1]): v for i, (k, v) in enumerate(exports.items())}
    run = run_allocation_round(AllocationRound.PROVISIONAL, method, buys, sells, imports, exports)
    for key, final in run.final_wh.items():
        assert final == min(run.buyer_side_wh[key], run.seller_side_wh[key])
    for side, metered, group_legs in (
        (run.buyer_side_wh, imports, buys),
        (run.seller_side_wh, exports, sells),
    ):
        used: dict[tuple[str, int], int] = defaultdict(int)
        for g in group_legs:
            used[(g.customer_id, g.block)] += side[(g.trade_id, g.block)]
        assert all(v <= metered.get(k, 0) for k, v in used.items())
