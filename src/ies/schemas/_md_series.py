"""Time-series MeterData rules for INTERVAL and DAILY profiles (compact and elaborated forms).

Why: settlement needs each interval exactly once, in order, on the declared grid, and cumulative registers
that only move forward. These rules need neighbouring intervals, so they live apart from the per-value
rules in `_md_values` (which they call for every cell).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ies.schemas import rule_ids as R
from ies.schemas._md_context import JsonPath, MeterDataContext, meter_ids, parse_duration, parse_instant
from ies.schemas._md_values import (
    VALIDATION_STATUSES,
    check_plausible,
    check_quality,
    check_reading,
    is_declared_reset,
    resolve_for_profile,
)
from ies.schemas.codes import ReadingType


@dataclass
class Column:
    """One resolved column of a compact sequence."""

    entry: ReadingType | None
    attribute: str
    mode: str
    multiplier: float


#: Indian Standard Time: settlement days and blocks are counted from IST midnight.
IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")


def _aligned(start: dt.datetime, step: dt.timedelta) -> bool:
    """True when `start` sits on the grid of `step` counted from midnight, in the offset it is written in or
    in IST (so IST midnight written as 18:30Z still starts a P1D day; blocks fall on :00, :15, :30, :45)."""
    seconds = step.total_seconds()
    if seconds <= 0 or 86400 % seconds:
        return True  # no calendar grid for this step (e.g. PT7M): nothing to align to

    def since_midnight(t: dt.datetime) -> float:
        return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6

    return since_midnight(start) % seconds == 0 or since_midnight(start.astimezone(IST)) % seconds == 0


def _columns(ctx: MeterDataContext, profile: dict[str, Any], p_idx: int, p_type: str) -> list[Column] | None:
    ds_ref = profile.get("payloadDescriptorSetRef")
    ds = ctx.descriptor_sets.get(ds_ref) if isinstance(ds_ref, str) else None
    if ds is None:
        return None
    seq_ref = profile.get("compactSequenceRef")
    seq = next(
        (s for s in ds.get("compactSequences", []) or [] if isinstance(s, dict) and s.get("name") == seq_ref),
        None,
    )
    if seq is None:
        ctx.add(
            (p_idx, "compactSequenceRef"),
            R.MD_SEQUENCE_REF_UNKNOWN,
            f"no compact sequence {seq_ref!r} in {ds_ref!r}",
        )
        return None
    columns: list[Column] = []
    for i, item in enumerate(seq.get("sequenceItems", []) or []):
        where: JsonPath = (p_idx, "compactSequenceRef")
        rt = item.get("readingType") if isinstance(item, dict) else None
        entry = resolve_for_profile(ctx, rt, p_type, where)
        declared = ctx.declared(ds_ref, entry) if entry else None
        if entry is not None and declared is None:
            ctx.add(where, R.MD_READING_UNDECLARED, f"sequence item {i} {rt!r} is not declared in {ds_ref!r}")
        attribute = item.get("attribute", "value") if isinstance(item, dict) else "value"
        mode = declared.reported_mode if declared else (entry.default_mode if entry else "READING")
        columns.append(Column(entry, attribute, mode, declared.multiplier if declared else 1.0))
    return columns


def _cell_type_ok(attribute: str, cell: object) -> bool:
    if attribute in ("value", "openingValue", "closingValue"):
        return isinstance(cell, int | float) and not isinstance(cell, bool)
    if attribute in ("occurredAt", "validationStatus"):
        return isinstance(cell, str)
    return True


def check_series(ctx: MeterDataContext, profile: dict[str, Any], p_idx: int, p_type: str) -> None:
    """Order, uniqueness, alignment, arity, cell types, cumulative monotonicity and plausibility."""
    period = profile.get("intervalPeriod") or {}
    start = parse_instant(period.get("start"))
    step = parse_duration(period.get("duration"))
    if start is not None and step is not None and not _aligned(start, step):
        ctx.add(
            (p_idx, "intervalPeriod", "start"),
            R.MD_INTERVAL_MISALIGNED,
            f"start {period.get('start')} is not on the {period.get('duration')} grid",
        )
    sanctioned = ctx.sanctioned_for(meter_ids(profile))
    ds_ref = profile.get("payloadDescriptorSetRef")
    ds_ref = ds_ref if isinstance(ds_ref, str) else None
    columns = _columns(ctx, profile, p_idx, p_type) if profile.get("compactSequenceRef") else None

    seen_ids: set[int] = set()
    seen_starts: set[dt.datetime] = set()
    last_id: int | None = None
    last_start: dt.datetime | None = None
    last_cumulative: dict[object, float] = {}
    for i, interval in enumerate(profile.get("intervals", []) or []):
        if not isinstance(interval, dict):
            continue
        here: JsonPath = (p_idx, "intervals", i)
        int_id = interval.get("id")
        if isinstance(int_id, int):
            if int_id in seen_ids:
                ctx.add((*here, "id"), R.MD_INTERVAL_DUPLICATE, f"interval id {int_id} appears twice")
            elif last_id is not None and int_id < last_id:
                ctx.add((*here, "id"), R.MD_INTERVAL_ID_ORDER, f"interval id {int_id} follows {last_id}")
            seen_ids.add(int_id)
            last_id = int_id if last_id is None else max(last_id, int_id)
        own = parse_instant((interval.get("intervalPeriod") or {}).get("start"))
        if own is not None:
            if own in seen_starts:
                ctx.add(
                    (*here, "intervalPeriod", "start"),
                    R.MD_INTERVAL_DUPLICATE,
                    f"interval starting {own.isoformat()} appears twice",
                )
            elif last_start is not None and own < last_start:
                ctx.add(
                    (*here, "intervalPeriod", "start"),
                    R.MD_TIMESTAMP_ORDER,
                    f"interval start {own.isoformat()} is before {last_start.isoformat()}",
                )
            elif start is not None and step is not None and step.total_seconds() > 0 and (own - start) % step:
                ctx.add(
                    (*here, "intervalPeriod", "start"),
                    R.MD_INTERVAL_MISALIGNED,
                    f"interval start {own.isoformat()} is off the declared grid",
                )
            seen_starts.add(own)
            last_start = own if last_start is None else max(last_start, own)
        duration = parse_duration((interval.get("intervalPeriod") or {}).get("duration")) or step

        if columns is not None and "payloads" in interval:
            _check_row(ctx, interval, here, columns, duration, sanctioned, last_cumulative)
        for r_idx, reading in enumerate(interval.get("readings", []) or []):
            if not isinstance(reading, dict):
                continue
            r_path = (*here, "readings", r_idx)
            resolved = check_reading(
                ctx, reading, r_path, p_type, ds_ref, duration=duration, sanctioned=sanctioned
            )
            value = reading.get("value")
            if resolved and isinstance(value, int | float):
                entry, declared = resolved
                mode = declared.reported_mode if declared else entry.default_mode
                if entry.cumulative and mode == "READING":
                    _monotonic(ctx, (*r_path, "value"), ("r", entry.obis), value, reading, last_cumulative)

    _report_gaps(ctx, p_idx, seen_ids)


def _report_gaps(ctx: MeterDataContext, p_idx: int, seen_ids: set[int]) -> None:
    """Interval ids that should be there between the first and the last one (a warning: VEE fills them)."""
    if not seen_ids:
        return
    missing = sorted(set(range(min(seen_ids), max(seen_ids) + 1)) - seen_ids)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (" …" if len(missing) > 10 else "")
        ctx.add(
            (p_idx, "intervals"),
            R.MD_INTERVAL_MISSING,
            f"{len(missing)} interval(s) missing: ids {shown}",
            "warning",
        )


def _monotonic(
    ctx: MeterDataContext,
    path: JsonPath,
    key: object,
    value: float,
    flags: dict[str, Any] | None,
    last: dict[object, float],
) -> None:
    if value < 0:
        ctx.add(path, R.MD_CUMULATIVE_NEGATIVE, f"cumulative register reads negative ({value})")
        return
    previous = last.get(key)
    if previous is not None and value < previous and not is_declared_reset(flags):
        ctx.add(path, R.MD_CUMULATIVE_DECREASE, f"cumulative register decreased from {previous} to {value}")
    last[key] = value


def _check_row(
    ctx: MeterDataContext,
    interval: dict[str, Any],
    here: JsonPath,
    columns: list[Column],
    duration: dt.timedelta | None,
    sanctioned: tuple[float, float | None] | None,
    last_cumulative: dict[object, float],
) -> None:
    payloads = interval.get("payloads") or []
    if len(payloads) != len(columns):
        ctx.add(
            (*here, "payloads"),
            R.MD_SEQUENCE_ARITY,
            f"{len(payloads)} values for a sequence of {len(columns)}",
        )
        return
    overrides: dict[int, dict[str, Any]] = {}
    for o_idx, override in enumerate(interval.get("overrides", []) or []):
        if not isinstance(override, dict):
            continue
        index = override.get("descriptorIndex")
        if not isinstance(index, int) or index >= len(columns):
            ctx.add(
                (*here, "overrides", o_idx, "descriptorIndex"),
                R.MD_QUALITY_FLAG_INVALID,
                f"override points at column {index} of {len(columns)}",
            )
            continue
        overrides[index] = override
        check_quality(ctx, (*here, "overrides", o_idx), override)
    for col_idx, (cell, column) in enumerate(zip(payloads, columns, strict=True)):
        cell_path = (*here, "payloads", col_idx)
        if not _cell_type_ok(column.attribute, cell):
            ctx.add(
                cell_path,
                R.MD_CELL_TYPE,
                f"{type(cell).__name__} is not valid for attribute {column.attribute!r}",
            )
            continue
        if column.attribute == "validationStatus" and cell not in VALIDATION_STATUSES:
            ctx.add(
                cell_path,
                R.MD_QUALITY_FLAG_INVALID,
                f"validationStatus {cell!r} is not one of {sorted(VALIDATION_STATUSES)}",
            )
        if column.entry is None or column.attribute != "value" or not isinstance(cell, int | float):
            continue
        if column.entry.cumulative and column.mode == "READING":
            _monotonic(ctx, cell_path, col_idx, cell, overrides.get(col_idx), last_cumulative)
        else:
            usage = column.mode == "USAGE"
            check_plausible(
                ctx,
                cell_path,
                column.entry,
                cell * column.multiplier,
                usage=usage,
                duration=duration,
                sanctioned=sanctioned,
            )
