"""A node: one FastAPI app that plays the roles its config names (REGISTRY, CDS, BAP, BPP, …).

The app is thin: it wires the building blocks (through `NodeRuntime`) and mounts the routes each role
needs. Beckn actions arrive at `POST /beckn/{action}`; the operator's routes under `/admin` need the node's
bearer token; every node serves its did:web document and `/health`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import ies
from ies.audit import TreeHeadPublisher
from ies.audit.http import router as audit_router
from ies.identity.did_router import did_router
from ies.identity.did_web import node_did_document
from ies.node.admin import admin_router, operator_guard
from ies.node.beckn_endpoint import BecknEndpoint
from ies.node.config import NodeConfig
from ies.node.runtime import ROLE_INSTALLERS, NodeRuntime
from ies.policy.metrics import HttpMetricsMiddleware
from ies.registry import directory
from ies.registry.assets.http import router as assets_router
from ies.registry.records import Role
from ies.registry.service import RegistryState, registry_router
from ies.store import utcnow

__all__ = ["ROLE_INSTALLERS", "NodeRuntime", "create_app"]


class _CurrentSigningKey:
    """The node's signing key as of each use, so tree heads signed after a rotation use the new key."""

    def __init__(self, rt: NodeRuntime):
        self._rt = rt

    @property
    def public_key(self) -> bytes:
        return self._rt.keys.signing.public_key

    def sign(self, data: bytes) -> bytes:
        return self._rt.keys.signing.sign(data)


def create_app(cfg: NodeConfig) -> FastAPI:
    rt = NodeRuntime(cfg)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for hook in rt.startup:
            await hook()
        stop = asyncio.Event()
        publisher = TreeHeadPublisher(rt.engine, _CurrentSigningKey(rt), interval_s=cfg.sth_interval_s)
        sth_task = asyncio.get_running_loop().create_task(publisher.run(stop))
        try:
            yield
        finally:
            stop.set()
            await sth_task
            await rt.aclose()

    app = FastAPI(
        title=f"ies node {cfg.name}",
        version=ies.__version__,
        description=f"IES node playing {', '.join(r.value for r in cfg.roles)}",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.engine = rt.engine
    app.state.policy = rt.policy
    app.add_middleware(HttpMetricsMiddleware, metrics=rt.policy.metrics)
    # Outermost: Beckn messages skip the framework's routing (it counts them in the metrics itself).
    app.add_middleware(BecknEndpoint, router=rt.router, metrics=rt.policy.metrics)
    for extra in rt.routers:
        app.include_router(extra)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "name": cfg.name,
            "roles": [r.value for r in cfg.roles],
            "subscriber_id": cfg.subscriber_id,
            "key_id": rt.keys.key_id,
            "url": cfg.public_url,
        }

    @app.post("/beckn/on_subscribe")
    async def on_subscribe(request: Request) -> JSONResponse:
        """Answer the registry's encrypted challenge (proof that we hold our X25519 key)."""
        try:
            body = orjson.loads(await request.body())
            keys = (
                rt.pending_keys
                if rt.pending_keys and body.get("key_id") == rt.pending_keys.key_id
                else rt.keys
            )
            answer = directory.answer_challenge(
                keys.encryption.private_key, body["registry_encr_public_key"], body["challenge"]
            )
        except Exception:
            return JSONResponse({"error": {"code": "REG_CHALLENGE_FAILED", "message": "cannot decrypt"}}, 400)
        return JSONResponse({"answer": answer})

    app.include_router(admin_router(rt))
    if cfg.has_role(Role.REGISTRY):
        app.include_router(
            registry_router(
                RegistryState(
                    engine=rt.engine,
                    encryption=rt.keys.encryption,
                    admin_token=rt.admin_token,
                    auto_approve=cfg.auto_approve,
                    skew_s=cfg.skew_s,
                    rotation_grace=timedelta(seconds=cfg.rotation_grace_s),
                )
            )
        )
    _mount_optional_routers(app, rt)
    return app


def _mount_optional_routers(app: FastAPI, rt: NodeRuntime) -> None:
    """Routers of building blocks that nodes serve (DID document; assets on registries and DISCOMs)."""

    def did_document(segments: tuple[str, ...]) -> dict[str, Any] | None:
        if segments != ():
            return None
        live = [k for k in rt.previous_keys if k.valid_until is None or k.valid_until > utcnow()]
        service = {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": rt.cfg.beckn_url}
        document = node_did_document(rt.did, rt.keys, previous_keys=live, services=[service])
        for extend in rt.did_document_extensions:
            document = extend(document)
        return document

    app.include_router(did_router(did_document))
    app.state.audit_entries_guard = operator_guard(
        rt
    )  # entries may hold personal data; heads and proofs are hashes
    app.include_router(audit_router)

    if rt.cfg.has_role(Role.REGISTRY) or rt.cfg.has_role(Role.DISCOM):
        app.state.assets_write_token = rt.admin_token  # asset writes are operator actions
        app.include_router(assets_router)
