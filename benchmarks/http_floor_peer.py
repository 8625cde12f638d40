"""Baseline peer for exchange_bench.py: the same HTTP stack as a node (uvicorn + Starlette server, and the
node's HTTP/1.1 client, `ies.exchange.http1`) doing the same async request/callback ping-pong, with no
signing, verification, logging or audit. With CLIENT = httpx it uses httpx instead (the client nodes used
before decision 0004), for comparison.

Run as `python benchmarks/http_floor_peer.py PORT PEER_URL [http1|httpx]`; POST /burst?n=&c= on one peer
drives n round trips with c in flight and answers the rate.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ies.exchange.http1 import Http1Client

PEER = sys.argv[2] if len(sys.argv) > 2 else ""
CLIENT = sys.argv[3] if len(sys.argv) > 3 else "http1"
state: dict[str, Any] = {"client": None, "futures": {}, "tasks": set()}


async def post(url: str, content: bytes) -> None:
    if state["client"] is None:
        state["client"] = (
            Http1Client()
            if CLIENT == "http1"
            else httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        )
    if CLIENT == "http1":
        await state["client"].post(url, content)
    else:
        await state["client"].post(url, content=content)


async def request(req: Request) -> Response:
    raw = await req.body()

    async def callback() -> None:
        await post(f"{PEER}/callback", raw)

    task = asyncio.get_running_loop().create_task(callback())
    state["tasks"].add(task)
    task.add_done_callback(state["tasks"].discard)
    return Response(b'{"message":{"status":"ACK"}}', media_type="application/json")


async def callback(req: Request) -> Response:
    future = state["futures"].pop(orjson.loads(await req.body())["id"], None)
    if future is not None:
        future.set_result(None)
    return Response(b'{"message":{"status":"ACK"}}', media_type="application/json")


async def burst(req: Request) -> Response:
    n, c = int(req.query_params.get("n", 1000)), int(req.query_params.get("c", 32))
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            future = asyncio.get_running_loop().create_future()
            state["futures"][i] = future
            await post(f"{PEER}/request", orjson.dumps({"id": i, "pad": "x" * 1200}))
            await future

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(c)))
    return Response(orjson.dumps({"round_trips_per_s": n / (time.perf_counter() - t0), "ok": n}))


app = Starlette(
    routes=[
        Route("/request", request, methods=["POST"]),
        Route("/callback", callback, methods=["POST"]),
        Route("/burst", burst, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
