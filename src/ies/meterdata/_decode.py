"""Turn one telemetry profile (INTERVAL or DAILY) into numpy columns.

Why: every numeric check of the bulk validator runs on arrays, so the compact rows are converted once. The
fast path hands the list of payload lists straight to numpy (one C call per profile); rows that carry
overrides, per-row periods, elaborated `readings` or non-numeric cells take a slower per-row path that still
produces the same arrays, so both forms get identical checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from ies.meterdata._layout import Issue, Layout
from ies.schemas import rule_ids as R

__all__ = ["Block", "decode_block", "parse_duration", "parse_instant"]

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_ID = itemgetter("id")
_PAYLOADS = itemgetter("payloads")
_VALIDATION_STATUSES = frozenset({"VALID", "ESTIMATED", "MANUAL", "SUSPECT", "REJECTED"})
#: `changeMethod` values that declare a register reset or meter change (same list as `ies.schemas`).
RESET_METHODS = frozenset(
    {"reset", "register-reset", "meter-reset", "meter-change", "meter-replacement", "rollover"}
)
_SUBSTITUTED = frozenset({"ESTIMATED", "MANUAL"})
_SOURCES = frozenset({"METER", "HES", "ESTIMATED", "MANUAL", "IMPORT", "MDM_COMPUTED", "CIS_COMPUTED"})


def parse_duration(text: object) -> timedelta | None:
    """A fixed-length ISO 8601 duration (weeks, days, hours, minutes, seconds); None for P1M, P1Y or junk."""
    if not isinstance(text, str):
        return None
    match = _DURATION.match(text)
    if not match or text in ("P", "PT"):
        return None
    weeks, days, hours, minutes, seconds = match.groups()
    delta = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return delta if delta > timedelta(0) else None


def parse_instant(text: object) -> datetime | None:
    """An RFC 3339 date-time with an offset, else None (naive times are not instants)."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


@dataclass
class Block:
    """One meter's telemetry profile as arrays.

    `values[:, k]` is payload column k (NaN where a cell is missing or non-numeric); `ids` the interval ids
    in file order. `issues` are row-level problems found while decoding (cell types, arity, quality flags)
    with the row position each one belongs to.
    """

    element: int
    meter: str
    profile_type: str
    start: datetime | None
    step: timedelta | None
    layout: Layout
    ids: np.ndarray
    values: np.ndarray
    row_issues: list[tuple[int, Issue]] = field(default_factory=list)
    statuses: dict[tuple[int, int], str] = field(default_factory=dict)
    #: rows whose override declares a register reset or meter change
    resets: set[int] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return len(self.ids)


def decode_block(element: int, meter: str, profile: dict[str, Any], layout: Layout, raw: bytes) -> Block:
    """Arrays for a telemetry profile whose layout is already resolved."""
    period = profile.get("intervalPeriod") or {}
    start = parse_instant(period.get("start"))
    step = parse_duration(period.get("duration"))
    rows = profile.get("intervals") or []
    arity = layout.arity
    block = Block(
        element, meter, str(profile.get("profileType")), start, step, layout, np.empty(0), np.empty(0)
    )
    if not isinstance(rows, list):
        rows = []
    if _fast_path_possible(rows, raw, layout) and _fast_decode(block, rows, arity):
        return block
    _slow_decode(block, rows, arity)
    return block


def _fast_decode(block: Block, rows: list[Any], arity: int) -> bool:
    """Plain compact rows in a few C-level passes; False when anything is unusual (then the slow path runs).

    The payload lists are flattened and handed to numpy without a dtype: a string cell makes the result a
    string array (rejected here) instead of being silently converted as `float("1.5")` would, and a null
    makes it an object array.
    """
    try:
        if set(map(len, rows)) != {2}:
            return False
        ids = np.fromiter(map(_ID, rows), dtype=np.int64, count=len(rows))
        payloads = list(map(_PAYLOADS, rows))
    except (KeyError, TypeError, ValueError):
        return False
    if set(map(len, payloads)) != {arity}:
        return False
    flat = np.array(list(chain.from_iterable(payloads)))
    if flat.dtype.kind not in "if" or flat.size != len(rows) * arity:
        return False
    block.ids = ids
    block.values = flat.astype(np.float64, copy=False).reshape(len(rows), arity)
    return True


def _fast_path_possible(rows: list[Any], raw: bytes, layout: Layout) -> bool:
    """Only plain numeric compact rows go straight to numpy.

    A byte search rules out booleans (numpy would read true as 1.0); it may give a false alarm (a string
    containing "true" elsewhere in the profile), which merely routes the profile to the slow path. Rows with
    optional members (overrides, readings, an own intervalPeriod) are caught by their key count.
    """
    if not rows or not layout.all_numeric or layout.arity == 0:
        return False
    return b"true" not in raw and b"false" not in raw


def _slow_decode(block: Block, rows: list[Any], arity: int) -> None:
    columns = block.layout.columns
    ids = block.ids = np.full(len(rows), -1, dtype=np.int64)
    values = block.values = np.full((len(rows), arity), np.nan, dtype=np.float64)
    issues = block.row_issues
    for position, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("id"), int) or isinstance(row.get("id"), bool):
            issues.append((position, Issue("schema.required", "interval without an integer id", "")))
            continue
        ids[position] = row["id"]
        if "intervalPeriod" in row:
            _check_row_period(block, position, row["id"], row["intervalPeriod"])
        payloads = row.get("payloads")
        if isinstance(payloads, list):
            if len(payloads) != arity:
                issues.append(
                    (
                        position,
                        Issue(R.MD_SEQUENCE_ARITY, f"{len(payloads)} payloads for a sequence of {arity}"),
                    )
                )
            for k, cell in enumerate(payloads[:arity]):
                column = columns[k]
                if column.numeric:
                    if isinstance(cell, int | float) and not isinstance(cell, bool):
                        values[position, k] = cell
                    else:
                        issues.append((position, _cell_issue(k, cell, "a number")))
                elif column.attribute == "validationStatus":
                    _check_status(block, position, k, cell)
                elif column.attribute == "occurredAt" and parse_instant(cell) is None:
                    issues.append((position, _cell_issue(k, cell, "a date-time")))
        elif isinstance(row.get("readings"), list):
            _decode_readings(block, position, row["readings"], values)
        for override in row.get("overrides") or []:
            _check_override(block, position, override, arity)


def _check_row_period(block: Block, position: int, row_id: int, period: Any) -> None:
    """A row's own start must be the profile start plus id × duration (the declared grid)."""
    own = parse_instant(period.get("start")) if isinstance(period, dict) else None
    if own is None or block.start is None or block.step is None:
        return
    expected = block.start + row_id * block.step
    if own != expected:
        block.row_issues.append(
            (
                position,
                Issue(
                    R.MD_INTERVAL_MISALIGNED,
                    f"interval {row_id} starts {own.isoformat()}, the grid says {expected.isoformat()}",
                    "/intervalPeriod/start",
                ),
            )
        )


def _normal(method: str) -> str:
    return method.strip().lower().replace("_", "-").replace(" ", "-")


def _cell_issue(k: int, cell: object, expected: str) -> Issue:
    return Issue(R.MD_CELL_TYPE, f"payload {k} is {cell!r}, expected {expected}", f"/payloads/{k}")


def _check_status(block: Block, position: int, k: int, cell: object) -> None:
    if cell in _VALIDATION_STATUSES:
        block.statuses[(position, k)] = str(cell)
    else:
        block.row_issues.append(
            (position, Issue(R.MD_QUALITY_FLAG_INVALID, f"validationStatus {cell!r} is not a quality flag"))
        )


def _decode_readings(block: Block, position: int, readings: list[Any], values: np.ndarray) -> None:
    """Elaborated rows: map each Reading's numeric attributes onto the layout's columns."""
    index = {(c.reading_type, c.attribute): k for k, c in enumerate(block.layout.columns)}
    for reading in readings:
        if not isinstance(reading, dict):
            continue
        reading_type = reading.get("readingType")
        for attribute in ("value", "openingValue", "closingValue"):
            k = index.get((str(reading_type), attribute))
            cell = reading.get(attribute)
            if k is not None and isinstance(cell, int | float) and not isinstance(cell, bool):
                values[position, k] = cell
        status = reading.get("validationStatus")
        if status is not None and status not in _VALIDATION_STATUSES:
            block.row_issues.append(
                (
                    position,
                    Issue(R.MD_QUALITY_FLAG_INVALID, f"validationStatus {status!r} is not a quality flag"),
                )
            )


def _check_override(block: Block, position: int, override: Any, arity: int) -> None:
    """Quality flags on a cell: a known status and source, a real column, and an estimate says how."""
    problem: str | None = None
    if not isinstance(override, dict):
        problem = "override is not an object"
    else:
        index = override.get("descriptorIndex")
        status = override.get("validationStatus")
        source = override.get("source")
        if not isinstance(index, int) or not 0 <= index < arity:
            problem = f"descriptorIndex {index!r} names no payload column (arity {arity})"
        elif status is not None and status not in _VALIDATION_STATUSES:
            problem = f"validationStatus {status!r} is not a quality flag"
        elif source is not None and source not in _SOURCES:
            problem = f"source {source!r} is not a reading source"
        elif status in _SUBSTITUTED and not override.get("changeMethod"):
            problem = f"a {status} cell must name its changeMethod"
        elif source == "ESTIMATED" and status != "ESTIMATED":
            problem = f"source ESTIMATED but validationStatus {status}"
        else:
            if status is not None:
                block.statuses[(position, index)] = str(status)
            method = override.get("changeMethod")
            if isinstance(method, str) and _normal(method) in RESET_METHODS:
                block.resets.add(position)
    if problem is not None:
        block.row_issues.append((position, Issue(R.MD_QUALITY_FLAG_INVALID, problem, "/overrides")))
