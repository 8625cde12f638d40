"""Findings: what a verification found wrong, and where.

Why a list of findings and not the first failure: a regulator or an operator investigating a dispute needs
every position that was touched, not just the first one. Verification still fails closed: `raise_if_any`
turns a non-empty list into `AuditLogTampered` carrying all of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ies.audit._errors import AuditLogTampered

__all__ = ["FINDING_KINDS", "Finding", "Findings"]

FINDING_KINDS = (
    "edited",  # an entry's content no longer matches the hash the tree recorded at its position
    "deleted",  # a position the tree recorded has no entry
    "inserted",  # an entry the tree never recorded
    "reordered",  # an entry the tree recorded at another position
    "renumbered",  # sequence numbers no longer match the tree positions of their entries
    "chain",  # an entry's prev_hash is not the hash of the entry before it
    "tree",  # the stored Merkle nodes or head disagree with each other
    "tree_head",  # a signed tree head is invalid or contradicts the log
)
MAX_PER_KIND = 100
"""Enough to locate a tampering; a wholesale rewrite of a million entries is summarised, not listed."""


@dataclass(frozen=True)
class Finding:
    kind: str
    position: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "position": self.position, "message": self.message}

    def __str__(self) -> str:
        where = f"position {self.position}" if self.position is not None else "log"
        return f"{self.kind} at {where}: {self.message}"


@dataclass
class Findings:
    """Collects findings, at most MAX_PER_KIND of each kind (the rest are counted)."""

    items: list[Finding] = field(default_factory=list)
    suppressed: Counter[str] = field(default_factory=Counter)
    _counts: Counter[str] = field(default_factory=Counter, repr=False)

    def add(self, kind: str, position: int | None, message: str) -> None:
        if kind not in FINDING_KINDS:
            raise ValueError(f"unknown finding kind {kind!r}")
        if self._counts[kind] >= MAX_PER_KIND:
            self.suppressed[kind] += 1
            return
        self._counts[kind] += 1
        self.items.append(Finding(kind, position, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=lambda f: (f.position is None, f.position or 0, f.kind))

    def to_list(self) -> list[dict[str, Any]]:
        out = [f.to_dict() for f in self.sorted()]
        out += [
            {"kind": kind, "position": None, "message": f"{n} more {kind} finding(s) not listed"}
            for kind, n in sorted(self.suppressed.items())
        ]
        return out

    def raise_if_any(self, what: str) -> None:
        if self.items:
            total = len(self.items) + sum(self.suppressed.values())
            first = self.sorted()[0]
            raise AuditLogTampered(
                f"{what}: {total} problem(s), first {first}", details={"findings": self.to_list()}
            )
