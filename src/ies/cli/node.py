"""`ies node init|serve|info`: create a node folder and run it as a role server."""

from __future__ import annotations

from pathlib import Path

import typer

from ies.cli._common import console, handles_errors, print_json

node_app = typer.Typer(help="Create and run a node (a role server).", no_args_is_help=True)


@node_app.command("init")
@handles_errors
def init(
    directory: Path = typer.Argument(..., help="Folder for config.toml, keys.json and admin.token."),
    role: list[str] = typer.Option(
        ..., "--role", help="BAP, BPP, CDS, REGISTRY, LEDGER, DISCOM, ISSUER… (repeat)"
    ),
    name: str = typer.Option(None, help="Node name (default: the folder name)."),
    port: int = typer.Option(8200, help="Port to listen on (127.0.0.1)."),
    subscriber_id: str = typer.Option(None, help="Subscriber id (default: NAME.ies.local)."),
    registry_url: str = typer.Option(None, help="Registry base URL."),
    cds_url: str = typer.Option(None, help="CDS Beckn URL (BAP and BPP)."),
    database_url: str = typer.Option(None, help="Database URL (default: SQLite node.db in the folder)."),
    force: bool = typer.Option(False, help="Overwrite an existing config and keys."),
) -> None:
    """Write a node config (TOML), a fresh Ed25519+X25519 key file (0600) and an operator token."""
    from ies.node.config import init_node

    path = init_node(
        directory,
        name=name or directory.name,
        roles=role,
        port=port,
        subscriber_id=subscriber_id,
        registry_url=registry_url,
        cds_url=cds_url,
        database_url=database_url,
        overwrite=force,
    )
    console.print(f"wrote {path}")


@node_app.command("serve")
@handles_errors
def serve(
    config: Path = typer.Option(Path("config.toml"), "--config", "-c", help="The node's config.toml."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Run the node under uvicorn (OpenAPI docs at /docs)."""
    import uvicorn

    from ies.node.app import create_app
    from ies.node.config import load_config

    cfg = load_config(config)
    uvicorn.run(
        create_app(cfg),
        host=cfg.host,
        port=cfg.port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


@node_app.command("info")
@handles_errors
def info(config: Path = typer.Option(Path("config.toml"), "--config", "-c")) -> None:
    """Print the node's identity (never its private keys)."""
    from ies.node.config import load_config

    cfg = load_config(config)
    keys = cfg.keys()
    print_json(
        {
            "name": cfg.name,
            "roles": [r.value for r in cfg.roles],
            "subscriber_id": cfg.subscriber_id,
            "key_id": keys.key_id,
            "signing_public_key": keys.signing.public_key_b64,
            "encr_public_key": keys.encryption.public_key_b64,
            "url": cfg.public_url,
            "beckn_url": cfg.beckn_url,
        }
    )


def register(app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")
