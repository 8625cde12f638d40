"""Vectorised settlement-grade checks over a batch of decoded telemetry blocks.

Why batches: a bulk file holds thousands of short per-meter series; checking them one by one would spend
more time in numpy call overhead than in arithmetic. The rows of many blocks are concatenated with a segment
id, so each rule is a handful of array operations over ~1 M rows, whatever the number of meters.

Order matters and mirrors how a meter data management system treats a read: rows whose interval id is a
duplicate or out of order are rejected first, and only the accepted rows feed the value rules (so one
duplicated row is reported once, not also as a register decrease). Rule ids are the project-wide ones of
`ies.schemas.rule_ids`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ies.meterdata._decode import Block
from ies.meterdata._layout import ReadingGroup
from ies.schemas import rule_ids as R

__all__ = ["MD_INTERVAL_MISSING", "BatchResult", "Limits", "RawFinding", "check_batch"]

#: Missing intervals are not a schema or semantic fault of a document, but settlement needs complete series;
#: they are reported as warnings and are what VEE estimates.
MD_INTERVAL_MISSING: str = R.MD_INTERVAL_MISSING
#: Absolute tolerance when comparing energies (upstream validator uses 1e-5), plus a relative part for
#: large register values stored as binary floats.
ABS_TOLERANCE = 1e-5
REL_TOLERANCE = 1e-9
#: Interval energy above sanctioned load × interval length × this factor is physically implausible. Same
#: multiple as the document validator (`ies.schemas`) and the P2P rule "traded power ≤ 500 % of sanctioned
#: load" (docs decisions), so both validators give one verdict.
LOAD_FACTOR = 5.0

_ID_SPAN = 1 << 33


@dataclass(frozen=True)
class RawFinding:
    """A finding before it is attributed to a meter: block index in the batch, row position, rule."""

    block: int
    row: int | None
    interval_id: int | None
    rule: str
    message: str
    path: str
    severity: str = "error"


@dataclass
class BatchResult:
    findings: list[RawFinding] = field(default_factory=list)
    #: per block: rows kept for the value rules (not duplicate, not out of order, id present)
    accepted: list[np.ndarray] = field(default_factory=list)
    #: per block: (rows × groups) readings rejected by a value rule
    rejected: list[np.ndarray] = field(default_factory=list)
    #: per block: missing interval ids
    missing: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """Plausibility limits of a meter in kW: import (sanctioned load) and export."""

    import_kw: float | None
    export_kw: float | None


def check_batch(blocks: Sequence[Block], limits: Sequence[Limits]) -> BatchResult:
    """Run every row and value rule over the blocks; findings come out in block order."""
    result = BatchResult()
    if not blocks:
        return result
    sizes = np.fromiter((b.rows for b in blocks), dtype=np.int64, count=len(blocks))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    ids = np.concatenate([b.ids for b in blocks]) if sizes.sum() else np.empty(0, dtype=np.int64)
    seg = np.repeat(np.arange(len(blocks), dtype=np.int64), sizes)
    accepted = _row_order(blocks, ids, seg, starts, result)
    for index, block in enumerate(blocks):
        lo, hi = starts[index], starts[index] + sizes[index]
        result.accepted.append(accepted[lo:hi])
        result.rejected.append(np.zeros((block.rows, len(block.layout.groups)), dtype=bool))
        for position, issue in block.row_issues:
            row_id = int(block.ids[position]) if block.ids[position] >= 0 else None
            result.findings.append(
                RawFinding(
                    index, position, row_id, issue.rule, issue.message, f"/intervals/{position}{issue.path}"
                )
            )
            if issue.rule in (R.MD_QUALITY_FLAG_INVALID, R.MD_CELL_TYPE, R.MD_SEQUENCE_ARITY):
                result.rejected[index][position, :] = True
        _id_range(index, block, result)
    _value_rules(blocks, limits, result)
    result.findings.sort(key=lambda f: (f.block, -1 if f.row is None else f.row))
    return result


def _id_range(index: int, block: Block, result: BatchResult) -> None:
    """Ids the schema forbids (negative) or no grid reaches (≥ 2^33 intervals); such rows are not used.

    A row whose id was missing altogether is already reported by the decoder (id -1 placeholder).
    """
    out_of_range = np.flatnonzero((block.ids < 0) | (block.ids >= _ID_SPAN))
    if not len(out_of_range):
        return
    reported = {p for p, issue in block.row_issues if issue.rule == "schema.required"}
    for position in out_of_range.tolist():
        if position in reported:
            continue
        value = int(block.ids[position])
        rule, text = (
            ("schema.minimum", f"interval id {value} is below 0")
            if value < 0
            else (R.MD_INTERVAL_MISALIGNED, f"interval id {value} is beyond any interval grid")
        )
        result.findings.append(RawFinding(index, position, None, rule, text, f"/intervals/{position}/id"))


def _row_order(
    blocks: Sequence[Block], ids: np.ndarray, seg: np.ndarray, starts: np.ndarray, result: BatchResult
) -> np.ndarray:
    """Reject duplicate and out-of-order rows; record gaps. Returns the accepted-row mask."""
    valid_id = (ids >= 0) & (ids < _ID_SPAN)
    key = seg * _ID_SPAN + np.where(valid_id, ids, 0)
    running = np.maximum.accumulate(key) if len(key) else key
    previous = np.concatenate(([-1], running[:-1]))
    bad = (key <= previous) & valid_id
    accepted = valid_id & ~bad
    if bad.any():
        for position in np.flatnonzero(bad).tolist():
            b = int(seg[position])
            row = position - int(starts[b])
            interval_id = int(ids[position])
            if (key[int(starts[b]) : position] == key[position]).any():
                rule, text = R.MD_INTERVAL_DUPLICATE, f"interval {interval_id} appears more than once"
            else:
                rule, text = R.MD_INTERVAL_ID_ORDER, f"interval {interval_id} comes after a later interval"
            result.findings.append(RawFinding(b, row, interval_id, rule, text, f"/intervals/{row}/id"))
    _gaps(key[accepted], np.unique(key[bad]), result)
    return accepted


def _gaps(accepted: np.ndarray, stray: np.ndarray, result: BatchResult) -> None:
    """Ids missing between the first and last id of each block.

    `accepted` keys are strictly increasing within a block; `stray` keys (rows out of order) are few and
    sorted, and an id present only as a stray row is not missing.
    """
    if len(accepted) < 2:
        return
    seg = accepted // _ID_SPAN
    jump = np.diff(accepted)
    for w in np.flatnonzero((seg[1:] == seg[:-1]) & (jump > 1)).tolist():
        low, high = int(accepted[w]), int(accepted[w + 1])
        inside = stray[(stray > low) & (stray < high)].tolist() if len(stray) else []
        edges = [low, *inside, high]
        for a, b in itertools.pairwise(edges):
            if b - a > 1:
                first_missing = a % _ID_SPAN + 1
                text = f"{b - a - 1} interval(s) missing from id {first_missing}"
                result.findings.append(
                    RawFinding(
                        int(seg[w]), None, first_missing, MD_INTERVAL_MISSING, text, "/intervals", "warning"
                    )
                )


def _value_rules(blocks: Sequence[Block], limits: Sequence[Limits], result: BatchResult) -> None:
    """Register and value rules over every reading group of every block.

    Blocks sharing a layout (the usual case: thousands of meters, a handful of descriptor sets) are stacked,
    so the number of numpy calls grows with the number of layouts and reading groups, not of meters; each
    group runs only the rules that apply to it (registers, cumulative reading, interval energy).
    """
    by_layout: dict[int, list[int]] = {}
    for b_index, block in enumerate(blocks):
        if block.layout.groups and block.rows:
            by_layout.setdefault(id(block.layout), []).append(b_index)
    for members in by_layout.values():
        kept = [np.flatnonzero(result.accepted[b]) for b in members]
        counts = np.fromiter((len(k) for k in kept), dtype=np.int64, count=len(kept))
        if counts.sum() == 0:
            continue
        stack = _Stack(
            values=np.concatenate([blocks[b].values[k] for b, k in zip(members, kept, strict=True)]),
            seg=np.repeat(np.asarray(members, dtype=np.int64), counts),
            rows=np.concatenate(kept),
            ids=np.concatenate([blocks[b].ids[k] for b, k in zip(members, kept, strict=True)]),
        )
        stack.link(blocks, members, kept, counts)
        for g_index, group in enumerate(blocks[members[0]].layout.groups):
            per_block = [_limit(group.info, limits[b], _hours(blocks[b]), True) for b in members]
            limit = np.repeat(np.asarray(per_block, dtype=np.float64), counts)
            for mask, rule, template in _group_rules(group, stack, limit):
                _report(blocks, result, stack, g_index, group, mask, rule, template, limit)


@dataclass
class _Stack:
    """Accepted rows of all blocks of one layout, in block then id order."""

    values: np.ndarray
    seg: np.ndarray
    rows: np.ndarray
    ids: np.ndarray
    same: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    consecutive: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

    def link(
        self, blocks: Sequence[Block], members: list[int], kept: list[np.ndarray], counts: np.ndarray
    ) -> None:
        """`same`: row continues the previous row's register run; `consecutive`: and its id follows on."""
        self.same = np.concatenate(([False], self.seg[1:] == self.seg[:-1]))
        self.consecutive = self.same & np.concatenate(([False], np.diff(self.ids) == 1))
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).tolist()
        for b, k, offset in zip(members, kept, offsets, strict=True):
            if blocks[b].resets:  # a declared reset or meter change starts a new register run
                where = np.flatnonzero(np.isin(k, np.fromiter(blocks[b].resets, dtype=np.int64)))
                self.same[offset + where] = False

    def column(self, index: int | None, multiplier: float) -> np.ndarray | None:
        if index is None:
            return None
        column = self.values[:, index]
        return column * multiplier if multiplier != 1 else column


def _shift(x: np.ndarray) -> np.ndarray:
    return np.concatenate(([np.nan], x[:-1]))


def _group_rules(group: ReadingGroup, stack: _Stack, limit: np.ndarray) -> list[tuple[np.ndarray, str, str]]:
    info = group.info
    v = stack.column(group.value, group.multiplier)
    o = stack.column(group.opening, group.multiplier)
    c = stack.column(group.closing, group.multiplier)
    rules: list[tuple[np.ndarray, str, str]] = []
    if o is not None and c is not None:
        tol = ABS_TOLERANCE + REL_TOLERANCE * np.abs(c)
        prev_c = _shift(c)
        if v is not None:
            rules.append(
                (
                    np.abs(v - (c - o)) > tol,
                    R.MD_USAGE_MATH,
                    "value {v} ≠ closingValue {c} − openingValue {o}",
                )
            )
        rules += [
            (
                stack.same & (o < prev_c - tol),
                R.MD_CUMULATIVE_DECREASE,
                "openingValue {o} is below the previous closing",
            ),
            (
                stack.consecutive & (o > prev_c + tol),
                R.MD_USAGE_MATH,
                "openingValue {o} ≠ previous closingValue: interval values do not add up to the register",
            ),
            ((o < 0) | (c < 0), R.MD_CUMULATIVE_NEGATIVE, "cumulative register negative ({o} → {c})"),
        ]
    if v is not None and info is not None and info.is_cumulative and group.mode == "READING":
        tol = ABS_TOLERANCE + REL_TOLERANCE * np.abs(v)
        rules += [
            (stack.same & (v < _shift(v) - tol), R.MD_CUMULATIVE_DECREASE, "register {v} decreased"),
            (v < 0, R.MD_CUMULATIVE_NEGATIVE, "cumulative register {v} is negative"),
        ]
    if v is not None and info is not None and info.is_delta:
        rules += [
            (v < -ABS_TOLERANCE, R.MD_VALUE_IMPLAUSIBLE, "interval energy {v} is negative"),
            (v > limit, R.MD_VALUE_IMPLAUSIBLE, "interval energy {v} exceeds {limit}"),
        ]
    return rules


def _report(
    blocks: Sequence[Block],
    result: BatchResult,
    stack: _Stack,
    g_index: int,
    group: ReadingGroup,
    mask: np.ndarray,
    rule: str,
    template: str,
    limit: np.ndarray,
) -> None:
    for i in np.flatnonzero(mask).tolist():
        b, row = int(stack.seg[i]), int(stack.rows[i])
        cells = {
            name: _fmt(stack.values[i, col] * group.multiplier) if col is not None else "missing"
            for name, col in (("v", group.value), ("o", group.opening), ("c", group.closing))
        }
        text = f"{group.reading_type}: " + template.format(limit=_fmt(limit[i]), **cells)
        column = group.value if group.value is not None else group.opening
        result.findings.append(
            RawFinding(b, row, int(stack.ids[i]), rule, text, f"/intervals/{row}/payloads/{column}")
        )
        result.rejected[b][row, g_index] = True


def _hours(block: Block) -> float | None:
    return block.step.total_seconds() / 3600 if block.step is not None else None


def _limit(info: object, limits: Limits, step_hours: float | None, is_delta: bool) -> float:
    """Largest plausible interval energy for a reading group (inf when the sanctioned load is unknown)."""
    if not is_delta or step_hours is None:
        return np.inf
    flow = getattr(info, "flow_direction", None)
    kw = limits.export_kw if flow == "EXPORT" and limits.export_kw else limits.import_kw
    if kw is None or kw <= 0:
        return np.inf
    return kw * step_hours * LOAD_FACTOR


def _fmt(x: float) -> str:
    return "missing" if np.isnan(x) else f"{x:.6g}"
