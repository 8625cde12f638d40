"""Exchange-layer benchmarks (prints figures; run with `.venv/bin/python benchmarks/exchange_bench.py`).

1. sign + verify per second through our exchange layer (BLAKE2b-512 digest, signing string, header build,
   header parse, registry key-cache lookup, time checks, Ed25519) next to the raw PyNaCl Ed25519 primitive
   signing and verifying the same number of bytes, measured in the same run; the ratio is our overhead.
2. Signed round trips per second between two local node processes: a BAP node sends `select` to a BPP
   node, which verifies, ACKs, and calls back with a signed `on_select` that the BAP verifies and ACKs
   (two signed messages, two verifications, four logged and audited receipts per round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from nacl.signing import SigningKey

from ies.exchange.signing import build_authorization
from ies.exchange.verify import Verifier
from ies.identity.keys import SigningKeyPair
from ies.registry.client import RegistryClient
from ies.registry.records import standing_record

BODY = orjson.dumps(
    {
        "context": {
            "action": "select",
            "version": "2.0.0",
            "bapId": "buyer.example",
            "bapUri": "http://127.0.0.1:1/beckn",
            "bppId": "seller.example",
            "bppUri": "http://127.0.0.1:2/beckn",
            "transactionId": "5b2f8a46-7d55-4f53-9ad7-1f3f8b3f1c55",
            "messageId": "2f9b8c1e-5d7a-4c4e-8f11-0b1c2d3e4f50",
            "timestamp": "2026-11-26T00:00:00Z",
            "ttl": "PT30S",
        },
        "message": {
            "contract": {
                "commitments": [
                    {
                        "id": f"c{i}",
                        "offer": {"id": "offer-solar-1"},
                        "resources": [
                            {"id": "res-solar-1", "quantity": {"unitCode": "KWH", "unitQuantity": 2}}
                        ],
                    }
                    for i in range(8)
                ]
            }
        },
    }
)


def bench_primitive(n: int) -> float:
    key = SigningKey.generate()
    vk = key.verify_key
    t0 = time.perf_counter()
    for _ in range(n):
        sig = key.sign(BODY).signature
        vk.verify(BODY, sig)
    return n / (time.perf_counter() - t0)


def bench_layer(n: int) -> float:
    pair = SigningKeyPair.generate()
    record = standing_record("buyer.example", "k1", pair.public_key_b64)
    cache = RegistryClient("http://127.0.0.1:9", ttl_s=3600)
    cache._cache[("buyer.example", "k1")] = (time.monotonic() + 3600, record)  # a warm registry cache
    verifier = Verifier(cache.get_key)

    async def run() -> float:
        created = int(time.time())
        t0 = time.perf_counter()
        for _ in range(n):
            header = build_authorization(
                BODY, subscriber_id="buyer.example", key_id="k1", key=pair, created=created
            )
            await verifier.authenticate(header, BODY)
        return n / (time.perf_counter() - t0)

    return asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), so cost per round trip does not depend on load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_round_trips(count: int, concurrency: int, keep: bool) -> dict[str, object]:
    from ies.sandbox.launcher import start_network, stop_network
    from ies.sandbox.network import NetworkSpec, NodeSpec

    home = Path(tempfile.mkdtemp(prefix="ies-bench-"))
    spec = NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            NodeSpec("buyer", ("BAP",)),
            NodeSpec("seller", ("BPP",)),
        ),
        base_port=18900,
    )
    os.environ.setdefault("IES_NODE_REGISTRY_CACHE_TTL_S", "300")
    state = start_network(spec, home)
    try:
        buyer, seller = state.node("buyer"), state.node("seller")
        body = {
            "bpp_id": seller.subscriber_id,
            "bpp_uri": seller.beckn_url,
            "action": "select",
            "count": count,
            "concurrency": concurrency,
            "message": {"contract": {"commitments": [{"id": "c1", "offer": {"id": "offer-solar-1"}}]}},
        }
        headers = {"Authorization": f"Bearer {state.admin_token(buyer)}"}
        httpx.post(
            f"{buyer.url}/admin/burst", json={**body, "count": 200}, headers=headers, timeout=120
        )  # warm-up
        before = {n.name: cpu_seconds(n.pid) for n in (buyer, seller)}
        result = httpx.post(f"{buyer.url}/admin/burst", json=body, headers=headers, timeout=600).json()
        ok = max(int(result.get("ok", 0)), 1)
        result["cpu_ms_per_round_trip"] = {
            n.name: round((cpu_seconds(n.pid) - before[n.name]) * 1000 / ok, 3) for n in (buyer, seller)
        }
        return result
    finally:
        if not keep:
            stop_network(state)


def bench_http_floor(count: int, concurrency: int, client: str = "http1") -> dict[str, object]:
    """The same ping-pong over the same HTTP stack with nothing else: the floor our round trip sits on
    (`client` = httpx: the same, with the client nodes used before decision 0004)."""
    import subprocess
    import sys

    from ies.sandbox.network import free_port

    a = free_port(19500, set())
    b = free_port(a + 1, {a})
    script = str(Path(__file__).with_name("http_floor_peer.py"))
    procs = [
        subprocess.Popen([sys.executable, script, str(a), f"http://127.0.0.1:{b}", client]),
        subprocess.Popen([sys.executable, script, str(b), f"http://127.0.0.1:{a}", client]),
    ]
    try:
        for port in (a, b):
            for _ in range(100):
                try:
                    httpx.post(f"http://127.0.0.1:{port}/callback", content=b'{"id": -1}', timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
        httpx.post(f"http://127.0.0.1:{a}/burst", params={"n": 200, "c": concurrency}, timeout=120)
        before = [cpu_seconds(p.pid) for p in procs]
        result = httpx.post(
            f"http://127.0.0.1:{a}/burst", params={"n": count, "c": concurrency}, timeout=600
        ).json()
        result["cpu_ms_per_round_trip"] = {
            name: round((cpu_seconds(p.pid) - t) * 1000 / count, 3)
            for name, p, t in zip(("a", "b"), procs, before, strict=True)
        }
        return dict(result)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:  # uvicorn waits for its peer's keep-alive connections
                p.kill()
                p.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20000, help="sign+verify iterations")
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--keep", action="store_true", help="leave the benchmark network running")
    parser.add_argument("--skip-network", action="store_true")
    parser.add_argument("--skip-httpx-floor", action="store_true", help="skip the httpx comparison")
    args = parser.parse_args()
    raw = bench_primitive(args.n)
    ours = bench_layer(args.n)
    print(f"body: {len(BODY)} bytes")
    print(f"raw Ed25519 sign+verify (PyNaCl):        {raw:10.0f} /s")
    print(f"ies exchange sign+verify (full layer):   {ours:10.0f} /s")
    print(f"overhead of the exchange layer:          {raw / ours:10.2f} x  (target <= 1.5 x)")
    if not args.skip_network:
        rt = bench_round_trips(args.round_trips, args.concurrency, args.keep)
        print("signed round trips between two node processes (select -> ACK, on_select -> ACK):")
        print(json.dumps(rt, indent=2))
        per_s = float(rt.get("round_trips_per_s", 0.0))  # type: ignore[arg-type]
        print(f"round trips/s: {per_s:.0f}  = {per_s / raw:.3f} x the raw sign+verify rate of one core")
        cpu = rt.get("cpu_ms_per_round_trip", {})
        total = sum(cpu.values()) if isinstance(cpu, dict) else 0.0
        floor = bench_http_floor(args.round_trips, args.concurrency)
        floor_cpu = floor["cpu_ms_per_round_trip"]
        floor_total = sum(floor_cpu.values()) if isinstance(floor_cpu, dict) else 0.0
        print(f"CPU per signed round trip (both nodes): {total:.2f} ms  {cpu}")
        print(
            f"baseline, same HTTP stack, bare ping-pong: {floor['round_trips_per_s']:.0f}/s,"
            f" CPU {floor_total:.2f} ms"
        )
        if floor_total:
            print(
                f"cost of a signed, verified, logged and audited round trip: {total / floor_total:.2f} x"
                " the bare one"
            )
        if not args.skip_httpx_floor:
            old = bench_http_floor(args.round_trips, args.concurrency, client="httpx")
            old_cpu = old["cpu_ms_per_round_trip"]
            old_total = sum(old_cpu.values()) if isinstance(old_cpu, dict) else 0.0
            print(
                f"the bare ping-pong with an httpx client instead: {old['round_trips_per_s']:.0f}/s,"
                f" CPU {old_total:.2f} ms ({old_total / floor_total:.2f} x the node's client)"
            )
        if total:
            print(
                f"round trips/s the CPU cost allows on 2 otherwise idle cores: {2000 / total:.0f}"
                f" (bare stack: {2000 / floor_total:.0f})"
            )


if __name__ == "__main__":
    main()
