"""VEE — validation, estimation and editing of a MeterData v0.6 file: `run_vee(IN, OUT) -> VeeSummary`.

What happens to each INTERVAL/DAILY profile (one meter's series), streamed one profile at a time:

1. Validate: rows are decoded and checked with the bulk validator's vectorised rules (`_checks`).
2. Edit the row set: duplicate intervals are dropped (the first occurrence is kept), rows out of order are
   put back in id order.
3. Reject: every reading (one reading type at one interval) that broke a value rule is rejected.
4. Estimate: missing intervals and rejected readings get a value by linear interpolation (short gaps) or by
   the same-weekday profile (long gaps), never across a declared reset or meter change (`_estimate`). When
   the profile carries the register (openingValue/closingValue), estimates are scaled so that they add up
   exactly to the register advance across the gap, and the estimated rows' registers are chained, so the
   edited series stays consistent with the meter's register.
5. Flag: every estimated cell carries an override `validationStatus: ESTIMATED, source: ESTIMATED`, its
   `changeMethod` (the estimation method) and a `failCode` (VEE-MISSING-INTERVAL or the rule that rejected
   it), exactly like the upstream IntervalProfile example. A rejected reading that cannot be estimated keeps
   its value, flagged REJECTED, and is counted as unresolved.

Other profiles are copied unchanged. The output is then validated again (streaming, same rules) and the
summary says whether it conforms to MeterData 0.6 and what is left that no estimate can fix (a unit that
contradicts the registry, a register that really decreased).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from ies.errors import InvalidJSON, UsageError
from ies.meterdata._checks import Limits, check_batch
from ies.meterdata._decode import Block, decode_block
from ies.meterdata._estimate import DEFAULT_MAX_INTERP, METHOD_NAMES, METHOD_NONE, estimate_series, nan_runs
from ies.meterdata._layout import Issue, Layout, ReadingGroup
from ies.meterdata._stream import iter_elements
from ies.meterdata.bulk import TELEMETRY_TYPES, BulkContext, primary_meter, validate_file
from ies.meterdata.report import BulkFinding

__all__ = ["MISSING_FAIL_CODE", "VeeSummary", "run_vee"]

#: failCode of an interval that was absent from the input (as in the upstream IntervalProfile example).
MISSING_FAIL_CODE = "VEE-MISSING-INTERVAL"
_REGISTER_TOLERANCE = 1e-6
#: Outputs up to this size are also checked by `ies.schemas.validate`, which loads the whole document
#: (~50 µs a row); larger ones rely on the streaming validator alone, which applies the same rules.
DOCUMENT_CHECK_MAX_BYTES = 8 * 1024 * 1024
_NO_LIMITS = Limits(None, None)


@dataclass
class VeeSummary:
    """Counts are readings: one reading type at one interval of one meter."""

    source: str
    target: str
    profiles: int = 0
    series: int = 0
    readings_in: int = 0
    valid: int = 0
    rejected: int = 0
    missing: int = 0
    estimated: int = 0
    unresolved: int = 0
    duplicates_dropped: int = 0
    dropped_readings: int = 0
    reordered: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    output_valid: bool = False
    output_errors: int = 0
    document_checked: bool = False
    residual: list[BulkFinding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "in": self.source,
            "out": self.target,
            "profiles": self.profiles,
            "series": self.series,
            "readingsIn": self.readings_in,
            "valid": self.valid,
            "rejected": self.rejected,
            "missing": self.missing,
            "estimated": self.estimated,
            "unresolved": self.unresolved,
            "duplicatesDropped": self.duplicates_dropped,
            "droppedReadings": self.dropped_readings,
            "reordered": self.reordered,
            "methods": dict(sorted(self.methods.items())),
            "outputValid": self.output_valid,
            "outputErrors": self.output_errors,
            "documentValidatorRun": self.document_checked,
            "residual": [f.to_dict() for f in self.residual],
        }


@dataclass
class _Series:
    """One profile after editing: contiguous ids first_id + i, kept rows and per-group estimates."""

    first_id: int
    present: np.ndarray  # position → kept row index or -1
    values: np.ndarray  # (positions × arity) final numeric cells, NaN where unknown
    method: np.ndarray  # (positions × groups) estimation method code
    fail: dict[tuple[int, int], str]  # (position, group) → failCode of an estimated/rejected cell
    rejected_left: set[tuple[int, int]]  # (position, group) rejected and not estimated


def _normalise(block: Block, summary: VeeSummary) -> tuple[Block, np.ndarray]:
    """Drop duplicate ids (first kept) and rows without an id; sort by id. Returns the block and kept rows."""
    order = np.argsort(block.ids, kind="stable")
    order = order[block.ids[order] >= 0]
    sorted_ids = block.ids[order]
    first = np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])) if len(order) else np.empty(0, bool)
    keep = order[first]
    summary.duplicates_dropped += block.rows - len(keep)
    summary.reordered += int((np.diff(keep) < 0).sum()) if len(keep) > 1 else 0
    new_position = {int(p): i for i, p in enumerate(keep.tolist())}
    normal = Block(
        block.element,
        block.meter,
        block.profile_type,
        block.start,
        block.step,
        block.layout,
        block.ids[keep],
        block.values[keep],
        [(new_position[p], issue) for p, issue in block.row_issues if p in new_position],
        {(new_position[p], k): s for (p, k), s in block.statuses.items() if p in new_position},
        {new_position[p] for p in block.resets if p in new_position},
    )
    return normal, keep


def _per_day(block: Block) -> int | None:
    if block.step is None:
        return None
    seconds = block.step.total_seconds()
    return int(86400 // seconds) if seconds > 0 and 86400 % seconds == 0 else None


def _edit_series(block: Block, limits: Limits, max_interp: int, summary: VeeSummary) -> _Series:
    layout = block.layout
    groups = layout.groups
    check = check_batch([block], [limits])
    rejected = check.rejected[0]
    row_rule: dict[int, str] = {}
    for finding in check.findings:
        if finding.row is not None:
            row_rule.setdefault(finding.row, finding.rule)
    summary.rejected += int(rejected.sum())
    first_id = int(block.ids[0])
    n = int(block.ids[-1]) - first_id + 1
    positions = block.ids - first_id
    present = np.full(n, -1, dtype=np.int64)
    present[positions] = np.arange(block.rows)
    missing = present < 0
    summary.missing += int(missing.sum()) * len(groups)
    reset = np.zeros(n, dtype=np.int64)
    for row in block.resets:
        reset[positions[row]] = 1
    segment = np.cumsum(reset)
    values = np.full((n, layout.arity), np.nan)
    values[positions] = block.values
    method = np.zeros((n, len(groups)), dtype=np.int8)
    series = _Series(first_id, present, values, method, {}, set())
    for g, group in enumerate(groups):
        if group.value is None:
            continue
        bad = missing.copy()
        bad[positions[rejected[:, g]]] = True
        y = values[:, group.value].copy()
        y[bad] = np.nan
        cumulative = bool(group.info and group.info.is_cumulative and group.mode == "READING")
        est = estimate_series(
            y, segment, per_day=_per_day(block), max_interp=max_interp, cumulative=cumulative
        )
        fitted = _fit_registers(group, values, bad, est.values, segment)
        for p in np.flatnonzero(bad).tolist():
            row = int(present[p])
            if np.isnan(fitted[p]):
                if row >= 0:
                    series.rejected_left.add((p, g))
                continue
            values[p, group.value] = fitted[p]
            method[p, g] = est.method[p]
            series.fail[(p, g)] = MISSING_FAIL_CODE if row < 0 else row_rule.get(row, "VEE-REJECTED")
    return series


def _fit_registers(
    group: ReadingGroup, values: np.ndarray, bad: np.ndarray, est: np.ndarray, segment: np.ndarray
) -> np.ndarray:
    """Scale each estimated run to the register advance across it and chain the registers of its rows.

    Without register columns the estimates are returned unchanged. A run whose registers are unknown on both
    sides, or across which the register went backwards, cannot be estimated consistently (NaN).
    """
    if group.opening is None or group.closing is None:
        return est
    out = est.copy()
    o_col, c_col, n = group.opening, group.closing, len(est)
    for a, b in nan_runs(bad):
        run = out[a : b + 1]
        if np.isnan(run).any():
            out[a : b + 1] = np.nan
            continue
        left = values[a - 1, c_col] if a > 0 and segment[a - 1] == segment[a] and not bad[a - 1] else np.nan
        right = (
            values[b + 1, o_col] if b + 1 < n and segment[b + 1] == segment[a] and not bad[b + 1] else np.nan
        )
        if not np.isnan(left) and not np.isnan(right):
            target = right - left
            if target < -_REGISTER_TOLERANCE:
                out[a : b + 1] = np.nan
                continue
            total = run.sum()
            run = run * (target / total) if total > 0 else np.full(len(run), target / len(run))
            run = np.round(run, 6)
            run[-1] = round(target - run[:-1].sum(), 6)
            closing = left + np.cumsum(run)
            closing[-1] = right
        elif not np.isnan(left):
            run = np.round(run, 6)
            closing = left + np.cumsum(run)
        elif not np.isnan(right):
            run = np.round(run, 6)
            closing = right - np.concatenate((np.cumsum(run[::-1])[::-1][1:], [0.0]))
        else:
            out[a : b + 1] = np.nan
            continue
        out[a : b + 1] = run
        values[a : b + 1, c_col] = np.round(closing, 6)
        values[a : b + 1, o_col] = np.round(closing - run, 6)
    return out


def _override(k: int, method: int, fail_code: str) -> dict[str, Any]:
    return {
        "descriptorIndex": k,
        "validationStatus": "ESTIMATED",
        "source": "ESTIMATED",
        "changeMethod": METHOD_NAMES[method],
        "failCode": fail_code,
    }


def _group_columns(group: ReadingGroup) -> list[int]:
    return [c for c in (group.value, group.opening, group.closing) if c is not None]


def _render_rows(
    rows: list[Any], keep: np.ndarray, series: _Series, layout: Layout, summary: VeeSummary
) -> list[dict[str, Any]]:
    """The edited rows, in the form of the input: compact payloads + overrides, or elaborated readings."""
    out: list[dict[str, Any]] = []
    groups = layout.groups
    elaborated = not any(isinstance(r, dict) and "payloads" in r for r in rows)
    for p in range(len(series.present)):
        row_index = int(series.present[p])
        estimated = [g for g in range(len(groups)) if series.method[p, g] != METHOD_NONE]
        left = [g for g in range(len(groups)) if (p, g) in series.rejected_left]
        if row_index < 0 and (len(estimated) < len(groups) or np.isnan(series.values[p]).any()):
            summary.unresolved += len(groups)
            continue  # an interval that cannot be filled completely stays missing
        original: dict[str, Any] = (
            rows[int(keep[row_index])] if row_index >= 0 else {"id": series.first_id + p}
        )
        for g in estimated:
            summary.estimated += 1
            summary.methods[METHOD_NAMES[int(series.method[p, g])]] += 1
        summary.unresolved += len(left)
        render = _render_elaborated if elaborated else _render_compact
        out.append(render(original, p, estimated, left, series, layout))
    return out


def _render_compact(
    original: dict[str, Any], p: int, estimated: list[int], left: list[int], series: _Series, layout: Layout
) -> dict[str, Any]:
    row = {k: v for k, v in original.items() if k not in ("payloads", "overrides", "readings")}
    overrides = [o for o in original.get("overrides") or [] if _keeps(o, layout.arity)]
    touched: set[int] = set()
    for g in estimated:
        for k in _group_columns(layout.groups[g]):
            touched.add(k)
            overrides.append(_override(k, int(series.method[p, g]), series.fail[(p, g)]))
    for g in left:
        for k in _group_columns(layout.groups[g]):
            touched.add(k)
            overrides.append(
                {"descriptorIndex": k, "validationStatus": "REJECTED", "failCode": "VEE-REJECTED"}
            )
    overrides = [o for o in overrides if o.get("descriptorIndex") not in touched or "failCode" in o]
    row["payloads"] = [float(v) for v in series.values[p]]
    if overrides:
        row["overrides"] = sorted(overrides, key=lambda o: o["descriptorIndex"])
    return row


def _render_elaborated(
    original: dict[str, Any], p: int, estimated: list[int], left: list[int], series: _Series, layout: Layout
) -> dict[str, Any]:
    """Elaborated rows keep their Reading objects; estimated readings carry their flags inline."""
    row = dict(original)
    readings = [dict(r) for r in original.get("readings") or [] if isinstance(r, dict)]
    by_type = {r.get("readingType"): r for r in readings}
    for g in [*estimated, *left]:
        group = layout.groups[g]
        reading = by_type.get(group.reading_type)
        if reading is None:
            reading = by_type[group.reading_type] = {"readingType": group.reading_type}
            readings.append(reading)
        if g in left:
            reading.update({"validationStatus": "REJECTED", "failCode": "VEE-REJECTED"})
            continue
        for attribute, column in (
            ("value", group.value),
            ("openingValue", group.opening),
            ("closingValue", group.closing),
        ):
            if column is not None:
                reading[attribute] = float(series.values[p, column])
        method = METHOD_NAMES[int(series.method[p, g])]
        reading.update(
            {
                "validationStatus": "ESTIMATED",
                "source": "ESTIMATED",
                "changeMethod": method,
                "failCode": series.fail[(p, g)],
            }
        )
    row["readings"] = readings
    return row


def _keeps(override: Any, arity: int) -> bool:
    """An incoming override survives editing only when it is a valid quality flag."""
    if not isinstance(override, dict):
        return False
    index, status = override.get("descriptorIndex"), override.get("validationStatus")
    if not isinstance(index, int) or not 0 <= index < arity:
        return False
    return not (status in ("ESTIMATED", "MANUAL") and not override.get("changeMethod"))


def _vee_profile(
    index: int,
    raw: bytes,
    profile: dict[str, Any],
    context: BulkContext,
    max_interp: int,
    summary: VeeSummary,
) -> bytes:
    meter = primary_meter(profile)
    layout = context.resolve(profile) if meter is not None else None
    if meter is None or isinstance(layout, Issue) or layout is None:
        return raw
    block = decode_block(index, meter, profile, layout, raw)
    groups = len(layout.groups)
    summary.series += 1
    summary.readings_in += block.rows * groups
    if not layout.all_numeric or groups == 0 or block.rows == 0:
        return raw  # occurredAt/validationStatus columns: nothing to estimate them with, copied as is
    normal, keep = _normalise(block, summary)
    if normal.rows == 0:
        return raw
    summary.rejected += (block.rows - normal.rows) * groups
    summary.dropped_readings += (block.rows - normal.rows) * groups
    series = _edit_series(normal, context.limits.get(meter, _NO_LIMITS), max_interp, summary)
    unchanged = (
        normal.rows == block.rows
        and not (np.diff(keep) < 0).any()
        and not series.method.any()
        and not series.rejected_left
        and not (series.present < 0).any()
    )
    if unchanged:
        return raw  # nothing to edit: the profile is copied byte for byte
    edited = dict(profile)
    edited["intervals"] = _render_rows(profile["intervals"], keep, series, layout, summary)
    return orjson.dumps(edited)


def run_vee(
    source: str | Path, target: str | Path, *, max_interp: int = DEFAULT_MAX_INTERP, residual_limit: int = 50
) -> VeeSummary:
    """Validate, estimate and edit SOURCE into TARGET (a MeterData v0.6 JSON array), then re-validate TARGET.

    Raises InvalidJSON / UsageError (exit 2) when SOURCE is not a usable MeterData file; the file at TARGET
    is only replaced once the whole input has been processed.
    """
    src, dst = Path(source), Path(target)
    if src.resolve() == dst.resolve():
        raise UsageError("IN and OUT must be different files")
    if max_interp < 0:
        raise UsageError("--max-interp must be ≥ 0")
    summary = VeeSummary(str(src), str(dst))
    partial = dst.with_name(dst.name + ".partial")
    try:
        with src.open("rb") as handle, partial.open("wb") as out:
            _stream(handle, out, max_interp, summary)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot process {src} → {dst}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dst)
    summary.valid = summary.readings_in - summary.rejected
    check = validate_file(dst, max_findings=residual_limit)
    summary.output_valid = check.valid
    summary.output_errors = check.error_count
    summary.residual = check.errors
    if dst.stat().st_size <= DOCUMENT_CHECK_MAX_BYTES:
        _document_check(dst, summary, residual_limit)
    return summary


def _document_check(path: Path, summary: VeeSummary, residual_limit: int) -> None:
    """Also run the project's document validator (`ies.schemas.validate`) on an output small enough to load.

    The streaming validator applies the same rules with the same ids; running the one validator every
    outgoing payload goes through as well makes "the output is valid MeterData 0.6" literally true.
    """
    from ies.schemas import validate

    report = validate(orjson.loads(path.read_bytes()), "MeterData", "0.6", jsonld=False)
    summary.document_checked = True
    seen = {(f.path, f.rule) for f in summary.residual}
    for finding in report.errors:
        if (finding.path, finding.rule) not in seen:
            summary.output_errors += 1
            if len(summary.residual) < residual_limit:
                summary.residual.append(BulkFinding(finding.path, finding.rule, finding.message))
    summary.output_valid = summary.output_valid and report.valid


def _stream(handle: IO[bytes], out: IO[bytes], max_interp: int, summary: VeeSummary) -> None:
    context = BulkContext()
    out.write(b"[\n")
    for element in iter_elements(handle):
        try:
            profile = orjson.loads(element.data)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(
                f"element {element.index} (byte {element.offset}) is not valid JSON: {exc}"
            ) from None
        if element.index == 0 and not (
            isinstance(profile, dict) and isinstance(profile.get("profileType"), str)
        ):
            raise UsageError("not a MeterData file: the first element has no profileType")
        summary.profiles += 1
        data = element.data
        if isinstance(profile, dict):
            context.learn(profile, f"/{element.index}")
            if profile.get("profileType") in TELEMETRY_TYPES:
                data = _vee_profile(element.index, element.data, profile, context, max_interp, summary)
        if element.index:
            out.write(b",\n")
        out.write(data)
    out.write(b"\n]\n")
