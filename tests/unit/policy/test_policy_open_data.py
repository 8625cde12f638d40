"""Presumed-open publishing: only C0, signed, versioned, chained; derived personal data only k-anonymous."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from ies.errors import NotFoundError, UsageError
from ies.identity.keys import SigningKeyPair
from ies.policy.anonymise import feeder_aggregates
from ies.policy.catalogue import default_catalogue
from ies.policy.errors import NotOpenData
from ies.policy.open_data import OpenDataPublisher, open_data_router, release_hash, verify_release
from ies.policy.sources import synthetic_readings

KEY = SigningKeyPair.from_seed(b"\x07" * 32)


@pytest.fixture
def publisher(engine: Engine) -> OpenDataPublisher:
    return OpenDataPublisher(
        engine, default_catalogue("discom.example"), KEY, publisher="discom.example", key_id="k1"
    )


def test_release_is_signed_versioned_and_chained(publisher: OpenDataPublisher) -> None:
    first = publisher.publish(
        "tariff-schedules", {"rows": [{"slab": "0-200", "paise": 300}]}, note="FY27 order"
    )
    second = publisher.publish(
        "tariff-schedules", {"rows": [{"slab": "0-200", "paise": 310}]}, note="true-up"
    )
    verify_release(first, KEY.public_key)
    verify_release(second, KEY.public_key)
    assert (first["revision"], second["revision"]) == (1, 2)
    assert first["previous"] is None
    assert second["previous"] == {"revision": 1, "releaseSha256": release_hash(first)}
    assert second["dataset"]["criticality"] == "C0" and second["dataset"]["id"] == "tariff-schedules"
    assert publisher.revision("tariff-schedules", 1) == first
    assert publisher.revision("tariff-schedules") == second
    history = publisher.history("tariff-schedules")
    assert [(h["revision"], h["note"]) for h in history] == [(1, "FY27 order"), (2, "true-up")]
    assert history[1]["releaseSha256"] == release_hash(second)


def test_tampering_is_detected(publisher: OpenDataPublisher) -> None:
    release = publisher.publish("hosting-capacity", {"rows": [{"feederId": "F1", "kw": 400}]})
    changed = copy.deepcopy(release)
    changed["content"]["rows"][0]["kw"] = 900
    with pytest.raises(UsageError, match="contentSha256"):
        verify_release(changed)
    changed["contentSha256"] = release["contentSha256"].replace(release["contentSha256"][0], "0", 1)
    with pytest.raises(UsageError):
        verify_release(changed)
    relabelled = copy.deepcopy(release)
    relabelled["note"] = "edited"
    with pytest.raises(UsageError, match="signature"):
        verify_release(relabelled)
    with pytest.raises(UsageError, match="untrusted"):
        verify_release(release, SigningKeyPair.generate().public_key)


@pytest.mark.parametrize("dataset", ["meter-data-interval", "asset-registry", "scada-telemetry"])
def test_only_c0_non_personal_data_is_published(publisher: OpenDataPublisher, dataset: str) -> None:
    with pytest.raises(NotOpenData) as info:
        publisher.publish(dataset, {"rows": []})
    assert info.value.details["rule"] == "open-data-c0"


def test_derived_personal_data_must_be_k_anonymous(publisher: OpenDataPublisher) -> None:
    release = feeder_aggregates(synthetic_readings(consumers=40, feeders=2), k=10).to_json()
    assert publisher.publish("feeder-load-aggregates", release)["content"]["k"] == 10
    leaky = {"rows": [{"feederId": "F1", "consumers": 3, "energyWh": 900}]}
    with pytest.raises(UsageError, match="fewer than k"):
        publisher.publish("feeder-load-aggregates", leaky)
    assert [h["revision"] for h in publisher.history("feeder-load-aggregates")] == [1]
    # derived from non-personal data (outage notifications): no k needed
    publisher.publish("outage-statistics", {"rows": [{"feederId": "F1", "outages": 2}]})


def test_contract_free_http_routes(publisher: OpenDataPublisher) -> None:
    publisher.publish("arr-filings", {"rows": [{"year": "FY27", "arrCrorePaise": 1}]})
    app = FastAPI()
    app.include_router(open_data_router(publisher))

    async def fetch(path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get(path)

    index = asyncio.run(fetch("/open-data")).json()
    assert {d["dataset"]: d["latestRevision"] for d in index}["arr-filings"] == 1
    assert all(d["dataset"] != "meter-data-interval" for d in index)
    latest: dict[str, Any] = asyncio.run(fetch("/open-data/arr-filings")).json()
    verify_release(latest, KEY.public_key)
    assert asyncio.run(fetch("/open-data/arr-filings/revisions/1")).json() == latest
    assert asyncio.run(fetch("/open-data/arr-filings/revisions")).json()["revisions"][0]["revision"] == 1
    missing = asyncio.run(fetch("/open-data/arr-filings/revisions/7"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    with pytest.raises(NotFoundError):
        publisher.revision("hosting-capacity")
