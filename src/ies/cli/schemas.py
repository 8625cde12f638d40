"""`ies validate FILE...` and `ies schemas list|rules|drift|expand`: the schema catalogue from the shell.

Exit codes of `ies validate`: 0 every file valid; 1 any file invalid; 2 any file unusable (unreadable,
not JSON, no known schema family) — unusable wins over invalid, since the run proved nothing about it.
`--json` prints one report per file, one JSON object per line:
`{"file", "family", "version", "valid", "errors": [{"path", "rule", "message"}], "warnings": [...]}`.
MeterData arrays above 16 MiB (or any, with `--stream`) go to the streaming bulk validator of
`ies.meterdata.bulk`, which uses the same rule ids and adds a `bulk` member with totals per meter.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import console, err_console, handles_errors, print_json
from ies.errors import InvalidJSON, UsageError

schemas_app = typer.Typer(
    help="The bundled IES schema catalogue: list, rules, JSON-LD checks.", no_args_is_help=True
)

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
#: Above this size a MeterData array is streamed by `ies.meterdata.bulk` (constant memory) instead of parsed
#: whole; below it the in-memory validator is faster and reports the same rule ids.
BULK_THRESHOLD_BYTES = 16 * 2**20
_SNIFF_BYTES = 64 * 1024


def register(app: typer.Typer) -> None:
    app.add_typer(schemas_app, name="schemas")
    app.command(name="validate")(validate_command)


def _parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    if value == "now":
        return dt.datetime.now(dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at must be 'now' or an ISO 8601 date-time with offset, got {value!r}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"--at needs a UTC offset (e.g. {value}Z), got {value!r}")
    return parsed


def _is_bulk_meter_data(path: Path, family: str | None, version: str | None, stream: bool) -> bool:
    """A MeterData v0.6 array large enough (or asked) to stream: sniffed from its first bytes, not parsed."""
    if family not in (None, "MeterData") or version not in (None, "0.6", "v0.6") or str(path) == "-":
        return False
    try:
        if not stream and path.stat().st_size <= BULK_THRESHOLD_BYTES:
            return False
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False  # the in-memory path reports the unreadable file
    return head.lstrip().startswith(b"[") and b'"profileType"' in head and b"Credential" not in head


def _validate_bulk(path: Path, strict: bool) -> tuple[int, dict[str, Any]]:
    from ies.meterdata.bulk import validate_file

    bulk = validate_file(path, progress=sys.stderr.isatty())
    report = bulk.to_dict()
    if strict and report["warnings"]:
        report["errors"] = report["errors"] + report["warnings"]
        report["warnings"], report["valid"] = [], False
    return (EXIT_OK if report["valid"] else EXIT_INVALID), report


def _validate_one(
    path: Path,
    family: str | None,
    version: str | None,
    strict: bool,
    at: dt.datetime | None,
    stream: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Exit status and JSON report for one file (unusable input becomes a report too, never a traceback)."""
    from ies.schemas import UnknownSchema, load_document, rule_ids, validate

    try:
        if _is_bulk_meter_data(path, family, version, stream):
            return _validate_bulk(path, strict)
        doc = load_document(path)
        report = validate(doc, family, version, strict=strict, at=at)
    except (UsageError, InvalidJSON) as exc:
        if isinstance(exc, InvalidJSON):
            rule = rule_ids.INPUT_NOT_JSON
        elif isinstance(exc, UnknownSchema):
            rule = rule_ids.INPUT_UNKNOWN_FAMILY
        else:
            rule = rule_ids.INPUT_UNREADABLE
        error = {"path": "", "rule": rule, "message": exc.message}
        return EXIT_UNUSABLE, {
            "file": str(path),
            "family": family,
            "version": version,
            "valid": False,
            "errors": [error],
            "warnings": [],
        }
    return (EXIT_OK if report.valid else EXIT_INVALID), report.to_dict(file=str(path))


def _print_human(status: int, report: dict[str, Any], verbose: bool) -> None:
    where = f"{report['family']}@{report['version']}" if report["family"] else "unknown schema"
    warnings = report.get("warnings", [])
    if status == EXIT_OK:
        note = f" ({len(warnings)} warning(s))" if warnings else ""
        console.print(f"[green]valid[/green]   {report['file']}: {where}{note}", highlight=False)
    elif status == EXIT_INVALID:
        console.print(f"[red]invalid[/red] {report['file']}: {where}", highlight=False)
    else:
        message = report["errors"][0]["message"]
        err_console.print(f"[red]error[/red]   {report['file']}: {message}", highlight=False, soft_wrap=True)
        return
    for error in report["errors"]:
        console.print(
            f"  [{error['rule']}] {error['path'] or '/'}: {error['message']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if verbose:
        for warning in warnings:
            console.print(
                f"  warning [{warning['rule']}] {warning['path'] or '/'}: {warning['message']}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


@handles_errors
def validate_command(
    files: list[Path] = typer.Argument(
        ..., help="JSON files to validate ('-' reads standard input).", show_default=False
    ),
    schema: str | None = typer.Option(
        None, "--schema", help="FAMILY@VERSION to validate against (detected from each payload otherwise)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON report per file, one per line."),
    strict: bool = typer.Option(
        False, "--strict", help="Treat warnings (JSON-LD, ArrFiling roll-ups) as errors."
    ),
    at: str | None = typer.Option(
        None, "--at", help="Evaluate expiry at this instant ('now' or ISO 8601); default: no clock checks."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also list warnings."),
    stream: bool = typer.Option(
        False,
        "--stream",
        help="Stream MeterData arrays in constant memory whatever their size (bulk validator).",
    ),
) -> None:
    """Validate IES payloads: JSON Schema 2020-12, then the family's semantic rules, then JSON-LD."""
    from ies.schemas import parse_spec

    family, version = parse_spec(schema) if schema else (None, None)
    instant = _parse_at(at)
    worst = EXIT_OK
    for path in files:
        status, report = _validate_one(path, family, version, strict, instant, stream)
        worst = max(worst, status)
        if as_json:
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        else:
            _print_human(status, report, verbose)
    raise typer.Exit(worst)


@schemas_app.command("list")
@handles_errors
def list_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every bundled family and version with its maturity (stable, wip, superseded)."""
    from rich.table import Table

    from ies.schemas import catalogue

    rows: list[dict[str, str | int]] = [
        {"family": e.family, "version": e.version, "status": e.status, "examples": len(e.examples())}
        for e in catalogue()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("family", "version", "status", "examples")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("family", "version", "status", "examples")))
    console.print(table)


@schemas_app.command("rules")
@handles_errors
def rules_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The stable rule ids findings carry, with what each means."""
    from ies.schemas.rule_ids import RULES

    if as_json:
        print_json(RULES)
        return
    for rule, meaning in RULES.items():
        console.print(f"{rule:34} {meaning}", highlight=False, markup=False, soft_wrap=True)


@schemas_app.command("drift")
@handles_errors
def drift_command(
    schema: str = typer.Argument(..., help="FAMILY@VERSION whose context to check."),
    context: Path | None = typer.Option(
        None, "--context", help="Check this context file instead of the bundled one."
    ),
) -> None:
    """JSON-LD context drift: terms the context defines that its schema and vocabulary do not know."""
    from ies.schemas import get, load_document, parse_spec
    from ies.schemas.jsonld import context_drift

    entry = get(*parse_spec(schema))
    findings = context_drift(entry, load_document(context) if context else None)
    for finding in findings:
        console.print(
            f"[{finding.rule}] {finding.path}: {finding.message}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if findings:
        raise typer.Exit(EXIT_INVALID)
    console.print(f"no drift in the {entry.key} context", highlight=False)


@schemas_app.command("expand")
@handles_errors
def expand_command(
    file: Path = typer.Argument(..., help="JSON-LD document to expand with the bundled contexts (offline)."),
    schema: str | None = typer.Option(
        None, "--schema", help="FAMILY@VERSION whose context applies by default."
    ),
) -> None:
    """Print the JSON-LD expansion of a payload; contexts come from package data, never the network."""
    from pyld.jsonld import JsonLdError

    from ies.schemas import detect, get, load_document, parse_spec
    from ies.schemas.jsonld import expand

    doc = load_document(file)
    entry = get(*parse_spec(schema)) if schema else get(*detect(doc))
    items = doc if isinstance(doc, list) else [doc]
    has_context = any(isinstance(i, dict) and "@context" in i for i in items)
    try:
        print_json(expand(doc, default_context=None if has_context else entry.context_url))
    except JsonLdError as exc:
        err_console.print(
            f"[red]error[/red]: JSON-LD expansion failed: {str(exc).splitlines()[0]}", highlight=False
        )
        raise typer.Exit(EXIT_INVALID) from None
