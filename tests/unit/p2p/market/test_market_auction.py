"""Uniform-price call auction (`_auction`) and its LP twin (`_lp`)."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.usecases.p2p.market import Bid, Offer, call_auction, clear_arrays, clear_lp

from .strategies import BLOCK, bids, offers
from .test_market_matching import bid, offer


def clear(book_bids: list[Bid], book_offers: list[Offer]):
    return call_auction(book_bids, book_offers)[BLOCK]


class TestClearing:
    def test_marginal_tier_shares_pro_rata(self) -> None:
        result = clear(
            [bid("A", 700, 3000), bid("B", 600, 2000, t=1), bid("C", 600, 2000, t=2), bid("D", 400, 1000)],
            [offer("X", 450, 4000), offer("Y", 500, 2000), offer("Z", 650, 5000)],
        )
        assert (result.volume_wh, result.price_paise_per_kwh, result.price_range) == (6000, 600, (600, 600))
        assert result.order_fills_wh == {"A": 3000, "B": 1500, "C": 1500, "D": 0}
        assert result.offer_fills_wh == {"X": 4000, "Y": 2000, "Z": 0}

    def test_price_is_the_midpoint_of_the_equilibrium_range(self) -> None:
        result = clear(
            [bid("A", 700, 1000), bid("B", 550, 500)], [offer("X", 500, 1000), offer("Y", 650, 500)]
        )
        assert (result.volume_wh, result.price_range, result.price_paise_per_kwh) == (1000, (550, 650), 600)

    def test_midpoint_rounds_down(self) -> None:
        result = clear([bid("A", 701, 1000)], [offer("X", 500, 1000)])
        assert (result.price_range, result.price_paise_per_kwh) == ((500, 701), 600)

    def test_equal_remainders_go_to_earlier_orders(self) -> None:
        result = clear(
            [bid("B3", 600, 1, t=3), bid("B1", 600, 1, t=1), bid("B2", 600, 1, t=2)], [offer("X", 500, 2)]
        )
        assert result.order_fills_wh == {"B1": 1, "B2": 1, "B3": 0}

    def test_units_at_zero_surplus_trade(self) -> None:
        result = clear([bid("A", 500, 1000)], [offer("X", 500, 400)])
        assert (result.volume_wh, result.price_paise_per_kwh) == (400, 500)

    def test_no_crossing_clears_nothing(self) -> None:
        result = clear([bid("A", 400, 1000)], [offer("X", 500, 1000)])
        assert (result.volume_wh, result.price_paise_per_kwh, result.price_range, result.fills) == (
            0,
            None,
            None,
            (),
        )

    def test_one_sided_block(self) -> None:
        assert call_auction([], [offer("X", 500, 1000)])[BLOCK].volume_wh == 0

    def test_fills_pair_buyers_with_sellers_at_the_clearing_price(self) -> None:
        result = clear(
            [bid("A", 700, 3000), bid("B", 600, 2000, t=1), bid("C", 600, 2000, t=2)],
            [offer("X", 450, 4000), offer("Y", 500, 2000)],
        )
        assert [(f.order_id, f.offer_id, f.energy_wh) for f in result.fills] == [
            ("A", "X", 3000), ("B", "X", 1000), ("B", "Y", 500), ("C", "Y", 1500),
        ]  # fmt: skip
        assert {f.price_paise_per_kwh for f in result.fills} == {result.price_paise_per_kwh}


def _curve_volume(book_bids: list[Bid], book_offers: list[Offer]) -> int:
    """Brute force: the most energy any single price can clear, max_p min(D(p), S(p))."""
    prices = {b.limit_price_paise_per_kwh for b in book_bids} | {o.price_paise_per_kwh for o in book_offers}
    best = 0
    for p in prices:
        demand = sum(b.quantity_wh for b in book_bids if b.limit_price_paise_per_kwh >= p)
        supply = sum(o.quantity_wh for o in book_offers if o.price_paise_per_kwh <= p)
        best = max(best, min(demand, supply))
    return best


@settings(max_examples=150, deadline=None)
@given(bids(blocks=1, prefs=False, prices=(400, 420)), offers(blocks=1, prices=(400, 420)))
def test_clears_where_supply_meets_demand(book_bids: list[Bid], book_offers: list[Offer]) -> None:
    """Narrow price range: many ties at the margin. Volume is the curves' crossing; the price supports
    the allocation; nothing is created or lost; the marginal tier is shared pro-rata within 1 Wh."""
    result = call_auction(book_bids, book_offers).get(BLOCK)
    if result is None:
        assert not book_bids and not book_offers
        return
    assert result.volume_wh == _curve_volume(book_bids, book_offers)
    assert sum(result.order_fills_wh.values()) == sum(result.offer_fills_wh.values()) == result.volume_wh
    if result.volume_wh == 0:
        assert result.price_paise_per_kwh is None
        return
    price = result.price_paise_per_kwh
    assert price is not None and result.price_range is not None
    assert result.price_range[0] <= price <= result.price_range[1]
    for b in book_bids:
        got = result.order_fills_wh[b.order_id]
        assert 0 <= got <= b.quantity_wh
        if got:
            assert b.limit_price_paise_per_kwh >= price
        if got < b.quantity_wh:
            assert b.limit_price_paise_per_kwh <= price
    for o in book_offers:
        got = result.offer_fills_wh[o.offer_id]
        assert 0 <= got <= o.quantity_wh
        if got:
            assert o.price_paise_per_kwh <= price
        if got < o.quantity_wh:
            assert o.price_paise_per_kwh >= price
    _check_pro_rata(book_bids, result.order_fills_wh, key=lambda b: -b.limit_price_paise_per_kwh)
    _check_pairs(result)


def _check_pro_rata(book_bids: list[Bid], fills: dict[str, int], key) -> None:
    tiers: dict[int, list[Bid]] = defaultdict(list)
    for b in book_bids:
        tiers[key(b)].append(b)
    for tier in tiers.values():
        got = sum(fills[b.order_id] for b in tier)
        total = sum(b.quantity_wh for b in tier)
        for b in tier:
            exact = Fraction(got * b.quantity_wh, total)
            assert abs(fills[b.order_id] - exact) < 1


def _check_pairs(result) -> None:
    by_order: dict[str, int] = defaultdict(int)
    by_offer: dict[str, int] = defaultdict(int)
    for f in result.fills:
        by_order[f.order_id] += f.energy_wh
        by_offer[f.offer_id] += f.energy_wh
    assert by_order == {k: v for k, v in result.order_fills_wh.items() if v}
    assert by_offer == {k: v for k, v in result.offer_fills_wh.items() if v}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(400, 430), st.integers(1, 3000)), max_size=25),
    st.lists(st.tuples(st.integers(400, 430), st.integers(1, 3000)), max_size=25),
)
def test_lp_with_highs_agrees(bid_side: list[tuple[int, int]], offer_side: list[tuple[int, int]]) -> None:
    arrays = [
        np.array([x[i] for x in side], dtype=np.int64) for side in (bid_side, offer_side) for i in (0, 1)
    ]
    fast, lp = clear_arrays(*arrays), clear_lp(*arrays)
    assert (fast.volume_wh, fast.price_paise_per_kwh, fast.price_low, fast.price_high) == (
        lp.volume_wh, lp.price_paise_per_kwh, lp.price_low, lp.price_high,
    )  # fmt: skip
    assert int(lp.bid_alloc_wh.sum()) == int(lp.offer_alloc_wh.sum()) == lp.volume_wh


def test_large_book_conserves_every_wh() -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    limit, bq = rng.integers(300, 900, n), rng.integers(1, 5000, n)
    price, oq = rng.integers(300, 900, n), rng.integers(1, 5000, n)
    result = clear_arrays(limit, bq, price, oq)
    assert int(result.bid_alloc_wh.sum()) == int(result.offer_alloc_wh.sum()) == result.volume_wh > 0
    assert ((result.bid_alloc_wh >= 0) & (result.bid_alloc_wh <= bq)).all()
    assert ((result.offer_alloc_wh >= 0) & (result.offer_alloc_wh <= oq)).all()
    p = result.price_paise_per_kwh
    assert p is not None
    assert (limit[result.bid_alloc_wh > 0] >= p).all() and (price[result.offer_alloc_wh > 0] <= p).all()


def test_huge_tier_quantities_fall_back_to_exact_integers() -> None:
    big = 9 * 10**9
    result = clear([bid("A", 500, big, t=1), bid("B", 500, big, t=2)], [offer("X", 400, big + 1)])
    assert result.order_fills_wh == {"A": big // 2 + 1, "B": big // 2}


def test_input_order_does_not_matter() -> None:
    book_bids = [bid("A", 600, 1000, t=2), bid("B", 600, 1000, t=1), bid("C", 650, 300, t=1)]
    first = clear(book_bids, [offer("X", 500, 1500), offer("Y", 500, 100, t=1)])
    second = clear(list(reversed(book_bids)), [offer("Y", 500, 100, t=1), offer("X", 500, 1500)])
    assert first == second
