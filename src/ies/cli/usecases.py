"""`ies usecases …`: rank the IES use cases, check the ranking's sensitivity, calibrate reviewers' sheets
and show which use cases this project implements.

Thin on purpose: every number comes from `ies.usecases.catalogue`; this module parses options, picks the
output format (rich table on a terminal, `--json` / `--csv` for tools, `--plot` PNG) and maps errors to
exit codes through `handles_errors` (2 for unusable input, 1 for an unknown use case or a coverage
problem).
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ies.cli._common import console, err_console, handles_errors, print_json
from ies.errors import UsageError

if TYPE_CHECKING:
    from ies.usecases.catalogue import Catalogue, MonteCarlo, RankedUseCase, Weights

app = typer.Typer(
    help="The IES use-case catalogue: ranking (strategy §7.1), sensitivity, calibration, coverage.",
    no_args_is_help=True,
)

WEIGHTS_HELP = (
    "Weights as criterion=value pairs (e.g. system_impact=30,consumer_centricity=10; criteria not named keep "
    "their default) or a YAML/JSON/TOML file of criterion: weight. Relative; renormalised to 100 %."
)
SCORES_HELP = "A CSV score sheet whose rows replace the published scores of the use cases it lists."
STAKEHOLDER_HELP = "Only use cases that list this stakeholder category (e.g. DISCOMs, Regulators)."


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="usecases")


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")


def _prepare(weights: str | None, scores: Path | None, stakeholder: str | None) -> tuple[Catalogue, Weights]:
    """The catalogue after --scores and --stakeholder, and the weights after --weights."""
    from ies.usecases.catalogue import load_catalogue, load_weights, read_sheet

    catalogue = load_catalogue()
    parsed = load_weights(catalogue, weights)
    if scores is not None:
        catalogue = catalogue.with_scores(read_sheet(scores, catalogue).rescored(catalogue))
    if stakeholder is not None:
        catalogue = catalogue.for_stakeholder(stakeholder)
        if not catalogue.use_cases:
            raise UsageError(f"no use case lists stakeholder {stakeholder!r}")
    return catalogue, parsed


def _monte_carlo(
    catalogue: Catalogue, weights: Weights, top: int, perturb: float, jitter: float, samples: int, seed: int
) -> MonteCarlo:
    from ies.usecases.catalogue import monte_carlo

    return monte_carlo(
        catalogue, weights, top_n=top, perturb=perturb, jitter=jitter, samples=samples, seed=seed
    )


def _plot(ranked: list[RankedUseCase], mc: MonteCarlo, path: Path, title: str) -> None:
    from ies.usecases.catalogue._plot import plot_ranking

    plot_ranking(ranked, mc, path, title)
    err_console.print(f"chart written to {path}", highlight=False)


@app.command("rank")
@handles_errors
def rank(
    weights: str | None = typer.Option(None, "--weights", "-w", help=WEIGHTS_HELP),
    scores: Path | None = typer.Option(None, "--scores", help=SCORES_HELP),
    stakeholder: str | None = typer.Option(None, "--stakeholder", "-s", help=STAKEHOLDER_HELP),
    by_stakeholder: bool = typer.Option(
        False, "--by-stakeholder", help="A top list per stakeholder category."
    ),
    top: int | None = typer.Option(
        None, "--top", "-n", help="Only use cases ranked N or better (ties kept)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON list for tools."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV for tools (readable back with --scores)."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Also write a PNG chart with Monte Carlo intervals."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo run behind --plot."),
) -> None:
    """Weighted totals (0–1, three decimals) and competition ranks; ties share a rank, shown as 2=."""
    from ies.usecases.catalogue import rank_use_cases
    from ies.usecases.catalogue._render import ranking_csv, ranking_table

    _one_format(as_json, as_csv)
    if by_stakeholder and stakeholder:
        raise UsageError("--by-stakeholder lists every category; drop --stakeholder or use it alone")
    if top is not None and top < 1:
        raise UsageError(f"--top must be at least 1, got {top}")
    catalogue, parsed = _prepare(weights, scores, stakeholder)
    if by_stakeholder:
        groups = {s: catalogue.for_stakeholder(s) for s in catalogue.stakeholders}
        limit = top or 3
        lists = {s: [r for r in rank_use_cases(c, parsed) if r.rank <= limit] for s, c in groups.items()}
        if as_json:
            print_json({s: [r.to_dict() for r in rows] for s, rows in lists.items()})
        elif as_csv:
            raise UsageError("--by-stakeholder prints a table or --json; use --stakeholder NAME --csv")
        else:
            for s, rows in lists.items():
                console.print(ranking_table(rows, catalogue, parsed, f"Top {limit} for {s}"))
        return
    ranked = rank_use_cases(catalogue, parsed)
    shown = [r for r in ranked if top is None or r.rank <= top]
    if as_json:
        print_json([r.to_dict() for r in shown])
    elif as_csv:
        ranking_csv(shown, catalogue, sys.stdout)
    else:
        who = f" for {catalogue.resolve_stakeholder(stakeholder)}" if stakeholder else ""
        console.print(ranking_table(shown, catalogue, parsed, f"IES use cases ranked{who}"))
    if plot is not None:
        mc = _monte_carlo(catalogue, parsed, top or 10, 1.0, 0.2, 10_000, seed)
        _plot(shown, mc, plot, "IES use-case ranking (strategy §7.1, Annexure 4)")


@app.command("sensitivity")
@handles_errors
def sensitivity(
    weights: str | None = typer.Option(None, "--weights", "-w", help=WEIGHTS_HELP),
    scores: Path | None = typer.Option(None, "--scores", help=SCORES_HELP),
    stakeholder: str | None = typer.Option(None, "--stakeholder", "-s", help=STAKEHOLDER_HELP),
    top: int = typer.Option(10, "--top", "-n", help="Size of the shortlist whose stability is checked."),
    perturb: float = typer.Option(1.0, "--perturb", help="Score change, in points on the 0–10 scale."),
    jitter: float = typer.Option(0.2, "--weight-jitter", help="Relative weight change (0.2 = ±20 %)."),
    samples: int = typer.Option(10_000, "--samples", help="Monte Carlo samples."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same result."),
    rows: int | None = typer.Option(None, "--rows", help="Rows of the Monte Carlo table (default 2×top)."),
    as_json: bool = typer.Option(False, "--json", help="JSON for tools."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG chart of totals and rank intervals."),
) -> None:
    """Is the top N driven by a single assumption? One-at-a-time changes, then a Monte Carlo run."""
    from ies.usecases.catalogue import one_at_a_time, rank_use_cases
    from ies.usecases.catalogue._render import monte_carlo_table, oat_summary, weights_caption
    from ies.usecases.catalogue._sensitivity import check_parameters

    check_parameters(top, perturb, jitter, samples)  # refuse bad options before any work is done
    catalogue, parsed = _prepare(weights, scores, stakeholder)
    oat = one_at_a_time(catalogue, parsed, top, perturb, jitter)
    mc = _monte_carlo(catalogue, parsed, top, perturb, jitter, samples, seed)
    ranked = rank_use_cases(catalogue, parsed)
    if as_json:
        print_json({
            "top_n": top,
            "weights_percent": parsed.percent(),
            "use_cases": len(catalogue.use_cases),
            "one_at_a_time": oat.to_dict(catalogue),
            "monte_carlo": mc.to_dict(),
        })  # fmt: skip
    else:
        for item in oat_summary(oat, catalogue):
            console.print(item)
        console.print(monte_carlo_table(mc, ranked, rows or 2 * top))
        console.print(weights_caption(catalogue, parsed), highlight=False)
    if plot is not None:
        _plot(ranked, mc, plot, f"IES use-case ranking and its sensitivity (top {top})")


@app.command("calibrate")
@handles_errors
def calibrate_cmd(
    sheet_a: Path = typer.Argument(..., help="Reviewer A's CSV score sheet."),
    sheet_b: Path = typer.Argument(..., help="Reviewer B's CSV score sheet."),
    threshold: str = typer.Option("2", "--threshold", help="Report gaps larger than this many points."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the midline sheet (CSV) here."),
    as_json: bool = typer.Option(False, "--json", help="JSON for tools."),
) -> None:
    """Compare two reviewers' sheets: disagreements above a threshold, and the midline (mean) sheet."""
    from ies.usecases.catalogue import calibrate, load_catalogue, read_sheet, write_sheet
    from ies.usecases.catalogue._render import calibration_table

    try:
        gap = Decimal(threshold)
    except InvalidOperation:
        raise UsageError(f"--threshold must be a number, got {threshold!r}") from None
    if not gap.is_finite() or gap < 0:
        raise UsageError(f"--threshold must be a number of points, 0 or more, got {threshold!r}")
    catalogue = load_catalogue()
    result = calibrate(read_sheet(sheet_a, catalogue), read_sheet(sheet_b, catalogue), catalogue, gap)
    if out is not None:
        try:
            with out.open("w", encoding="utf-8", newline="") as fh:
                write_sheet(result.midline, catalogue, fh)
        except OSError as exc:
            raise UsageError(f"cannot write midline sheet {str(out)!r}: {exc}") from None
    if as_json:
        data: dict[str, Any] = result.to_dict(catalogue)
        data["midline_sheet"] = str(out) if out else None
        print_json(data)
        return
    for item in calibration_table(result, catalogue):
        console.print(item)
    if out is not None:
        console.print(f"midline sheet written to {out} (rank with: ies usecases rank --scores {out})")
    else:
        console.print("give --out FILE to write the midline sheet")


@app.command("sheet")
@handles_errors
def sheet(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of standard output."),
) -> None:
    """The published scores as a CSV score sheet: the template a reviewer edits."""
    from ies.usecases.catalogue import ScoreSheet, load_catalogue, write_sheet

    catalogue = load_catalogue()
    template = ScoreSheet.from_catalogue(catalogue)
    if out is None:
        write_sheet(template, catalogue, sys.stdout)
        return
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_sheet(template, catalogue, fh)
    except OSError as exc:
        raise UsageError(f"cannot write {str(out)!r}: {exc}") from None
    err_console.print(f"score sheet written to {out}", highlight=False)


@app.command("coverage")
@handles_errors
def coverage(
    as_json: bool = typer.Option(False, "--json", help="JSON for tools."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV for tools."),
) -> None:
    """Which use cases this project implements, as the use-case packages declare it (exit 1 on a problem)."""
    from ies.usecases.catalogue import coverage_report, load_catalogue
    from ies.usecases.catalogue._render import coverage_csv, coverage_table

    _one_format(as_json, as_csv)
    report = coverage_report(load_catalogue())
    if as_json:
        print_json(report.to_dict())
    elif as_csv:
        coverage_csv(report, sys.stdout)
    else:
        console.print(coverage_table(report))
    for problem in report.problems:
        err_console.print(f"[red]problem:[/red] {problem}", highlight=False)
    if report.problems:
        raise typer.Exit(1)


@app.command("criteria")
@handles_errors
def criteria(
    weights: str | None = typer.Option(None, "--weights", "-w", help=WEIGHTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="JSON for tools."),
) -> None:
    """The eight criteria with their meaning, 0/5/10 anchors and (default or given) weights."""
    from ies.usecases.catalogue import load_catalogue, load_weights
    from ies.usecases.catalogue._render import criteria_table

    catalogue = load_catalogue()
    parsed = load_weights(catalogue, weights)
    if as_json:
        pct = parsed.percent()
        print_json([{**c.model_dump(mode="json"), "weight_percent": pct[c.key]} for c in catalogue.criteria])
    else:
        console.print(criteria_table(catalogue, parsed))


@app.command("show")
@handles_errors
def show(
    ref: str = typer.Argument(..., help="Use-case number (1–63), id or exact name."),
    weights: str | None = typer.Option(None, "--weights", "-w", help=WEIGHTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="JSON for tools."),
) -> None:
    """Everything the catalogue holds on one use case, with its rank under the given weights."""
    from ies.usecases.catalogue import load_catalogue, load_weights, rank_use_cases
    from ies.usecases.catalogue._render import usecase_table

    catalogue = load_catalogue()
    uc = catalogue.find(ref)
    ranked = next(
        r for r in rank_use_cases(catalogue, load_weights(catalogue, weights)) if r.use_case.id == uc.id
    )
    if as_json:
        print_json(
            {**uc.model_dump(mode="json"), "rank": ranked.rank, "total": float(ranked.to_dict()["total"])}
        )
    else:
        console.print(usecase_table(uc, catalogue, ranked))
