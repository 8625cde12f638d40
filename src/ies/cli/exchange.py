"""`ies exchange sign|verify`: BECKN-006 signatures for interop testing, on the nodes' own code path."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ies.cli._common import console, err_console, handles_errors
from ies.errors import IESError, UsageError

exchange_app = typer.Typer(
    help="Sign and verify Beckn HTTP message signatures (BECKN-006).", no_args_is_help=True
)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None


@exchange_app.command("sign")
@handles_errors
def sign(
    body_file: Path = typer.Argument(..., help="The exact body bytes to sign."),
    seed_file: Path = typer.Option(
        ..., "--seed-file", help="base64 private key: 32-byte seed or 64 (seed‖pub)."
    ),
    subscriber: str = typer.Option(..., "--subscriber", help="Subscriber id for keyId."),
    key_id: str = typer.Option(..., "--key-id", help="Unique key id for keyId."),
    created: int = typer.Option(None, "--created", help="Unix time (default: now)."),
    expires: int = typer.Option(None, "--expires", help="Unix time (default: created + 300)."),
) -> None:
    """Print the Authorization header value for the exact bytes of BODY_FILE."""
    from ies.exchange.signing import build_authorization
    from ies.identity.keys import SigningKeyPair

    key = SigningKeyPair.from_private_b64(_read(seed_file, "seed file").decode("ascii", "replace"))
    body = _read(body_file, "body file")
    created = int(time.time()) if created is None else created
    if expires is not None and expires < created:
        raise UsageError("--expires must not be before --created")
    print(
        build_authorization(
            body, subscriber_id=subscriber, key_id=key_id, key=key, created=created, expires=expires
        )
    )


@exchange_app.command("verify")
def verify(
    body_file: Path = typer.Argument(..., help="The exact body bytes received."),
    public_key: str = typer.Option(..., "--public-key", help="base64 raw 32-byte Ed25519 public key."),
    header: str = typer.Option(..., "--header", help="The Authorization header value."),
    at: int = typer.Option(None, "--at", help="Check validity at this Unix time (default: now)."),
    skew: int = typer.Option(5, "--skew", help="Seconds `created` may lie in the future."),
) -> None:
    """Exit 0 when the signature is valid at that time, 1 with the reason otherwise (2: unusable input)."""
    from ies.exchange.signing import parse_authorization, verify_parsed
    from ies.identity.keys import b64decode_strict

    try:
        key = b64decode_strict(public_key, what="--public-key", lengths=(32,))
        body = _read(body_file, "body file")
        parsed = parse_authorization(header)
        now = time.time() if at is None else at
        if parsed.created > now + skew:
            raise _invalid("created is in the future")
        if now > parsed.expires:
            raise _invalid("signature has expired")
        verify_parsed(parsed, body, key)
    except UsageError as exc:
        err_console.print(f"error [{exc.code}]: {exc.message}")
        raise typer.Exit(2) from None
    except IESError as exc:
        console.print(f"INVALID [{exc.code}]: {exc.message}")
        raise typer.Exit(1) from None
    console.print(f"VALID: signed by {parsed.subscriber_id} key {parsed.key_id}")


def _invalid(message: str) -> IESError:
    from ies.errors import SignatureInvalid

    return SignatureInvalid(message)


def register(app: typer.Typer) -> None:
    app.add_typer(exchange_app, name="exchange")
