"""The DEG `BecknTimeSeries` of a P2P trade, and the exact conversions between wire numbers and our units.

Why a module of its own: every P2P message carries one, and the commitment's series grows over the
lifecycle (seller PRICE_PER_KWH / AVAILABLE_QTY, buyer REQUESTED_QTY, the DISCOMs' allocations and
statuses, FINAL_ALLOC). Inside the project a series is a map from a block (the market's `Block`, an int
index of 15-minute steps since the epoch) to the values of that block; energy is integer Wh and price
integer paise per kWh, converted through `Decimal` so that 20.5 kWh is 20 500 Wh exactly. On input a
series of 1-hour (or 30-minute) intervals is split into 15-minute blocks: energy evenly (the remainder
Wh to the first blocks, so the sum is kept), price and status copied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ies.errors import SchemaValidationFailed
from ies.usecases.p2p.market import Block, block_at, block_start

__all__ = [
    "BLOCK",
    "ENERGY_TYPES",
    "EVENT",
    "REPORT",
    "SERIES_CONTEXT",
    "STATUS_TYPES",
    "Column",
    "block_floor",
    "build_series",
    "iso",
    "kwh_of",
    "paise_of",
    "parse_time",
    "price_of",
    "read_series",
    "wh_of",
]

BLOCK = timedelta(minutes=15)
SERIES_CONTEXT = "https://schema.nfh.global/BecknTimeSeries/v1.0/context.jsonld"
EVENT, REPORT = "EVENT_PAYLOAD_DESCRIPTOR", "REPORT_PAYLOAD_DESCRIPTOR"

#: payload type → (descriptor objectType, unit key, unit, inserted by)
DESCRIPTORS: dict[str, tuple[str, str, str, str]] = {
    "PRICE_PER_KWH": (EVENT, "currency", "INR", "sellerPlatform"),
    "AVAILABLE_QTY": (EVENT, "units", "KWH", "sellerPlatform"),
    "REQUESTED_QTY": (EVENT, "units", "KWH", "buyerPlatform"),
    "BUYER_DISCOM_ALLOC": (REPORT, "units", "KWH", "buyerDiscom"),
    "BUYER_DISCOM_STATUS": (REPORT, "units", "STRING", "buyerDiscom"),
    "SELLER_DISCOM_ALLOC": (REPORT, "units", "KWH", "sellerDiscom"),
    "SELLER_DISCOM_STATUS": (REPORT, "units", "STRING", "sellerDiscom"),
    "FINAL_ALLOC": (REPORT, "units", "KWH", "sellerDiscom"),
    "SELLER_DISCOM_CURTAILED": (REPORT, "units", "KWH", "sellerDiscom"),
    "SELLER_DISCOM_CURTAIL_REASON": (REPORT, "units", "STRING", "sellerDiscom"),
    "BUYER_DISCOM_CURTAILED": (REPORT, "units", "KWH", "buyerDiscom"),
    "BUYER_DISCOM_CURTAIL_REASON": (REPORT, "units", "STRING", "buyerDiscom"),
    "ENERGY_CONSUMPTION": (REPORT, "units", "KWH", "discom"),
}
ENERGY_TYPES = frozenset(
    {
        "AVAILABLE_QTY",
        "REQUESTED_QTY",
        "BUYER_DISCOM_ALLOC",
        "SELLER_DISCOM_ALLOC",
        "FINAL_ALLOC",
        "ENERGY_CONSUMPTION",
        "SELLER_DISCOM_CURTAILED",
        "BUYER_DISCOM_CURTAILED",
    }
)
#: payload types whose values are text (statuses, and the breach that forced a curtailment)
STATUS_TYPES = frozenset(
    {
        "BUYER_DISCOM_STATUS",
        "SELLER_DISCOM_STATUS",
        "SELLER_DISCOM_CURTAIL_REASON",
        "BUYER_DISCOM_CURTAIL_REASON",
    }
)

Column = Mapping[Block, int | str]
"""One payload type's values by block start: Wh, paise per kWh, or a status string."""

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_KWH_QUANTUM = Decimal("0.001")


# -- units --------------------------------------------------------------------------------------------
def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise SchemaValidationFailed(f"{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SchemaValidationFailed(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise SchemaValidationFailed(f"{what} must be finite")
    return number


def wh_of(kwh: Any, what: str = "quantity") -> int:
    """kWh on the wire → integer Wh (half-even at the Wh, which no real series reaches)."""
    return int((_decimal(kwh, what) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def kwh_of(wh: int) -> float:
    """Integer Wh → the kWh number we write (three decimals, exact in shortest float repr)."""
    return float((Decimal(wh) / 1000).quantize(_KWH_QUANTUM))


def paise_of(inr_per_kwh: Any, what: str = "price") -> int:
    """INR per kWh on the wire → integer paise per kWh."""
    return int((_decimal(inr_per_kwh, what) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def price_of(paise_per_kwh: int) -> float:
    """Integer paise per kWh → INR per kWh as written on the wire."""
    return float(Decimal(paise_per_kwh) / 100)


# -- time ---------------------------------------------------------------------------------------------
def parse_time(value: Any, what: str = "time") -> datetime:
    if not isinstance(value, str):
        raise SchemaValidationFailed(f"{what} must be an RFC 3339 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SchemaValidationFailed(f"{what} {value!r} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise SchemaValidationFailed(f"{what} {value!r} has no time zone")
    return parsed.astimezone(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def block_floor(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def _duration(value: Any) -> timedelta:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise SchemaValidationFailed(f"intervalPeriod.duration {value!r} is not an ISO 8601 PTnHnM duration")
    hours, minutes = (int(g) if g else 0 for g in match.groups())
    step = timedelta(hours=hours, minutes=minutes)
    if step < BLOCK or step % BLOCK:
        raise SchemaValidationFailed(f"interval duration {value} is not a whole number of 15-minute blocks")
    if step > timedelta(hours=24):
        raise SchemaValidationFailed(f"interval duration {value} is longer than a day")
    return step


# -- building -----------------------------------------------------------------------------------------
def _wire_value(kind: str, value: int | str) -> float | str:
    if kind in STATUS_TYPES:
        return str(value)
    if kind == "PRICE_PER_KWH":
        return price_of(int(value))
    return kwh_of(int(value))


def _wire_total(kind: str, value: int | str, blocks: int) -> float | str:
    """The wire value of an interval spanning `blocks` equal blocks: energy adds up, the rest is shared."""
    if kind in STATUS_TYPES or kind == "PRICE_PER_KWH":
        return _wire_value(kind, value)
    return kwh_of(int(value) * blocks)


def build_series(columns: Mapping[str, Column], *, with_context: bool = True) -> dict[str, Any]:
    """A BecknTimeSeries of 15-minute blocks holding the given columns (payload type → values by block).

    Interval ids count blocks from the earliest block present. Consecutive blocks whose values are all
    equal travel as one interval with its own `intervalPeriod` (e.g. PT1H when a seller offers the same
    Wh each quarter of an hour): readers split it back exactly, and a day of offers is a few dozen
    intervals instead of 96. A block missing from one column has no payload of that type.
    """
    blocks = sorted({b for col in columns.values() for b in col})
    if not blocks:
        raise SchemaValidationFailed("a time series needs at least one interval")
    start = blocks[0]
    descriptors = []
    for kind in columns:
        object_type, unit_key, unit, by = DESCRIPTORS[kind]
        descriptors.append({"objectType": object_type, "payloadType": kind, unit_key: unit, "insertedBy": by})
    runs: list[list[Block]] = []
    for block in blocks:
        row = tuple((kind, col.get(block)) for kind, col in columns.items())
        if (
            runs
            and runs[-1][-1] == block - 1
            and row == tuple((k, c.get(runs[-1][0])) for k, c in columns.items())
        ):
            runs[-1].append(block)
        else:
            runs.append([block])
    intervals = []
    for run in runs:
        first, n = run[0], len(run)
        payloads = [
            {"type": kind, "values": [_wire_total(kind, col[first], n)]}
            for kind, col in columns.items()
            if first in col
        ]
        interval: dict[str, Any] = {"id": first - start, "payloads": payloads}
        if n > 1:
            interval["intervalPeriod"] = {"start": iso(block_start(first)), "duration": f"PT{15 * n}M"}
        intervals.append(interval)
    series: dict[str, Any] = {
        "@type": "TimeSeries",
        "intervalPeriod": {"start": iso(block_start(start)), "duration": "PT15M"},
        "payloadDescriptors": descriptors,
        "intervals": intervals,
    }
    if with_context:
        series = {"@context": SERIES_CONTEXT, **series}
    return series


# -- reading ------------------------------------------------------------------------------------------
def _split(total: int, parts: int) -> list[int]:
    """`split_evenly` that keeps the sign (metered export arrives as negative consumption)."""
    sign = -1 if total < 0 else 1
    base, extra = divmod(abs(total), parts)
    return [sign * (base + (1 if i < extra else 0)) for i in range(parts)]


def read_series(series: Any, *, types: Iterable[str] | None = None) -> dict[str, dict[Block, int | str]]:
    """The columns of a BecknTimeSeries, by payload type, as values per 15-minute block.

    Raises SchemaValidationFailed (with the JSON path) for a malformed series, an undeclared payload type,
    a declared type that never occurs (the EnergyTradeOffer consistency rule), or a repeated interval id.
    """
    if not isinstance(series, dict):
        raise SchemaValidationFailed("the time series is not an object")
    period = series.get("intervalPeriod")
    if not isinstance(period, dict):
        raise SchemaValidationFailed(
            "the time series has no intervalPeriod", details={"path": "intervalPeriod"}
        )
    start = parse_time(period.get("start"), "intervalPeriod.start")
    step = _duration(period.get("duration"))
    declared: set[str] = {
        str(d["payloadType"])
        for d in series.get("payloadDescriptors") or []
        if isinstance(d, dict) and isinstance(d.get("payloadType"), str)
    }
    wanted = set(types) if types is not None else None
    out: dict[str, dict[Block, int | str]] = {}
    seen_ids: set[int] = set()
    used: set[str] = set()
    intervals = series.get("intervals")
    if not isinstance(intervals, list) or not intervals:
        raise SchemaValidationFailed("the time series has no intervals", details={"path": "intervals"})
    for i, interval in enumerate(intervals):
        if not isinstance(interval, dict) or isinstance(interval.get("id"), bool):
            raise SchemaValidationFailed(f"intervals[{i}] is malformed", details={"path": f"intervals[{i}]"})
        interval_id = interval.get("id")
        if not isinstance(interval_id, int) or interval_id < 0 or interval_id in seen_ids:
            raise SchemaValidationFailed(
                f"intervals[{i}].id {interval_id!r} is not a new non-negative integer",
                details={"path": f"intervals[{i}].id"},
            )
        seen_ids.add(interval_id)
        own = interval.get("intervalPeriod")
        first = (
            parse_time(own["start"], f"intervals[{i}].intervalPeriod.start")
            if isinstance(own, dict) and own.get("start")
            else start + interval_id * step
        )
        if first != block_floor(first):
            raise SchemaValidationFailed(f"intervals[{i}] does not start on a 15-minute boundary")
        own_step = _duration(own["duration"]) if isinstance(own, dict) and own.get("duration") else step
        count = int(own_step / BLOCK)
        for j, payload in enumerate(interval.get("payloads") or []):
            where = f"intervals[{i}].payloads[{j}]"
            kind = payload.get("type") if isinstance(payload, dict) else None
            values = payload.get("values") if isinstance(payload, dict) else None
            if not isinstance(kind, str) or not isinstance(values, list):
                raise SchemaValidationFailed(f"{where} needs a type and values[]", details={"path": where})
            if kind not in declared:
                raise SchemaValidationFailed(
                    f"{where}: payload type {kind} is not declared in payloadDescriptors",
                    details={"path": where, "rule": "P2P_SERIES_TYPE_UNDECLARED"},
                )
            used.add(kind)
            if wanted is not None and kind not in wanted:
                continue
            if not values:
                continue  # a requested-but-empty value (DISCOM pull requests carry these)
            column = out.setdefault(kind, {})
            value = values[0]
            blocks = [block_at(first) + k for k in range(count)]
            if kind in STATUS_TYPES:
                for b in blocks:
                    column[b] = str(value)
            elif kind == "PRICE_PER_KWH":
                price = paise_of(value, f"{where}.values[0]")
                for b in blocks:
                    column[b] = price
            else:
                for b, part in zip(blocks, _split(wh_of(value, f"{where}.values[0]"), count), strict=True):
                    column[b] = part
    unused = declared - used
    if unused and types is None:
        raise SchemaValidationFailed(
            f"payload types declared but never used: {', '.join(sorted(unused))}",
            details={"rule": "P2P_SERIES_TYPE_UNUSED"},
        )
    return out
