"""`ies audit verify|export|publish|head`: check a node's audit log, export it for a regulator, sign its head.

Exit codes: 0 the log (or bundle) verifies; 1 something was edited, deleted, inserted or moved (each finding
is printed with its position); 2 unusable input (no such database, not a bundle, malformed tree head file).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import console, err_console, handles_errors, print_json
from ies.errors import UsageError

audit_app = typer.Typer(help="Tamper-evident audit log: verify, export, publish signed tree heads.")

DEFAULT_DB_URL = "sqlite:///./.ies/node.db"


def _db_url(db: str | None) -> str:
    return db or os.environ.get("IES_DATABASE_URL") or DEFAULT_DB_URL


def _open_log_engine(db: str | None) -> Any:
    """An engine on an existing database that holds an audit log (never creates one)."""
    from sqlalchemy import inspect

    from ies.store import open_engine

    url = _db_url(db)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        if not path.is_file():
            raise UsageError(f"no database at {path}")
    engine = open_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    except Exception as exc:  # the driver's own error type varies: refused connection, bad file…
        raise UsageError(f"cannot open the database: {exc.__class__.__name__}") from exc
    if not {"audit_entries", "audit_nodes", "audit_head"} <= tables:
        raise UsageError("this database has no audit log (run the node once, or `ies node init`)")
    return engine


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{what} {path} is not a JSON file") from exc


def _read_heads(paths: list[Path]) -> list[Any]:
    from ies.audit import SignedTreeHead

    heads = []
    for path in paths:
        data = _read_json(path, "tree head file")
        for item in data if isinstance(data, list) else [data]:
            heads.append(SignedTreeHead.from_dict(item))
    return heads


def _trusted_key(key: str | None) -> bytes | None:
    from ies.identity import b64decode_strict

    return b64decode_strict(key, what="--key", lengths=(32,)) if key else None


def _report(findings: list[dict[str, Any]], summary: str, as_json: bool, data: dict[str, Any]) -> None:
    if as_json:
        print_json(data)
    if findings:
        if not as_json:
            for f in findings:
                where = f"position {f['position']}" if f["position"] is not None else "log"
                console.print(f"[red]{f['kind']}[/red] at {where}: {f['message']}", highlight=False)
        err_console.print(f"[red]FAILED[/red]: {len(findings)} finding(s)", highlight=False)
        raise typer.Exit(1)
    if not as_json:
        console.print(f"[green]ok[/green]: {summary}", highlight=False)


@audit_app.command("verify")
@handles_errors
def verify(
    db: str = typer.Option(None, "--db", help="Database URL (default: $IES_DATABASE_URL or ./.ies/node.db)."),
    sth: list[Path] = typer.Option([], "--sth", help="A peer's saved signed tree head(s), JSON (repeat)."),
    bundle: Path = typer.Option(None, "--bundle", help="Verify an exported bundle offline instead of a DB."),
    peer: str = typer.Option(
        None, "--peer", help="Check the --sth heads kept from a peer against its log at this base URL."
    ),
    key: str = typer.Option(None, "--key", help="Trusted Ed25519 public key of the log (base64)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check every entry, the hash chain, the Merkle tree and the signed tree heads; report any tampering."""
    trusted = _trusted_key(key)
    if peer is not None:
        _verify_peer(peer, sth, trusted, as_json)
        return
    if bundle is not None:
        from ies.audit._bundle import verify_bundle

        head, found = verify_bundle(_read_json(bundle, "bundle"), trusted)
        findings = found.to_list()
        data = {"ok": not findings, "tree_head": head.to_dict(), "findings": findings}
        summary = (
            f"bundle verified against the signed tree head of size {head.tree_size} (log {head.log_id[:16]}…)"
        )
        _report(findings, summary, as_json, data)
        return
    from ies.audit._verify import check_log

    report = check_log(_open_log_engine(db), _read_heads(sth), trusted)
    summary = (
        f"{report.entries} entries, root {report.root_hash.hex()}, "
        f"{report.tree_heads_checked} signed tree head(s) checked"
    )
    _report(report.findings.to_list(), summary, as_json, report.to_dict())


def _verify_peer(url: str, sth: list[Path], trusted: bytes | None, as_json: bool) -> None:
    import httpx

    from ies.audit._peer import check_peer

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--peer must be an http(s) base URL, got {url!r}")
    kept = _read_heads(sth)
    with httpx.Client(base_url=url, timeout=30) as client:
        head, found = check_peer(client, kept, trusted)
    findings = found.to_list()
    summary = (
        f"{len(kept)} kept head(s) are prefixes of the peer's log of {head.tree_size} entries "
        f"(log {head.log_id[:16]}…)"
    )
    data = {"ok": not findings, "tree_head": head.to_dict(), "kept": len(kept), "findings": findings}
    _report(findings, summary, as_json, data)


@audit_app.command("export")
@handles_errors
def export(
    out: Path = typer.Argument(..., help="Bundle file to write (JSON)."),
    start: int = typer.Option(0, "--from", help="First sequence number (inclusive)."),
    end: int = typer.Option(None, "--to", help="End sequence number (exclusive; default: signed tree size)."),
    db: str = typer.Option(None, "--db", help="Database URL (default: $IES_DATABASE_URL or ./.ies/node.db)."),
) -> None:
    """Write entries [from, to), a signed tree head and proofs; `ies audit verify --bundle` checks it."""
    from ies.audit._bundle import export_bundle

    bundle = export_bundle(_open_log_engine(db), start, end)
    try:
        out.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from exc
    console.print(
        f"wrote {out}: {len(bundle['entries'])} entries, signed tree size {bundle['tree_head']['tree_size']}",
        highlight=False,
    )


@audit_app.command("publish")
@handles_errors
def publish(
    keys: Path = typer.Option(..., "--keys", help="The node's key file (keys.json, from `ies node init`)."),
    db: str = typer.Option(None, "--db", help="Database URL (default: $IES_DATABASE_URL or ./.ies/node.db)."),
    out: Path = typer.Option(None, "--out", help="Also write the signed tree head to this file."),
) -> None:
    """Sign the current tree head with the node's Ed25519 key, record it, and print it."""
    from sqlalchemy.orm import Session

    from ies.audit import publish_tree_head
    from ies.identity import load_node_keys

    node_keys = load_node_keys(keys)
    engine = _open_log_engine(db)
    with Session(engine) as session, session.begin():
        head = publish_tree_head(session, node_keys.signing)
    if out is not None:
        out.write_text(json.dumps(head.to_dict(), indent=2) + "\n", "utf-8")
    print_json(head.to_dict())


@audit_app.command("head")
@handles_errors
def head(
    db: str = typer.Option(None, "--db", help="Database URL (default: $IES_DATABASE_URL or ./.ies/node.db)."),
) -> None:
    """Print the current tree size and root, and the newest signed tree head."""
    from ies.audit import AuditLog

    log = AuditLog(_open_log_engine(db))
    latest = log.latest_tree_head()
    print_json({"head": log.head().to_dict(), "signed_tree_head": latest.to_dict() if latest else None})


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
