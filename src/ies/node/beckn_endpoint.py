"""`POST /beckn/{action}` as a bare ASGI middleware in front of the framework's routing.

Why not a route: every Beckn message in and out of a node passes here, and the framework layers below
the middleware stack (exception and exit-stack wrappers, route matching over every mounted router, the
request/response adapters) cost more CPU than the exchange pipeline's own checks (measured in
decision 0004). The pipeline (`ExchangeRouter.receive`) is unchanged: this only reads the body — capped,
so an oversized body is refused by the pipeline without being held in memory — and writes the reply.
Every other path, and `/beckn/on_subscribe` (the registry's challenge), falls through to the app.
"""

from __future__ import annotations

from orjson import dumps
from starlette.types import ASGIApp, Receive, Scope, Send

from ies.exchange.inbound import ExchangeRouter
from ies.policy.metrics import NodeMetrics

__all__ = ["BecknEndpoint"]

PREFIX = "/beckn/"
NOT_HERE = {"/beckn/on_subscribe"}


class BecknEndpoint:
    def __init__(self, app: ASGIApp, router: ExchangeRouter, metrics: NodeMetrics):
        self.app = app
        self.router = router
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope.get("method") != "POST" or not path.startswith(PREFIX) or path in NOT_HERE:
            await self.app(scope, receive, send)
            return
        cap = self.router.max_body_bytes + 1  # one byte over the limit is enough to refuse it
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            if size < cap:
                chunks.append(body[: cap - size])
            size += len(body)
            if not message.get("more_body", False):
                break
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        reply = await self.router.receive(path[len(PREFIX) :], authorization, b"".join(chunks))
        content = dumps(reply.body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()),
        ]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        self.metrics.observe_http("POST", reply.status)
