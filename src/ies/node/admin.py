"""The operator's routes of a node (`/admin/…`, bearer token): subscribe, rotate keys, publish the
catalogue, originate a request and wait for its callback, load-test, read the message log."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ies._http import error_response
from ies.errors import IESError, NotFoundError, PeerUnreachable, UnauthorizedAction, UsageError
from ies.exchange.context import ACTIONS, callback_of
from ies.identity.did_web import PublishedKey
from ies.identity.keys import NodeKeys, save_node_keys
from ies.node.runtime import NodeRuntime
from ies.store import utcnow

__all__ = ["admin_router", "operator_guard", "run_burst"]


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


def operator_guard(rt: NodeRuntime) -> Callable[[Request], None]:
    """A check that the request carries the node's operator token (constant-time comparison)."""

    def require_operator(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {rt.admin_token}".encode()):
            raise UnauthorizedAction("operator token required")

    return require_operator


def admin_router(rt: NodeRuntime) -> APIRouter:
    app = APIRouter(tags=["operator"])
    cfg = rt.cfg
    require_operator = operator_guard(rt)

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
            return error_response(PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}"))
        except IESError as err:
            return error_response(err)

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
            return error_response(PeerUnreachable(f"registry unreachable: {exc.__class__.__name__}"))
        except IESError as err:
            return error_response(err)

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
            return error_response(err)

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
            return error_response(err)

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
            return error_response(err)

    @app.get("/admin/messages")
    def admin_messages(request: Request, transaction_id: str | None = None, limit: int = 200) -> JSONResponse:
        try:
            require_operator(request)
        except IESError as err:
            return error_response(err)
        return JSONResponse(rt.log.messages(transaction_id=transaction_id, limit=min(max(limit, 1), 5000)))

    return app
