"""What a validation produces: findings, each naming a stable rule id, and a report that gathers them.

Why plain dataclasses: findings cross every boundary (CLI JSON, NACK details, VEE summaries), so they
must serialise trivially and compare by value in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


def json_pointer(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """RFC 6901 pointer for a path of keys/indices ("" is the document root)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Finding:
    """One fault: where (JSON pointer), which rule (stable id), what (message), how bad (severity)."""

    path: str
    rule: str
    message: str
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "message": self.message, "severity": self.severity}


@dataclass
class ValidationReport:
    """The outcome of validating one document against one family@version.

    `valid` is False when any finding is an error; warnings (e.g. JSON-LD terms that do not expand, ArrFiling
    roll-ups that do not reconcile) become errors only when validation runs strict.
    """

    family: str
    version: str
    findings: list[Finding] = field(default_factory=list)
    strict: bool = False

    @property
    def errors(self) -> list[Finding]:
        """Findings that make the document invalid (all of them when strict)."""
        if self.strict:
            return list(self.findings)
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [] if self.strict else [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def rules(self) -> set[str]:
        """Rule ids of the errors (what tests and callers usually match on)."""
        return {f.rule for f in self.errors}

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if file is not None:
            out["file"] = file
        out.update(
            {
                "family": self.family,
                "version": self.version,
                "valid": self.valid,
                "errors": [{"path": f.path, "rule": f.rule, "message": f.message} for f in self.errors],
                "warnings": [{"path": f.path, "rule": f.rule, "message": f.message} for f in self.warnings],
            }
        )
        return out
