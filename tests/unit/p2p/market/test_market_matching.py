"""Price-time matching (`_matching`): worked examples and properties on random books."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings

from ies.errors import UsageError
from ies.usecases.p2p.market import Bid, Offer, SourceType, match_arrays, match_orders
from ies.usecases.p2p.market._matching import _match_queues

from .strategies import BLOCK, T0, bids, offers


def offer(oid: str, price: int, qty: int, *, seller: str | None = None, t: int = 0,
          source: SourceType = SourceType.SOLAR, block: int = BLOCK, tp: str = "tp-s") -> Offer:  # fmt: skip
    return Offer(oid, seller or f"seller-{oid}", tp, block, qty, price, source, T0 + timedelta(seconds=t))


def bid(oid: str, limit: int, qty: int, *, buyer: str | None = None, t: int = 0,
        sources: frozenset[SourceType] = frozenset(), block: int = BLOCK) -> Bid:  # fmt: skip
    return Bid(oid, buyer or f"buyer-{oid}", "tp-b", block, qty, limit, T0 + timedelta(seconds=t), sources)


def summary(result) -> list[tuple[str, str, int, int]]:
    return [(f.order_id, f.offer_id, f.energy_wh, f.price_paise_per_kwh) for f in result.fills]


class TestPriceTimePriority:
    def test_partial_fills_across_offers_of_many_platforms(self) -> None:
        book = [offer("o1", 500, 3000, tp="tp-x"), offer("o2", 450, 2000, tp="tp-y"), offer("o3", 600, 9000)]
        result = match_orders([bid("b1", 550, 6000)], book)
        assert summary(result) == [("b1", "o2", 2000, 450), ("b1", "o1", 3000, 500)]
        assert result.unfilled_wh == {"b1": 1000}
        assert result.unsold_wh == {"o1": 0, "o2": 0, "o3": 9000}
        assert {f.seller_platform_id for f in result.fills} == {"tp-x", "tp-y"}

    def test_better_limit_served_first_then_earlier(self) -> None:
        book = [offer("o1", 400, 1000)]
        orders = [bid("late", 700, 800, t=5), bid("early", 700, 800, t=1), bid("rich", 900, 500, t=9)]
        assert summary(match_orders(orders, book)) == [("rich", "o1", 500, 400), ("early", "o1", 500, 400)]

    def test_equal_prices_go_to_the_earlier_offer(self) -> None:
        book = [offer("o-late", 400, 1000, t=3), offer("o-early", 400, 1000, t=1)]
        assert summary(match_orders([bid("b", 400, 1500)], book)) == [
            ("b", "o-early", 1000, 400),
            ("b", "o-late", 500, 400),
        ]

    def test_never_above_the_limit(self) -> None:
        assert match_orders([bid("b", 499, 100)], [offer("o", 500, 100)]).fills == ()

    def test_source_type_preference(self) -> None:
        book = [offer("cheap-grid", 300, 1000, source=SourceType.GRID), offer("solar", 500, 1000)]
        only_solar = bid("b", 600, 1500, sources=frozenset({SourceType.SOLAR}))
        assert summary(match_orders([only_solar], book)) == [("b", "solar", 1000, 500)]
        anything = bid("b", 600, 1500)
        assert summary(match_orders([anything], book)) == [
            ("b", "cheap-grid", 1000, 300),
            ("b", "solar", 500, 500),
        ]

    def test_no_self_trade(self) -> None:
        book = [offer("mine", 300, 1000, seller="alice"), offer("theirs", 400, 1000, seller="bob")]
        result = match_orders([bid("b", 500, 1500, buyer="alice")], book)
        assert summary(result) == [("b", "theirs", 1000, 400)]

    def test_blocks_do_not_interact(self) -> None:
        result = match_orders([bid("b", 500, 1000, block=BLOCK + 1)], [offer("o", 100, 1000)])
        assert result.fills == ()

    def test_bad_books_are_refused(self) -> None:
        with pytest.raises(UsageError, match="quantity"):
            match_orders([bid("b", 500, 0)], [])
        with pytest.raises(UsageError, match="twice"):
            match_orders([], [offer("o", 1, 1), offer("o", 1, 1)])
        with pytest.raises(UsageError, match="price"):
            match_orders([], [offer("o", -1, 1)])


def _check_invariants(book_bids: list[Bid], book_offers: list[Offer], result) -> None:
    by_order = {b.order_id: b for b in book_bids}
    by_offer = {o.offer_id: o for o in book_offers}
    bought: dict[str, int] = defaultdict(int)
    sold: dict[str, int] = defaultdict(int)
    for f in result.fills:
        b, o = by_order[f.order_id], by_offer[f.offer_id]
        assert f.energy_wh > 0 and f.block == b.block == o.block
        assert o.price_paise_per_kwh == f.price_paise_per_kwh <= b.limit_price_paise_per_kwh
        assert b.accepts(o.source_type) and b.buyer_id != o.seller_id
        bought[f.order_id] += f.energy_wh
        sold[f.offer_id] += f.energy_wh
    for b in book_bids:
        assert bought[b.order_id] + result.unfilled_wh[b.order_id] == b.quantity_wh
        assert result.unfilled_wh[b.order_id] >= 0
    for o in book_offers:
        assert sold[o.offer_id] + result.unsold_wh[o.offer_id] == o.quantity_wh
        assert result.unsold_wh[o.offer_id] >= 0


@settings(max_examples=150, deadline=None)
@given(bids(), offers())
def test_never_crosses_a_limit_nor_exceeds_a_quantity(book_bids: list[Bid], book_offers: list[Offer]) -> None:
    _check_invariants(book_bids, book_offers, match_orders(book_bids, book_offers))


@settings(max_examples=150, deadline=None)
@given(bids(), offers())
def test_no_missed_trade(book_bids: list[Bid], book_offers: list[Offer]) -> None:
    """After matching, no buyer with energy still wanted can afford an acceptable offer with energy left."""
    result = match_orders(book_bids, book_offers)
    for b in book_bids:
        if result.unfilled_wh[b.order_id]:
            for o in book_offers:
                if o.block == b.block and result.unsold_wh[o.offer_id] and b.accepts(o.source_type):
                    assert o.seller_id == b.buyer_id or o.price_paise_per_kwh > b.limit_price_paise_per_kwh


@settings(max_examples=100, deadline=None)
@given(bids(prefs=False, blocks=1), offers(blocks=1))
def test_vectorised_walk_equals_the_queue_walk(book_bids: list[Bid], book_offers: list[Offer]) -> None:
    arrival_bids = sorted(book_bids, key=lambda b: (b.submitted_at, b.order_id))
    arrival_offers = sorted(book_offers, key=lambda o: (o.submitted_at, o.offer_id))
    reference = [
        (f.order_id, f.offer_id, f.energy_wh, f.price_paise_per_kwh)
        for f in _match_queues(arrival_bids, arrival_offers)
    ]
    assert summary(match_orders(book_bids, book_offers)) == reference


def test_match_arrays_on_a_large_block_conserves() -> None:
    rng = np.random.default_rng(7)
    limit, bq = rng.integers(300, 900, 20_000), rng.integers(1, 5000, 20_000)
    price, oq = rng.integers(300, 900, 20_000), rng.integers(1, 5000, 20_000)
    bi, oi, wh = match_arrays(limit, bq, price, oq)
    assert (limit[bi] >= price[oi]).all()
    assert (np.bincount(bi, weights=wh, minlength=bq.size) <= bq).all()
    assert (np.bincount(oi, weights=wh, minlength=oq.size) <= oq).all()
