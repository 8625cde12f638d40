"""The pure parts of the issue-7 variants: the auction's proposals, true-up lines on the wire and their
arithmetic, curtailment in the contract record and the ledger book, ex-post curtailment on a feeder,
billing periods, and the replay guard of signed node-to-node calls."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from ies.errors import SchemaValidationFailed, UnauthorizedAction, UsageError
from ies.store import session_factory
from ies.usecases.p2p.billing import period_of_month
from ies.usecases.p2p.catalog import CatalogOffer, OfferBlock, market_offers
from ies.usecases.p2p.contract import Customer, LedgerParty, Trade, contract_body, parse_contract
from ies.usecases.p2p.grid import GridView, ScheduledLeg
from ies.usecases.p2p.ledger_book import adopt_settlement, current_trade, merge_allocations, save_trade
from ies.usecases.p2p.market import (
    Bid,
    DiscomCharges,
    DistributionTransformer,
    FeederModel,
    GridLimits,
    ServicePointModel,
    TradeSettlement,
    blocks_of_day,
    call_auction,
    settlement_adjustment,
)
from ies.usecases.p2p.proposals import CALL_AUCTION, auctioned
from ies.usecases.p2p.settle import adjustment_holds, lines_by_key, record_from_blocks, revenue_flows, settle
from ies.usecases.p2p.signed_http import ReplayGuard

AT = datetime(2026, 11, 26, tzinfo=UTC)
B = 1995000
NORTH = DiscomCharges("NORTH-DL", 50, 30, 300, 400, 800, 300)


def customer(pid: str, utility: str, platform: str = "tp-1", aggregator: str = "") -> Customer:
    return Customer(pid, platform, f"M-{pid}", f"C-{pid}", utility, aggregator_id=aggregator)


def offer(pid: str, utility: str, price: int, wh: int) -> CatalogOffer:
    return CatalogOffer(f"o-{pid}", customer(pid, utility), "SOLAR", AT, (OfferBlock(B, price, wh),))


def bid(pid: str, wh: int, limit: int) -> Bid:
    return Bid(f"b-{pid}", pid, "tp-2", B, wh, limit, AT)


def test_the_exchange_clears_each_discom_apart_at_one_price_and_pairs_fills_into_proposals() -> None:
    offers = [
        offer("S1", "NORTH-DL", 400, 600),
        offer("S2", "NORTH-DL", 460, 500),
        offer("S3", "SOUTH-DL", 1, 900),
    ]
    book = market_offers(offers, not_before=B)
    bids = [bid("B1", 500, 700), bid("B2", 500, 480), bid("B3", 300, 900)]
    utility = {"B1": "NORTH-DL", "B2": "NORTH-DL", "B3": "SOUTH-DL", "S1": "NORTH-DL"}
    proposals, clearings = auctioned(bids, offers, book, utility)
    north = call_auction(bids[:2], [o for o in book if "S3" not in o.offer_id])[B]
    assert [(c["utility_id"], c["price_paise_per_kwh"], c["volume_wh"]) for c in clearings] == [
        ("NORTH-DL", north.price_paise_per_kwh, 1000),
        ("SOUTH-DL", 1, 300),  # south: supply left unsold at 1 paisa holds the price there
    ]
    assert north.price_paise_per_kwh == 460
    pairs = {(p.buyer_id, p.offer.seller.participant_id): p.energy_wh[B] for p in proposals}
    assert pairs == {("B1", "S1"): 500, ("B2", "S1"): 100, ("B2", "S2"): 400, ("B3", "S3"): 300}
    assert {p.market for p in proposals} == {CALL_AUCTION}
    assert {p.price[B] for p in proposals if p.offer.seller.utility_id == "NORTH-DL"} == {460}


def test_a_prosumer_bidding_in_a_block_does_not_also_sell_into_its_auction() -> None:
    offers = [offer("P1", "NORTH-DL", 300, 500), offer("S2", "NORTH-DL", 450, 500)]
    proposals, _ = auctioned(
        [bid("P1", 400, 700)], offers, market_offers(offers, not_before=B), {"P1": "NORTH-DL"}
    )
    assert [(p.buyer_id, p.offer.seller.participant_id) for p in proposals] == [("P1", "S2")]


def settled(seller_alloc: int, buyer_alloc: int, curtailed: int = 0) -> TradeSettlement:
    blocks = [
        {
            "block": B,
            "requested_wh": 1000,
            "curtailed_wh": curtailed,
            "price_paise_per_kwh": 500,
            "buyer_alloc_wh": buyer_alloc,
            "seller_alloc_wh": seller_alloc,
        }
    ]
    record = record_from_blocks(
        "c-1", buyer_id="B", seller_id="S", buyer_utility="NORTH-DL", seller_utility="NORTH-DL", blocks=blocks
    )
    return settle(record, {"NORTH-DL": NORTH})


def test_adjustment_lines_bridge_two_settlements_to_the_paisa() -> None:
    first, second = settled(900, 800), settled(700, 800)
    adjustment = revenue_flows(settlement_adjustment(first, second))
    assert adjustment_holds(revenue_flows(first), adjustment, revenue_flows(second))
    energy = lines_by_key(adjustment)[("ENERGY", "sellerPlatform")]
    assert energy == -50  # 100 Wh less delivered at ₹5/kWh: the seller gives 50 paise back
    broken = [dict(line) for line in adjustment]
    broken[0]["valuePaise"] += 1
    assert not adjustment_holds(revenue_flows(first), broken, revenue_flows(second))


def test_curtailed_energy_is_not_contracted_so_it_carries_no_deviation() -> None:
    cut = lines_by_key(revenue_flows(settled(600, 600, curtailed=400)))
    uncut = lines_by_key(revenue_flows(settled(600, 600)))
    assert ("UNDER_DELIVERY", "sellerPlatform") not in cut
    assert uncut[("UNDER_DELIVERY", "sellerPlatform")] == -160  # 400 Wh at 400 paise/kWh


def contract() -> Trade:
    return Trade(
        contract_id="c-1",
        offer_id="o-1",
        seller=customer("S", "NORTH-DL", aggregator="agg-1.ies.local"),
        buyer=customer("B", "NORTH-DL", platform="tp-2"),
        seller_ledger=LedgerParty("NORTH-DL", "lp-n"),
        buyer_ledger=LedgerParty("NORTH-DL", "lp-n"),
        status="ACTIVE",
        market=CALL_AUCTION,
        columns={"PRICE_PER_KWH": {B: 460}, "REQUESTED_QTY": {B: 1000}},
    )


def test_adjustments_curtailment_market_and_aggregator_travel_in_the_contract() -> None:
    trade = contract().with_columns(
        SELLER_DISCOM_CURTAILED={B: 400}, SELLER_DISCOM_CURTAIL_REASON={B: "trafo thermal at DT1: 120 %"}
    )
    trade.revenue_flows = revenue_flows(settled(600, 600))
    trade.settlement_version = 2
    trade.adjustments = [{"version": 2, "lines": trade.revenue_flows[:2]}]
    back = parse_contract(contract_body(trade))
    assert back.revenue_flows == trade.revenue_flows and back.settlement_version == 2
    assert back.adjustments == trade.adjustments
    assert back.market == CALL_AUCTION and back.seller.aggregator_id == "agg-1.ies.local"
    assert back.column("SELLER_DISCOM_CURTAILED") == {B: 400}
    assert back.columns["SELLER_DISCOM_CURTAIL_REASON"] == {B: "trafo thermal at DT1: 120 %"}
    body = contract_body(trade)
    body["consideration"][1]["considerationAttributes"]["adjustment"]["settlementVersion"] = 1
    with pytest.raises(SchemaValidationFailed):
        parse_contract(body)


def test_the_book_keeps_the_largest_cut_and_only_newer_settlements(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        save_trade(session, contract(), transaction_id="t", status="ACTIVE")
    cut = contract().with_columns(SELLER_DISCOM_CURTAILED={B: 400}, SELLER_DISCOM_CURTAIL_REASON={B: "why"})
    smaller = contract().with_columns(
        SELLER_DISCOM_CURTAILED={B: 100}, SELLER_DISCOM_CURTAIL_REASON={B: "no"}
    )
    with sessions.begin() as session:
        assert merge_allocations(session, "c-1", cut, {"seller"}, author=True)[2]
        assert not merge_allocations(session, "c-1", smaller, {"seller"}, author=True)[2]
    with sessions() as session:
        row, held = current_trade(session, "c-1")
    assert held.column("SELLER_DISCOM_CURTAILED") == {B: 400} and row.seller_version == 1
    newer, older = contract(), contract()
    newer.revenue_flows, newer.settlement_version = (
        [{"kind": "ENERGY", "role": "buyerPlatform", "valuePaise": -9}],
        2,
    )
    older.revenue_flows, older.settlement_version = (
        [{"kind": "ENERGY", "role": "buyerPlatform", "valuePaise": -7}],
        1,
    )
    assert adopt_settlement(held, newer) and held.settlement_version == 2
    assert not adopt_settlement(held, older) and held.revenue_flows == newer.revenue_flows


def test_ex_post_curtailment_scales_an_overloaded_block_down_pro_rata() -> None:
    sps = tuple(ServicePointModel(f"SP{i}", "DT1", 5000) for i in range(2))
    feeder = FeederModel("F1", "SS1", (DistributionTransformer("DT1", 10, 0.5),), sps)
    grid = GridView({"F1": feeder}, {"M0": ("F1", "SP0"), "M1": ("F1", "SP1")}, GridLimits())
    grid.prove_envelopes()
    legs = [ScheduledLeg("small", 7, 1000, "M0", None), ScheduledLeg("large", 7, 3000, "M1", None)]
    cuts = grid.curtail(legs)  # 16 kW through a 10 kVA transformer
    assert set(cuts) == {("small", 7), ("large", 7)}
    small, large = cuts[("small", 7)][0], cuts[("large", 7)][0]
    assert abs(large - 3 * small) <= 3 and 0 < small < 1000  # pro-rata to the requests
    assert "thermal" in cuts[("large", 7)][1] and "block 7" in cuts[("large", 7)][1]
    assert grid.curtail([ScheduledLeg("tiny", 7, 200, "M0", None)]) == {}  # inside the envelope


def test_a_billing_period_is_an_ist_calendar_month() -> None:
    first, last = period_of_month("2026-11")
    assert first == blocks_of_day(date(2026, 11, 1)).start and last == blocks_of_day(date(2026, 11, 30)).stop
    assert last - first == 30 * 96
    for bad in ("2026-13", "november", "2026"):
        with pytest.raises(UsageError):
            period_of_month(bad)


def test_a_signed_request_is_accepted_once() -> None:
    guard = ReplayGuard()
    guard.check("sig-a", 2**40)
    guard.check("sig-b", 2**40)
    with pytest.raises(UnauthorizedAction):
        guard.check("sig-a", 2**40)
