"""`ies did show|resolve`: print a key's did:key or a node's did:web document, and resolve any DID.

Exit codes: 0 done; 1 the DID is invalid, not found, unreachable or its document is unusable; 2 the input
cannot be used (missing or unreadable key file or config, a malformed `--override`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import handles_errors, print_json
from ies.errors import UsageError
from ies.identity.verification_method import KeyFormat

did_app = typer.Typer(
    help="DIDs: show this node's or a key's DID document, resolve any DID.", no_args_is_help=True
)

_FORMATS: dict[str, KeyFormat] = {
    "multikey": "Multikey",
    "jwk": "JsonWebKey2020",
    "legacy": "Ed25519VerificationKey2018",
}


def register(app: typer.Typer) -> None:
    app.add_typer(did_app, name="did")


def _read_public_key(path: Path) -> bytes:
    """The Ed25519 public key of a key file, without ever printing private material.

    Accepted: the JSON key files `ies keys new` / `ies node init` write (`seed_b64`, optional
    `public_key_b64`), a JSON file with only `public_key_b64`, or a text file holding the base64 private
    key as Beckn configs ship it (32-byte seed, or 64 bytes seed then public key).
    """
    from ies.identity.keys import SigningKeyPair, b64decode_strict

    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"key file {path} is not readable: {type(exc).__name__}") from None
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return SigningKeyPair.from_private_b64(stripped).public_key
    try:
        data = json.loads(stripped)
    except ValueError:
        raise UsageError(f"key file {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise UsageError(f"key file {path} is not a JSON object")
    public: bytes | None = None
    if isinstance(data.get("public_key_b64"), str):
        public = b64decode_strict(data["public_key_b64"], what="public_key_b64", lengths=(32,))
    if isinstance(data.get("seed_b64"), str):
        seed = b64decode_strict(data["seed_b64"], what="seed_b64", lengths=(32,))
        derived = SigningKeyPair.from_seed(seed).public_key
        if public is not None and public != derived:
            raise UsageError(f"key file {path}: public_key_b64 does not match the seed")
        public = derived
    if public is None:
        raise UsageError(f"key file {path} holds neither seed_b64 nor public_key_b64")
    return public


def _node_document(config: Path, key_format: KeyFormat) -> tuple[str, dict[str, Any]]:
    from ies.identity.did import did_web_for_subscriber, node_did_document
    from ies.node.config import load_config

    cfg = load_config(config)
    did = did_web_for_subscriber(cfg.subscriber_id)
    beckn = {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": cfg.beckn_url}
    return did, node_did_document(did, cfg.keys(), key_format=key_format, services=[beckn])


@did_app.command("show")
@handles_errors
def show(
    key_file: Path = typer.Option(None, "--key-file", help="A key file: print its did:key and document."),
    node_config: Path = typer.Option(None, "--node-config", help="A node's config.toml: print its did:web."),
    public_key: str = typer.Option(None, "--public-key", help="A base64 Ed25519 public key (32 bytes)."),
    key_format: str = typer.Option("multikey", "--format", help="Key form: multikey, jwk or legacy (2018)."),
    as_json: bool = typer.Option(False, "--json", help='Print one JSON object {"did", "document"}.'),
) -> None:
    """Print the DID and DID document for a key (did:key) or for a node (did:web)."""
    from ies.identity.did import did_key_document, did_key_from_ed25519
    from ies.identity.keys import b64decode_strict

    given = [x for x in (key_file, node_config, public_key) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of --key-file, --node-config or --public-key")
    fmt = _FORMATS.get(key_format.lower())
    if fmt is None:
        raise UsageError(f"--format must be one of {', '.join(_FORMATS)}, got {key_format!r}")
    if node_config is not None:
        did, document = _node_document(node_config, fmt)
    else:
        raw = (
            _read_public_key(key_file)
            if key_file is not None
            else b64decode_strict(public_key, what="--public-key", lengths=(32,))
        )
        did = did_key_from_ed25519(raw)
        document = did_key_document(did, key_format=fmt)
    if as_json:
        print_json({"did": did, "document": document})
        return
    typer.echo(did)
    print_json(document)


def _parse_overrides(values: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for value in values:
        did, sep, target = value.partition("=")
        if not sep or not did or not target:
            raise UsageError(f"--override {value!r} must look like DID=URL or DID=@document.json")
        if target.startswith("@"):
            path = Path(target[1:])
            try:
                overrides[did] = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(
                    f"--override {did}: cannot read a JSON document from {path}: {exc}"
                ) from None
        else:
            overrides[did] = target
    return overrides


@did_app.command("resolve")
@handles_errors
def resolve(
    did: str = typer.Argument(..., help="The DID to resolve (did:key or did:web)."),
    override: list[str] = typer.Option(
        [], "--override", help="DID=URL (base URL or document URL) or DID=@file.json; repeatable."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print only the DID document as JSON."),
    timeout_s: float = typer.Option(5.0, "--timeout", help="HTTP timeout in seconds."),
) -> None:
    """Resolve a DID to its document; exit 1 when it is invalid, unreachable or not found."""
    from ies.identity.did import DIDResolver, list_keys

    with DIDResolver(_parse_overrides(override), timeout_s=timeout_s) as resolver:
        document = resolver.resolve(did)
    if as_json:
        print_json(document)
        return
    typer.echo(did)
    now = datetime.now(UTC)
    for key in list_keys(document, did):
        state = "usable" if key.usable_at(now) else "expired/revoked/not yet valid"
        uses = ", ".join(sorted(key.relationships)) or "no relationship"
        line = f"  {key.id}  {key.key_type} ({key.method_type})  {uses}  [{state}]"
        typer.echo(line)
    print_json(document)
