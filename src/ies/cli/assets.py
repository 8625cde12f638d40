"""`ies assets import|export|list|show|tree|history|update|structure`: the asset registry from a shell.

The database is `--db URL`, else `$IES_DATABASE_URL`, else `sqlite:///./.ies/node.db` (the node's own
file). Commands that print records have `--json` for scripts.

Exit codes: 0 done; 1 an entity is not found, a change is refused (invalid attributes, wrong parent,
forbidden transition…), or an import refused some rows (the good rows are still imported, and the refused
ones are listed with their line numbers); 2 the input cannot be used (missing or
malformed CSV, unusable database URL, a time without a timezone).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ies.cli._common import console, handles_errors, print_json
from ies.errors import ConflictError, UsageError

DEFAULT_DB_URL = "sqlite:///./.ies/node.db"

assets_app = typer.Typer(
    help="Asset and entity registry: import a CSV, show an entity, its tree and its history.",
    no_args_is_help=True,
)

DbOption = typer.Option(None, "--db", help="Database URL [default: $IES_DATABASE_URL or ./.ies/node.db]")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of tables.")
AsOfOption = typer.Option(
    None, "--as-of", help="Read the state as it stood at this ISO 8601 time (with zone)."
)


def database_url(given: str | None) -> str:
    return given or os.environ.get("IES_DATABASE_URL") or DEFAULT_DB_URL


@contextmanager
def _session(db: str | None, *, create: bool) -> Iterator[Session]:
    """A migrated database in one transaction; a missing SQLite file is created only when importing."""
    from ies.store import migrate, open_engine

    url = database_url(db)
    if not create and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        if not path.exists():
            raise UsageError(f"no database at {path}; import a CSV first or pass --db")
    engine = open_engine(url)
    try:
        migrate(engine)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except OperationalError as exc:
        raise UsageError(f"cannot use database {url.split('@')[-1]}: {exc.orig}") from None
    except IntegrityError:
        raise ConflictError(
            "another writer changed the same entities at the same time; run it again"
        ) from None
    finally:
        engine.dispose()


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@assets_app.command("import")
@handles_errors
def import_command(
    csv_file: Path | None = typer.Argument(
        None, help="CSV file: class,id,parent,status,discom,<attributes>…"
    ),
    sample: bool = typer.Option(False, "--sample", help="Import the sample network shipped with ies."),
    db: str | None = DbOption,
    discom: str | None = typer.Option(
        None, "--discom", help="DISCOM host for rows with a blank discom cell."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Recorded as the author [default: cli:$USER]."),
    as_json: bool = JsonOption,
) -> None:
    """Import entities from a CSV; bad rows are reported and skipped, good rows kept (one transaction)."""
    from ies.registry.assets.csv_import import import_csv_file, sample_csv_path

    if (csv_file is None) == (not sample):
        raise UsageError("give either a CSV file or --sample")
    csv_file = csv_file or sample_csv_path()
    with _session(db, create=True) as session:
        report = import_csv_file(session, csv_file, actor=actor or _default_actor(), default_discom=discom)
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        console.print(
            f"{report.source}: {report.rows} rows, {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.errors)} refused",
            highlight=False,
        )
        if report.errors:
            table = Table("line", "class", "id", "code", "reason")
            for err in report.errors:
                table.add_row(
                    str(err.line), err.entity_class or "", err.local_id or "", err.code, err.message
                )
            console.print(table)
    if report.errors:
        raise typer.Exit(1)


@assets_app.command("export")
@handles_errors
def export_command(
    db: str | None = DbOption,
    discom: str | None = typer.Option(None, "--discom", help="Only this DISCOM's entities."),
    as_of: str | None = AsOfOption,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file [default: stdout]."),
) -> None:
    """Write every entity as CSV in the import format (now or as of a time)."""
    from ies.registry.assets import queries
    from ies.registry.assets.csv_export import export_csv

    when = queries.parse_time(as_of) if as_of else None
    with _session(db, create=False) as session:
        text = export_csv(session, discom=discom, as_of=when)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc}") from None
    console.print(f"wrote {text.count(chr(10)) - 1} entities to {output}", highlight=False)


@assets_app.command("list")
@handles_errors
def list_command(
    db: str | None = DbOption,
    entity_class: str | None = typer.Option(None, "--class", help="Only this class (meter, dt, …)."),
    status: str | None = typer.Option(None, "--status", help="Only this status."),
    discom: str | None = typer.Option(None, "--discom", help="Only this DISCOM."),
    local_id: str | None = typer.Option(None, "--local-id", help="Find by the DISCOM's internal id."),
    as_of: str | None = AsOfOption,
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """List entities matching every filter given, ordered by id."""
    from ies.registry.assets import queries
    from ies.registry.assets.structure import parse_entity_class, parse_status

    with _session(db, create=False) as session:
        found = queries.find_entities(
            session,
            discom=discom,
            entity_class=parse_entity_class(entity_class) if entity_class else None,
            status=parse_status(status) if status else None,
            local_id=local_id,
            as_of=queries.parse_time(as_of) if as_of else None,
            limit=limit,
        )
    if as_json:
        print_json({"entities": [e.model_dump(mode="json") for e in found]})
        return
    table = Table("id", "class", "status", "parent")
    for e in found:
        table.add_row(e.id, e.entity_class, e.status, e.parent_id or "—")
    console.print(table, highlight=False)


def _parse_assignments(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value.strip()
    return out


@assets_app.command("update")
@handles_errors
def update_command(
    entity_id: str = typer.Argument(..., help="The entity's DID."),
    db: str | None = DbOption,
    status: str | None = typer.Option(None, "--status", help="New lifecycle status."),
    set_: list[str] = typer.Option([], "--set", help="Set an attribute: NAME=VALUE (repeatable)."),
    unset: list[str] = typer.Option([], "--unset", help="Remove an optional attribute (repeatable)."),
    parent: str | None = typer.Option(None, "--parent", help="Move under this parent (DID)."),
    detach: bool = typer.Option(False, "--detach", help="Remove the parent link."),
    expected_version: int | None = typer.Option(None, "--expected-version", help="Refuse unless at it."),
    reason: str | None = typer.Option(None, "--reason", help="Recorded with the change."),
    actor: str | None = typer.Option(None, "--actor", help="Recorded as the author [default: cli:$USER]."),
    as_json: bool = JsonOption,
) -> None:
    """Change one entity's status, attributes or parent; records a new version if anything changed."""
    from ies.registry.assets import queries
    from ies.registry.assets.changes import UNCHANGED, update_entity

    if parent is not None and detach:
        raise UsageError("give --parent or --detach, not both")
    attributes: dict[str, Any] = _parse_assignments(set_)
    attributes.update({name: None for name in unset})
    with _session(db, create=False) as session:
        prior = queries.get_entity(session, entity_id).version
        after = update_entity(
            session,
            entity_id,
            actor=actor or _default_actor(),
            attributes=attributes or None,
            status=status,
            parent=None if detach else (parent if parent is not None else UNCHANGED),
            expected_version=expected_version,
            reason=reason,
        )
    if as_json:
        print_json({"entity": after.model_dump(mode="json")})
    else:
        what = "unchanged" if after.version == prior else "recorded"
        console.print(f"{after.id}: version {after.version} {what}, {after.status}", highlight=False)


@assets_app.command("show")
@handles_errors
def show_command(
    entity_id: str = typer.Argument(..., help="The entity's DID."),
    db: str | None = DbOption,
    as_of: str | None = AsOfOption,
    as_json: bool = JsonOption,
) -> None:
    """Show one entity (now or as of a time) and its path up to the DISCOM."""
    from ies.registry.assets import queries

    when = queries.parse_time(as_of) if as_of else None
    with _session(db, create=False) as session:
        entity = queries.get_entity(session, entity_id, when)
        path = queries.ancestors(session, entity_id, when)
    if as_json:
        print_json(
            {"entity": entity.model_dump(mode="json"), "ancestors": [a.model_dump(mode="json") for a in path]}
        )
        return
    table = Table(show_header=False, box=None)
    rows: list[tuple[str, Any]] = [
        ("id", entity.id),
        ("class", entity.entity_class),
        ("discom", entity.discom),
        ("internal id", entity.local_id),
        ("status", entity.status),
        ("parent", entity.parent_id or "—"),
        ("version", f"{entity.version} (recorded {entity.updated_at.isoformat()} by {entity.updated_by})"),
        ("created", entity.created_at.isoformat()),
    ]
    rows += [(f"  {name}", value) for name, value in sorted(entity.attributes.items())]
    rows += [("path", " → ".join(a.id for a in path) or "—")]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table, highlight=False)


@assets_app.command("tree")
@handles_errors
def tree_command(
    entity_id: str = typer.Argument(..., help="The DID of the entity at the top of the tree."),
    db: str | None = DbOption,
    as_of: str | None = AsOfOption,
    depth: int | None = typer.Option(None, "--depth", min=1, max=10, help="Levels to show [default: all]."),
    as_json: bool = JsonOption,
) -> None:
    """Show everything below an entity in the network hierarchy."""
    from ies.registry.assets import queries

    when = queries.parse_time(as_of) if as_of else None
    with _session(db, create=False) as session:
        top = queries.get_entity(session, entity_id, when)
        nodes = queries.descendants(session, entity_id, when, depth)
    if as_json:
        print_json({"id": top.id, "descendants": [n.model_dump(mode="json") for n in nodes]})
        return

    def label(e: Any) -> str:
        status = "" if e.status == "ACTIVE" else f" [yellow]{e.status}[/yellow]"
        return f"{e.entity_class} [bold]{e.local_id}[/bold]{status}"

    root = Tree(label(top))
    branches = {top.id: root}
    for node in nodes:  # breadth first, so a parent's branch always exists already
        parent_branch = branches[node.entity.parent_id or top.id]
        branches[node.entity.id] = parent_branch.add(label(node.entity))
    console.print(root, highlight=False)


@assets_app.command("history")
@handles_errors
def history_command(
    entity_id: str = typer.Argument(..., help="The entity's DID."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """List every recorded version: when, by whom, what changed."""
    from ies.registry.assets import queries

    with _session(db, create=False) as session:
        versions = queries.history(session, entity_id)
    if as_json:
        print_json({"id": entity_id, "versions": [v.model_dump(mode="json") for v in versions]})
        return
    table = Table("version", "recorded at (UTC)", "by", "change", "what changed")
    for v in versions:
        if v.change == "CREATE":
            what = f"created {v.status} under {v.parent_id or '—'} with {len(v.attributes)} attribute(s)"
        else:
            what = "; ".join(f"{k}: {d['old']!s} → {d['new']!s}" for k, d in v.diff.items())
        table.add_row(str(v.version), v.changed_at.isoformat(), v.changed_by, v.change, what)
    console.print(table, highlight=False)


@assets_app.command("structure")
@handles_errors
def structure_command(as_json: bool = JsonOption) -> None:
    """List entity classes, their parent class, DID pattern and attribute columns (the CSV columns)."""
    from ies.registry.assets.structure import describe_structure

    classes = describe_structure()
    if as_json:
        print_json({"classes": classes})
        return
    table = Table("class", "parent", "DID", "attributes (* required)")
    for c in classes:
        attrs = ", ".join(a["name"] + ("*" if a["required"] else "") for a in c["attributes"])
        table.add_row(c["class"], c["parent_class"] or "—", c["did_pattern"], attrs)
    console.print(table, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(assets_app, name="assets")
