"""Time blocks and the rounding rule (`_units`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.errors import UsageError
from ies.usecases.p2p.market import (
    BLOCKS_PER_DAY,
    IST,
    block_at,
    block_end,
    block_of_day,
    block_start,
    blocks_of_day,
    day_and_index,
    energy_value_paise,
    split_evenly,
    split_hour,
)


class TestBlocks:
    def test_ist_day_starts_at_1830_utc_the_day_before(self) -> None:
        first = block_of_day(date(2026, 4, 26), 0)
        assert block_start(first) == datetime(2026, 4, 25, 18, 30, tzinfo=UTC)
        assert block_start(first).astimezone(IST).time().isoformat() == "00:00:00"

    def test_last_block_of_day_ends_at_ist_midnight(self) -> None:
        last = block_of_day(date(2026, 4, 26), 95)
        assert block_end(last) == datetime(2026, 4, 26, 18, 30, tzinfo=UTC)

    def test_blocks_of_day_are_96_consecutive(self) -> None:
        blocks = blocks_of_day(date(2026, 1, 1))
        assert len(blocks) == BLOCKS_PER_DAY == 96
        assert [day_and_index(b) for b in (blocks[0], blocks[-1])] == [
            (date(2026, 1, 1), 0),
            (date(2026, 1, 1), 95),
        ]

    def test_block_at_accepts_any_zone_and_rejects_naive(self) -> None:
        instant = datetime(2026, 4, 26, 10, 7, tzinfo=IST)
        assert block_at(instant) == block_at(instant.astimezone(timezone(timedelta(hours=-3))))
        assert block_start(block_at(instant)) == datetime(2026, 4, 26, 10, 0, tzinfo=IST)
        with pytest.raises(UsageError, match="timezone-aware"):
            block_at(datetime(2026, 4, 26, 10, 7))

    def test_index_out_of_range_is_refused(self) -> None:
        with pytest.raises(UsageError, match=r"outside 0\.\.95"):
            block_of_day(date(2026, 4, 26), 96)

    @given(st.integers(-(10**7), 10**7))
    def test_day_and_index_round_trips(self, block: int) -> None:
        day, index = day_and_index(block)
        assert block_of_day(day, index) == block
        assert block_start(block).astimezone(IST).date() == day

    @given(
        st.datetimes(timezones=st.just(UTC), min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))
    )
    def test_block_at_contains_the_instant(self, instant: datetime) -> None:
        block = block_at(instant)
        assert block_start(block) <= instant < block_end(block)


class TestSplitting:
    def test_hour_split_into_four_blocks_without_losing_a_wh(self) -> None:
        start = datetime(2026, 4, 26, 4, 30, tzinfo=UTC)  # 10:00 IST, as in the DEG examples
        parts = split_hour(start, 20_501)
        assert [q for _, q in parts] == [5126, 5125, 5125, 5125]
        assert [b for b, _ in parts] == [block_at(start) + i for i in range(4)]

    def test_hour_not_on_a_block_boundary_is_refused(self) -> None:
        with pytest.raises(UsageError, match="boundary"):
            split_hour(datetime(2026, 4, 26, 4, 31, tzinfo=UTC), 100)

    @given(st.integers(0, 10**12), st.integers(1, 100))
    def test_split_evenly_conserves_and_is_even(self, total: int, parts: int) -> None:
        out = split_evenly(total, parts)
        assert sum(out) == total and len(out) == parts
        assert max(out) - min(out) <= 1 and out == sorted(out, reverse=True)


class TestRounding:
    def test_deg_worked_example(self) -> None:
        # 18.5 kWh × ₹12.50 + 14.2 kWh × ₹14.50 = ₹437.15 (DEG wave-2 on_status example)
        assert energy_value_paise(18_500, 1250) + energy_value_paise(14_200, 1450) == 43_715

    @pytest.mark.parametrize(("wh", "price", "paise"), [(1, 500, 1), (1, 499, 0), (3, 500, 2), (0, 999, 0)])
    def test_half_up(self, wh: int, price: int, paise: int) -> None:
        assert energy_value_paise(wh, price) == paise

    @given(st.integers(0, 10**10), st.integers(0, 10**6))
    def test_within_half_a_paisa_of_the_exact_value(self, wh: int, price: int) -> None:
        exact = Fraction(wh * price, 1000)
        got = energy_value_paise(wh, price)
        assert -Fraction(1, 2) < got - exact <= Fraction(1, 2)

    def test_negative_inputs_are_refused(self) -> None:
        with pytest.raises(UsageError):
            energy_value_paise(-1, 100)


@settings(max_examples=50)
@given(st.integers(0, 10**9), st.integers(1, 10**4))
def test_loss_rate_scale(wh: int, rate: int) -> None:
    exact = Fraction(wh * rate, 10_000_000)
    assert abs(energy_value_paise(wh, rate, per=10_000_000) - exact) <= Fraction(1, 2)
