"""Hypothesis strategies for the market tests: small random books, trades and meter actuals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from ies.usecases.p2p.market import Bid, Offer, SourceType

T0 = datetime(2026, 4, 26, 0, 0, tzinfo=UTC)
BLOCK = 1_969_000
PEOPLE = [f"p{i}" for i in range(6)]
PLATFORMS = ["tp-a.example", "tp-b.example", "tp-c.example"]
SOURCES = list(SourceType)


@st.composite
def offers(
    draw: st.DrawFn, n_max: int = 12, blocks: int = 2, prices: tuple[int, int] = (300, 900)
) -> list[Offer]:
    n = draw(st.integers(0, n_max))
    return [
        Offer(
            offer_id=f"o{i}",
            seller_id=draw(st.sampled_from(PEOPLE)),
            seller_platform_id=draw(st.sampled_from(PLATFORMS)),
            block=BLOCK + draw(st.integers(0, blocks - 1)),
            quantity_wh=draw(st.integers(1, 5000)),
            price_paise_per_kwh=draw(st.integers(*prices)),
            source_type=draw(st.sampled_from(SOURCES[:3])),
            submitted_at=T0 + timedelta(seconds=draw(st.integers(0, 20))),
        )
        for i in range(n)
    ]


@st.composite
def bids(
    draw: st.DrawFn,
    n_max: int = 12,
    blocks: int = 2,
    prices: tuple[int, int] = (300, 900),
    prefs: bool = True,
) -> list[Bid]:
    n = draw(st.integers(0, n_max))
    out = []
    for i in range(n):
        chosen = draw(st.sets(st.sampled_from(SOURCES[:3]), max_size=2)) if prefs else set()
        out.append(
            Bid(
                order_id=f"b{i}",
                buyer_id=draw(st.sampled_from(PEOPLE)) if prefs else f"buyer{i}",
                buyer_platform_id=draw(st.sampled_from(PLATFORMS)),
                block=BLOCK + draw(st.integers(0, blocks - 1)),
                quantity_wh=draw(st.integers(1, 5000)),
                limit_price_paise_per_kwh=draw(st.integers(*prices)),
                submitted_at=T0 + timedelta(seconds=draw(st.integers(0, 20))),
                source_types=frozenset(chosen),
            )
        )
    return out
