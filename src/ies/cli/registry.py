"""`ies registry …`: the operator's view of the subscriber directory (approve, suspend, list, lookup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from ies.cli._common import console, handles_errors, print_json
from ies.errors import NotFoundError, UsageError

registry_app = typer.Typer(help="Operate a registry (subscriber directory).", no_args_is_help=True)

CONFIG = typer.Option(
    None, "--config", "-c", help="The registry node's config.toml (default: the running network's registry)."
)
HOME = typer.Option(Path(".ies/network"), "--home", help="Network folder (when --config is not given).")


def _target(config: Path | None, home: Path) -> tuple[str, str]:
    from ies.node.config import load_config

    if config is None:
        from ies.sandbox.network import NetworkState

        state = NetworkState.load(home)
        reg = next((n for n in state.nodes if "REGISTRY" in n.roles), None)
        if reg is None:
            raise UsageError("the network has no registry")
        config = Path(reg.config)
    cfg = load_config(config)
    return cfg.public_url, cfg.admin_token()


def _call(method: str, config: Path | None, home: Path, path: str, **kw: Any) -> Any:
    import httpx

    url, token = _target(config, home)
    try:
        resp = httpx.request(
            method, f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
        )
    except httpx.HTTPError as exc:
        raise UsageError(f"registry at {url} unreachable: {exc.__class__.__name__}") from None
    body = resp.json() if resp.content else None
    if resp.status_code == 404:
        raise NotFoundError(str((body or {}).get("error", {}).get("message", "not found")))
    if resp.status_code >= 400:
        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        raise UsageError(f"{err.get('code', resp.status_code)}: {err.get('message', resp.text)}")
    return body


def _operator(action: str) -> Any:
    @handles_errors
    def command(subscriber_id: str = typer.Argument(...), config: Path = CONFIG, home: Path = HOME) -> None:
        body = _call("POST", config, home, f"/admin/subscribers/{subscriber_id}/{action}")
        console.print(f"{body['subscriber_id']}: {body['status']}")

    command.__doc__ = f"{action.capitalize()} a subscriber."
    return command


for _action in ("approve", "suspend", "reinstate", "unsubscribe"):
    registry_app.command(_action)(_operator(_action))


@registry_app.command("revoke-key")
@handles_errors
def revoke_key(key_id: str = typer.Argument(...), config: Path = CONFIG, home: Path = HOME) -> None:
    """Revoke one key now."""
    _call("POST", config, home, f"/admin/keys/{key_id}/revoke")
    console.print(f"{key_id}: REVOKED")


@registry_app.command("list")
@handles_errors
def listing(config: Path = CONFIG, home: Path = HOME, json_out: bool = typer.Option(False, "--json")) -> None:
    """List every subscriber key record."""
    rows = _call("GET", config, home, "/admin/subscribers")
    if json_out:
        print_json(rows)
        return
    table = Table(title="subscribers")
    for col in ("subscriber id", "key id", "roles", "status", "key status", "valid until", "url"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["subscriber_id"],
            r["key_id"],
            ",".join(r["roles"]),
            r["status"],
            r["key_status"],
            r["valid_until"],
            r["url"],
        )
    console.print(table)


@registry_app.command("lookup")
@handles_errors
def lookup(
    subscriber_id: str = typer.Argument(...),
    key_id: str = typer.Argument(...),
    config: Path = CONFIG,
    home: Path = HOME,
) -> None:
    """DeDi lookup of one key record (what verifiers see)."""
    from ies.registry.client import dedi_lookup_path

    print_json(_call("GET", config, home, dedi_lookup_path(subscriber_id, key_id)))


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
