"""Prometheus metrics of a node: messages by action and outcome, NACKs by code, latency, policy decisions.

Why our own exposition instead of `prometheus-client`: four metric families with a handful of labels
need ~150 lines, and the client's process-global registry is exactly the module-level state the style
guide warns about (two nodes in one test process would share counters). Each `NodeMetrics` is its own
registry; the text follows the Prometheus exposition format 0.0.4 (HELP/TYPE lines, escaped label
values, cumulative `_bucket{le=…}` series with `+Inf`, `_sum` and `_count`).

`instrument_router` wraps one ExchangeRouter instance's `receive` (the single pipeline every inbound
Beckn message goes through), so ACKs and NACKs are counted where they are decided, with the NACK's code.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ies.exchange.inbound import ExchangeRouter, Reply

__all__ = ["CONTENT_TYPE", "HttpMetricsMiddleware", "NodeMetrics", "instrument_router", "metrics_router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    items = list(labels) + ([extra] if extra else [])
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in items) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Counter:
    def __init__(self, name: str, help_text: str):
        self.name, self.help = name, help_text
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        out += [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self.values.items())]
        return out


class _Histogram:
    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]):
        self.name, self.help, self.buckets = name, help_text, buckets
        self.series: dict[Labels, list[float]] = {}  # per-bucket counts (non-cumulative) + [sum, count]

    def observe(self, labels: Labels, value: float) -> None:
        row = self.series.get(labels)
        if row is None:
            row = self.series[labels] = [0.0] * (len(self.buckets) + 3)
        row[bisect.bisect_left(self.buckets, value)] += 1
        row[-2] += value
        row[-1] += 1

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, row in sorted(self.series.items()):
            running = 0.0
            for i, bound in enumerate((*self.buckets, float("inf"))):
                running += row[i]
                out.append(f"{self.name}_bucket{_labels(labels, ('le', _number(bound)))} {_number(running)}")
            out.append(f"{self.name}_sum{_labels(labels)} {row[-2]!r}")
            out.append(f"{self.name}_count{_labels(labels)} {_number(row[-1])}")
        return out


class NodeMetrics:
    """One node's metric registry (thread-safe; FastAPI runs sync routes in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages = _Counter("ies_messages_total", "Inbound Beckn messages by action and outcome.")
        self.nacks = _Counter("ies_nacks_total", "NACKs sent, by error code.")
        self.latency = _Histogram(
            "ies_message_latency_seconds", "Time to ACK or NACK an inbound message.", LATENCY_BUCKETS_S
        )
        self.decisions = _Counter("ies_policy_decisions_total", "Access decisions by outcome and code.")
        self.http = _Counter("ies_http_requests_total", "HTTP requests by method and status class.")
        self._families: list[_Counter | _Histogram] = [
            self.messages,
            self.nacks,
            self.latency,
            self.decisions,
            self.http,
        ]

    def observe_message(self, action: str, outcome: str, code: str | None, seconds: float) -> None:
        with self._lock:
            self.messages.inc((("action", action), ("outcome", outcome)))
            if outcome == "NACK":
                self.nacks.inc((("code", code or "UNKNOWN"),))
            self.latency.observe((("action", action),), seconds)

    def observe_decision(self, outcome: str, code: str | None) -> None:
        with self._lock:
            self.decisions.inc((("outcome", outcome), ("code", code or "")))

    def observe_http(self, method: str, status: int) -> None:
        with self._lock:
            self.http.inc((("method", method), ("status", f"{status // 100}xx")))

    def exposition(self) -> str:
        with self._lock:
            lines: list[str] = []
            for family in self._families:
                lines += family.render()
        return "\n".join(lines) + "\n"


def instrument_router(router: ExchangeRouter, metrics: NodeMetrics) -> None:
    """Count and time every message this router answers (wraps this instance's `receive` only)."""
    inner: Callable[[str, str | None, bytes], Awaitable[Reply]] = router.receive

    async def receive(action: str, authorization: str | None, raw: bytes) -> Reply:
        started = time.perf_counter()
        reply = await inner(action, authorization, raw)
        message = reply.body.get("message") if isinstance(reply.body, dict) else None
        status = message.get("status") if isinstance(message, dict) else None
        outcome = "ACK" if status == "ACK" else "NACK"
        error = reply.body.get("error") if isinstance(reply.body, dict) else None
        if error is None and isinstance(message, dict):
            error = message.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        known = (
            action if len(action) <= 64 and action.replace("/", "").replace("_", "").isalpha() else "other"
        )
        metrics.observe_message(known, outcome, code, time.perf_counter() - started)
        return reply

    router.receive = receive  # type: ignore[method-assign]


class HttpMetricsMiddleware:
    """ASGI middleware counting every HTTP request by method and status class."""

    def __init__(self, app: ASGIApp, metrics: NodeMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.metrics.observe_http(str(scope.get("method", "GET")), status["code"])


def metrics_router(metrics: NodeMetrics) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", response_class=PlainTextResponse)
    def exposition() -> Any:
        return PlainTextResponse(metrics.exposition(), media_type=CONTENT_TYPE)

    return router
