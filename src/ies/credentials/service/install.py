"""Wiring the issuer role into a node, and building a stand-alone verifier app.

    install(runtime)                  for nodes whose config names the ISSUER role: adds to runtime.routers
    install_issuer(app, runtime)      the same on an app that is already built
    create_verifier_app(overrides)    a verifier process: POST /credentials/verify, /presentations/verify

What `install_issuer` takes from the node (`ies.node.app.NodeRuntime`): its store, its did:web and current
Ed25519 key (read at signing time, so a key rotation is picked up at once), its admin token, its public URL
(status list and DeDi URLs are built on it) and the folder of its key file, where the ES256 key
(`credentials-p256.pem`, 0600) and the DigiLocker API key (`digilocker.key`) live.

Settings, read once at install: the node's `[node.settings.credentials]` table first (so nodes of one
sandbox, which share an environment, can differ), then the environment, then the default:
    issuer_name          IES_VC_ISSUER_NAME          `issuer.name` in our credentials (the node name)
    status_ttl_s         IES_VC_STATUS_TTL_S         how long verifiers may cache status lists (300, ≤ 3600)
    default_format       IES_VC_DEFAULT_FORMAT       proof format when a request names none (auto: rdfc
                                                     when the credential canonicalises offline, else jcs)
    status_list_format   IES_VC_STATUS_LIST_FORMAT   proof format of the served status lists (eddsa-rdfc-2022)
    digilocker_issuer_id IES_DIGILOCKER_ISSUER_ID    the issuer id DigiLocker assigned (in.ies.<node name>)
Environment only:
    IES_DID_OVERRIDES              JSON object DID → base URL, for resolving other sandbox DIDs
    IES_DIGILOCKER_API_KEY_FILE    DigiLocker API key file (default: digilocker.key next to keys.json)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

import ies
from ies.credentials.model import ProofFormat
from ies.credentials.service.issuance import parse_format
from ies.credentials.service.keys import P256_KEY_FILE, IssuerKeys, load_or_create_p256
from ies.credentials.service.routes import issuer_router, verifier_router
from ies.credentials.service.state import IssuerSettings, IssuerState, VerifierState
from ies.errors import UsageError
from ies.identity.did_router import did_router
from ies.identity.did_web import did_web_location, node_did_document
from ies.identity.keys import NodeKeys
from ies.identity.resolver import DIDResolver
from ies.store import utcnow

__all__ = [
    "DIGILOCKER_KEY_FILE",
    "SETTINGS_TABLE",
    "create_verifier_app",
    "install",
    "install_issuer",
    "issuer_state_from_config",
    "issuer_state_from_runtime",
    "overrides_from_env",
]

DIGILOCKER_KEY_FILE = "digilocker.key"


def overrides_from_env() -> dict[str, str]:
    """IES_DID_OVERRIDES as a dict (a JSON object of DID → URL); UsageError when malformed."""
    text = os.environ.get("IES_DID_OVERRIDES", "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise UsageError("IES_DID_OVERRIDES must be a JSON object of DID → URL") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise UsageError("IES_DID_OVERRIDES must be a JSON object of DID → URL")
    return value


def _digilocker_key(key_dir: Path) -> bytes | None:
    path = Path(os.environ.get("IES_DIGILOCKER_API_KEY_FILE") or key_dir / DIGILOCKER_KEY_FILE)
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read the DigiLocker API key {path}: {exc.strerror}") from None
    if len(key) < 16:
        raise UsageError(f"the DigiLocker API key in {path} is shorter than 16 bytes")
    return key


SETTINGS_TABLE = "credentials"
_SETTING_ENV = {
    "issuer_name": "IES_VC_ISSUER_NAME",
    "status_ttl_s": "IES_VC_STATUS_TTL_S",
    "default_format": "IES_VC_DEFAULT_FORMAT",
    "status_list_format": "IES_VC_STATUS_LIST_FORMAT",
    "digilocker_issuer_id": "IES_DIGILOCKER_ISSUER_ID",
}


def _setting(cfg: Any, name: str) -> str | None:
    """`[node.settings.credentials] name`, else its environment variable, else None."""
    table = (getattr(cfg, "settings", None) or {}).get(SETTINGS_TABLE) or {}
    if not isinstance(table, dict):
        raise UsageError(f"node settings.{SETTINGS_TABLE} must be a table")
    unknown = sorted(set(table) - set(_SETTING_ENV))
    if unknown:
        raise UsageError(
            f"unknown node settings.{SETTINGS_TABLE} {', '.join(unknown)}; known: {', '.join(_SETTING_ENV)}"
        )
    value = table.get(name)
    if value is None:
        value = os.environ.get(_SETTING_ENV[name]) or None
    return None if value is None else str(value)


def issuer_state_from_runtime(runtime: Any) -> IssuerState:
    """An IssuerState over a running node (`ies.node.app.NodeRuntime`)."""
    cfg = runtime.cfg
    key_dir = cfg.path(cfg.key_file).parent
    keys = IssuerKeys(
        did=runtime.did, node_keys=lambda: runtime.keys, p256=load_or_create_p256(key_dir / P256_KEY_FILE)
    )
    ttl_text = _setting(cfg, "status_ttl_s") or "300"
    try:
        ttl_s = int(ttl_text)
    except ValueError:
        raise UsageError(
            f"status_ttl_s (IES_VC_STATUS_TTL_S) must be whole seconds, got {ttl_text!r}"
        ) from None
    settings = IssuerSettings(
        name=_setting(cfg, "issuer_name") or cfg.name,
        base_url=cfg.public_url,
        namespace=did_web_location(runtime.did).host,
        default_format=parse_format(_setting(cfg, "default_format"), None),
        status_list_format=parse_format(_setting(cfg, "status_list_format"), None)
        or ProofFormat.EDDSA_RDFC_2022,
        status_list_ttl_s=ttl_s,
        digilocker_api_key=_digilocker_key(key_dir),
        digilocker_issuer_id=_setting(cfg, "digilocker_issuer_id") or f"in.ies.{cfg.name}",
    )
    resolver = DIDResolver({**overrides_from_env(), runtime.did: cfg.public_url})
    return IssuerState(
        engine=runtime.engine,
        keys=keys,
        settings=settings,
        verifier=VerifierState.create(resolver, status_ttl_s=min(ttl_s, 300)),
        admin_token=runtime.admin_token,
    )


def _issuer_routers(runtime: Any) -> tuple[IssuerState, list[APIRouter]]:
    """The issuer's state and routers; plus a DID-document route when the node has no extension hook."""
    state = issuer_state_from_runtime(runtime)
    routers = [issuer_router(state)]
    extensions = getattr(runtime, "did_document_extensions", None)
    if isinstance(extensions, list):
        extensions.append(state.keys.extend_did_document)
    else:
        routers.insert(0, _did_document_router(runtime, state.keys.extend_did_document))
    return state, routers


@dataclass
class _OfflineNode:
    """What `issuer_state_from_runtime` reads, for a node that is not running (the CLI issuing offline)."""

    cfg: Any
    engine: Any
    did: str
    keys: NodeKeys
    admin_token: str | None


def issuer_state_from_config(cfg: Any) -> IssuerState:
    """An IssuerState over a node folder without starting the node: same store, keys, DID and URLs."""
    from ies.identity.did_web import did_web_for_subscriber
    from ies.store import migrate, open_engine

    engine = open_engine(cfg.db_url())
    migrate(engine)
    try:
        token: str | None = cfg.admin_token()
    except UsageError:
        token = None
    return issuer_state_from_runtime(
        _OfflineNode(cfg, engine, did_web_for_subscriber(cfg.subscriber_id), cfg.keys(), token)
    )


def install(runtime: Any) -> IssuerState:
    """Register the issuer on a node runtime that collects extra routers (`runtime.routers`)."""
    state, routers = _issuer_routers(runtime)
    runtime.routers.extend(routers)
    runtime.issuer = state
    return state


def install_issuer(app: FastAPI, runtime: Any) -> IssuerState:
    """Mount the issuer routes on an already built node app and publish the ES256 key in its DID document."""
    state, routers = _issuer_routers(runtime)
    for position, router in enumerate(routers):
        app.include_router(router)
        if position == 0 and len(routers) > 1:  # the DID route must answer before the node's own
            app.router.routes.insert(0, app.router.routes.pop())
    app.state.issuer = state
    return state


def _did_document_router(runtime: Any, extend: Callable[[dict[str, Any]], dict[str, Any]]) -> APIRouter:
    """Interim, until the node applies `did_document_extensions`: serve the node's root DID document as
    `ies.node.app` builds it (current key, keys still in their rotation grace, the Beckn service) with the
    issuer's P-256 method added."""

    def document(segments: tuple[str, ...]) -> dict[str, Any] | None:
        if segments != ():
            return None
        live = [k for k in runtime.previous_keys if k.valid_until is None or k.valid_until > utcnow()]
        service = {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": runtime.cfg.beckn_url}
        return extend(node_did_document(runtime.did, runtime.keys, previous_keys=live, services=[service]))

    full = did_router(document)
    router = APIRouter(tags=["did"])
    router.routes.extend(r for r in full.routes if getattr(r, "path", "") == "/.well-known/did.json")
    return router


def create_verifier_app(
    overrides: Mapping[str, Any] | None = None, *, status_ttl_s: float = 300.0, skew_s: int = 60
) -> FastAPI:
    """A verifier process: resolves issuers' did:web documents and checks status over HTTP, holds no keys."""
    state = VerifierState.create(DIDResolver(dict(overrides or {})), status_ttl_s=status_ttl_s, skew_s=skew_s)
    app = FastAPI(title="ies credential verifier", version=ies.__version__)
    app.state.verifier = state
    app.include_router(verifier_router(state))

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "role": "VERIFIER", "status_ttl_s": status_ttl_s}

    return app
