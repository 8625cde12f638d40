"""A node: one FastAPI app that plays the roles its config names (REGISTRY, CDS, BAP, BPP, …).

The app is thin: it wires the building blocks (store, identity, registry client, exchange router and
client) and mounts the routes each role needs. Beckn actions arrive at `POST /beckn/{action}`; the
operator's routes under `/admin` need the node's bearer token.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

import ies
from ies.discovery import CatalogStore
from ies.errors import IESError, NotFoundError, PeerUnreachable, UnauthorizedAction, UsageError, to_http
from ies.exchange.context import ACTIONS, Context, callback_of, new_context
from ies.exchange.inbound import ExchangeRouter, InboundMessage, PayloadValidator, basic_envelope_check
from ies.exchange.messagelog import AuditSink, MessageLog
from ies.exchange.outbound import BecknClient
from ies.exchange.verify import Verifier
from ies.identity.did_router import did_router
from ies.identity.did_web import PublishedKey, did_web_for_subscriber, node_did_document
from ies.identity.keys import NodeKeys, save_node_keys
from ies.node.config import NodeConfig
from ies.node.roles import _validate_publish, install_bpp_defaults, install_cds, load_catalog
from ies.registry import directory
from ies.registry.client import RegistryClient
from ies.registry.records import KeyRecord, Role
from ies.registry.service import RegistryState, registry_router
from ies.store import migrate, open_engine, session_factory, utcnow

__all__ = ["ROLE_INSTALLERS", "NodeRuntime", "create_app"]

#: Building blocks that bring a role to a node: "module:function", called with the NodeRuntime, which the
#: function extends (handlers on `runtime.router`, routes in `runtime.routers`, hooks in `runtime.startup`).
ROLE_INSTALLERS: dict[Role, str] = {}


def _audit_sink() -> AuditSink:
    from ies.audit import append

    return append


class NodeRuntime:
    """Everything a running node holds; built once per app (no module-level state)."""

    def __init__(self, cfg: NodeConfig):
        self.cfg = cfg
        self.keys: NodeKeys = cfg.keys()
        self.pending_keys: NodeKeys | None = None  # during rotation, until the registry accepts them
        self.previous_keys: list[PublishedKey] = []  # published in did.json until their grace ends
        self.did = did_web_for_subscriber(cfg.subscriber_id)
        self.admin_token = cfg.admin_token()
        self.engine = open_engine(cfg.db_url())
        migrate(self.engine)
        self.log = MessageLog(self.engine, _audit_sink(), keep_bodies=cfg.log_bodies)
        self.client = BecknClient(
            subscriber_id=cfg.subscriber_id, key_id=self.keys.key_id, key=self.keys.signing, log=self.log
        )
        self.registry_client: RegistryClient | None = None
        if cfg.has_role(Role.REGISTRY):
            sessions = session_factory(self.engine)

            async def local_keys(subscriber_id: str, key_id: str) -> KeyRecord | None:
                with sessions() as session:
                    return directory.get_key(session, subscriber_id, key_id)

            key_source = local_keys
        else:
            if not cfg.registry_url:
                raise UsageError("a node that is not a registry needs registry_url in its config")
            self.registry_client = RegistryClient(cfg.registry_url, ttl_s=cfg.registry_cache_ttl_s)
            key_source = self.registry_client.get_key
        validators: list[PayloadValidator] = [basic_envelope_check, _validate_publish]
        self.router = ExchangeRouter(
            subscriber_id=cfg.subscriber_id,
            verifier=Verifier(key_source, skew_s=cfg.skew_s),
            log=self.log,
            send_callback=self.send_callback,
            on_callback=self.client.resolve,
            on_refused_callback=self.client.note_refused_callback,
            validators=validators,
        )
        self.catalog: dict[str, Any] | None = None
        self.routers: list[APIRouter] = []  # extra HTTP routes that use cases add
        self.startup: list[Callable[[], Awaitable[None]]] = []  # run once the server is up
        if cfg.has_role(Role.CDS):
            install_cds(self.router, CatalogStore(self.engine))
        if cfg.has_role(Role.BPP):
            self.catalog = load_catalog(
                cfg.path(cfg.catalog_file) if cfg.catalog_file else None, cfg.subscriber_id
            )
            install_bpp_defaults(self.router, self.catalog)
        for role, target in ROLE_INSTALLERS.items():
            if cfg.has_role(role):
                self._call_installer(target)
        for name in cfg.usecases:
            self._install_usecase(name)

    def _call_installer(self, target: str) -> None:
        module_name, _, function = target.partition(":")
        install = getattr(importlib.import_module(module_name), function)
        install(self)

    def _install_usecase(self, name: str) -> None:
        """Load `ies.usecases.<name>` and let it register its handlers, routes and tables on this node.

        Entry points sit above use cases, so the node imports them by name; a use case never imports the
        node module beyond the `NodeRuntime` it is handed.
        """
        if not name.isidentifier():
            raise UsageError(f"use case name {name!r} is not a package name")
        try:
            module = importlib.import_module(f"ies.usecases.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"ies.usecases.{name}"):
                raise UsageError(f"unknown use case {name!r}") from None
            raise
        install = getattr(module, "install", None)
        if install is None:
            raise UsageError(f"use case {name!r} has no install(runtime) function")
        install(self)

    async def send_callback(self, msg: InboundMessage, action: str, answer: dict[str, Any]) -> None:
        ctx = msg.context.wire()
        ctx.update(action=action, bppId=self.cfg.subscriber_id, bppUri=self.cfg.beckn_url)
        ctx["timestamp"] = new_context(action, bap_id="-", bap_uri="-").timestamp
        body: dict[str, Any] = {"context": ctx, "message": {}}
        if "__error__" in answer:
            body["error"] = answer["__error__"]
        else:
            body["message"] = answer
        target = msg.context.bapUri
        if not target:
            return
        await self.client.send(f"{target.rstrip('/')}/{action}", body)

    def context_for(self, action: str, bpp_id: str | None, bpp_uri: str | None, txn: str | None) -> Context:
        ctx = new_context(
            action,
            bap_id=self.cfg.subscriber_id,
            bap_uri=self.cfg.beckn_url,
            bpp_id=bpp_id,
            bpp_uri=bpp_uri,
            network_id=self.cfg.network_id,
            transaction_id=txn,
        )
        if action == "catalog/publish":
            ctx = Context.model_validate(
                {
                    **ctx.wire(),
                    "bapId": None,
                    "bapUri": None,
                    "bppId": self.cfg.subscriber_id,
                    "bppUri": self.cfg.beckn_url,
                }
            )
        return ctx

    async def aclose(self) -> None:
        await self.router.drain()
        await self.client.aclose()
        if self.registry_client is not None:
            await self.registry_client.aclose()
        self.engine.dispose()


async def run_burst(rt: NodeRuntime, spec: dict[str, Any]) -> dict[str, Any]:
    action = str(spec.get("action", "select"))
    count = int(spec.get("count", 1000))
    concurrency = int(spec.get("concurrency", 32))
    target, bpp_id = spec.get("bpp_uri"), spec.get("bpp_id")
    if not target or not bpp_id or not 1 <= count <= 1_000_000 or not 1 <= concurrency <= 1000:
        raise UsageError("give bpp_id, bpp_uri, 1 ≤ count ≤ 1e6 and 1 ≤ concurrency ≤ 1000")
    message = spec.get("message", {})
    latencies: list[float] = []
    failures: dict[str, int] = {}
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            ctx = rt.context_for(action, bpp_id, target, None)
            t0 = time.perf_counter()
            try:
                ack, callback = await rt.client.request(target, ctx, message, timeout_s=30)
                if not ack.ok or callback is None:
                    code = str((ack.error or {}).get("code", "NACK"))
                    failures[code] = failures.get(code, 0) + 1
                    continue
            except IESError as err:
                failures[err.code] = failures.get(err.code, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0.0
        )

    return {
        "action": action,
        "count": count,
        "concurrency": concurrency,
        "ok": len(latencies),
        "failed": failures,
        "elapsed_s": round(elapsed, 3),
        "round_trips_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99)},
    }


def _error(err: IESError) -> JSONResponse:
    status, body = to_http(err)
    return JSONResponse({"error": body}, status_code=status)


def create_app(cfg: NodeConfig) -> FastAPI:
    rt = NodeRuntime(cfg)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for hook in rt.startup:
            await hook()
        yield
        await rt.aclose()

    app = FastAPI(
        title=f"ies node {cfg.name}",
        version=ies.__version__,
        description=f"IES node playing {', '.join(r.value for r in cfg.roles)}",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.engine = rt.engine
    for extra in rt.routers:
        app.include_router(extra)

    def require_operator(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {rt.admin_token}".encode()):
            raise UnauthorizedAction("operator token required")

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

    async def beckn(request: Request) -> Response:
        raw = await request.body()
        action = request.path_params["action"]
        reply = await rt.router.receive(action, request.headers.get("authorization"), raw)
        return Response(orjson.dumps(reply.body), reply.status, reply.headers, media_type="application/json")

    # A plain Starlette route: every Beckn message passes here, and FastAPI's dependency machinery would
    # cost more than the route itself. (It is still listed in the OpenAPI document below.)
    app.add_route("/beckn/{action:path}", beckn, methods=["POST"], include_in_schema=False)

    # -- operator routes ------------------------------------------------------------------------------
    @app.post("/admin/subscribe")
    async def admin_subscribe(request: Request) -> JSONResponse:
        try:
            require_operator(request)
            if not cfg.registry_url:
                raise UsageError("no registry_url configured")
            body = {
                "subscriber_id": cfg.subscriber_id,
                "key_id": rt.keys.key_id,
                "url": cfg.beckn_url,
                "roles": [r.value for r in cfg.roles],
                "domains": cfg.domains,
                "network_memberships": [cfg.network_id],
                "signing_public_key": rt.keys.signing.public_key_b64,
                "encr_public_key": rt.keys.encryption.public_key_b64,
            }
            raw = orjson.dumps(body)
            async with httpx.AsyncClient(timeout=15) as client:
                resp = await client.post(
                    f"{cfg.registry_url.rstrip('/')}/subscribe",
                    content=raw,
                    headers={"Authorization": rt.client.sign(raw), "Content-Type": "application/json"},
                )
            return JSONResponse(resp.json(), status_code=resp.status_code)
        except httpx.HTTPError as exc:
            return _error(PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}"))
        except IESError as err:
            return _error(err)

    @app.post("/admin/rotate")
    async def admin_rotate(request: Request) -> JSONResponse:
        """Register a fresh key pair (signed by the current key); sign with it from now on."""
        try:
            require_operator(request)
            if not cfg.registry_url:
                raise UsageError("no registry_url configured")
            try:
                spec = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                raise UsageError("body is not JSON") from None
            number = int(rt.keys.key_id.rsplit("-k", 1)[-1]) + 1 if "-k" in rt.keys.key_id else 2
            new = NodeKeys.generate(key_id=f"{cfg.name}-k{number}")
            body: dict[str, Any] = {
                "key_id": new.key_id,
                "signing_public_key": new.signing.public_key_b64,
                "encr_public_key": new.encryption.public_key_b64,
            }
            if "grace_s" in spec:
                body["grace_s"] = spec["grace_s"]
            raw = orjson.dumps(body)
            rt.pending_keys = new
            try:
                async with httpx.AsyncClient(timeout=15) as client:
                    resp = await client.post(
                        f"{cfg.registry_url.rstrip('/')}/rotate",
                        content=raw,
                        headers={"Authorization": rt.client.sign(raw), "Content-Type": "application/json"},
                    )
            finally:
                rt.pending_keys = None
            if resp.status_code == 200:
                answer = resp.json()
                old_until = datetime.fromisoformat(answer["previous_key_valid_until"])
                rt.previous_keys = [k for k in rt.previous_keys if k.valid_until and k.valid_until > utcnow()]
                rt.previous_keys.append(
                    PublishedKey(rt.keys.key_id, "Ed25519", rt.keys.signing.public_key, valid_until=old_until)
                )
                save_node_keys(cfg.path(cfg.key_file), new)
                rt.keys = new
                rt.client.key, rt.client.key_id = new.signing, new.key_id
            return JSONResponse(resp.json(), status_code=resp.status_code)
        except httpx.HTTPError as exc:
            return _error(PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}"))
        except IESError as err:
            return _error(err)

    @app.post("/admin/catalog/publish")
    async def admin_publish(request: Request) -> JSONResponse:
        try:
            require_operator(request)
            if rt.catalog is None or not cfg.cds_url:
                raise UsageError("only a BPP with cds_url configured publishes catalogues")
            ctx = rt.context_for("catalog/publish", None, None, None)
            ack = await rt.client.send(
                f"{cfg.cds_url.rstrip('/')}/catalog/publish",
                {"context": ctx.wire(), "message": {"catalogs": [rt.catalog]}},
            )
            return JSONResponse({"ack": ack.body}, status_code=200 if ack.ok else 502)
        except IESError as err:
            return _error(err)

    @app.post("/admin/caller/{action}")
    async def admin_caller(action: str, request: Request) -> JSONResponse:
        """Send a signed request as this BAP and wait for its callback (what `ies network ping` drives)."""
        try:
            require_operator(request)
            if action not in ACTIONS:
                raise NotFoundError(f"cannot originate {action!r}")
            try:
                spec = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                raise UsageError("body is not JSON") from None
            if action == "discover":
                target = spec.get("bpp_uri") or cfg.cds_url
                bpp_id = None
            else:
                target, bpp_id = spec.get("bpp_uri"), spec.get("bpp_id")
            if not target:
                raise UsageError("no target: give bpp_uri (or configure cds_url for discover)")
            ctx = rt.context_for(action, bpp_id, target if bpp_id else None, spec.get("transaction_id"))
            started = time.perf_counter()
            ack, callback = await rt.client.request(
                target, ctx, spec.get("message", {}), timeout_s=float(spec.get("timeout_s", 10))
            )
            return JSONResponse(
                {
                    "transaction_id": ctx.transactionId,
                    "message_id": ctx.messageId,
                    "ack": ack.body,
                    "callback": callback.body if callback else None,
                    "callback_action": callback_of(action),
                    "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
                    "trail": rt.log.messages(transaction_id=ctx.transactionId),
                },
                status_code=200 if ack.ok else 502,
            )
        except IESError as err:
            return _error(err)

    @app.post("/admin/burst")
    async def admin_burst(request: Request) -> JSONResponse:
        """Load test: `count` signed requests with `concurrency` in flight, each awaited to its callback."""
        try:
            require_operator(request)
            try:
                spec = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                raise UsageError("body is not JSON") from None
            return JSONResponse(await run_burst(rt, spec))
        except IESError as err:
            return _error(err)

    @app.get("/admin/messages")
    def admin_messages(request: Request, transaction_id: str | None = None, limit: int = 200) -> JSONResponse:
        try:
            require_operator(request)
        except IESError as err:
            return _error(err)
        return JSONResponse(rt.log.messages(transaction_id=transaction_id, limit=min(max(limit, 1), 5000)))

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
    """Routers of building blocks that every node serves (assets, audit, DID document)."""
    from ies.registry.assets.http import router as assets_router

    def did_document(segments: tuple[str, ...]) -> dict[str, Any] | None:
        if segments != ():
            return None
        live = [k for k in rt.previous_keys if k.valid_until is None or k.valid_until > utcnow()]
        service = {"id": "#beckn", "type": "BecknSubscriber", "serviceEndpoint": rt.cfg.beckn_url}
        return node_did_document(rt.did, rt.keys, previous_keys=live, services=[service])

    app.include_router(did_router(did_document))

    if rt.cfg.has_role(Role.REGISTRY) or rt.cfg.has_role(Role.DISCOM):
        app.state.assets_write_token = rt.admin_token  # asset writes are operator actions
        app.include_router(assets_router)
