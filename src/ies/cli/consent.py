"""`ies consent request|approve|reject|pause|resume|revoke|list|show|accesses|check|purposes`.

Talks to a consent manager's HTTP API (`--manager URL`), signing as whoever acts:
  --key FILE        the data principal's did:key (a key file from `ies keys new`, or a base64 seed);
  --config FILE     a node (a data consumer requesting, or a data provider's portal attesting with
                    --evidence FILE: {"method": "OTP", "verifiedAt": …, "reference": …});
  --config FILE --operator   the node's operator token (list and show everything on that node).
`accesses` asks a data provider (`--provider URL`) for the pages served about a principal.
`check` and `purposes` work offline.

Exit codes: 0 done; 1 refused or invalid (the server's code is printed: POL_CONSENT_*, CON_*, AUT_*);
2 unusable input (no such file, not JSON, missing option).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import handles_errors, print_json
from ies.errors import InvalidJSON, UsageError

consent_app = typer.Typer(
    help="Consents: request, approve, pause, resume, revoke, list, show; the access list.",
    no_args_is_help=True,
)

MANAGER = typer.Option(None, "--manager", "-m", help="Consent manager base URL (default: the --config node).")
KEY = typer.Option(None, "--key", "-k", help="The data principal's key file (signs as their did:key).")
CONFIG = typer.Option(None, "--config", "-c", help="A node's config.toml (signs as that participant).")
OPERATOR = typer.Option(False, "--operator", help="Use the --config node's operator token instead.")
EVIDENCE = typer.Option(None, "--evidence", help="Portal identity evidence (JSON file) when a provider acts.")
REASON = typer.Option(None, "--reason", help="Why (recorded in the signed transition).")


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}") from None
    except ValueError as exc:
        raise InvalidJSON(f"{what} {path} is not JSON: {exc}") from None


def _principal_key(path: Path) -> Any:
    from ies.identity.keys import SigningKeyPair, load_node_keys

    try:
        text = path.read_text("utf-8").strip()
    except FileNotFoundError:
        raise UsageError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read key file {path}: {exc}") from None
    if text.startswith("{"):
        return load_node_keys(path).signing
    return SigningKeyPair.from_private_b64(text)


def _client(
    base: str | None, key: Path | None, config: Path | None, operator: bool, *, what: str = "--manager"
) -> Any:
    from ies.consent.client import ConsentClient, Signer
    from ies.node.config import load_config

    signer = None
    cfg = load_config(config) if config is not None else None
    if key is not None and config is not None:
        raise UsageError("sign either as the principal (--key) or as a node (--config), not both")
    if key is not None:
        signer = Signer.principal(_principal_key(key))
    elif cfg is not None:
        signer = (
            Signer.operator(cfg.admin_token())
            if operator
            else Signer.participant(cfg.subscriber_id, cfg.keys().key_id, cfg.keys().signing)
        )
    elif operator:
        raise UsageError("--operator needs --config (whose operator token to use)")
    if base is None:
        if cfg is None:
            raise UsageError(f"give {what} URL (or --config of the node that serves it)")
        base = cfg.public_url
    return ConsentClient(base, signer)


def _evidence(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    value = _read_json(path, "evidence file")
    if not isinstance(value, dict):
        raise UsageError(f"evidence file {path} must hold a JSON object")
    return value


@consent_app.command("purposes")
@handles_errors
def purposes(manager: str = MANAGER) -> None:
    """The purpose catalogue (this build's, or the manager's with --manager)."""
    if manager:
        print_json(_client(manager, None, None, False).purposes())
        return
    from ies.consent.purposes import purpose_catalogue

    print_json(purpose_catalogue().to_dict())


@consent_app.command("check")
@handles_errors
def check(artefact_file: Path = typer.Argument(..., help="A consent artefact (JSON).")) -> None:
    """Check an artefact offline: schema, purpose limits, and the principal's signatures."""
    from ies.consent.artefact import ConsentArtefact
    from ies.consent.signatures import PRINCIPAL, verify_signature

    artefact = ConsentArtefact.parse(_read_json(artefact_file, "artefact"))
    checked = []
    for sig in artefact.signatures:
        if sig.get("type") == PRINCIPAL:
            verify_signature(artefact, sig, None)
            checked.append(sig["signer"])
    print_json({"id": artefact.id, "digest": artefact.digest, "valid": True, "principalSignatures": checked})


@consent_app.command("request")
@handles_errors
def request(
    draft_file: Path = typer.Argument(
        ..., help="The consent request (artefact without id/manager/signatures)."
    ),
    manager: str = MANAGER,
    config: Path = typer.Option(..., "--config", "-c", help="The data consumer node's config.toml."),
) -> None:
    """Ask for a consent, as the data consumer named in it."""
    draft = _read_json(draft_file, "consent request")
    print_json(_client(manager, None, config, False).request(draft))


@consent_app.command("show")
@handles_errors
def show(
    consent_id: str, manager: str = MANAGER, key: Path = KEY, config: Path = CONFIG, operator: bool = OPERATOR
) -> None:
    """One consent with its signed transitions."""
    print_json(_client(manager, key, config, operator).show(consent_id))


@consent_app.command("list")
@handles_errors
def list_consents(
    manager: str = MANAGER,
    key: Path = KEY,
    config: Path = CONFIG,
    operator: bool = OPERATOR,
    state: str = typer.Option(None, "--state", help="REQUESTED, ACTIVE, PAUSED, REVOKED, REJECTED, EXPIRED."),
    principal: str = typer.Option(None, "--principal", help="Consumer number."),
) -> None:
    """The consents the signer may see (a participant: its own; a principal: theirs; the operator: all)."""
    print_json(_client(manager, key, config, operator).list(state=state, principal=principal))


@consent_app.command("approve")
@handles_errors
def approve(
    consent_id: str, manager: str = MANAGER, key: Path = KEY, config: Path = CONFIG, evidence: Path = EVIDENCE
) -> None:
    """Approve: the principal signs the artefact (--key), or the provider's portal attests (--evidence)."""
    print_json(_client(manager, key, config, False).approve(consent_id, evidence=_evidence(evidence)))


def _transition(verb: str) -> Any:
    def command(
        consent_id: str,
        manager: str = MANAGER,
        key: Path = KEY,
        config: Path = CONFIG,
        evidence: Path = EVIDENCE,
        reason: str = REASON,
    ) -> None:
        print_json(
            _client(manager, key, config, False).act(
                consent_id, verb, reason=reason, evidence=_evidence(evidence)
            )
        )

    command.__doc__ = f"{verb.capitalize()} a consent (the principal with --key, or the provider's portal)."
    return handles_errors(command)


for _verb in ("reject", "pause", "resume", "revoke"):
    consent_app.command(_verb)(_transition(_verb))


@consent_app.command("accesses")
@handles_errors
def accesses(
    principal: str = typer.Option(..., "--principal", help="Consumer number."),
    provider: str = typer.Option(None, "--provider", "-p", help="The data provider's base URL."),
    key: Path = KEY,
    config: Path = CONFIG,
) -> None:
    """Every page of data a provider served about a principal: who, when, purpose, how much."""
    print_json(_client(provider, key, config, config is not None, what="--provider").accesses(principal))
