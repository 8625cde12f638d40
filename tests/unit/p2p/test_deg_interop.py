"""Interoperability with the DEG wave-2 P2P devkit, read from ../shared/deg-spec (CC BY-NC-SA: never copied
into the project; every test here skips when the folder is absent).

- every devkit example contract is read by our parser, with the numbers the example states;
- the devkit catalogue's offers and a DISCOM's meter-data answer are read by the code our nodes run;
- our own payloads validate against the devkit's EnergyTradeOffer and BecknTimeSeries schemas. Those
  schemas `$ref` OpenADR 3.1.0 definitions that are not in the devkit; they are stood in for here by the
  OpenADR shapes as we read them (interval: id + payloads[type, values]; period: start + duration), and
  JSON-LD keywords (`@context`, `@type`) are set aside, as the devkit's own examples need.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012 as _DRAFT

from ies.discovery import search_catalogs
from ies.usecases.p2p.catalog import (
    CatalogOffer,
    OfferBlock,
    build_catalog,
    offer_wire,
    offers_from_catalogs,
    strict_filter,
)
from ies.usecases.p2p.contract import Customer, parse_contract
from ies.usecases.p2p.discom import requested_meters
from ies.usecases.p2p.market import block_at
from ies.usecases.p2p.settle import sum_paise
from ies.usecases.p2p.timeseries import build_series, read_series

DEG = Path(__file__).resolve().parents[3].parent / "shared" / "deg-spec"
DEVKIT = DEG / "devkits" / "p2p-trading-ies-wave2"
EXAMPLES = DEVKIT / "uc1" / "examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/deg-spec is not present")
SLOT = block_at(datetime(2026, 4, 26, 4, 30, tzinfo=UTC))  # 10:00 IST, the devkit's first slot


def example(name: str, folder: Path = EXAMPLES) -> dict[str, Any]:
    return dict(json.loads((folder / name).read_text("utf-8")))


def contract_examples() -> list[str]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(p.name for p in EXAMPLES.glob("*.json") if "contract" in example(p.name).get("message", {}))


@pytest.mark.parametrize("name", contract_examples())
def test_every_devkit_contract_is_read(name: str) -> None:
    trade = parse_contract(example(name)["message"]["contract"])
    assert trade.offer_id
    if "discom" in name:
        return  # a DISCOM's meter data or limit check: no trade series (see the tests below)
    assert trade.columns, name


def test_the_confirmed_contract_carries_hourly_quantities_split_into_blocks() -> None:
    trade = parse_contract(example("confirm-request.json")["message"]["contract"])
    assert trade.column("REQUESTED_QTY") == {SLOT + i: 5125 for i in range(4)} | {
        SLOT + 4 + i: 3875 for i in range(4)
    }
    assert set(trade.column("PRICE_PER_KWH").values()) == {1250, 1450}
    assert trade.buyer is not None and trade.buyer.meter_id == "TEST_METER_BUYER_001"
    assert trade.seller_ledger is not None and trade.seller_ledger.ledger_uri.startswith(
        "http://seller-discom-ledger"
    )


def test_the_settled_example_has_final_allocations_and_balanced_flows() -> None:
    trade = parse_contract(example("on-status-response-settled.json")["message"]["contract"])
    final = trade.column("FINAL_ALLOC")
    assert (
        sum(final[SLOT + i] for i in range(4)) == 18_500
        and sum(final[SLOT + 4 + i] for i in range(4)) == 14_200
    )
    assert trade.status == "COMPLETE" and sum_paise(trade.revenue_flows) == 0


def test_the_older_select_carries_bid_and_offer_series() -> None:
    trade = parse_contract(example("select-request.json")["message"]["contract"])
    assert (
        sum(trade.column("REQUESTED_QTY").values()) == 35_000 and trade.column("PRICE_PER_KWH")[SLOT] == 1200
    )


def test_the_devkit_catalogue_and_its_discovery_filter() -> None:
    catalogs = example("publish-catalog.json")["message"]["catalogs"]
    [offer], problems = offers_from_catalogs(catalogs)
    assert (
        problems == []
        and offer.offer_id == "offer-p2p-001"
        and offer.seller.meter_id == "TEST_METER_SELLER_001"
    )
    assert [b.available_wh for b in offer.blocks] == [7625] * 4 + [6375] * 4
    devkit_filter = example("discover-request.json")["message"]["intent"]["filters"]["expression"]
    assert search_catalogs(catalogs, expression=devkit_filter) == []  # strict RFC 9535: children of offers
    assert search_catalogs(catalogs, expression=strict_filter(devkit_filter)) == catalogs


def test_a_discom_answer_and_a_ledger_pull_are_read() -> None:
    answer = example("sellerdiscom-on-status.json")["message"]["contract"]
    series = answer["commitments"][0]["resources"][0]["resourceAttributes"]["dataPayload"]
    consumption = read_series(series)["ENERGY_CONSUMPTION"]
    assert sum(int(consumption[SLOT + i]) for i in range(4)) == -19_200  # exported
    pull = example("status-request.json", DEVKIT / "responses" / "buyerdiscom")["message"]["contract"]
    meters, first, last = requested_meters(pull)
    assert meters == ["TEST_METER_BUYER_001", "TEST_METER_BUYER_002"] and last - first == 4


# -- our payloads against the devkit's schemas ----------------------------------------------------------
OPENADR = {
    "components": {
        "schemas": {
            "intervalPeriod": {
                "type": "object",
                "required": ["start"],
                "properties": {
                    "start": {"type": "string", "format": "date-time"},
                    "duration": {"type": "string", "pattern": "^P"},
                },
            },
            "interval": {
                "type": "object",
                "required": ["id", "payloads"],
                "properties": {
                    "id": {"type": "integer"},
                    "intervalPeriod": {"$ref": "#/components/schemas/intervalPeriod"},
                    "payloads": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["type", "values"],
                            "properties": {"type": {"type": "string"}, "values": {"type": "array"}},
                        },
                    },
                },
            },
            "eventPayloadDescriptor": {
                "type": "object",
                "required": ["payloadType"],
                "properties": {"objectType": {"const": "EVENT_PAYLOAD_DESCRIPTOR"}},
            },
            "reportPayloadDescriptor": {
                "type": "object",
                "required": ["payloadType"],
                "properties": {"objectType": {"const": "REPORT_PAYLOAD_DESCRIPTOR"}},
            },
        }
    }
}


def validator(family: str, version: str, name: str) -> Draft202012Validator:
    path = DEG / "specification" / "schema" / family / version / "attributes.yaml"
    uri = f"https://deg.test/{family}/{version}"
    registry: Registry[Any] = Registry().with_resources(
        [
            (
                uri,
                Resource.from_contents(yaml.safe_load(path.read_text("utf-8")), default_specification=_DRAFT),
            ),
            (
                "https://schema.beckn.io/openadr/v3.1.0",
                Resource.from_contents(OPENADR, default_specification=_DRAFT),
            ),
        ]
    )
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{name}"}, registry=registry)


def without_jsonld(value: Any, *, top: bool = True) -> Any:
    if isinstance(value, dict):
        return {
            k: without_jsonld(v, top=False)
            for k, v in value.items()
            if not (top and k in ("@context", "@type"))
        }
    return value


def test_our_offer_attributes_validate_against_energy_trade_offer() -> None:
    seller = Customer("S1", "tp-1.ies.local", "M-1", "C-1", "NORTH-DL", "http://tp-1", 5000)
    offer = CatalogOffer(
        "o-1",
        seller,
        "SOLAR",
        datetime(2026, 4, 25, tzinfo=UTC),
        (OfferBlock(SLOT, 450, 500), OfferBlock(SLOT + 1, 450, 500), OfferBlock(SLOT + 2, 400, 200)),
    )
    wire, _resource = offer_wire(offer, "NORTH-DL")
    errors = sorted(
        validator("EnergyTradeOffer", "v2.0", "EnergyTradeOffer").iter_errors(
            without_jsonld(wire["offerAttributes"])
        ),
        key=str,
    )
    assert errors == []
    catalog = build_catalog("tp-1.ies.local", "http://tp-1/beckn", [offer], "t")
    assert offers_from_catalogs([copy.deepcopy(catalog)])[0][0].blocks == offer.blocks


def test_our_time_series_validate_against_beckn_time_series() -> None:
    series = build_series(
        {
            "PRICE_PER_KWH": {SLOT: 450, SLOT + 1: 450},
            "REQUESTED_QTY": {SLOT: 300, SLOT + 1: 200},
            "SELLER_DISCOM_STATUS": {SLOT: "FINAL", SLOT + 1: "PROVISIONAL"},
        }
    )
    assert list(validator("BecknTimeSeries", "v1.0", "BecknTimeSeries").iter_errors(series)) == []
