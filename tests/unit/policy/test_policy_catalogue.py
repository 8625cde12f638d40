"""The data catalogue: coherent declarations, every IES schema family covered, served and publishable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import Engine

from ies.discovery import CatalogStore, search_catalogs
from ies.errors import UsageError
from ies.policy.catalogue import Criticality, DatasetDecl, TaxonomyClass, default_catalogue, load_catalogue
from ies.policy.errors import UnknownDataset
from ies.policy.http import catalogue_router

SCHEMA_FAMILIES = Path(__file__).parents[3] / "src" / "ies" / "schemas" / "data" / "schemas"

BASE: dict[str, Any] = {
    "id": "x",
    "title": "X",
    "taxonomy": "Market",
    "criticality": "C1",
    "personal": False,
    "custodian": "discom.example",
    "retention": "P7Y",
    "update_cadence": "PT15M",
}


def test_declarations_are_coherent() -> None:
    DatasetDecl.model_validate(BASE)
    for bad, match in (
        ({"criticality": "C0", "personal": True}, "never C0"),
        ({"criticality": "C3", "taxonomy": "Market"}, "Operational datasets only"),
        ({"retention": "7 years"}, "ISO 8601"),
        ({"update_cadence": "often"}, "ISO 8601"),
        ({"taxonomy": "Weather"}, "taxonomy"),
        ({"criticality": "C4"}, "criticality"),
        ({"surprise": 1}, "surprise"),
    ):
        with pytest.raises(ValidationError, match=match):
            DatasetDecl.model_validate({**BASE, **bad})


def test_default_catalogue_covers_every_schema_family_and_class() -> None:
    cat = default_catalogue("discom.example")
    families = {p.name for p in SCHEMA_FAMILIES.iterdir() if p.is_dir()}
    declared = {d.schema_family for d in cat if d.schema_family}
    # credentials over a family (MeterDataCredential…) are carried by their family's dataset
    assert {f for f in families if not f.endswith("Credential") or f == "ElectricityCredential"} <= declared
    assert {d.taxonomy for d in cat} == set(TaxonomyClass)
    assert {d.criticality for d in cat} == set(Criticality)
    assert all(d.custodian == "discom.example" for d in cat)
    derived = {d.id: cat.get(d.aggregate_of).personal for d in cat if d.aggregate_of}
    assert derived == {
        "feeder-load-aggregates": True,
        "anonymised-load-profiles": True,
        "outage-statistics": False,
    }
    assert all(cat.get(i).presumed_open for i in derived)
    with pytest.raises(UnknownDataset):
        cat.get("nope")


def test_beckn_catalogue_is_publishable_and_discoverable(engine: Engine) -> None:
    cat = default_catalogue("discom.example")
    beckn = cat.beckn_catalog(
        "discom.example", bundle={"name": "ies-entitlements", "version": "1.0.0", "hash": "h"}
    )
    assert len(beckn["resources"]) == len(cat) == len(beckn["offers"])
    store = CatalogStore(engine)
    store.publish("discom.example", "http://discom/beckn", [beckn])
    found = search_catalogs(
        store.all(), expression="$.catalogs[*].resources[?@.resourceAttributes.criticality == 'C3']"
    )
    assert [c["id"] for c in found] == ["data-catalogue-discom.example"]
    offers = {o["resourceIds"][0]: o["offerAttributes"]["policy"] for o in beckn["offers"]}
    assert offers["tariff-schedules"]["presumedOpen"] and not offers["tariff-schedules"]["contractRequired"]
    assert offers["meter-data-interval"]["consentRequired"]
    assert offers["scada-telemetry"]["operationalEndpointOnly"]


def test_catalogue_is_served() -> None:
    app = FastAPI()
    app.include_router(
        catalogue_router(default_catalogue("d.example"), lambda: {"name": "b", "version": "1"})
    )

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return dict((await client.get("/catalogue")).json())

    body = asyncio.run(fetch())
    assert body["entitlementBundle"] == {"name": "b", "version": "1"}
    meter = next(d for d in body["datasets"] if d["id"] == "meter-data-interval")
    assert meter == {
        **{k: meter[k] for k in ("title", "description", "definitions")},
        "id": "meter-data-interval",
        "taxonomy": "Consumer",
        "criticality": "C2",
        "personal": True,
        "custodian": "d.example",
        "retention": "P7Y",
        "update_cadence": "PT15M",
        "schema_family": "MeterData",
    }


def test_load_catalogue_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text(json.dumps({"datasets": [BASE]}))
    assert [d.id for d in load_catalogue(path)] == ["x"]
    path.write_text(json.dumps({"datasets": [BASE, BASE]}))
    with pytest.raises(UsageError, match="twice"):
        load_catalogue(path)
    path.write_text(json.dumps({"datasets": [{**BASE, "criticality": "C9"}]}))
    with pytest.raises(UsageError, match=r"datasets\[0\]\.criticality"):
        load_catalogue(path)
    with pytest.raises(UsageError, match="does not exist"):
        load_catalogue(tmp_path / "none.json")
