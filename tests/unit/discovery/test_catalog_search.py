"""CDS search: RFC 9535 JSONPath filters and text search over published catalogues (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ies.discovery import CatalogStore, search_catalogs
from ies.errors import SchemaValidationFailed
from ies.node.roles import sample_catalog

ENERGY = "$.catalogs[*].offers[?(@.offerAttributes['@type'] == 'EnergyTradeOffer')]"


def test_filter_and_text_search() -> None:
    a, b = sample_catalog("a.example"), sample_catalog("b.example")
    b["offers"][0]["offerAttributes"]["@type"] = "EvChargingOffer"
    b["descriptor"]["name"] = "Highway charging"
    assert search_catalogs([a, b], expression=ENERGY) == [a]
    assert search_catalogs([a, b], text="highway CHARGING") == [b]
    assert search_catalogs([a, b], expression=ENERGY, text="highway") == []
    assert search_catalogs([a, b]) == [a, b]
    cheap = "$.catalogs[*].offers[?(@.offerAttributes.pricePerKwhPaise < 700)]"
    assert search_catalogs([a], expression=cheap) == [a]
    assert search_catalogs([a], expression=cheap.replace("700", "600")) == []


@pytest.mark.parametrize("bad", ["$[?", "catalogs", "$.x[?(@.a ==)]", "$" + ".a" * 1500])
def test_invalid_expressions_are_refused_with_a_schema_error(bad: str) -> None:
    with pytest.raises(SchemaValidationFailed):
        search_catalogs([sample_catalog("a")], expression=bad)


def test_publish_replaces_per_bpp_and_refuses_catalogues_without_id(engine: Engine) -> None:
    store = CatalogStore(engine)
    store.publish("a.example", "http://a/beckn", [sample_catalog("a.example")])
    store.publish("b.example", "http://b/beckn", [sample_catalog("b.example")])
    updated = sample_catalog("a.example")
    updated["descriptor"]["name"] = "new name"
    store.publish("a.example", "http://a/beckn", [updated])
    names = sorted(c["descriptor"]["name"] for c in store.all())
    assert names == ["Rooftop solar surplus from b.example", "new name"]
    assert {c["bppUri"] for c in store.all()} == {"http://a/beckn", "http://b/beckn"}
    with pytest.raises(SchemaValidationFailed):
        store.publish("a.example", None, [{"descriptor": {}}])
    assert len(store.all()) == 2
