"""Presentation of rankings, sensitivity, calibration and coverage: rich tables for people, CSV for tools.

Kept apart from the logic so that the numbers are computed once and every output format shows the same
ones (JSON comes from each result's own `to_dict`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ies.usecases.catalogue._coverage import NOT_IMPLEMENTED, CoverageReport
from ies.usecases.catalogue._model import Catalogue, UseCase
from ies.usecases.catalogue._scoring import RankedUseCase, Weights, round3
from ies.usecases.catalogue._sensitivity import MonteCarlo, OneAtATime
from ies.usecases.catalogue._sheets import Calibration

__all__ = [
    "calibration_table",
    "coverage_csv",
    "coverage_table",
    "criteria_table",
    "monte_carlo_table",
    "oat_summary",
    "ranking_csv",
    "ranking_table",
    "usecase_table",
    "weights_caption",
]


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row whose text is shown literally: names like "… [project addition]" are not rich markup."""
    table.add_row(*(escape(c) if isinstance(c, str) else c for c in cells))


def _score(value: object) -> str:
    text = f"{value}"
    return text[:-2] if text.endswith(".0") else text


def rank_label(row: RankedUseCase) -> str:
    """ "2=" marks a rank shared with another use case, as league tables do."""
    return f"{row.rank}=" if row.tied else str(row.rank)


def weights_caption(catalogue: Catalogue, weights: Weights) -> str:
    pct = weights.percent()
    return "Weights: " + " · ".join(f"{c.number} {c.key} {pct[c.key]:g}%" for c in catalogue.criteria)


def ranking_table(rows: Sequence[RankedUseCase], catalogue: Catalogue, weights: Weights, title: str) -> Table:
    table = Table(title=title, caption=weights_caption(catalogue, weights), caption_justify="left")
    table.add_column("Rank", justify="right")
    table.add_column("#", justify="right")
    table.add_column("Use case", overflow="fold", min_width=24)
    table.add_column("Total", justify="right")
    for c in catalogue.criteria:
        table.add_column(str(c.number), justify="right")
    for row in rows:
        uc = row.use_case
        _row(
            table,
            rank_label(row),
            str(uc.number or "–"),
            uc.name,
            str(round3(row.total)),
            *(_score(uc.scores[k]) for k in catalogue.criterion_keys),
        )
    return table


def ranking_csv(rows: Sequence[RankedUseCase], catalogue: Catalogue, out: TextIO) -> None:
    """rank,tied,id,number,name,total,<criteria…>,stakeholders — readable back as a score sheet."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["rank", "tied", "id", "number", "name", "total", *catalogue.criterion_keys, "stakeholders"]
    )
    for row in rows:
        uc = row.use_case
        writer.writerow([
            row.rank, "yes" if row.tied else "no", uc.id, uc.number or "", uc.name, round3(row.total),
            *(_score(uc.scores[k]) for k in catalogue.criterion_keys), "; ".join(uc.stakeholders),
        ])  # fmt: skip


def oat_summary(oat: OneAtATime, catalogue: Catalogue, limit: int = 15) -> list[Table | Text]:
    """The one-at-a-time reading: headline, most influential change, and the changes to membership."""
    n = oat.top_n
    membership = [c for c in oat.changes if c.swaps]
    out: list[Table | Text] = [
        Text(
            f"One at a time: {oat.evaluated} single changes; {len(membership)} change who is in the top {n}, "
            f"{len(oat.changes)} change a rank inside it."
        )
    ]
    best = oat.most_influential
    if best is None:
        out.append(Text(f"No single change moves any rank in the top {n}."))
        return out
    verb = "changes top-N membership" if best.swaps else "reorders the top N (membership unchanged)"
    also = (
        f" ({oat.equally_influential} other changes have the same effect)" if oat.equally_influential else ""
    )
    out.append(
        Text(f"Most influential single assumption: {best.describe(catalogue)} — {verb}{also}.", "bold")
    )
    moves = Table(title=f"Rank moves in the top {n} under that change")
    for col in ("Use case", "Before", "After"):
        moves.add_column(col, justify="left" if col == "Use case" else "right")
    for m in best.moved:
        _row(moves, m.name, str(m.rank_before), str(m.rank_after))
    out.append(moves)
    if membership:
        table = Table(title=f"Single changes that alter the top {n} (largest first, {limit} at most)")
        table.add_column("Change", overflow="fold")
        table.add_column("Enters (rank)", overflow="fold")
        table.add_column("Leaves (rank)", overflow="fold")
        for c in sorted(membership, key=lambda p: p.influence, reverse=True)[:limit]:
            _row(
                table,
                c.describe(catalogue),
                ", ".join(f"{m.name} ({m.rank_before}→{m.rank_after})" for m in c.entered),
                ", ".join(f"{m.name} ({m.rank_before}→{m.rank_after})" for m in c.left),
            )
        out.append(table)
    return out


def monte_carlo_table(mc: MonteCarlo, ranked: Sequence[RankedUseCase], rows: int) -> Table:
    table = Table(
        title=f"Monte Carlo: {mc.samples} samples, seed {mc.seed}, scores ±{mc.perturb:g}, "
        f"weights ×(1±{mc.jitter:g})"
    )
    table.add_column("Rank", justify="right")
    table.add_column("Use case", overflow="fold", min_width=24)
    table.add_column("Total", justify="right")
    table.add_column(f"P(top {mc.top_n})", justify="right")
    table.add_column("Median rank", justify="right")
    table.add_column("90% rank interval", justify="right")
    for row in ranked[:rows]:
        i = row.use_case.id
        interval = f"{mc.rank_low[i]}–{mc.rank_high[i]}"
        total, p_top, median = str(round3(row.total)), f"{mc.p_top[i]:.3f}", str(mc.rank_median[i])
        _row(table, rank_label(row), row.use_case.name, total, p_top, median, interval)
    return table


def calibration_table(cal: Calibration, catalogue: Catalogue) -> list[Table | Text]:
    summary = Table(title=f"Per criterion ({len(cal.midline.rows)} use cases, gap > {cal.threshold})")
    for col in ("Criterion", "Disagreements", "Mean gap", "Max gap"):
        summary.add_column(col, justify="left" if col == "Criterion" else "right")
    for key, stats in cal.per_criterion.items():
        _row(summary, key, str(stats["disagreements"]), f"{stats['mean_gap']:.3f}", _score(stats["max_gap"]))
    if not cal.disagreements:
        return [summary, Text(f"No score differs by more than {cal.threshold} between the two sheets.")]
    detail = Table(title="Disagreements to settle in the calibration discussion")
    for col in ("Use case", "Criterion", "A", "B", "Gap"):
        detail.add_column(col, justify="right" if col in ("A", "B", "Gap") else "left", overflow="fold")
    for d in cal.disagreements:
        _row(detail, catalogue.find(d.use_case_id).name, d.criterion, _score(d.a), _score(d.b), _score(d.gap))
    return [summary, detail]


def coverage_table(report: CoverageReport) -> Table:
    counts = report.counts()
    table = Table(
        title="IES use cases implemented by this project",
        caption=" · ".join(f"{k}: {v}" for k, v in counts.items())
        + f" (of {len(report.rows)}) · project additions: {len(report.additions)}",
        caption_justify="left",
    )
    for col in ("#", "Use case", "Status", "Implemented in"):
        table.add_column(col, justify="right" if col == "#" else "left", overflow="fold")
    styles = {"implemented": "green", "partial": "yellow", "planned": "cyan", NOT_IMPLEMENTED: "dim"}
    for r in [*report.rows, *report.additions]:
        label = r.name if r.in_catalogue else f"{r.name} [project addition]"
        _row(table, str(r.number or "–"), label, Text(r.status, styles[r.status]), ", ".join(r.modules))
    return table


def coverage_csv(report: CoverageReport, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "number", "name", "status", "modules", "notes", "in_catalogue"])
    for r in [*report.rows, *report.additions]:
        writer.writerow([
            r.id, r.number or "", r.name, r.status, "; ".join(r.modules), "; ".join(r.notes),
            "yes" if r.in_catalogue else "no",
        ])  # fmt: skip


def criteria_table(catalogue: Catalogue, weights: Weights) -> Table:
    pct = weights.percent()
    table = Table(title="Criteria (strategy §7.1.3, Table 1); higher is better on every criterion")
    for col in ("#", "Key", "Criterion", "Weight", "Meaning", "0 / 5 / 10 anchors"):
        table.add_column(col, overflow="fold")
    for c in catalogue.criteria:
        anchors = "\n".join(f"{k}: {v}" for k, v in sorted(c.anchors.items()))
        _row(table, str(c.number), c.key, c.name, f"{pct[c.key]:g}%", c.meaning, anchors)
    return table


def usecase_table(uc: UseCase, catalogue: Catalogue, ranked: RankedUseCase) -> Table:
    table = Table(title=f"{uc.ref()}. {uc.name}", show_header=False)
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    _row(table, "id", uc.id)
    _row(table, "rank / total", f"{rank_label(ranked)} / {round3(ranked.total)}")
    _row(table, "stakeholders", ", ".join(uc.stakeholders) or "(not published)")
    _row(table, "systems", ", ".join(uc.systems) or "(not published)")
    _row(table, "description", uc.description or "(not published)")
    _row(table, "outcomes", uc.outcomes or "(not published)")
    _row(table, "building blocks", ", ".join(uc.building_blocks) + "  (project assessment)")
    for c in catalogue.criteria:
        note = uc.evidence.get(c.key, "")
        _row(table, f"{c.number} {c.key}", _score(uc.scores[c.key]) + (f" — {note}" if note else ""))
    if uc.source_note:
        _row(table, "source", uc.source_note)
    return table
