"""`ies keys new|rotate`: key files for nodes and for interop testing."""

from __future__ import annotations

from pathlib import Path

import typer

from ies.cli._common import console, handles_errors, print_json
from ies.errors import UsageError

keys_app = typer.Typer(help="Create and rotate node keys.", no_args_is_help=True)


@keys_app.command("new")
@handles_errors
def new(
    out: Path = typer.Argument(..., help="Key file to write (created with mode 0600)."),
    key_id: str = typer.Option("k1", "--key-id", help="The key id this key is registered under."),
    force: bool = typer.Option(False, help="Overwrite an existing file."),
) -> None:
    """Write a fresh Ed25519 signing + X25519 encryption key file; print only the public halves."""
    from ies.identity.keys import NodeKeys, save_node_keys

    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite")
    keys = NodeKeys.generate(key_id=key_id)
    save_node_keys(out, keys)
    print_json(
        {
            "key_file": str(out),
            "key_id": keys.key_id,
            "signing_public_key": keys.signing.public_key_b64,
            "encr_public_key": keys.encryption.public_key_b64,
        }
    )


@keys_app.command("rotate")
@handles_errors
def rotate(
    config: Path = typer.Option(
        Path("config.toml"), "--config", "-c", help="The running node's config.toml."
    ),
    grace_s: int = typer.Option(
        None, "--grace", help="Seconds the old key keeps verifying (≤ registry max)."
    ),
) -> None:
    """Ask a running node to register a new key (signed by its current key) and switch to it."""
    import httpx

    from ies.node.config import load_config

    cfg = load_config(config)
    body = {} if grace_s is None else {"grace_s": grace_s}
    try:
        resp = httpx.post(
            f"{cfg.public_url}/admin/rotate",
            json=body,
            headers={"Authorization": f"Bearer {cfg.admin_token()}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise UsageError(
            f"node {cfg.name} is not reachable at {cfg.public_url}: {exc.__class__.__name__}"
        ) from None
    if resp.status_code != 200:
        raise UsageError(f"rotation refused: {resp.text}")
    console.print_json(resp.text)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
