"""The DEG wave-2 wire as we write and read it: time series, contracts, catalogues, units."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.discovery import search_catalogs
from ies.errors import SchemaValidationFailed
from ies.usecases.p2p.catalog import (
    OFFER_FILTER,
    CatalogOffer,
    OfferBlock,
    build_catalog,
    offers_from_catalogs,
    strict_filter,
)
from ies.usecases.p2p.contract import Customer, LedgerParty, PolicyRef, Trade, contract_body, parse_contract
from ies.usecases.p2p.market import block_at
from ies.usecases.p2p.timeseries import build_series, kwh_of, paise_of, read_series, wh_of

B0 = block_at(datetime(2026, 4, 26, 4, 30, tzinfo=UTC))
SELLER = Customer("S1", "sellerapp.example", "MTR-S1", "CS1", "NORTH-DL", "http://s", 5000)
BUYER = Customer("B1", "buyerapp.example", "MTR-B1", "CB1", "SOUTH-DL", "http://b", 4000)


def test_units_convert_exactly() -> None:
    assert wh_of(20.5) == 20_500 and wh_of("0.001") == 1 and kwh_of(20_500) == 20.5
    assert paise_of(12.5) == 1250 and paise_of("14.55") == 1455
    with pytest.raises(SchemaValidationFailed):
        wh_of(True)
    with pytest.raises(SchemaValidationFailed):
        wh_of("NaN")


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.integers(0, 200), st.tuples(st.integers(0, 5000), st.integers(0, 50_000)), min_size=1, max_size=40
    )
)
def test_a_series_reads_back_exactly_what_was_written(values: dict[int, tuple[int, int]]) -> None:
    columns = {
        "PRICE_PER_KWH": {B0 + k: v[0] for k, v in values.items()},
        "AVAILABLE_QTY": {B0 + k: v[1] for k, v in values.items()},
    }
    assert read_series(build_series(columns)) == columns


def test_runs_of_equal_blocks_travel_as_one_longer_interval() -> None:
    columns = {"REQUESTED_QTY": {B0: 250, B0 + 1: 250, B0 + 2: 250, B0 + 3: 250, B0 + 6: 10}}
    series = build_series(columns)
    assert [i.get("intervalPeriod", {}).get("duration") for i in series["intervals"]] == ["PT60M", None]
    assert series["intervals"][0]["payloads"][0]["values"] == [1.0]  # 4 × 250 Wh
    assert read_series(series) == columns


def test_an_hourly_interval_is_split_into_four_blocks_without_losing_a_wh() -> None:
    series = {
        "intervalPeriod": {"start": "2026-04-26T04:30:00Z", "duration": "PT1H"},
        "payloadDescriptors": [{"payloadType": "REQUESTED_QTY"}, {"payloadType": "PRICE_PER_KWH"}],
        "intervals": [
            {
                "id": 0,
                "payloads": [
                    {"type": "REQUESTED_QTY", "values": [20.5]},
                    {"type": "PRICE_PER_KWH", "values": [12.5]},
                ],
            }
        ],
    }
    columns = read_series(series)
    assert list(columns["REQUESTED_QTY"].values()) == [5125] * 4
    assert set(columns["PRICE_PER_KWH"].values()) == {1250}


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda s: s["payloadDescriptors"].pop(), "P2P_SERIES_TYPE_UNDECLARED"),
        (lambda s: s["intervals"][0]["payloads"].pop(), "P2P_SERIES_TYPE_UNUSED"),
    ],
)
def test_declared_and_used_payload_types_must_match(mutate: object, rule: str) -> None:
    series = build_series({"PRICE_PER_KWH": {B0: 500}, "AVAILABLE_QTY": {B0: 300}})
    mutate(series)  # type: ignore[operator]
    with pytest.raises(SchemaValidationFailed) as err:
        read_series(series)
    assert err.value.details["rule"] == rule


def test_misaligned_or_odd_intervals_are_refused() -> None:
    series = build_series({"REQUESTED_QTY": {B0: 100}})
    series["intervalPeriod"]["start"] = "2026-04-26T04:31:00Z"
    with pytest.raises(SchemaValidationFailed, match="15-minute"):
        read_series(series)
    series = build_series({"REQUESTED_QTY": {B0: 100}})
    series["intervalPeriod"]["duration"] = "PT10M"
    with pytest.raises(SchemaValidationFailed, match="15-minute"):
        read_series(series)


def test_a_contract_round_trips_with_roles_participants_policy_and_flows() -> None:
    trade = Trade(
        contract_id="c-1",
        offer_id="o-1",
        seller=SELLER,
        buyer=BUYER,
        seller_ledger=LedgerParty("NORTH-DL", "lp-n", "http://lp-n/beckn", "discom-n", "http://d"),
        buyer_ledger=LedgerParty("SOUTH-DL", "lp-s", "http://lp-s/beckn"),
        status="ACTIVE",
        policy=PolicyRef("ies-policy:x", "data.deg.contracts.p2p_trading", "x", "1.0.0", "ab" * 32),
        columns={
            "PRICE_PER_KWH": {B0: 1250},
            "REQUESTED_QTY": {B0: 2000},
            "BUYER_DISCOM_ALLOC": {B0: 1800},
            "BUYER_DISCOM_STATUS": {B0: "FINAL"},
        },
        revenue_flows=[{"role": "sellerPlatform", "value": 22.5, "valuePaise": 2250, "currency": "INR"}],
    )
    body = contract_body(trade)
    roles = {r["role"]: r["participantId"] for r in body["contractAttributes"]["roles"]}
    assert roles == {
        "buyerPlatform": "buyerapp.example",
        "sellerPlatform": "sellerapp.example",
        "buyerDiscom": "SOUTH-DL",
        "sellerDiscom": "NORTH-DL",
    }
    back = parse_contract(body)
    assert (back.seller, back.buyer, back.seller_ledger, back.policy) == (
        trade.seller,
        trade.buyer,
        trade.seller_ledger,
        trade.policy,
    )
    assert back.columns == trade.columns and back.revenue_flows == trade.revenue_flows
    assert back.status == "ACTIVE"


def test_a_contract_without_an_offer_is_refused_with_the_path() -> None:
    with pytest.raises(SchemaValidationFailed) as err:
        parse_contract({"commitments": [{"id": "c"}]})
    assert err.value.details["path"].endswith("offer.id")


def test_a_catalogue_round_trips_and_only_offers_what_is_left() -> None:
    offer = CatalogOffer(
        "o-1",
        SELLER,
        "SOLAR",
        datetime(2026, 4, 25, tzinfo=UTC),
        (OfferBlock(B0, 500, 300), OfferBlock(B0 + 1, 500, 0)),
    )
    catalog = build_catalog("sellerapp.example", "http://s/beckn", [offer], "test")
    [found], problems = offers_from_catalogs([catalog])
    assert problems == [] and found.blocks == (OfferBlock(B0, 500, 300),)
    assert found.seller.meter_id == "MTR-S1" and found.bpp_id == "sellerapp.example"
    assert search_catalogs([catalog], expression=OFFER_FILTER) == [catalog]


def test_the_devkit_filter_selects_children_of_offers_so_we_read_it_strictly() -> None:
    """RFC 9535: `offers[*][?…]` filters the members of each offer, none of which has offerAttributes."""
    offer = CatalogOffer(
        "o-1", SELLER, "SOLAR", datetime(2026, 4, 25, tzinfo=UTC), (OfferBlock(B0, 500, 300),)
    )
    catalog = build_catalog("sellerapp.example", "http://s/beckn", [offer], "test")
    devkit = "$.catalogs[*].offers[*][?(@.offerAttributes['@type']=='EnergyTradeOffer')]"
    assert search_catalogs([catalog], expression=devkit) == []
    assert strict_filter(devkit) == "$.catalogs[*].offers[?(@.offerAttributes['@type']=='EnergyTradeOffer')]"
    assert search_catalogs([catalog], expression=strict_filter(devkit)) == [catalog]
