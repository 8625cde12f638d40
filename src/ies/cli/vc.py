"""`ies vc issue|verify|present|revoke|status|serve-verifier`: verifiable credentials from the command line.

Exit codes: 0 done / valid; 1 refused or invalid, with the reason's code (VC_SIGNATURE_INVALID,
VC_UNKNOWN_KEY, VC_EXPIRED, VC_NOT_YET_VALID, VC_REVOKED, VC_SUSPENDED, VC_SCHEMA_INVALID, …);
2 unusable input (no such file, not JSON, not a credential at all, bad option).

`issue` takes an IES type (the subject is checked against its schema) or `VerifiableCredential` (a generic
W3C VC 2.0 credential over bundled contexts, signed eddsa-rdfc-2022 by default). With
`--issuer-node-config` it runs the node's own issuance pipeline against the node's store (schema first,
status entries, record, audit) as that node's did:web, the operator vouching for the holder; add `--remote`
to ask the running node instead (`POST /credentials/issue`), the holder proving possession of its did:key
with `--holder-key`. With `--key-file` and `--did` it only signs (no status, nothing recorded).
`revoke` and `status` talk to the running issuer node.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from ies.cli._common import console, handles_errors, print_json
from ies.errors import InvalidJSON, UsageError

vc_app = typer.Typer(
    help="Verifiable credentials: issue, verify, present, revoke, status.", no_args_is_help=True
)

_IES_TYPES = ("ElectricityCredential", "MeterDataCredential", "MeterDataRequestCredential")
_GENERIC = "VerifiableCredential"
_TYPES = (*_IES_TYPES, _GENERIC)
_VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _read_text(path: Path, what: str) -> str:
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}") from None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(_read_text(path, what))
    except ValueError as exc:
        raise InvalidJSON(f"{what} {path} is not JSON: {exc}") from None


def _read_credential(path: Path) -> dict[str, Any] | str:
    """A credential file: JSON-LD (optionally wrapped as {verifiableCredential}) or a compact JWS / SD-JWT."""
    text = _read_text(path, "credential").strip()
    if not text:
        raise UsageError(f"credential file {path} is empty")
    if text[0] in '{["':
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InvalidJSON(f"credential file {path} is not JSON: {exc}") from None
        if isinstance(value, dict) and "verifiableCredential" in value:
            value = value["verifiableCredential"]
        if isinstance(value, str | dict):
            return value
        raise UsageError(f"credential file {path} holds no credential object or compact JWS")
    if text.count(".") < 2:
        raise UsageError(f"credential file {path} is neither JSON nor a compact JWS / SD-JWT")
    return text


def _overrides(values: list[str]) -> dict[str, str]:
    from ies.credentials.service.__main__ import parse_overrides

    return parse_overrides(values)


def _write(value: Any, out: Path | None) -> None:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", "utf-8")
        console.print(f"wrote {out}", highlight=False)


def _subject_credential(credential_type: str, subject_file: Path) -> dict[str, Any]:
    from ies.schemas import get

    if credential_type not in _TYPES:
        raise UsageError(f"--type must be one of {', '.join(_TYPES)}")
    data = _read_json(subject_file, "subject file")
    if not isinstance(data, dict):
        raise UsageError(f"subject file {subject_file} must hold a JSON object")
    if "credentialSubject" in data:  # a whole (unsigned) credential: keep its claims, id and validity
        credential = {k: v for k, v in data.items() if k not in ("proof", "credentialStatus", "issuer")}
        credential.setdefault("type", list(dict.fromkeys([_GENERIC, credential_type])))
        types = credential["type"] if isinstance(credential["type"], list) else [credential["type"]]
        if credential_type not in types:
            raise UsageError(f"the credential in {subject_file} has type {types}, not {credential_type}")
        return credential
    if credential_type == _GENERIC:
        return {"@context": [_VC_V2], "type": [_GENERIC], "credentialSubject": data}
    return {
        "@context": [_VC_V2, get(credential_type).context_url],
        "type": [_GENERIC, credential_type],
        "credentialSubject": data,
    }


@vc_app.command("issue")
@handles_errors
def issue_cmd(
    credential_type: str = typer.Option(..., "--type", help=f"One of {', '.join(_TYPES)}."),
    subject: Path = typer.Option(
        ..., "--subject", help="JSON file: the credentialSubject (or a whole credential)."
    ),
    proof_format: str = typer.Option(
        "auto", "--format", help="auto, eddsa-jcs-2022, vc-jose-es256, sd-jwt-vc, …"
    ),
    node_config: Path | None = typer.Option(
        None,
        "--issuer-node-config",
        help="Issue as this node (its store, or the running node with --remote).",
    ),
    remote: bool = typer.Option(
        False,
        "--remote",
        help="Ask the running node over HTTP (POST /credentials/issue) instead of its store.",
    ),
    holder_key: Path | None = typer.Option(
        None, "--holder-key", help="With --remote: the holder's key file; its did:key proves possession."
    ),
    key_file: Path | None = typer.Option(None, "--key-file", help="An Ed25519 key file (`ies keys new`)."),
    did: str | None = typer.Option(None, "--did", help="The issuer DID the key file's key belongs to."),
    name: str = typer.Option("Issuer", "--issuer-name", help="issuer.name (with --key-file)."),
    disclosable: list[str] = typer.Option([], "--disclosable", help="SD-JWT: a dotted path; repeatable."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
) -> None:
    """Sign a credential; an IES subject is validated against its schema, a generic one against VC 2.0."""
    from ies.credentials.service.issuance import parse_format

    credential = _subject_credential(credential_type, subject)
    fmt = parse_format(proof_format, None)
    if (node_config is None) == (key_file is None):
        raise UsageError("give either --issuer-node-config or --key-file with --did")
    if (remote or holder_key is not None) and node_config is None:
        raise UsageError("--remote and --holder-key need --issuer-node-config (the node to ask)")
    if holder_key is not None and not remote:
        raise UsageError("--holder-key proves possession to a running node: add --remote")
    if node_config is not None and remote:
        signed = _issue_remote(node_config, credential, fmt, disclosable, holder_key)
    elif node_config is not None:
        signed = _issue_as_node(node_config, credential, fmt, disclosable)
    else:
        signed = _issue_with_key(key_file, did, name, credential, fmt, disclosable)
    _write(signed, out)


def _issue_as_node(config: Path, credential: dict[str, Any], fmt: Any, disclosable: list[str]) -> Any:
    from ies.credentials.service.holder import HolderBinding
    from ies.credentials.service.install import issuer_state_from_config
    from ies.credentials.service.issuance import issue_credential
    from ies.node.config import load_config

    state = issuer_state_from_config(load_config(config))
    try:
        subject = credential.get("credentialSubject")
        holder = subject.get("id", "") if isinstance(subject, dict) else ""
        signed, _ = issue_credential(
            state,
            credential,
            proof_format=fmt,
            binding=HolderBinding("none", str(holder)),
            disclosable=disclosable,
            audit_actor="cli",
        )
    finally:
        state.verifier.close()
        state.engine.dispose()
    return signed


def _issue_remote(
    config: Path, credential: dict[str, Any], fmt: Any, disclosable: list[str], holder_key: Path | None
) -> Any:
    """POST /credentials/issue on the running node, with a did:key proof of possession when given."""
    options: dict[str, Any] = {}
    if fmt is not None:
        options["format"] = fmt.value
    if disclosable:
        options["disclosable"] = disclosable
    if holder_key is not None:
        from ies.credentials.service import holder_proof_jwt

        key = _holder_key(holder_key)
        holder = key.verification_method.split("#", 1)[0]
        subject = credential.get("credentialSubject")
        if isinstance(subject, dict):
            subject.setdefault("id", holder)
        nonce = _node_call(config, "POST", "/credentials/nonce")
        proof = holder_proof_jwt(
            key.ed25519(), key.verification_method, audience=str(nonce["audience"]), nonce=str(nonce["nonce"])
        )
        options["holderBinding"] = {"method": "did", "proof": proof}
    answer = _node_call(config, "POST", "/credentials/issue", {"credential": credential, "options": options})
    return answer["verifiableCredential"]


def _issue_with_key(
    key_file: Path | None,
    did: str | None,
    name: str,
    credential: dict[str, Any],
    fmt: Any,
    disclosable: list[str],
) -> Any:
    import uuid
    from datetime import UTC, datetime, timedelta

    from ies.credentials import IssuerKey, issue
    from ies.credentials.issue import default_format
    from ies.credentials.status import format_vc_time
    from ies.identity.did_key import did_key_from_ed25519
    from ies.identity.keys import load_node_keys

    if key_file is None or not did or not did.startswith("did:"):
        raise UsageError("--key-file needs --did (the issuer DID that publishes this key)")
    keys = load_node_keys(key_file)
    if did.startswith("did:key:"):
        if did != did_key_from_ed25519(keys.signing.public_key):
            raise UsageError(f"{did} is not the did:key of the key in {key_file}")
        key = IssuerKey.did_key(keys.signing)
    else:
        key = IssuerKey(f"{did}#{keys.key_id}", keys.signing)
    now = datetime.now(UTC)
    credential = {
        "id": f"urn:uuid:{uuid.uuid4()}",
        "validFrom": format_vc_time(now),
        "validUntil": format_vc_time(now + timedelta(days=365)),
        **credential,
        "issuer": {"id": did, "name": name},
    }
    return issue(credential, key=key, format=fmt or default_format(credential), disclosable=disclosable)


@vc_app.command("verify")
@handles_errors
def verify_cmd(
    file: Path = typer.Argument(
        ..., help="The credential (JSON, or a compact JWS / SD-JWT); '-' reads stdin."
    ),
    override: list[str] = typer.Option([], "--override", help="DID=URL to resolve a DID from; repeatable."),
    skew_s: int = typer.Option(60, "--skew", help="Clock skew tolerated, seconds."),
    at: str | None = typer.Option(None, "--at", help="Verify as of this ISO 8601 instant (default now)."),
    unsafe_no_status: bool = typer.Option(False, "--unsafe-no-status", help="Skip revocation checks."),
    as_json: bool = typer.Option(False, "--json", help="Print the verified credential as JSON."),
) -> None:
    """Verify a credential: exit 0 valid, 1 invalid (with the reason), 2 unusable input."""
    from datetime import datetime

    from ies.credentials import UnsafeNoStatusCheck, verify
    from ies.credentials.status import HttpStatusChecker
    from ies.credentials.verify import parse_secured
    from ies.identity.resolver import DIDResolver

    credential = _read_credential(file)
    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise UsageError(f"--at {at!r} is not an ISO 8601 instant") from None
        if when.tzinfo is None:
            raise UsageError("--at needs a time zone offset (e.g. 2026-11-26T10:00:00+05:30)")
    from ies.credentials.errors import CredentialMalformed

    try:
        parse_secured(credential)
    except CredentialMalformed as exc:  # not a credential at all: unusable input, not a refusal
        raise UsageError(f"{file} is not a credential we can read: {exc.message}") from None
    with DIDResolver(_overrides(override)) as resolver:
        checker: Any = (
            UnsafeNoStatusCheck() if unsafe_no_status else HttpStatusChecker(resolver, skew_s=skew_s)
        )
        try:
            result = verify(credential, resolver=resolver, at=when, skew_s=skew_s, status_checker=checker)
        finally:
            if isinstance(checker, HttpStatusChecker):
                checker.close()
    if as_json:
        print_json(
            {"verified": True, "id": result.id, "issuer": result.issuer, "credential": result.credential}
        )
        return
    console.print(
        f"[green]valid[/green] {result.format.value} credential {result.id} issued by {result.issuer} "
        f"(key {result.verification_method})",
        highlight=False,
    )


def _holder_key(path: Path) -> Any:
    from ies.credentials import IssuerKey
    from ies.identity.keys import load_node_keys

    return IssuerKey.did_key(load_node_keys(path).signing)


@vc_app.command("present")
@handles_errors
def present_cmd(
    files: list[Path] = typer.Argument(..., help="Credential files to present (one for an SD-JWT)."),
    holder_key: Path = typer.Option(..., "--holder-key", help="The holder's key file (its did:key signs)."),
    challenge: str = typer.Option(..., "--challenge", help="The verifier's challenge (nonce)."),
    domain: str = typer.Option(..., "--domain", help="The verifier's domain (audience)."),
    reveal: list[str] = typer.Option(
        [], "--reveal", help="SD-JWT: a disclosable path to reveal; repeatable."
    ),
    proof_format: str = typer.Option("eddsa-jcs-2022", "--format", help="Presentation proof format."),
    out: Path | None = typer.Option(None, "--out", "-o"),
) -> None:
    """Wrap credentials in a presentation signed by the holder, bound to a challenge and domain."""
    from ies.credentials import present, sd_present

    key = _holder_key(holder_key)
    credentials = [_read_credential(f) for f in files]
    if len(credentials) == 1 and isinstance(credentials[0], str) and "~" in credentials[0]:
        _write(sd_present(credentials[0], reveal=reveal, holder_key=key, nonce=challenge, aud=domain), out)
        return
    if reveal:
        raise UsageError("--reveal applies to one SD-JWT credential")
    _write(present(credentials, holder_key=key, challenge=challenge, domain=domain, format=proof_format), out)


def _node_call(config: Path, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx

    from ies.errors import IESError, PeerUnreachable
    from ies.node.config import load_config

    cfg = load_config(config)
    try:
        resp = httpx.request(
            method,
            f"{cfg.public_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {cfg.admin_token()}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise PeerUnreachable(
            f"issuer node at {cfg.public_url} is unreachable: {exc.__class__.__name__}"
        ) from None
    data = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    if resp.status_code >= 400:
        error = data.get("error", {}) if isinstance(data, dict) else {}
        if error.get("code") == "USAGE":
            raise UsageError(str(error.get("message", "refused as unusable input")))
        raise IESError(
            str(error.get("message", f"HTTP {resp.status_code}")), code=str(error.get("code", "ERROR"))
        )
    return dict(data)


@vc_app.command("revoke")
@handles_errors
def revoke_cmd(
    credential_id: str = typer.Argument(..., help="urn:uuid:… of a credential this node issued."),
    node_config: Path = typer.Option(Path("config.toml"), "--issuer-node-config", "-c"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Revoke a credential for good (the running issuer node sets its bit and its DeDi record)."""
    print_json(
        _node_call(
            node_config, "POST", "/credentials/revoke", {"credentialId": credential_id, "reason": reason}
        )
    )


@vc_app.command("status")
@handles_errors
def status_cmd(
    credential_id: str = typer.Argument(..., help="urn:uuid:… of a credential this node issued."),
    node_config: Path = typer.Option(Path("config.toml"), "--issuer-node-config", "-c"),
    suspend: bool = typer.Option(False, "--suspend", help="Suspend it."),
    unsuspend: bool = typer.Option(False, "--unsuspend", help="Lift a suspension."),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Show a credential's standing at its issuer, or suspend / reinstate it."""
    if suspend and unsuspend:
        raise UsageError("give --suspend or --unsuspend, not both")
    if suspend or unsuspend:
        body = {
            "credentialId": credential_id,
            "status": "suspended" if suspend else "active",
            "reason": reason,
        }
        print_json(_node_call(node_config, "POST", "/credentials/status", body))
    else:
        from urllib.parse import quote

        print_json(_node_call(node_config, "GET", f"/credentials/issued/{quote(credential_id, safe=':')}"))


@vc_app.command("serve-verifier")
@handles_errors
def serve_verifier(
    port: int = typer.Option(..., "--port"),
    host: str = typer.Option("127.0.0.1", "--host"),
    override: list[str] = typer.Option([], "--override", help="DID=URL; repeatable."),
    status_ttl_s: float = typer.Option(
        300.0, "--status-ttl", help="Bound on the status list cache, seconds."
    ),
    skew_s: int = typer.Option(60, "--skew", help="Clock skew tolerated on validity, seconds."),
) -> None:
    """Run a verifier process (POST /credentials/verify, /presentations/verify)."""
    import uvicorn

    from ies.credentials.service.install import create_verifier_app

    if not 0 <= skew_s <= 3600:
        raise UsageError("--skew must be between 0 and 3600 seconds")
    app = create_verifier_app(_overrides(override), status_ttl_s=status_ttl_s, skew_s=skew_s)
    uvicorn.run(app, host=host, port=port)


def register(app: typer.Typer) -> None:
    app.add_typer(vc_app, name="vc")
