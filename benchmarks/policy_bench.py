"""Access decisions per second (run with `.venv/bin/python benchmarks/policy_bench.py`).

The same decisions, on the same machine, in the same run:

1. baseline  - the default decision table (data.json) evaluated in plain Python (no engine at all);
2. regopy    - three ways of asking rego-cpp: `Interpreter.query` on the source (plans every call),
               a compiled bundle entrypoint with the input as a JSON term, and with the input as a Python
               object (`set_input`), the path `CompiledPolicy.evaluate` uses;
3. decide    - `DecisionPoint.decide`, the one decision point every data handler calls: facts from the
               registry record, the compiled bundle with its decision cache, the Decision object. A first
               pass over the requests (each distinct fact tuple evaluated by regopy once), the steady state
               (tuples seen before: what a running node does), without the cache, and with a
               `policy.decision` audit line per decision in its own SQLite transaction.

Requests are drawn from a realistic mix (roles × datasets × purposes × granularity × endpoint), so the
cache sees the same few hundred distinct fact tuples a node sees. Every figure is also printed as a
ratio to the baseline. Target: decide ≥ 20 000/s on one core (the decision point must never be the
exchange's bottleneck; a node ACKs a few thousand signed messages per second).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import regopy

from ies.errors import PolicyError
from ies.identity.keys import SigningKeyPair
from ies.policy.catalogue import default_catalogue
from ies.policy.decision import DecisionAudit, DecisionPoint
from ies.policy.engine import CompiledPolicy
from ies.policy.sources import DEFAULT_BUNDLE_DIR, build_default_bundle
from ies.policy.store import BundleStore
from ies.policy.verify import load_bundle
from ies.registry.records import KeyRecord, standing_record
from ies.store import migrate, open_engine, sqlite_url_for

POLICY = json.loads((DEFAULT_BUNDLE_DIR / "data.json").read_text())["ies"]["policy"]
RANK = {"deny": 0, "allow_aggregated": 1, "allow": 2}
ROLE_SETS = [
    ("RESEARCHER",),
    ("BAP",),
    ("BPP",),
    ("AGGREGATOR",),
    ("REGULATOR",),
    ("DISCOM",),
    ("SYSTEM_OPERATOR", "CERTIFIED_OT"),
    ("BAP", "RESEARCHER"),
]


def python_decision(doc: dict[str, Any]) -> dict[str, Any]:
    """The baseline: the same table and semantics as access.rego, in plain Python."""
    ds = doc["dataset"]
    classes = {c for r in doc["roles"] for c in POLICY["role_classes"].get(r, [])}
    candidates = [
        rule
        for c in classes
        for rule in POLICY["entitlements"].get(c, [])
        if ds["taxonomy"] in rule["taxonomy"]
        and ds["criticality"] in rule["criticality"]
        and rule.get("personal", ds["personal"]) == ds["personal"]
    ]
    grants = [(r["effect"], r["id"]) for r in candidates if doc["purpose"] in r["purposes"]]
    if ds["criticality"] == "C0" and not ds["personal"]:
        grants.append(("allow", "open-data-c0"))
    if doc["custodian"]:
        grants.append(("allow", "custodian"))

    def deny(rule: str, code: str) -> dict[str, Any]:
        return {"effect": "deny", "rule": rule, "code": code}

    if grants:
        best = max(RANK[e] for e, _ in grants)
        rule = min(r for e, r in grants if RANK[e] == best)
        effect = "allow" if best == 2 else "allow_aggregated"
        if effect == "allow_aggregated" and doc["granularity"] == "record":
            return deny(rule, "POL_AGGREGATED_ONLY")
        if ds["criticality"] == "C3":
            if doc["endpoint"] != "operational":
                return deny("itot-operational-endpoint", "POL_OT_WRONG_ENDPOINT")
            if classes & set(POLICY["ot"]["never_classes"]):
                return deny("itot-no-trading-platform", "POL_OT_TRADING_PLATFORM")
            if not doc["certified"]:
                return deny("itot-certified-interface", "POL_OT_CREDENTIAL_REQUIRED")
        return {"effect": effect, "rule": rule, "code": None}
    if candidates:
        return deny(min(r["id"] for r in candidates), "POL_PURPOSE_NOT_PERMITTED")
    if ds["criticality"] == "C3":
        return deny("critical-operational-restricted", "POL_ENTITLEMENT_DENIED")
    return deny("no-entitlement", "POL_ENTITLEMENT_DENIED")


def _record(subscriber_id: str, roles: tuple[str, ...]) -> KeyRecord:
    return standing_record(subscriber_id, "k1", SigningKeyPair.generate().public_key_b64, roles=roles)


def workload(n: int, seed: int) -> list[tuple[KeyRecord, Any, str, str, bool]]:
    rng = random.Random(seed)
    catalogue = list(default_catalogue("discom.example"))
    records = [_record(f"p{i}.example", roles) for i, roles in enumerate(ROLE_SETS)]
    purposes = list(POLICY["purposes"])
    return [
        (
            rng.choice(records),
            rng.choice(catalogue),
            rng.choice(purposes),
            rng.choice(["record", "aggregate"]),
            rng.random() < 0.2,
        )
        for _ in range(n)
    ]


def facts(req: tuple[KeyRecord, Any, str, str, bool]) -> dict[str, Any]:
    rec, ds, purpose, granularity, operational = req
    return {
        "roles": sorted(rec.roles),
        "dataset": ds.policy_facts(),
        "purpose": purpose,
        "granularity": granularity,
        "endpoint": "operational" if operational else "informational",
        "certified": "CERTIFIED_OT" in rec.roles,
        "custodian": False,
    }


def rate(label: str, n: int, fn: Callable[[int], None], *, warm_up: bool = True) -> float:
    if warm_up:
        fn(min(n, 200))
    start = time.perf_counter()
    fn(n)
    per_s = n / (time.perf_counter() - start)
    print(f"  {label:<58} {per_s:>12,.0f} /s")
    return per_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--engine-requests", type=int, default=3_000, help="for the uncached regopy paths")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    key = SigningKeyPair.generate()
    archive = build_default_bundle(key, publisher="bench", key_id="k1")
    policy = CompiledPolicy(load_bundle(archive, [key.public_key]))
    reqs = workload(args.requests, args.seed)
    docs = [facts(r) for r in reqs]
    distinct = len({json.dumps(d, sort_keys=True) for d in docs})
    for doc in docs[: args.engine_requests]:  # the baseline is the same decision as the bundle's
        got = policy.evaluate("ies/access/decision", doc)
        assert {k: got[k] for k in ("effect", "rule", "code")} == python_decision(doc), doc
    print(
        f"{args.requests} requests, {distinct} distinct fact tuples; baseline agrees with the bundle on "
        f"{args.engine_requests} of them\n"
    )

    def baseline(n: int) -> None:
        for doc in docs[:n]:
            python_decision(doc)

    base = rate("baseline: decision table in plain Python", args.requests, baseline)
    figures: dict[str, float] = {}
    modules = {p: b.decode() for p, b in policy.bundle.files.items() if p.endswith(".rego")}
    data_json = policy.bundle.files["data.json"].decode()
    plain = regopy.Interpreter()
    for path, src in modules.items():
        plain.add_module(path, src)
    plain.add_data_json(data_json)
    built = plain.build(None, ["ies/access/decision"])
    runner = regopy.Interpreter()
    m = args.engine_requests

    def query_source(n: int) -> None:
        for doc in docs[:n]:
            plain.set_input(doc)
            plain.query("data.ies.access.decision")

    def entrypoint_term(n: int) -> None:
        for doc in docs[:n]:
            runner.set_input_term(json.dumps(doc))
            runner.query_bundle_entrypoint(built, "ies/access/decision")

    def entrypoint_object(n: int) -> None:
        for doc in docs[:n]:
            policy.evaluate("ies/access/decision", doc)

    figures["query"] = rate(
        "regopy Interpreter.query on the source (no build)", max(m // 10, 100), query_source
    )
    figures["term"] = rate("regopy compiled entrypoint, input as JSON term", m, entrypoint_term)
    figures["object"] = rate("regopy compiled entrypoint, input as object (used)", m, entrypoint_object)

    store = BundleStore()
    store.install(archive, [key.public_key])
    point = DecisionPoint(store)

    def decide(n: int, p: DecisionPoint = point) -> None:
        for rec, ds, purpose, granularity, operational in reqs[:n]:
            with contextlib.suppress(PolicyError):  # refusals are decisions too
                p.decide(rec, ds, purpose, granularity=granularity, operational=operational)  # type: ignore[arg-type]

    store.latest("ies-entitlements").clear_cache()
    figures["cold"] = rate(
        "DecisionPoint.decide, first pass (every tuple new once)", args.requests, decide, warm_up=False
    )
    figures["decide"] = rate("DecisionPoint.decide, steady state (tuples seen before)", args.requests, decide)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(sqlite_url_for(Path(tmp) / "bench.db"))
        migrate(engine)
        audited = DecisionPoint(store, audit=DecisionAudit(engine))
        figures["audited"] = rate(
            "DecisionPoint.decide + audit line (SQLite txn each)", 2_000, lambda n: decide(n, audited)
        )
        engine.dispose()
    uncached = DecisionPoint(store, cache=False)
    figures["uncached"] = rate("DecisionPoint.decide without the cache", m, lambda n: decide(n, uncached))
    print("\nratios to the plain-Python baseline (1.0 = as fast as plain Python):")
    for name, value in figures.items():
        print(f"  {name:<10} {value / base:8.3f}")
    verdict = "meets" if figures["decide"] >= 20_000 else "MISSES"
    print(
        f"\ndecide: {figures['decide']:,.0f} decisions/s on one core - {verdict} the 20 000/s target; "
        f"compiled entrypoint vs Interpreter.query: {figures['object'] / figures['query']:.1f}x, "
        f"object vs JSON-term input: {figures['object'] / figures['term']:.1f}x"
    )


if __name__ == "__main__":
    main()
