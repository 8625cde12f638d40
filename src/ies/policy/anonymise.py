"""Aggregated and anonymised releases of consumer data with k-anonymity and small-cell suppression.

What is released never names a consumer: a feeder-level aggregate sums a feeder's consumers per
15-minute block; an anonymised load profile is the mean daily profile of a class of consumers (feeder ×
tariff category). Every released cell aggregates at least `k` distinct consumers (k ≥ 10 by default, the
policy's `min_k`), and a cell where one consumer contributes more than `dominance` of the total is
suppressed as well (the (1, p%) dominance rule of statistical disclosure control: otherwise a cell of ten
could still reveal its one large consumer's value). Cells of a release partition the consumers (no
margins or totals are published beside them), so no difference of released cells isolates anyone.

Consumers whose (feeder, category) class is too small are pooled into one (feeder, "OTHER") class when
that pool reaches k (generalisation before suppression), otherwise suppressed; the number of suppressed
cells is reported so a reader knows the release is incomplete.

Limits (documented in docs/policy.md): k-anonymity protects a single release. Two releases of the same
statistic over populations differing by one consumer can be differenced; the open-data publisher keeps
every revision, so re-publishing a revision restates cells over the same population and period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ies.errors import UsageError

__all__ = [
    "DEFAULT_DOMINANCE",
    "DEFAULT_K",
    "Reading",
    "Release",
    "anonymised_load_profiles",
    "assert_k_anonymous",
    "feeder_aggregates",
]

DEFAULT_K = 10
DEFAULT_DOMINANCE = 0.5
IST = timedelta(hours=5, minutes=30)
BLOCK = timedelta(minutes=15)
OTHER = "OTHER"


@dataclass(frozen=True)
class Reading:
    """One consumer's energy in one 15-minute block (record-level, personal data)."""

    consumer_id: str
    feeder_id: str
    category: str
    interval_start: datetime
    energy_wh: int


@dataclass(frozen=True)
class Release:
    """An anonymised release: rows, the k it guarantees, and how many cells were withheld."""

    kind: str
    k: int
    rows: list[dict[str, Any]]
    suppressed_cells: int
    contributors: list[frozenset[str]] = field(repr=False, compare=False)
    """Per row, the consumers behind it: kept for checks and tests, never serialised."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "k": self.k, "suppressedCells": self.suppressed_cells, "rows": self.rows}


def _check_params(k: int, dominance: float) -> None:
    if k < 2:
        raise UsageError("k must be at least 2 (k = 1 is no anonymity)")
    if not 0 < dominance <= 1:
        raise UsageError("dominance must be in (0, 1]")


def _releasable(values: dict[str, int], k: int, dominance: float) -> bool:
    if len(values) < k:
        return False
    total = sum(values.values())
    return total <= 0 or max(values.values()) <= dominance * total


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise UsageError("interval_start must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feeder_aggregates(
    readings: Iterable[Reading], *, k: int = DEFAULT_K, dominance: float = DEFAULT_DOMINANCE
) -> Release:
    """Per feeder and 15-minute block: consumer count and summed Wh; small or dominated cells withheld."""
    _check_params(k, dominance)
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in readings:
        cell = cells[(r.feeder_id, _iso(r.interval_start))]
        cell[r.consumer_id] = cell.get(r.consumer_id, 0) + int(r.energy_wh)
    rows, contributors, suppressed = [], [], 0
    for (feeder, start), values in sorted(cells.items()):
        if not _releasable(values, k, dominance):
            suppressed += 1
            continue
        rows.append(
            {
                "feederId": feeder,
                "intervalStart": start,
                "consumers": len(values),
                "energyWh": sum(values.values()),
            }
        )
        contributors.append(frozenset(values))
    return Release("feeder-load-aggregates", k, rows, suppressed, contributors)


def _block_of_day(at: datetime) -> int:
    local = at.astimezone(UTC) + IST
    return (local.hour * 60 + local.minute) // 15


def anonymised_load_profiles(
    readings: Iterable[Reading], *, k: int = DEFAULT_K, dominance: float = DEFAULT_DOMINANCE
) -> Release:
    """Mean daily profile (96 IST blocks, Wh) per (feeder, category) class of at least k consumers.

    Each consumer's profile is first averaged over the days observed, so a class mean weighs consumers
    equally; dominance is judged on the consumers' total energy."""
    _check_params(k, dominance)
    sums: dict[str, list[int]] = {}
    counts: dict[str, list[int]] = {}
    qi: dict[str, tuple[str, str]] = {}
    for r in readings:
        if r.consumer_id not in sums:
            sums[r.consumer_id], counts[r.consumer_id] = [0] * 96, [0] * 96
        qi[r.consumer_id] = (r.feeder_id, r.category)
        b = _block_of_day(r.interval_start)
        sums[r.consumer_id][b] += int(r.energy_wh)
        counts[r.consumer_id][b] += 1
    profile = {c: [s / n if n else 0.0 for s, n in zip(sums[c], counts[c], strict=True)] for c in sums}
    classes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for consumer, key in qi.items():
        classes[key].append(consumer)
    groups: dict[tuple[str, str], list[str]] = {}
    leftovers: dict[str, list[str]] = defaultdict(list)
    for (feeder, category), members in classes.items():
        if len(members) >= k:
            groups[(feeder, category)] = members
        else:
            leftovers[feeder].extend(members)
    suppressed = 0
    for feeder, members in leftovers.items():
        if len(members) >= k:
            groups[(feeder, OTHER)] = members
        else:
            suppressed += 1
    rows, contributors = [], []
    for (feeder, category), members in sorted(groups.items()):
        totals = {c: round(sum(profile[c])) for c in members}
        if not _releasable(totals, k, dominance):
            suppressed += 1
            continue
        mean = [round(sum(profile[c][b] for c in members) / len(members)) for b in range(96)]
        rows.append({"feederId": feeder, "category": category, "consumers": len(members), "profileWh": mean})
        contributors.append(frozenset(members))
    return Release("anonymised-load-profiles", k, rows, suppressed, contributors)


def assert_k_anonymous(release: Release | dict[str, Any], k: int) -> None:
    """Refuse a release (object or its JSON) in which any row aggregates fewer than k consumers."""
    rows = release.rows if isinstance(release, Release) else release.get("rows")
    if not isinstance(rows, list):
        raise UsageError("an anonymised release needs rows[]")
    for i, row in enumerate(rows):
        n = row.get("consumers") if isinstance(row, dict) else None
        if not isinstance(n, int) or n < k:
            raise UsageError(f"row {i} aggregates {n!r} consumers, fewer than k = {k}")
