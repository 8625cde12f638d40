"""`ies policy bundle build|verify`, `ies policy eval`, `ies policy catalogue`: signed Rego policy bundles.

Exit codes: 0 built / verified / evaluated; 1 the bundle fails verification (untrusted key, bad
signature, altered file, does not compile) or the query fails; 2 unusable input (no such file, not a
bundle archive, unreadable key or input file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import err_console, handles_errors, print_json
from ies.errors import UsageError

policy_app = typer.Typer(
    help="Machine-readable rules: signed Rego bundles and the data policy.", no_args_is_help=True
)
bundle_app = typer.Typer(help="Build and verify signed policy bundles.", no_args_is_help=True)
policy_app.add_typer(bundle_app, name="bundle")


def _summary(bundle: Any, trusted: bool) -> dict[str, Any]:
    m = bundle.manifest
    return {
        "name": m.name,
        "version": m.version,
        "revision": m.revision,
        "hash": bundle.hash,
        "created": m.created.isoformat().replace("+00:00", "Z"),
        "publisher": m.publisher.model_dump(),
        "public_key": bundle.signature["public_key"],
        "trusted": trusted,
        "entrypoints": m.entrypoints,
        "files": m.files,
    }


@bundle_app.command("build")
@handles_errors
def build(
    source: Path = typer.Argument(..., help="Folder with *.rego, data.json and bundle.toml."),
    key_file: Path = typer.Option(..., "--key-file", help="The publisher's key file (`ies keys new`)."),
    out: Path = typer.Option(..., "--out", help="Signed bundle to write (.tar.gz)."),
    publisher: str | None = typer.Option(
        None,
        "--publisher",
        help="Publisher subscriber id (default: bundle.toml `publisher`, else the key id).",
    ),
    version: str | None = typer.Option(None, "--version", help="Override bundle.toml version."),
    revision: int | None = typer.Option(None, "--revision", help="Override bundle.toml revision."),
) -> None:
    """Compile-check, hash every file, sign the manifest (Ed25519, RFC 8785) and pack the bundle."""
    import tomllib

    from ies.identity.keys import load_node_keys
    from ies.policy.bundle import SOURCE_FILE, build_bundle, read_source
    from ies.policy.verify import load_bundle

    keys = load_node_keys(key_file)
    if publisher is None:
        toml_path = source / SOURCE_FILE
        meta: dict[str, Any] = {}
        if toml_path.is_file():
            try:
                meta = dict(tomllib.loads(toml_path.read_text("utf-8")).get("bundle", {}))
            except (OSError, tomllib.TOMLDecodeError):
                meta = {}
        publisher = str(meta.get("publisher") or keys.key_id)
        if not meta.get("publisher"):
            err_console.print(
                f"[yellow]note:[/yellow] no --publisher: the manifest names {publisher!r} (the key id); "
                "nodes that trust publishers through the registry need your subscriber id",
                highlight=False,
            )
    src = read_source(source, version=version, revision=revision)
    archive = build_bundle(src, keys.signing, publisher=publisher, key_id=keys.key_id)
    try:
        out.write_bytes(archive)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    print_json({"bundle": str(out), **_summary(load_bundle(archive, [keys.signing.public_key]), True)})


@bundle_app.command("verify")
@handles_errors
def verify(
    bundle: Path = typer.Argument(..., help="Signed bundle (.tar.gz)."),
    trusted_key: list[str] = typer.Option(
        ..., "--trusted-key", help="Base64 Ed25519 public key of a trusted publisher (repeatable)."
    ),
) -> None:
    """Verify trust, signature and every file hash, and that the policy compiles; print the manifest."""
    from ies.policy.engine import CompiledPolicy
    from ies.policy.verify import load_bundle

    verified = load_bundle(bundle, trusted_key)
    CompiledPolicy(verified)
    print_json({"verified": True, **_summary(verified, True)})


@policy_app.command("eval")
@handles_errors
def evaluate(
    bundle: Path = typer.Argument(..., help="Signed bundle (.tar.gz)."),
    query: str = typer.Option(..., "--query", help="Rego query, e.g. data.ies.access.decision."),
    input_file: Path | None = typer.Option(None, "--input", help="JSON file with the input document."),
    trusted_key: list[str] = typer.Option(
        [], "--trusted-key", help="Trusted publisher key (base64). Without one, only integrity is checked."
    ),
) -> None:
    """Evaluate a query against a verified bundle and print the result as JSON."""
    from ies.policy.engine import CompiledPolicy
    from ies.policy.verify import load_bundle, peek_manifest, read_archive

    input_doc: dict[str, Any] = {}
    if input_file is not None:
        try:
            loaded = json.loads(input_file.read_text("utf-8"))
        except FileNotFoundError:
            raise UsageError(f"input file {input_file} does not exist") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"input file {input_file} is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise UsageError("the input document must be a JSON object")
        input_doc = loaded
    trusted = bool(trusted_key)
    keys: list[str | bytes] = list(trusted_key)
    if not trusted:
        peek_manifest(bundle)
        raw = bundle.read_bytes()
        embedded = json.loads(read_archive(raw).get("signature.json", b"{}") or b"{}").get("public_key", "")
        keys = [str(embedded)] if embedded else []
        err_console.print(
            "[yellow]warning:[/yellow] no --trusted-key: integrity checked against the key inside the "
            "bundle; its publisher is NOT checked against a trust anchor",
            highlight=False,
        )
    policy = CompiledPolicy(load_bundle(bundle, keys))
    print_json(
        {"bundle": {**policy.ref.to_dict(), "trusted": trusted}, "result": policy.query(query, input_doc)}
    )


@policy_app.command("catalogue")
@handles_errors
def catalogue(
    custodian: str = typer.Option("discom.example", "--custodian", help="Subscriber id of the custodian."),
    beckn: bool = typer.Option(False, "--beckn", help="Print it as the Beckn catalogue sent to the CDS."),
) -> None:
    """Print the default data catalogue (taxonomy class, criticality, personal flag, retention, cadence)."""
    from ies.policy.catalogue import default_catalogue

    cat = default_catalogue(custodian)
    print_json(cat.beckn_catalog(custodian) if beckn else cat.to_json())


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
