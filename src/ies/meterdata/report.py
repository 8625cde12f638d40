"""The outcome of validating a bulk meter-data file: totals, per-meter summaries and findings.

Why capped findings: a badly broken file with ten million rows could produce ten million findings; the
report keeps every count exact (per rule, per meter) but stores at most `max_findings` detailed findings,
and says so, so memory stays bounded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BulkFinding", "BulkReport", "MeterSummary"]


@dataclass(frozen=True)
class BulkFinding:
    """One fault in a bulk file: where (JSON pointer from the document root), which meter, which rule."""

    path: str
    rule: str
    message: str
    severity: str = "error"
    meter: str | None = None
    interval_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "rule": self.rule, "message": self.message}
        if self.meter is not None:
            out["meter"] = self.meter
        if self.interval_id is not None:
            out["intervalId"] = self.interval_id
        return out


@dataclass
class MeterSummary:
    """What one meter contributed and what was wrong with it."""

    meter: str
    profiles: int = 0
    readings: int = 0
    errors: int = 0
    warnings: int = 0
    rules: Counter[str] = field(default_factory=Counter)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "profiles": self.profiles,
            "readings": self.readings,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "rules": dict(sorted(self.rules.items())),
        }


@dataclass
class BulkReport:
    """Totals of a streamed validation; `valid` is False as soon as one error was found."""

    file: str
    family: str = "MeterData"
    version: str = "0.6"
    profiles: int = 0
    intervals: int = 0
    readings: int = 0
    bytes_read: int = 0
    max_findings: int = 1000
    findings: list[BulkFinding] = field(default_factory=list)
    rule_counts: Counter[str] = field(default_factory=Counter)
    error_count: int = 0
    warning_count: int = 0
    meters: dict[str, MeterSummary] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    @property
    def truncated(self) -> bool:
        return self.error_count + self.warning_count > len(self.findings)

    @property
    def errors(self) -> list[BulkFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[BulkFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    def meter(self, meter: str) -> MeterSummary:
        summary = self.meters.get(meter)
        if summary is None:
            summary = self.meters[meter] = MeterSummary(meter)
        return summary

    def add(self, finding: BulkFinding) -> None:
        """Count a finding (always) and keep it (while under the cap)."""
        self.rule_counts[finding.rule] += 1
        if finding.severity == "error":
            self.error_count += 1
        else:
            self.warning_count += 1
        if finding.meter is not None:
            summary = self.meter(finding.meter)
            summary.rules[finding.rule] += 1
            if finding.severity == "error":
                summary.errors += 1
            else:
                summary.warnings += 1
        if len(self.findings) < self.max_findings:
            self.findings.append(finding)

    def to_dict(self, *, per_meter: bool = True) -> dict[str, Any]:
        """The `ies validate --json` shape, extended with bulk totals and per-meter summaries."""
        out: dict[str, Any] = {
            "file": self.file,
            "family": self.family,
            "version": self.version,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "bulk": {
                "profiles": self.profiles,
                "meters": len(self.meters),
                "intervals": self.intervals,
                "readings": self.readings,
                "errorCount": self.error_count,
                "warningCount": self.warning_count,
                "ruleCounts": dict(sorted(self.rule_counts.items())),
                "findingsTruncated": self.truncated,
            },
        }
        if per_meter:
            out["bulk"]["perMeter"] = [m.to_dict() for m in self.meters.values()]
        return out
