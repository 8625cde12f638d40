"""Validate a MultiMeterBulkDataset file of any size in constant memory: `validate_file(path) -> BulkReport`.

A bulk file is a MeterData v0.6 JSON array: DESCRIPTOR profiles declare the payload descriptor sets,
CUSTOMER profiles the meters and sanctioned loads, then one INTERVAL/DAILY (and other) profile per meter.
The pipeline, one element at a time:

1. `_stream.iter_elements` cuts the next top-level profile out of the byte stream (numpy boundary scan);
2. orjson parses it; `_structure` checks it against its JSON Schema branch (rows excluded);
3. DESCRIPTOR/CUSTOMER profiles update the descriptor catalogue and the sanctioned-load table;
4. telemetry profiles are resolved against the catalogue (`_layout`, cached per set) and decoded to arrays
   (`_decode`), then queued; every ~250 k rows the queue is checked in one vectorised pass (`_checks`).

Descriptors must be declared before the profiles that use them (upstream examples do so); a reference to a
set not yet seen is reported as unknown rather than buffering the file. Rule ids are those of
`ies.schemas.rule_ids`, so a fault gets the same id here as in `ies validate` on a small document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ies.errors import InvalidJSON, UsageError
from ies.meterdata._checks import Limits, RawFinding, check_batch
from ies.meterdata._codes import code_registry
from ies.meterdata._decode import Block, decode_block, parse_duration, parse_instant
from ies.meterdata._fastrows import cut_intervals, parse_compact_rows
from ies.meterdata._layout import DescriptorCatalog, Issue, Layout
from ies.meterdata._stream import CHUNK_BYTES, RawElement, iter_elements
from ies.meterdata._structure import structural_issues
from ies.meterdata.report import BulkFinding, BulkReport
from ies.schemas import rule_ids as R

__all__ = ["BATCH_ROWS", "TELEMETRY_TYPES", "BulkContext", "primary_meter", "validate_file"]

#: Rows per vectorised pass: large enough that numpy call overhead is negligible, small enough that the
#: queued arrays stay a few tens of MiB whatever the file size.
BATCH_ROWS = 250_000
TELEMETRY_TYPES = frozenset({"INTERVAL", "DAILY"})
#: Small per-meter profiles whose per-reading rules live in the document validator; they are handed to
#: `ies.schemas.validate` together with the descriptor set they reference, so both validators agree.
DELEGATED_TYPES = frozenset({"MONTHLY", "BILL_DETAILS", "INSTANTANEOUS", "EVENT", "ALARM"})
_NO_LIMITS = Limits(None, None)
_PROGRESS_STEP = 4 * 1024 * 1024


def primary_meter(profile: dict[str, Any]) -> str | None:
    """The first (primary) meter identifier of a profile's meterRefs."""
    refs = profile.get("meterRefs")
    if (
        isinstance(refs, list)
        and refs
        and isinstance(refs[0], dict)
        and isinstance(refs[0].get("value"), str)
    ):
        return str(refs[0]["value"])
    return None


@dataclass
class BulkContext:
    """What earlier profiles of the stream declared: descriptor sets and per-meter sanctioned loads."""

    catalog: DescriptorCatalog = field(default_factory=lambda: DescriptorCatalog(code_registry()))
    limits: dict[str, Limits] = field(default_factory=dict)

    def learn(self, profile: dict[str, Any], pointer: str) -> None:
        """Absorb a DESCRIPTOR or CUSTOMER profile."""
        profile_type = profile.get("profileType")
        if profile_type == "DESCRIPTOR":
            self.catalog.add_profile(profile, pointer)
        elif profile_type == "CUSTOMER":
            self._learn_customer(profile)

    def _learn_customer(self, profile: dict[str, Any]) -> None:
        raw_customer = profile.get("customer")
        customer: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
        load = customer.get("sanctionedLoadKw")
        if not isinstance(load, int | float) or isinstance(load, bool) or load <= 0:
            return
        export = customer.get("sanctionedExportLoadKw")
        export_kw = float(export) if isinstance(export, int | float) and export > 0 else None
        limits = Limits(float(load), export_kw)
        holders: list[Any] = [profile]
        holders += [{"meterRefs": [m.get("id")]} for m in profile.get("meters") or [] if isinstance(m, dict)]
        holders += [a for a in profile.get("associations") or [] if isinstance(a, dict)]
        for holder in holders:
            for ref in holder.get("meterRefs") or []:
                if isinstance(ref, dict) and isinstance(ref.get("value"), str):
                    self.limits[ref["value"]] = limits

    def resolve(self, profile: dict[str, Any]) -> Layout | Issue:
        ref = profile.get("payloadDescriptorSetRef")
        sequence = profile.get("compactSequenceRef")
        if not isinstance(ref, str):
            if not self.catalog.seen_descriptor_profile:
                return Issue(
                    R.MD_DESCRIPTOR_MISSING, "telemetry profile but no DESCRIPTOR profile precedes it"
                )
            return Issue(R.MD_DESCRIPTOR_REF_UNKNOWN, "telemetry profile without payloadDescriptorSetRef")
        return self.catalog.layout(
            ref, sequence if isinstance(sequence, str) else None, str(profile["profileType"])
        )


def profile_level_issues(profile: dict[str, Any]) -> list[Issue]:
    """Checks of a telemetry profile's own period: a fixed duration and a start on its grid."""
    period = profile.get("intervalPeriod")
    if not isinstance(period, dict):
        return []
    start = parse_instant(period.get("start"))
    step = parse_duration(period.get("duration"))
    if step is None:
        return [
            Issue(
                R.MD_INTERVAL_MISALIGNED,
                f"intervalPeriod.duration {period.get('duration')!r} is not a fixed-length ISO 8601 duration",
                "/intervalPeriod/duration",
            )
        ]
    if start is None:
        return []
    seconds = step.total_seconds()
    if seconds <= 0 or 86400 % seconds:
        return []
    local = start.hour * 3600 + start.minute * 60 + start.second + start.microsecond / 1e6
    if local % seconds:
        return [
            Issue(
                R.MD_INTERVAL_MISALIGNED,
                f"start {period.get('start')} is not on the {period.get('duration')} grid",
                "/intervalPeriod/start",
            )
        ]
    return []


class _BulkValidator:
    def __init__(self, report: BulkReport, batch_rows: int):
        self.report = report
        self.context = BulkContext()
        self.batch_rows = batch_rows
        self.queue: list[Block] = []
        self.queued_rows = 0
        self.family_checked = False

    def feed(self, element: RawElement) -> None:
        if self.family_checked and self._feed_compact(element):
            return
        try:
            profile = orjson.loads(element.data)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(
                f"element {element.index} (byte {element.offset}) is not valid JSON: {exc}"
            ) from None
        if not self.family_checked:
            _require_meter_data(profile)
            self.family_checked = True
        report = self.report
        report.profiles += 1
        pointer = f"/{element.index}"
        meter = primary_meter(profile) if isinstance(profile, dict) else None
        if meter is not None:
            report.meter(meter).profiles += 1
        if isinstance(profile, dict) and profile.get("profileType") in DELEGATED_TYPES:
            self._delegate(profile, meter, pointer)
            return
        for issue in structural_issues(profile):
            self._add(pointer, meter, None, issue)
        if not isinstance(profile, dict):
            return
        self.context.learn(profile, pointer)
        if profile.get("profileType") in TELEMETRY_TYPES and meter is not None:
            self._telemetry(element, profile, meter, pointer)

    def _feed_compact(self, element: RawElement) -> bool:
        """The fast route for a plain compact telemetry profile; False (nothing recorded) to fall back."""
        cut = cut_intervals(element.data)
        if cut is None:
            return False
        envelope_bytes, rows_bytes = cut
        try:
            envelope = orjson.loads(envelope_bytes)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(envelope, dict) or envelope.get("profileType") not in TELEMETRY_TYPES:
            return False
        meter = primary_meter(envelope)
        layout = self.context.resolve(envelope) if meter is not None else None
        if meter is None or not isinstance(layout, Layout) or not layout.all_numeric:
            return False
        parsed = parse_compact_rows(rows_bytes, layout.arity)
        if parsed is None:
            return False
        self.report.profiles += 1
        self.report.meter(meter).profiles += 1
        pointer = f"/{element.index}"
        for issue in structural_issues(envelope):
            self._add(pointer, meter, None, issue)
        period = envelope.get("intervalPeriod") or {}
        block = Block(
            element.index,
            meter,
            str(envelope["profileType"]),
            parse_instant(period.get("start")),
            parse_duration(period.get("duration")),
            layout,
            parsed[0],
            parsed[1],
        )
        self._telemetry(element, envelope, meter, pointer, block)
        return True

    def _telemetry(
        self,
        element: RawElement,
        profile: dict[str, Any],
        meter: str,
        pointer: str,
        block: Block | None = None,
    ) -> None:
        for issue in profile_level_issues(profile):
            self._add(pointer, meter, None, issue)
        layout = self.context.resolve(profile)
        if isinstance(layout, Issue):
            self._add(pointer, meter, None, layout)
            return
        for issue in layout.issues:
            self._add(pointer, meter, None, issue)
        if block is None:
            block = decode_block(element.index, meter, profile, layout, element.data)
        readings = block.rows * len(layout.groups)
        self.report.intervals += block.rows
        self.report.readings += readings
        self.report.meter(meter).readings += readings
        self.queue.append(block)
        self.queued_rows += block.rows
        if self.queued_rows >= self.batch_rows:
            self.flush()

    def _delegate(self, profile: dict[str, Any], meter: str | None, pointer: str) -> None:
        """Validate a small non-telemetry profile with the document validator (same rules, same ids)."""
        from ies.schemas import validate

        catalog = self.context.catalog
        ref = profile.get("payloadDescriptorSetRef")
        doc: list[dict[str, Any]] = []
        if catalog.seen_descriptor_profile:
            known = catalog.sets.get(ref) if isinstance(ref, str) else None
            sets = [known.raw] if known else [s.raw for s in catalog.sets.values()]
            doc.append({"profileType": "DESCRIPTOR", "id": "bulk-context", "payloadDescriptorSets": sets})
        doc.append(profile)
        own = f"/{len(doc) - 1}"
        for finding in validate(doc, "MeterData", "0.6", jsonld=False).findings:
            if finding.path == own or finding.path.startswith(own + "/"):
                path = pointer + finding.path[len(own) :]
                self.report.add(BulkFinding(path, finding.rule, finding.message, finding.severity, meter))

    def flush(self) -> None:
        if not self.queue:
            return
        limits = [self.context.limits.get(b.meter, _NO_LIMITS) for b in self.queue]
        result = check_batch(self.queue, limits)
        for raw in result.findings:
            self._add_raw(self.queue[raw.block], raw)
        self.queue = []
        self.queued_rows = 0

    def _add(self, pointer: str, meter: str | None, interval_id: int | None, issue: Issue) -> None:
        self.report.add(
            BulkFinding(pointer + issue.path, issue.rule, issue.message, "error", meter, interval_id)
        )

    def _add_raw(self, block: Block, raw: RawFinding) -> None:
        self.report.add(
            BulkFinding(
                f"/{block.element}{raw.path}",
                raw.rule,
                raw.message,
                raw.severity,
                block.meter,
                raw.interval_id,
            )
        )


def _require_meter_data(profile: Any) -> None:
    """Refuse (exit 2) a file that is not MeterData at all, rather than listing schema errors for it."""
    if isinstance(profile, dict) and isinstance(profile.get("profileType"), str):
        return
    hint = ""
    if isinstance(profile, dict):
        kind = profile.get("@type") or profile.get("type") or profile.get("objectType")
        if kind:
            hint = f" (it looks like {kind!r})"
    raise UsageError(f"not a MeterData file: the first element has no profileType{hint}")


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    """A rich progress bar on stderr when it is a terminal; a no-op updater otherwise (without importing
    the console: a library call that asked for no progress bar pays nothing for one)."""
    if not enabled:
        yield lambda completed: None
        return
    from ies.cli._common import err_console

    if not err_console.is_terminal:
        yield lambda completed: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("validating", total=total)
        shown = 0

        def advance(completed: int) -> None:
            nonlocal shown
            if completed - shown >= _PROGRESS_STEP or completed >= total:  # rich updates are not free
                bar.update(task, completed=completed)
                shown = completed

        yield advance


def validate_file(
    path: str | Path,
    *,
    progress: bool = False,
    max_findings: int = 1000,
    batch_rows: int = BATCH_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
) -> BulkReport:
    """Stream-validate a MeterData v0.6 bulk file; memory is bounded by one batch and one profile.

    Raises InvalidJSON (exit 2) for bytes that are not one JSON document (including a truncated file) and
    UsageError (exit 2) for an unreadable file or a file of another family. Faults in the data are findings
    of the returned report, never exceptions.
    """
    file = Path(path)
    try:
        total = file.stat().st_size
        handle = file.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    report = BulkReport(file=str(file), max_findings=max_findings)
    validator = _BulkValidator(report, batch_rows)
    with handle, _progress(progress, total) as advance:
        for element in iter_elements(handle, chunk_bytes):
            validator.feed(element)
            advance(element.offset + len(element.data))
        validator.flush()
        report.bytes_read = total
    if report.profiles == 0:
        report.add(BulkFinding("", "schema.minItems", "a MeterData array must hold at least one profile"))
    return report
