"""The P2P variants of issue 7 over real node processes: an aggregator trading for its prosumers, the
retail local energy exchange (uniform-price call auction), ex-post curtailment, the DISCOM's monthly
bill, and true-ups with explicit adjustment lines.

One DISCOM (north) with tiny 10 kVA transformers, so a 16 kW block is infeasible, whose ledger allocates
FIFO (`allocation` setting); two platforms: tp-1 matches bilaterally and is the platform of the
aggregator agg-1, tp-2 runs the call auction (its `market` setting). Tests run in file order over one
network, each building on the last.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from p2p_net import P2PNet, bid_of, start_p2p_net

from ies.exchange.signing import build_authorization
from ies.identity.keys import SigningKeyPair, load_node_keys
from ies.sandbox.launcher import stop_network
from ies.usecases.p2p.demo_checks import check_network
from ies.usecases.p2p.dispute import verify_bundle
from ies.usecases.p2p.driver import DriverError
from ies.usecases.p2p.market import (
    IST,
    Bid,
    Offer,
    SourceType,
    blocks_of_day,
    call_auction,
    energy_value_paise,
    settle_trade,
)
from ies.usecases.p2p.sandbox import build_bundles
from ies.usecases.p2p.settings import Charges
from ies.usecases.p2p.settle import adjustment_holds, lines_by_key, record_from_blocks, revenue_flows

DAY = (datetime.now(IST) + timedelta(days=2)).date()
BLOCKS = list(blocks_of_day(DAY))
AUCTION = BLOCKS[44:46]  # 11:00–11:30 IST
CURTAILED = BLOCKS[48]
LEDGER = "lp-north.ies.local"


@pytest.fixture(scope="module")
def p2p(tmp_path_factory: pytest.TempPathFactory) -> Iterator[P2PNet]:
    home = tmp_path_factory.mktemp("p2p-variants")
    net = start_p2p_net(
        home,
        1,
        base_port=18660,
        grid={"north": {"transformer_kva": 10}},
        platform_overrides={"tp-2": {"market": "auction"}},
        ledger_overrides={"north": {"allocation": "fifo"}},  # the other network allocates pro-rata
        aggregators={"agg-1": "tp-1"},
    )
    driver, state = net.d, net.d.state
    try:
        records, credentials = driver.register(
            "discom-north",
            [
                {"meter_id": "MN-S1", "customer_id": "C1", "sanctioned_load_w": 6000, "solar_w": 6000},
                {"meter_id": "MN-S2", "customer_id": "C2", "sanctioned_load_w": 5000, "solar_w": 5000},
                {"meter_id": "MN-A3", "customer_id": "C3", "sanctioned_load_w": 5000},
                {"meter_id": "MN-X1", "customer_id": "C4", "sanctioned_load_w": 5000},
                {"meter_id": "MN-X2", "customer_id": "C5", "sanctioned_load_w": 4000},
                {"meter_id": "MN-BIG", "customer_id": "C6", "sanctioned_load_w": 10000, "solar_w": 10000},
            ],
        )
        net.records = dict(zip(("N-S1", "A-S2", "A-B3", "X-B1", "X-B2", "N-BIG"), records, strict=True))
        net.records["A-B3-vc"] = credentials[2]
        driver.enrol("tp-1", [{"participant_id": p, "record": net.records[p]} for p in ("N-S1", "N-BIG")])
        driver.enrol("tp-2", [{"participant_id": p, "record": net.records[p]} for p in ("X-B1", "X-B2")])
        driver.refresh_grid("lp-north")
        yield net
    finally:
        driver.close()
        stop_network(state)
        os.environ.pop("IES_NODE_REGISTRY_CACHE_TTL_S", None)


def signed_request(p2p: P2PNet, signer: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """`body`'s bytes and headers signed with node `signer`'s registered key (what its node would send)."""
    node = p2p.d.node(signer)
    keys = load_node_keys(Path(node.config).parent / "keys.json")
    raw = orjson.dumps(body)
    now = int(time.time())
    header = build_authorization(
        raw,
        subscriber_id=node.subscriber_id,
        key_id=keys.key_id,
        key=keys.signing,
        created=now,
        expires=now + 60,
    )
    return raw, {"Authorization": header, "Content-Type": "application/json"}


def signed(p2p: P2PNet, signer: str, url: str, body: dict[str, Any]) -> httpx.Response:
    """POST `body` signed with node `signer`'s registered key."""
    raw, headers = signed_request(p2p, signer, body)
    return httpx.post(url, content=raw, headers=headers, timeout=30)


def agent_url(p2p: P2PNet, action: str) -> str:
    return f"{p2p.d.node('tp-1').url}/p2p/agent/{action}"


def test_an_aggregator_is_registered_and_its_prosumers_are_checked_as_individuals(p2p: P2PNet) -> None:
    registry = next(n for n in p2p.d.state.nodes if "REGISTRY" in n.roles)
    looked_up = httpx.post(
        f"{registry.url}/lookup", json={"subscriber_id": "agg-1.ies.local"}, timeout=10
    ).json()
    assert looked_up[0]["roles"] == ["AGGREGATOR"] and looked_up[0]["status"] == "SUBSCRIBED"
    forged = copy.deepcopy(p2p.records["A-B3"])
    forged["sanctionedLoadW"] *= 10
    answer = p2p.d.call(
        "agg-1",
        "POST",
        "/p2p/aggregator/prosumers",
        {
            "prosumers": [
                {"participant_id": "A-S2", "record": p2p.records["A-S2"]},
                {"participant_id": "A-B3", "credential": p2p.records["A-B3-vc"]},
                {"participant_id": "A-FORGED", "record": forged},
                {"participant_id": "N-S1", "record": p2p.records["N-S1"]},  # enrolled in person already
            ]
        },
    )
    ok_s2, ok_b3, forged_result, taken = answer["prosumers"]
    assert ok_s2["aggregator_id"] == ok_b3["aggregator_id"] == "agg-1.ies.local"
    assert ok_b3["meter_id"] == "MN-A3"
    assert forged_result["error"]["code"] == "POL_P2P_INELIGIBLE"
    assert forged_result["error"]["details"]["rule"] == "SIGNATURE_INVALID"  # as for an individual
    assert taken["error"]["details"]["rule"] == "ALREADY_REPRESENTED"


def test_a_prosumer_item_that_is_not_an_object_gets_its_own_error(p2p: P2PNet) -> None:
    valid = {"participant_id": "N-S1", "record": p2p.records["N-S1"]}
    junk, again = p2p.d.enrol("tp-1", ["not an object", valid])  # type: ignore[list-item]
    assert junk["error"]["code"] == "USAGE" and junk["participant_id"] is None
    assert "error" not in again  # the valid item beside it is still enrolled (idempotently)


def test_only_a_registered_aggregator_may_act_and_only_once_per_signature(p2p: P2PNet) -> None:
    body = {"prosumers": [{"participant_id": "Z", "record": p2p.records["X-B1"]}]}
    unsigned = httpx.post(agent_url(p2p, "prosumers"), json=body, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "AUT_SIGNATURE_MISSING"
    platform = signed(p2p, "tp-2", agent_url(p2p, "prosumers"), body)  # a registered node, not an aggregator
    assert platform.status_code == 403 and platform.json()["error"]["code"] == "POL_P2P_NOT_AGGREGATOR"
    raw, headers = signed_request(p2p, "agg-1", {"trades": []})
    first = httpx.post(agent_url(p2p, "trades"), content=raw, headers=headers, timeout=10)
    replayed = httpx.post(agent_url(p2p, "trades"), content=raw, headers=headers, timeout=10)
    assert first.status_code == 200 and first.json() == {"trades": []}
    assert replayed.status_code == 403 and "replay" in replayed.json()["error"]["message"]


def test_an_aggregator_offers_and_bids_only_for_its_own_prosumers(p2p: P2PNet) -> None:
    d = p2p.d
    offered = d.call(
        "agg-1",
        "POST",
        "/p2p/aggregator/offers",
        {
            "offers": [
                {
                    "participant_id": "A-S2",
                    "blocks": [
                        {"block": b, "price_paise_per_kwh": 460, "available_wh": 500} for b in AUCTION
                    ],
                },
                {
                    "participant_id": "N-S1",  # on the same platform, but enrolled in person
                    "blocks": [{"block": AUCTION[0], "price_paise_per_kwh": 400, "available_wh": 100}],
                },
            ]
        },
    )
    mine, not_mine = offered["offers"]
    assert "offer_id" in mine and offered["published"]["offers"] == 1
    assert not_mine["error"]["code"] == "POL_P2P_NOT_REPRESENTED"
    over_cap = d.call("agg-1", "POST", "/p2p/aggregator/bids", {"bids": [bid_of("A-B3", [CURTAILED], 6260)]})
    assert over_cap["bids"][0]["error"]["code"] == "POL_P2P_TRADED_POWER_OVER_CAP"  # the regulator's rule
    assert "NOT_REPRESENTED" in d.events("tp-1")["by_rule"]


def _book(offers: list[tuple[str, int, int]], bids: list[tuple[str, int, int]], block: int) -> Any:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return call_auction(
        [Bid(f"b-{who}", who, "tp-2", block, wh, limit, at) for who, wh, limit in bids],
        [Offer(f"o-{who}", who, "tp-1", block, wh, price, SourceType.SOLAR, at) for who, wh, price in offers],
    )[block]


def test_the_local_exchange_clears_one_price_per_block_and_contracts_through_the_ledger(p2p: P2PNet) -> None:
    d = p2p.d
    d.offer(
        "tp-1",
        [
            {
                "participant_id": "N-S1",
                "blocks": [{"block": b, "price_paise_per_kwh": 400, "available_wh": 600} for b in AUCTION],
            }
        ],
    )
    d.bid("tp-2", [bid_of("X-B1", AUCTION, 500, limit=700), bid_of("X-B2", AUCTION, 500, limit=480)])
    time.sleep(1.5)  # the catalogue republished after the aggregator's offer reaches the CDS
    run = d.trade("tp-2")  # tp-2's setting: market = "auction"
    expected = _book(
        [("N-S1", 600, 400), ("A-S2", 500, 460)], [("X-B1", 500, 700), ("X-B2", 500, 480)], AUCTION[0]
    )
    assert run["market"] == "auction" and run["refused"] == {}
    assert [(c["block"], c["price_paise_per_kwh"], c["volume_wh"]) for c in run["clearings"]] == [
        (b, expected.price_paise_per_kwh, expected.volume_wh) for b in AUCTION
    ]
    assert expected.price_paise_per_kwh == 460 and expected.volume_wh == 1000  # N-S1 gets 460 for its 400 ask
    recorded = [t for t in d.trades("lp-north") if t["market"] == "CALL_AUCTION"]
    assert len(recorded) == run["confirmed"] == 3
    assert all(t["seller"]["recorded"] and t["buyer"]["recorded"] for t in recorded)
    for block in AUCTION:
        cleared = [b for t in recorded for b in t["blocks"] if b["block"] == block]
        assert {b["price_paise_per_kwh"] for b in cleared} == {460}  # one uniform price per block
        assert sum(b["requested_wh"] for b in cleared) == expected.volume_wh
    sold = {(t["seller"]["id"], t["buyer"]["id"]): t["blocks"][0]["requested_wh"] for t in recorded}
    assert sold == {("N-S1", "X-B1"): 500, ("N-S1", "X-B2"): 100, ("A-S2", "X-B2"): 400}
    agent_view = d.call("agg-1", "POST", "/p2p/aggregator/trades", {})["trades"]
    assert [t["aggregators"]["seller"] for t in agent_view] == ["agg-1.ies.local"]  # A-S2's trade only


NEW_TARIFF = {"NORTH-DL": Charges.model_validate({"wheeling_paise_per_kwh": 90})}


def test_a_policy_change_is_a_new_signed_version_and_contracts_keep_theirs(p2p: P2PNet) -> None:
    d = p2p.d
    assert p2p.key is not None and p2p.home is not None
    [newer] = build_bundles(
        p2p.home / "v1.1.0",
        p2p.key,
        utilities=["NORTH-DL"],
        charges=NEW_TARIFF,
        kinds=("contract",),
        version="1.1.0",
        revision=2,
    )
    for name in ("tp-1", "tp-2", "lp-north"):
        installed = d.install_bundle(name, newer)
        assert (installed["name"], installed["version"], installed["kind"]) == (
            "p2p-contract-policy",
            "1.1.0",
            "contract",
        )
    impostor = build_bundles(
        p2p.home / "impostor",
        SigningKeyPair.generate(),
        utilities=["NORTH-DL"],
        charges=NEW_TARIFF,
        kinds=("contract",),
        version="1.2.0",
        revision=3,
    )[0]
    clash = build_bundles(
        p2p.home / "clash",
        p2p.key,
        utilities=["NORTH-DL"],
        charges={"NORTH-DL": Charges.model_validate({})},
        kinds=("contract",),
        version="1.1.0",
        revision=2,
    )[0]
    for archive, code in ((impostor, "POL_BUNDLE_UNTRUSTED_KEY"), (clash, "POL_BUNDLE_ROLLBACK")):
        with pytest.raises(DriverError) as refused:
            d.install_bundle("lp-north", archive)
        assert refused.value.code == code
    made = {t["policy"]["version"] for t in d.trades("lp-north")}
    assert made == {"1.0.0"}  # the auction's contracts keep the version they were made under


def test_ex_post_curtailment_scales_an_infeasible_block_down_in_every_record(p2p: P2PNet) -> None:
    d = p2p.d
    d.offer(
        "tp-1",
        [
            {
                "participant_id": "N-BIG",
                "blocks": [{"block": CURTAILED, "price_paise_per_kwh": 300, "available_wh": 4000}],
            }
        ],
    )
    d.call("agg-1", "POST", "/p2p/aggregator/bids", {"bids": [bid_of("A-B3", [CURTAILED], 4000)]})
    with pytest.raises(DriverError) as refused:  # the operator has not set curtailment mode yet
        d.call("lp-north", "POST", "/p2p/ledger/curtailment", {"day": DAY.isoformat()})
    assert refused.value.code == "CONFLICT"
    d.call("lp-north", "POST", "/p2p/ledger/feasibility", {"mode": "curtail"})
    run = d.trade("tp-1")  # 16 kW through 10 kVA: accepted now, to be curtailed ex post
    assert run["confirmed"] == 1 and run["refused"] == {}
    done = d.call("lp-north", "POST", "/p2p/ledger/curtailment", {"day": DAY.isoformat()})
    assert done["trades_curtailed"] == 1 and 0 < done["curtailed_wh"] < 4000 and done["power_flows"] > 0
    again = d.call("lp-north", "POST", "/p2p/ledger/curtailment", {"day": DAY.isoformat()})
    assert again["trades_curtailed"] == 0  # idempotent: the same schedule, the same cut

    def curtailed(name: str) -> dict[str, Any]:
        return next(t for t in d.trades(name) if t["seller"]["id"] == "N-BIG")["blocks"][0]

    p2p.wait_for(lambda: curtailed("tp-1")["curtailed_wh"] > 0)
    ledger, platform = curtailed("lp-north"), curtailed("tp-1")
    assert ledger["curtailed_wh"] == platform["curtailed_wh"] == done["curtailed_wh"]
    assert ledger["curtail_reason"] == platform["curtail_reason"]
    assert "limit" in ledger["curtail_reason"] and f"block {CURTAILED}" in ledger["curtail_reason"]
    event = next(
        e for e in d.events("lp-north", kind="curtailment")["recent"] if e["rule"] == "FEEDER_CURTAILED"
    )
    assert event["message"] == ledger["curtail_reason"]


def test_delivery_allocates_and_settles_what_is_still_contracted(p2p: P2PNet) -> None:
    d = p2p.d
    d.readings("discom-north", DAY.isoformat())
    d.round("lp-north", "FINAL", DAY.isoformat())
    p2p.wait_for(
        lambda: not [t for ts in p2p.platform_trades().values() for t in ts if t["status"] == "ACTIVE"]
    )
    readings = {"NORTH-DL": d.meter_readings("discom-north", DAY.isoformat())}
    checks = check_network(p2p.platform_trades(), p2p.ledger_trades(), {"NORTH-DL": LEDGER}, readings)
    assert checks.ok, checks.problems
    assert checks.trades == checks.settled == checks.flows_balanced == 4
    trade = next(t for t in d.trades("lp-north") if t["seller"]["id"] == "N-BIG")
    block = trade["blocks"][0]
    still = block["requested_wh"] - block["curtailed_wh"]
    assert block["seller_alloc_wh"] <= still and block["buyer_alloc_wh"] <= still
    args = {
        "buyer_id": "A-B3",
        "seller_id": "N-BIG",
        "buyer_utility": "NORTH-DL",
        "seller_utility": "NORTH-DL",
    }
    assert trade["policy"]["version"] == "1.1.0"  # made after the policy change: settled under it
    tariffs = {"NORTH-DL": NEW_TARIFF["NORTH-DL"].for_discom("NORTH-DL")}
    on_contracted = revenue_flows(
        settle_trade(record_from_blocks(trade["contract_id"], **args, blocks=trade["blocks"]), tariffs)
    )
    uncut = [{**b, "curtailed_wh": 0} for b in trade["blocks"]]
    on_requested = revenue_flows(
        settle_trade(record_from_blocks(trade["contract_id"], **args, blocks=uncut), tariffs)
    )
    assert trade["revenue_flows"] == on_contracted != on_requested  # deviations only on what was not cut
    deviation = {(f["kind"], f["role"]): f["valuePaise"] for f in trade["revenue_flows"]}
    assert deviation[("WHEELING", "sellerDiscom")] == energy_value_paise(block["final_alloc_wh"], 90)
    for old in (t for t in d.trades("lp-north") if t["market"] == "CALL_AUCTION"):  # still on 1.0.0's 50
        wheeled = sum(b["final_alloc_wh"] for b in old["blocks"])
        lines = {(f["kind"], f["role"]): f["valuePaise"] for f in old["revenue_flows"]}
        assert old["policy"]["version"] == "1.0.0"
        assert abs(lines.get(("WHEELING", "sellerDiscom"), 0) - wheeled * 50 / 1000) <= len(old["blocks"])
    under = still - block["buyer_alloc_wh"]
    assert deviation[("UNDER_CONSUMPTION", "buyerPlatform")] == -energy_value_paise(under, 400)
    disputed = verify_bundle(d.gather_evidence(trade["contract_id"]))  # the cut is read from signed messages
    assert disputed.ok, disputed.findings
    assert (
        disputed.blocks[0]["curtailed_wh"] == block["curtailed_wh"] and disputed.policy["version"] == "1.1.0"
    )


def reconciles(bill: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The bill against the participant's settlement statement, to the paisa."""
    owed: dict[str, int] = {}
    for r in rows:
        if r["counterparty_id"] == "NORTH-DL":
            owed[r["kind"]] = owed.get(r["kind"], 0) - r["amount_paise"]
    charges = {
        line["kind"]: line["amount_paise"]
        for line in bill["lines"]
        if line["kind"] not in ("IMPORT", "EXPORT_CREDIT", "FIXED")
    }
    assert charges == owed and all(isinstance(v, int) for v in charges.values())
    energy = sum(r["energy_wh"] for r in rows if r["kind"] == "ENERGY")  # our participants only buy or sell
    assert bill["traded_import_wh"] + bill["traded_export_wh"] == energy
    assert 0 in (bill["traded_import_wh"], bill["traded_export_wh"])
    assert bill["settled_with_others_paise"] == sum(
        r["amount_paise"] for r in rows if r["counterparty_id"] != "NORTH-DL"
    )
    lines = {line["kind"]: line for line in bill["lines"]}
    assert lines["IMPORT"]["energy_wh"] == bill["metered_import_wh"] - bill["traded_import_wh"]
    assert lines["EXPORT_CREDIT"]["energy_wh"] == bill["metered_export_wh"] - bill["traded_export_wh"]
    assert bill["total_paise"] == sum(line["amount_paise"] for line in bill["lines"])


def test_the_discom_bill_excludes_traded_energy_and_reconciles_with_the_statements(p2p: P2PNet) -> None:
    month = DAY.strftime("%Y-%m")
    for participant, meter in (("X-B2", "MN-X2"), ("N-S1", "MN-S1"), ("N-BIG", "MN-BIG")):
        bill = p2p.d.bill("discom-north", month, meter)
        assert bill["participant_id"] == participant and bill["blocks_metered"] == 96
        assert bill["traded_import_wh"] + bill["traded_export_wh"] > 0 and not bill["unsettled_trades"]
        reconciles(bill, p2p.d.statement("lp-north", participant)["rows"])
    buyer = p2p.d.bill("discom-north", month, "MN-X2")
    assert {"WHEELING", "CROSS_SUBSIDY"} <= {line["kind"] for line in buyer["lines"]}
    supplied = buyer["metered_import_wh"] - buyer["traded_import_wh"]  # traded import is not billed
    assert next(line for line in buyer["lines"] if line["kind"] == "IMPORT")[
        "amount_paise"
    ] == energy_value_paise(supplied, 800)
    assert buyer["without_p2p_total_paise"] == energy_value_paise(buyer["metered_import_wh"], 800) - (
        energy_value_paise(buyer["metered_export_wh"], 300)
    )


def ies(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ies.cli.main", "p2p", *args], capture_output=True, text=True, timeout=120
    )


def test_ies_p2p_bill_from_the_command_line(p2p: P2PNet) -> None:
    home, month = p2p.d.state.home, DAY.strftime("%Y-%m")
    shown = ies("bill", "MN-X2", "--month", month, "--home", home, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == p2p.d.bill("discom-north", month, "MN-X2")
    text = ies("bill", "MN-X2", "--month", month, "--home", home)
    assert text.returncode == 0 and "CROSS_SUBSIDY" in text.stdout and "total" in text.stdout
    assert ies("bill", "MN-NOPE", "--month", month, "--home", home).returncode == 1
    assert ies("bill", "MN-X2", "--month", "2026-13", "--home", home).returncode == 2


def test_a_true_up_sends_explicit_adjustment_lines_that_the_evidence_verifies(
    p2p: P2PNet, tmp_path: Path
) -> None:
    d = p2p.d
    block = AUCTION[0]
    # only the seller's trades that deliver in the corrected block can be re-settled by its true-up
    trades = [
        t
        for t in d.trades("tp-2")
        if t["seller"]["id"] == "N-S1" and any(b["block"] == block for b in t["blocks"])
    ]
    before = {t["contract_id"]: t["revenue_flows"] for t in trades}
    shares = [b["seller_alloc_wh"] for t in trades for b in t["blocks"] if b["block"] == block]
    assert len(shares) == 2 and min(shares) > 0
    # The two contracts were made concurrently, so which one FIFO serves first is the ledger's to say.
    # A re-read below the smaller share changes both whatever the order: the first is cut to the
    # re-read, the second gets nothing.
    imp, _exp, _ = d.meter_readings("discom-north", DAY.isoformat())["MN-S1"][str(block)]
    d.correct("discom-north", "MN-S1", block, imp, min(shares) // 2)  # re-read: less was exported
    d.round("lp-north", "TRUE_UP", DAY.isoformat())

    def adjusted() -> list[dict[str, Any]]:
        return [t for t in d.trades("tp-2") if t["contract_id"] in before and t["settlement_version"] == 2]

    p2p.wait_for(lambda: len(adjusted()) == len(before))
    for t in adjusted():
        [adjustment] = t["adjustments"]
        assert adjustment["version"] == 2 and adjustment["lines"]
        assert adjustment_holds(before[t["contract_id"]], adjustment["lines"], t["revenue_flows"])
        assert lines_by_key(adjustment["lines"]) != {}
    cid = adjusted()[0]["contract_id"]
    bundle = d.gather_evidence(cid)
    report = verify_bundle(bundle)
    assert report.ok, report.findings
    assert [(u["version"], u["bridges_signed_totals"]) for u in report.true_ups] == [(2, True)]
    assert {p["allocation"] for p in bundle["parts"] if p["role"] == "ledger"} == {"fifo"}
    as_pro_rata = copy.deepcopy(bundle)  # the re-read export no longer covers both trades: FIFO differs
    for part in as_pro_rata["parts"]:
        part["allocation"] = "pro_rata"
    assert verify_bundle(as_pro_rata).findings  # so the ledger allocated FIFO, as its setting says
    tampered = copy.deepcopy(bundle)
    kept = next(p for p in tampered["parts"] if p.get("settlements"))["settlements"]
    kept[0]["blocks"][0]["requested_wh"] += 100  # the ledger's record of the first settlement, altered
    assert any(f.startswith("(6)") for f in verify_bundle(tampered).findings)
    path = tmp_path / "trueup.evidence.json"
    path.write_text(json.dumps(bundle))
    checked = ies("verify-evidence", str(path))
    assert checked.returncode == 0 and "true-up 2" in checked.stdout, checked.stdout + checked.stderr
    month = DAY.strftime("%Y-%m")
    bill = d.bill("discom-north", month, "MN-S1")
    assert set(bill["settlement_versions"].values()) == {2}
    reconciles(bill, d.statement("lp-north", "N-S1")["rows"])
