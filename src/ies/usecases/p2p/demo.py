"""`ies demo p2p`: a day of P2P trading over a real local network of separate node processes.

Steps: sign the rule bundles with a sandbox regulator key → start registry, CDS, two trading platforms,
an aggregator and a ledger provider and a DISCOM per region (`ies.sandbox.launcher`) → the DISCOMs
register N connections and sign their onboarding records → the platforms enrol the prosumers (and refuse
a forged record), the aggregator enrols every fifth prosumer of tp-1 through it → sellers offer forecast
PV surplus, buyers bid (plus a late, an over-cap and an unknown-prosumer bid, refused by rule) → each
platform discovers and matches (or, with `market = "auction"`, clears a uniform-price call auction per
DISCOM and block) and contracts → the DISCOMs meter the day (some meters late) → the ledgers run a
PROVISIONAL round, then FINAL once the late data is in, then a TRUE_UP after a corrected reading → the
seller side settles under the pinned contract policy (the true-up with explicit adjustment lines) → the
DISCOMs bill the month → the demo checks the invariants across nodes (`demo_checks`), reconciles every
bill with the statements, verifies every node's audit log and writes the report.
"""

from __future__ import annotations

import copy
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ies.identity.keys import SigningKeyPair
from ies.sandbox.launcher import start_network, stop_network
from ies.usecases.p2p.demo_checks import Checks, check_network, refusals_by_rule
from ies.usecases.p2p.demo_population import Prosumer, bids_for, offers_for, population
from ies.usecases.p2p.dispute import verify_bundle
from ies.usecases.p2p.driver import Driver
from ies.usecases.p2p.market import BLOCKS_PER_DAY, blocks_of_day
from ies.usecases.p2p.sandbox import P2PTopology, build_bundles, p2p_spec
from ies.usecases.p2p.settings import Charges

__all__ = ["DemoResult", "run_demo"]

Progress = Callable[[str], None]
AGGREGATOR = "agg-1"
CATALOGUE_SETTLE_S = 2.0
CHARGES = {
    "NORTH-DL": {
        "wheeling_paise_per_kwh": 60,
        "cross_subsidy_paise_per_kwh": 40,
        "loss_basis_points": 350,
        "deviation_paise_per_kwh": 450,
        "import_tariff_paise_per_kwh": 800,
        "export_rate_paise_per_kwh": 300,
    },
    "SOUTH-DL": {
        "wheeling_paise_per_kwh": 55,
        "cross_subsidy_paise_per_kwh": 35,
        "loss_basis_points": 300,
        "deviation_paise_per_kwh": 420,
        "import_tariff_paise_per_kwh": 750,
        "export_rate_paise_per_kwh": 280,
    },
}


@dataclass
class DemoResult:
    day: date
    prosumers: list[Prosumer]
    platforms: dict[str, list[dict[str, Any]]]
    ledgers: dict[str, list[dict[str, Any]]]
    readings: dict[str, dict[str, dict[str, list[Any]]]]
    trade_runs: dict[str, dict[str, Any]]
    rounds: list[dict[str, Any]]
    refusals: dict[str, int]
    audit: dict[str, dict[str, Any]]
    checks: Checks
    charges: dict[str, Charges]
    timings: dict[str, float] = field(default_factory=dict)
    disputes: dict[str, Any] = field(default_factory=dict)
    bills: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # utility → the DISCOM's bills
    market: str = "bilateral"
    probe: dict[str, Any] = field(default_factory=dict)


def run_demo(
    prosumers: int,
    discoms: int,
    day: date,
    home: Path,
    *,
    progress: Progress = lambda _m: None,
    base_port: int = 18900,
    seed: int = 42,
    probe: Callable[[Driver], dict[str, Any]] | None = None,
    keep: bool = False,
    market: str = "bilateral",
) -> DemoResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    topology = P2PTopology(discoms)
    charges = {u: Charges.model_validate(CHARGES[u]) for u in topology.utilities}
    key = SigningKeyPair.generate()
    bundles = build_bundles(home / "bundles", key, utilities=topology.utilities, charges=charges)
    spec = p2p_spec(
        topology,
        bundles=bundles,
        trusted_key=key.public_key_b64,
        charges=charges,
        base_port=base_port,
        platform_overrides={p: {"market": market} for p in topology.platforms},
        aggregators={AGGREGATOR: topology.platforms[0]},
    )
    state = start_network(spec, home / "network", progress=progress)
    timings["network_up_s"] = time.perf_counter() - started
    driver = Driver(state)
    try:
        result = _run(driver, topology, charges, prosumers, day, progress, seed, timings, market)
        if probe is not None:
            result.probe = probe(driver)
        return result
    finally:
        driver.close()
        if not keep:
            stop_network(state)


def _run(
    d: Driver,
    topo: P2PTopology,
    charges: dict[str, Charges],
    count: int,
    day: date,
    progress: Progress,
    seed: int,
    timings: dict[str, float],
    market: str,
) -> DemoResult:
    rng = random.Random(seed)
    people = population(
        count,
        list(topo.regions),
        topo.platforms,
        seed,
        exchange=market == "auction",
        aggregator=(AGGREGATOR, topo.platforms[0]),
    )
    t = time.perf_counter()
    proofs: dict[str, dict[str, Any]] = {}  # every other prosumer shows an ElectricityCredential
    records: dict[str, dict[str, Any]] = {}
    for region in topo.regions:
        mine = [p for p in people if p.region == region]
        specs = [
            {
                "meter_id": p.meter_id,
                "customer_id": p.customer_id,
                "sanctioned_load_w": p.sanctioned_load_w,
                "solar_w": p.solar_w,
            }
            for p in mine
        ]
        signed, credentials = d.register(topo.discom(region), specs)
        for i, (p, record, credential) in enumerate(zip(mine, signed, credentials, strict=True)):
            records[p.participant_id] = record
            proofs[p.participant_id] = {"credential": credential} if i % 2 else {"record": record}
    for platform in topo.platforms:
        mine = [p for p in people if p.platform == platform and not p.aggregator]
        d.enrol(platform, [{"participant_id": p.participant_id, **proofs[p.participant_id]} for p in mine])
    represented = [p for p in people if p.aggregator]
    if represented:  # the aggregator shows the same DISCOM proofs; its platform checks them as for anyone
        d.agent(
            AGGREGATOR,
            "prosumers",
            {
                "prosumers": [
                    {"participant_id": p.participant_id, **proofs[p.participant_id]} for p in represented
                ]
            },
        )
    forged = copy.deepcopy(records[people[0].participant_id])
    forged["sanctionedLoadW"] *= 10  # a prosumer inflating their sanctioned load: the signature breaks
    d.enrol(topo.platforms[0], [{"participant_id": "P-FORGED", "record": forged}])
    for region in topo.regions:
        d.refresh_grid(topo.ledger(region))
    timings["onboarding_s"] = time.perf_counter() - t
    progress(
        f"onboarded {len(people)} prosumers on {len(topo.regions)} DISCOM(s), {len(topo.platforms)} platforms"
    )

    t = time.perf_counter()
    for platform in topo.platforms:
        offers = [o for p in people if p.platform == platform and (o := offers_for(p, day, rng))]
        bids = [b for p in people if p.platform == platform and (b := bids_for(p, day, rng))]
        agent = {p.participant_id for p in people if p.aggregator}
        if [o for o in offers if o["participant_id"] not in agent]:
            d.offer(platform, [o for o in offers if o["participant_id"] not in agent])
        if [b for b in bids if b["participant_id"] not in agent]:
            d.bid(platform, [b for b in bids if b["participant_id"] not in agent])
        if [o for o in offers if o["participant_id"] in agent]:
            d.agent(AGGREGATOR, "offers", {"offers": [o for o in offers if o["participant_id"] in agent]})
        if [b for b in bids if b["participant_id"] in agent]:
            d.agent(AGGREGATOR, "bids", {"bids": [b for b in bids if b["participant_id"] in agent]})
    _refused_bids(d, topo, people, day)
    trade_runs = {}
    for platform in topo.platforms:
        time.sleep(CATALOGUE_SETTLE_S)  # let the previous platform's sales reach the CDS (republished)
        trade_runs[platform] = d.trade(platform, concurrency=8)
        progress(
            f"{platform}: {trade_runs[platform]['confirmed']} trades confirmed "
            f"({trade_runs[platform]['trades_per_s']} trades/s)"
        )
    timings["trading_s"] = time.perf_counter() - t

    t = time.perf_counter()
    late = {r: [p.meter_id for p in people if p.region == r][::20] for r in topo.regions}
    for region in topo.regions:
        d.readings(topo.discom(region), day.isoformat(), late[region], late_from_index=BLOCKS_PER_DAY // 2)
    rounds = []
    for kind in ("PROVISIONAL", "FINAL"):
        if kind == "FINAL":
            for region in topo.regions:
                d.release(topo.discom(region))
        for region in topo.regions:
            rounds.append(
                {"ledger": topo.ledger(region), **d.round(topo.ledger(region), kind, day.isoformat())}
            )
        progress(f"{kind.lower()} allocation round done")
    corrected = _correct_one_reading(d, topo, day)
    if corrected:
        for region in topo.regions:
            rounds.append(
                {"ledger": topo.ledger(region), **d.round(topo.ledger(region), "TRUE_UP", day.isoformat())}
            )
        progress(f"true-up after a corrected reading of {corrected}")
    platforms, ledgers = _wait_converged(d, topo)
    timings["delivery_settlement_s"] = time.perf_counter() - t

    readings = {topo.utility(r): d.meter_readings(topo.discom(r), day.isoformat()) for r in topo.regions}
    month = day.strftime("%Y-%m")
    bills = {topo.utility(r): d.bills(topo.discom(r), month) for r in topo.regions}
    checks = check_network(
        platforms, ledgers, {topo.utility(r): topo.sub(topo.ledger(r)) for r in topo.regions}, readings
    )
    names = [
        "cds",
        *topo.platforms,
        AGGREGATOR,
        *[topo.ledger(r) for r in topo.regions],
        *[topo.discom(r) for r in topo.regions],
    ]
    audit = {n: d.audit(n) for n in names if n != "cds"}
    disputes = _dispute_sample(d, platforms)
    refusals = refusals_by_rule(d.events(n) for n in names if n != "cds")
    return DemoResult(
        day,
        people,
        platforms,
        ledgers,
        readings,
        trade_runs,
        rounds,
        refusals,
        audit,
        checks,
        charges,
        timings,
        disputes,
        bills,
        market,
    )


def _refused_bids(d: Driver, topo: P2PTopology, people: list[Prosumer], day: date) -> None:
    """Bids the rules must refuse: over the 500 % cap, after gate closure, from an unknown prosumer."""
    buyer = next(p for p in people if not p.solar_w)
    block = list(blocks_of_day(day))[40]
    cap_wh = buyer.sanctioned_load_w * 5 // 4
    late_block = int(time.time() // 900) + 2  # starts within the gate-closure window
    attempts = [
        {
            "participant_id": buyer.participant_id,
            "blocks": [{"block": block, "quantity_wh": cap_wh + 100, "limit_price_paise_per_kwh": 600}],
        },
        {
            "participant_id": buyer.participant_id,
            "blocks": [{"block": late_block, "quantity_wh": 100, "limit_price_paise_per_kwh": 600}],
        },
        {
            "participant_id": "P-UNKNOWN",
            "blocks": [{"block": block, "quantity_wh": 100, "limit_price_paise_per_kwh": 600}],
        },
    ]
    d.bid(buyer.platform, attempts)


def _correct_one_reading(d: Driver, topo: P2PTopology, day: date) -> str | None:
    """The DISCOM corrects one traded seller's reading after FINAL (a meter re-read): a true-up follows."""
    for region in topo.regions:
        for t in d.trades(topo.ledger(region)):
            if t["seller"]["utility"] == topo.utility(region) and t["blocks"]:
                middle = t["blocks"][len(t["blocks"]) // 2]
                block, allocated = middle["block"], middle["seller_alloc_wh"] or 0
                meters = d.meter_readings(topo.discom(region), day.isoformat())
                imp, _exp, _ = meters[t["seller"]["meter"]][str(block)]
                # re-read below what was allocated, so the allocation (and the money) must change
                d.correct(topo.discom(region), t["seller"]["meter"], block, imp, max(allocated - 40, 0))
                return f"{t['seller']['meter']} in block {block}"
    return None


def _wait_converged(
    d: Driver, topo: P2PTopology, timeout_s: float = 180.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Poll until the cascades have landed: no live trade ACTIVE anywhere, and the four parties of every
    trade holding the same FINAL_ALLOC (what the checks then verify in full)."""
    deadline = time.monotonic() + timeout_s
    ledger_of = {topo.utility(r): topo.sub(topo.ledger(r)) for r in topo.regions}
    while True:
        platforms = {topo.sub(p): d.trades(p) for p in topo.platforms}
        ledgers = {topo.sub(topo.ledger(r)): d.trades(topo.ledger(r)) for r in topo.regions}
        pending = [
            t
            for trades in (*platforms.values(), *ledgers.values())
            for t in trades
            if t["status"] == "ACTIVE"
        ]
        agreed = check_network(platforms, ledgers, ledger_of, {})
        if (not pending and agreed.converged == agreed.trades) or time.monotonic() > deadline:
            return platforms, ledgers
        time.sleep(0.5)


def _dispute_sample(d: Driver, platforms: dict[str, list[dict[str, Any]]], sample: int = 3) -> dict[str, Any]:
    """Gather the evidence of a few settled trades and recompute them independently (`ies p2p`)."""
    settled = sorted({t["contract_id"] for ts in platforms.values() for t in ts if t["status"] == "COMPLETE"})
    picked = settled[:: max(1, len(settled) // sample)][:sample]
    reports = {cid: verify_bundle(d.gather_evidence(cid)).to_dict() for cid in picked}
    return {
        "checked": len(reports),
        "consistent": sum(1 for r in reports.values() if r["ok"]),
        "findings": [f for r in reports.values() for f in r["findings"]],
    }


def money_by_role(platforms: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    seen: set[str] = set()
    out: dict[str, int] = defaultdict(int)
    for trades in platforms.values():
        for t in trades:
            if t["contract_id"] in seen:
                continue
            seen.add(t["contract_id"])
            for line in t.get("revenue_flows") or []:
                out[f"{line['role']}:{line['kind']}"] += int(line["valuePaise"])
    return dict(sorted(out.items()))
