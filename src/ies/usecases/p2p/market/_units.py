"""Units, time blocks and the two rounding rules every market calculation uses.

Why integers everywhere: a settlement must reconcile to the paisa across four parties that compute it
independently (two trading platforms, two ledger providers). Floats make that a matter of luck, so energy
is `int` Wh, money `int` paise and prices `int` paise/kWh; the only places a fraction can appear are the
two functions here, and each says how it rounds.

Time blocks: India schedules in 15-minute blocks, 96 per IST calendar day. A block is identified by one
`int`, its index since 1970-01-01T00:00Z in 15-minute steps. IST is UTC+05:30, a whole number of blocks,
so every IST day starts on a block boundary: block `n` belongs to IST day `(n + 22) // 96` (days since the
epoch in IST) and is number `(n + 22) % 96` of that day. One integer keeps blocks sortable, hashable and
vectorisable with numpy, and converting to and from instants never needs a calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from ies.errors import UsageError

__all__ = [
    "BLOCKS_PER_DAY",
    "BLOCKS_PER_HOUR",
    "BLOCK_DURATION",
    "BLOCK_SECONDS",
    "IST",
    "Block",
    "Paise",
    "PaisePerKWh",
    "Wh",
    "block_at",
    "block_end",
    "block_of_day",
    "block_start",
    "blocks_of_day",
    "day_and_index",
    "energy_value_paise",
    "split_evenly",
    "split_hour",
]

Wh = int
"""Energy in watt-hours."""
Paise = int
"""Money in paise (1/100 INR)."""
PaisePerKWh = int
"""Price in paise per kWh: 12.50 INR/kWh is 1250."""
Block = int
"""A 15-minute time block: index since 1970-01-01T00:00Z in 15-minute steps."""

BLOCK_SECONDS = 900
BLOCK_DURATION = timedelta(seconds=BLOCK_SECONDS)
BLOCKS_PER_DAY = 96
BLOCKS_PER_HOUR = 4
IST = timezone(timedelta(hours=5, minutes=30), "IST")
_IST_OFFSET_BLOCKS = 22  # 5 h 30 min
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)


def _aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise UsageError(f"{what} must be timezone-aware, got {instant.isoformat()}")
    return instant


def block_at(instant: datetime) -> Block:
    """The block containing `instant` (aware datetime, any zone)."""
    seconds = (_aware(instant, "instant") - _EPOCH) // timedelta(seconds=1)
    return int(seconds // BLOCK_SECONDS)


def block_start(block: Block) -> datetime:
    """The UTC instant block `block` starts."""
    return _EPOCH + timedelta(seconds=block * BLOCK_SECONDS)


def block_end(block: Block) -> datetime:
    """The UTC instant block `block` ends (the next block's start)."""
    return block_start(block + 1)


def block_of_day(day: date, index: int) -> Block:
    """Block number `index` (0–95) of IST calendar day `day`; index 0 starts at 00:00 IST."""
    if not 0 <= index < BLOCKS_PER_DAY:
        raise UsageError(f"block index {index} is outside 0..{BLOCKS_PER_DAY - 1}")
    return (day - _EPOCH_DAY).days * BLOCKS_PER_DAY + index - _IST_OFFSET_BLOCKS


def blocks_of_day(day: date) -> range:
    """The 96 blocks of IST calendar day `day`, in order."""
    first = block_of_day(day, 0)
    return range(first, first + BLOCKS_PER_DAY)


def day_and_index(block: Block) -> tuple[date, int]:
    """(IST calendar day, index 0–95 within it) of a block."""
    days, index = divmod(block + _IST_OFFSET_BLOCKS, BLOCKS_PER_DAY)
    return _EPOCH_DAY + timedelta(days=days), index


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` split into `parts` integers differing by at most one, earlier parts larger; sums to `total`.

    Used to cut an hourly wire quantity into four 15-minute blocks without losing a Wh: 10 Wh over four
    blocks is [3, 3, 2, 2].
    """
    if parts < 1:
        raise UsageError(f"cannot split into {parts} parts")
    if total < 0:
        raise UsageError(f"cannot split a negative quantity ({total})")
    base, extra = divmod(total, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def split_hour(start: datetime, energy_wh: Wh) -> list[tuple[Block, Wh]]:
    """A 1-hour wire interval starting at `start` as four 15-minute blocks (see `split_evenly`).

    The start must fall on a block boundary; the price of the hour applies unchanged to each block.
    """
    first = block_at(start)
    if block_start(first) != _aware(start, "interval start"):
        raise UsageError(f"interval start {start.isoformat()} is not on a 15-minute block boundary")
    return [(first + i, q) for i, q in enumerate(split_evenly(energy_wh, BLOCKS_PER_HOUR))]


def energy_value_paise(energy_wh: Wh, price_paise_per_kwh: PaisePerKWh, *, per: int = 1000) -> Paise:
    """`energy_wh × price / per`, rounded half up to a whole paisa (both inputs ≥ 0).

    `per` is 1000 for a price per kWh; the loss charge passes a price × basis-point product with
    `per = 1000 × 10 000`. Half up on a non-negative exact rational is `(2·n + d) // (2·d)`, all in
    integers, so the Rego policies reproduce it bit for bit.
    """
    if energy_wh < 0 or price_paise_per_kwh < 0:
        raise UsageError(f"energy ({energy_wh} Wh) and rate ({price_paise_per_kwh}) must not be negative")
    return (2 * energy_wh * price_paise_per_kwh + per) // (2 * per)
