"""`ies meterdata …`: stream-validate bulk meter data, run VEE, generate synthetic bulk datasets.

Exit codes follow the project rule: 0 valid / done, 1 invalid data (or VEE output still invalid), 2 unusable
input (not JSON, truncated, another family, unreadable file).
"""

from __future__ import annotations

from pathlib import Path

import typer

from ies.cli._common import console, handles_errors, print_json

meterdata_app = typer.Typer(
    name="meterdata",
    help="Bulk meter data: streaming validation, VEE, synthetic datasets.",
    no_args_is_help=True,
)


@meterdata_app.command("validate")
@handles_errors
def validate_cmd(
    file: Path = typer.Argument(
        ..., help="MeterData v0.6 file (a MultiMeterBulkDataset array or one profile)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable report."),
    per_meter: bool = typer.Option(
        False, "--per-meter", help="Include per-meter summaries in --json output."
    ),
    max_findings: int = typer.Option(
        1000, "--max-findings", min=1, help="Detailed findings kept (counts stay exact)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on a terminal."),
) -> None:
    """Validate a bulk file in constant memory; exit 1 when any error is found."""
    from ies.meterdata.bulk import validate_file

    report = validate_file(file, progress=progress and not as_json, max_findings=max_findings)
    if as_json:
        print_json(report.to_dict(per_meter=per_meter))
    else:
        verdict = "[green]valid[/green]" if report.valid else "[red]invalid[/red]"
        console.print(
            f"{file}: {verdict} — {report.profiles} profiles, {len(report.meters)} meters, "
            f"{report.readings} readings, {report.error_count} errors, {report.warning_count} warnings",
            highlight=False,
        )
        for finding in report.findings[:50]:
            where = f" ({finding.meter})" if finding.meter else ""
            line = f"  {finding.severity} {finding.rule} {finding.path}{where}: {finding.message}"
            console.print(line, highlight=False, markup=False)
        if len(report.findings) > 50 or report.truncated:
            console.print("  … (use --json for the full list)", highlight=False)
    raise typer.Exit(0 if report.valid else 1)


@meterdata_app.command("vee")
@handles_errors
def vee_cmd(
    source: Path = typer.Argument(..., metavar="IN", help="MeterData v0.6 input file."),
    target: Path = typer.Argument(
        ..., metavar="OUT", help="Where to write the validated, estimated, edited file."
    ),
    max_interp: int = typer.Option(
        4, "--max-interp", help="Longest gap (intervals) filled by linear interpolation."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Validate, estimate and edit IN into OUT; exit 1 when OUT still has errors no estimate can fix."""
    from ies.meterdata.vee import run_vee

    summary = run_vee(source, target, max_interp=max_interp)
    if as_json:
        print_json(summary.to_dict())
    else:
        console.print(
            f"readings in {summary.readings_in}, valid {summary.valid}, rejected {summary.rejected}, "
            f"missing {summary.missing}, estimated {summary.estimated}, unresolved {summary.unresolved}",
            highlight=False,
        )
        methods = ", ".join(f"{name} {count}" for name, count in sorted(summary.methods.items())) or "none"
        console.print(f"estimation methods: {methods}", highlight=False)
        verdict = "[green]valid MeterData 0.6[/green]" if summary.output_valid else "[red]still invalid[/red]"
        console.print(f"{target}: {verdict} ({summary.output_errors} errors)", highlight=False)
        for finding in summary.residual[:20]:
            console.print(
                f"  {finding.rule} {finding.path}: {finding.message}", highlight=False, markup=False
            )
    raise typer.Exit(0 if summary.output_valid else 1)


@meterdata_app.command("generate")
@handles_errors
def generate_cmd(
    target: Path = typer.Argument(
        ..., metavar="OUT", help="Where to write the synthetic MeterData bulk file."
    ),
    meters: int = typer.Option(100, "--meters", min=1, help="Number of meters (N)."),
    days: int = typer.Option(7, "--days", min=1, help="Days of 15-minute reads per meter (D)."),
    faults: int = typer.Option(0, "--faults", min=0, help="Faults to inject, one per meter."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
    faults_out: Path | None = typer.Option(
        None, "--faults-out", help="Side file listing every injected fault."
    ),
) -> None:
    """Generate a realistic bulk dataset (N meters × 96 reads × D days) with faults at known positions."""
    from ies.errors import UsageError
    from ies.meterdata.synth import generate, write_faults

    try:
        dataset = generate(target, meters=meters, days=days, faults=faults, seed=seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if faults_out is not None:
        write_faults(faults_out, dataset)
    console.print(
        f"{target}: {dataset.meters} meters × {dataset.days} days, {dataset.readings} readings, "
        f"{len(dataset.faults)} faults",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(meterdata_app, name="meterdata")
