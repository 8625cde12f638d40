"""Interval energy must add up to the daily usage of the same quantity: Σ block energy over a day = the
day's usage of the cumulative register.

Why: a settlement that bills from 15-minute blocks and a bill that reads the register must agree; when
they do not, one of the two series is wrong. Registers are paired from registry data alone: a DELTA
(block) register and a CUMULATIVE register measuring the same OBIS quantity (same A-B-C fields, same unit
and flow direction). A day is checked only when its blocks cover it completely.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._md_context import JsonPath, MeterDataContext, meter_ids, parse_duration, parse_instant
from ies.schemas.codes import ReadingType

#: Allowed disagreement: rounding of each block (half a Wh at three decimals of kWh) plus the 1 % that a
#: class 1.0 meter may err between its two registers (IS 13779 / IS 16444 accuracy classes 0.5–1.0).
ROUNDING_PER_BLOCK = 0.0005
RELATIVE_TOLERANCE = 0.01

Quantity = tuple[str, str, str, str]  # meter, OBIS A-B-C, unit, flow direction


@dataclass(frozen=True)
class _Block:
    start: dt.datetime
    end: dt.datetime
    value: float


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def quantity(meter: str, entry: ReadingType) -> Quantity:
    return meter, ".".join(entry.obis.split(".")[:3]), entry.unit, entry.flow_direction or ""


def _blocks_of(ctx: MeterDataContext, profile: dict[str, Any], meter: str) -> dict[Quantity, list[_Block]]:
    """Block (DELTA, USAGE) energy of one INTERVAL profile, per quantity, with each block's span."""
    out: dict[Quantity, list[_Block]] = defaultdict(list)
    period = _mapping(profile.get("intervalPeriod"))
    start, step = parse_instant(period.get("start")), parse_duration(period.get("duration"))
    ds = ctx.descriptor_sets.get(profile.get("payloadDescriptorSetRef") or "")
    if start is None or step is None or ds is None:
        return out
    seq_ref = profile.get("compactSequenceRef")
    sequences = [s for s in ds.get("compactSequences", []) or [] if isinstance(s, dict)]
    seq = next((s for s in sequences if s.get("name") == seq_ref), None) if seq_ref else None
    columns = [
        item.get("readingType")
        for item in (seq or {}).get("sequenceItems", []) or []
        if isinstance(item, dict)
    ]
    for interval in profile.get("intervals", []) or []:
        if not isinstance(interval, dict) or not isinstance(interval.get("id"), int):
            continue
        own = parse_instant((interval.get("intervalPeriod") or {}).get("start"))
        begin = own or start + interval["id"] * step
        cells: list[tuple[object, object]] = list(zip(columns, interval.get("payloads") or [], strict=False))
        cells += [
            (r.get("readingType"), r.get("value"))
            for r in interval.get("readings", []) or []
            if isinstance(r, dict)
        ]
        for reading_type, value in cells:
            entry = ctx.registry.resolve(reading_type)
            declared = ctx.declared(ds.get("name"), entry) if entry else None
            if entry is None or declared is None or entry.accumulation != "DELTA":
                continue
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and declared.reported_mode == "USAGE"
            ):
                out[quantity(meter, entry)].append(_Block(begin, begin + step, value * declared.multiplier))
    return out


def _days_of(
    ctx: MeterDataContext, profile: dict[str, Any], p_idx: int, meter: str
) -> list[tuple[Quantity, _Block, JsonPath]]:
    """Daily usage of cumulative registers (compact DAILY profile, USAGE mode), with the cell's path."""
    period = _mapping(profile.get("intervalPeriod"))
    start, step = parse_instant(period.get("start")), parse_duration(period.get("duration"))
    ds = ctx.descriptor_sets.get(profile.get("payloadDescriptorSetRef") or "")
    if start is None or step is None or ds is None:
        return []
    sequences = [s for s in ds.get("compactSequences", []) or [] if isinstance(s, dict)]
    seq = next((s for s in sequences if s.get("name") == profile.get("compactSequenceRef")), None)
    items = [i for i in (seq or {}).get("sequenceItems", []) or [] if isinstance(i, dict)]
    out: list[tuple[Quantity, _Block, JsonPath]] = []
    for i, interval in enumerate(profile.get("intervals", []) or []):
        if not isinstance(interval, dict) or not isinstance(interval.get("id"), int):
            continue
        begin = start + interval["id"] * step
        for col, (item, value) in enumerate(zip(items, interval.get("payloads") or [], strict=False)):
            entry = ctx.registry.resolve(item.get("readingType"))
            declared = ctx.declared(ds.get("name"), entry) if entry else None
            if entry is None or declared is None or not entry.cumulative or declared.reported_mode != "USAGE":
                continue
            if item.get("attribute", "value") == "value" and isinstance(value, int | float):
                block = _Block(begin, begin + step, value * declared.multiplier)
                out.append((quantity(meter, entry), block, (p_idx, "intervals", i, "payloads", col)))
    return out


def check_reconciliation(ctx: MeterDataContext, profiles: list[Any]) -> None:
    blocks: dict[Quantity, list[_Block]] = defaultdict(list)
    days: list[tuple[Quantity, _Block, JsonPath]] = []
    for p_idx, profile in enumerate(profiles):
        if not isinstance(profile, dict) or len(ids := meter_ids(profile)) != 1:
            continue
        if profile.get("profileType") == "INTERVAL":
            for key, found in _blocks_of(ctx, profile, ids[0]).items():
                blocks[key] += found
        elif profile.get("profileType") == "DAILY":
            days += _days_of(ctx, profile, p_idx, ids[0])
    for key, day, path in days:
        inside = sorted(
            (b for b in blocks.get(key, []) if day.start <= b.start and b.end <= day.end),
            key=lambda b: b.start,
        )
        covered = sum(((b.end - b.start) for b in inside), dt.timedelta())
        contiguous = all(a.end == b.start for a, b in itertools.pairwise(inside))
        if not inside or covered != day.end - day.start or not contiguous:
            continue
        total = sum(b.value for b in inside)
        if abs(total - day.value) > ROUNDING_PER_BLOCK * len(inside) + RELATIVE_TOLERANCE * abs(day.value):
            ctx.add(
                path,
                R.MD_INTERVAL_DAILY_MISMATCH,
                f"daily usage {day.value:g} but the {len(inside)} interval blocks of that day "
                f"sum to {total:g}",
            )
