"""The provider's pages: exact pagination, minimisation to the request, pseudonyms, consistent readings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.consent.enforcement import AccessRequest, RequestedReading
from ies.errors import SchemaValidationFailed
from ies.schemas import validate
from ies.usecases.meter_exchange.data import Customers, SyntheticMeterData
from ies.usecases.meter_exchange.payload import Series, _slices, build_page, plan_transfer, total_records
from ies.usecases.meter_exchange.wire import answer, parse_ask

M1, M2 = "did:web:d.example:assets:meter:M1", "SERIAL-2"
CUSTOMERS = Customers.from_settings({"CN-1": {"meters": [M1, M2], "prosumer": True}})
SOURCE = SyntheticMeterData(CUSTOMERS, seed=7)


def _request(
    readings: tuple[RequestedReading, ...], *, days: int = 1, start: datetime | None = None
) -> AccessRequest:
    start = start or datetime(2026, 5, 2, tzinfo=UTC)
    return AccessRequest("c", "p", "energy-advisory", (M1, M2), readings, start, start + timedelta(days=days))


IMPORT = RequestedReading("IntervalProfile", "kWh imp block", "USAGE")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=500),
)
def test_pages_cover_every_record_exactly_once_in_order(counts: list[int], size: int) -> None:
    series = [
        Series("INTERVAL", f"m{i}", datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=15), n, ())
        for i, n in enumerate(counts)
    ]
    seen: list[tuple[str, int]] = []
    pages = -(-sum(counts) // size)
    for page in range(pages):
        chunk = _slices(series, page * size, size)
        assert sum(n for _, _, n in chunk) == (size if page < pages - 1 else sum(counts) - size * (pages - 1))
        seen += [(s.meter, offset + i) for s, offset, n in chunk for i in range(n)]
    assert seen == [(s.meter, i) for s in series for i in range(s.count)]
    assert _slices(series, pages * size, size) == []


def test_a_page_holds_only_what_was_asked_and_is_valid_meter_data() -> None:
    series = plan_transfer(_request((IMPORT,)))
    assert total_records(series) == 192
    page = build_page(SOURCE, series, 0, 100)  # M1's 96 intervals, then M2's first 4
    assert validate(page.doc).valid
    descriptors = [
        d["readingType"] for s in page.doc[0]["payloadDescriptorSets"] for d in s["payloadDescriptors"]
    ]
    assert descriptors == ["kWh imp block"]  # no export column, though both meters are a prosumer's
    assert {p["meterRefs"][0]["value"] for p in page.doc[1:]} == {M1, M2}
    assert page.served.records == 100 and page.served.resources == (M1, M2)
    assert build_page(SOURCE, series, 1, 100).served.records == 92
    assert page.served.data_from >= datetime(2026, 5, 2, tzinfo=UTC)
    assert page.served.data_until <= datetime(2026, 5, 3, tzinfo=UTC)
    assert page.served.bytes == len(page.raw)
    text = page.raw.decode()
    assert "CN-1" not in text and "exp" not in text
    with pytest.raises(SchemaValidationFailed, match="past the end"):
        build_page(SOURCE, series, 2, 100)


def test_pseudonyms_hide_meters_within_a_transfer_and_do_not_link_across() -> None:
    series = plan_transfer(_request((IMPORT,)))
    one = build_page(SOURCE, series, 0, 192, salt=b"a" * 32)
    same = build_page(SOURCE, series, 0, 192, salt=b"a" * 32)
    other = build_page(SOURCE, series, 0, 192, salt=b"b" * 32)
    refs = [p["meterRefs"][0] for p in one.doc[1:]]
    assert all(r["scheme"] == "OTHER" and r["value"].startswith("anon-") for r in refs)
    assert M1 not in one.raw.decode() and M2 not in one.raw.decode()
    assert refs == [p["meterRefs"][0] for p in same.doc[1:]]
    assert {r["value"] for r in refs}.isdisjoint({p["meterRefs"][0]["value"] for p in other.doc[1:]})
    assert one.served.resources == (M1, M2)  # the ledger keeps the real meters for the principal


def test_readings_add_up_across_profiles() -> None:
    """The day's interval imports sum to the daily register's advance (energy in Wh, exact)."""
    day = date(2026, 5, 2)
    start = datetime(2026, 5, 2, tzinfo=UTC)
    intervals = SOURCE.interval_wh(M1, start, 96)
    registers = SOURCE.daily_register_wh(M1, day), SOURCE.daily_register_wh(M1, day + timedelta(days=1))
    assert sum(intervals["kWh imp block"]) == registers[1]["kWh imp"] - registers[0]["kWh imp"]
    assert sum(intervals["kWh exp block"]) == registers[1]["kWh exp"] - registers[0]["kWh exp"] > 0
    assert (
        SOURCE.interval_wh(M1, start + timedelta(hours=23), 8)["kWh imp block"][:4]
        == intervals["kWh imp block"][92:]
    )
    consumer_only = SyntheticMeterData(Customers.from_settings({"CN-2": {"meters": [M1]}}), seed=7)
    assert set(consumer_only.interval_wh(M1, start, 96)["kWh exp block"]) == {0}


def test_daily_pages_report_readings_or_usage() -> None:
    reading = plan_transfer(_request((RequestedReading("DailyProfile", "kWh imp", "READING"),), days=3))
    usage = plan_transfer(_request((RequestedReading("DailyProfile", "kWh imp", "USAGE"),), days=3))
    r = build_page(SOURCE, reading, 0, 3).doc[1]["intervals"]
    u = build_page(SOURCE, usage, 0, 3).doc[1]["intervals"]
    assert [round(r[i + 1]["payloads"][0] - r[i]["payloads"][0], 3) for i in range(2)] == [
        x["payloads"][0] for x in u[:2]
    ]


@pytest.mark.parametrize(
    "readings",
    [
        (RequestedReading("MonthlyProfile"),),
        (RequestedReading("IntervalProfile", "V avg"),),
        (RequestedReading("IntervalProfile", "kWh imp block", "READING"),),
        (
            RequestedReading("DailyProfile", "kWh imp", "READING"),
            RequestedReading("DailyProfile", "kWh imp", "USAGE"),
        ),
    ],
)
def test_what_the_provider_cannot_serve_is_refused_before_any_data_moves(readings: Any) -> None:
    with pytest.raises(SchemaValidationFailed):
        plan_transfer(_request(readings))


def _confirm(mdr: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    return {
        "contract": {
            "commitments": [
                {"id": "c1", "resources": [{"id": "meter-data-transfer", "resourceAttributes": mdr}]}
            ],
            "contractAttributes": {"@type": "MeterDataAccess", **attrs},
        }
    }


MDR = {
    "@context": "https://india-energy-stack.github.io/ies-accelerator/schemas/MeterDataRequest/v0.6/context.jsonld",
    "@type": "MeterDataRequest",
    "resources": [M1],
    "from": "2026-05-02T00:00:00Z",
    "duration": "P1D",
    "consumerConsent": ["urn:uuid:6f1c2b9e-4d3a-4e8f-9b71-2c5d8e0a1f34"],
    "capabilitiesRequested": {
        "profiles": [{"profileType": "IntervalProfile", "readings": [{"value": "kWh imp block"}]}]
    },
}


def test_the_wire() -> None:
    ask = parse_ask("confirm", _confirm(MDR, purpose="billing", consentManager="cm.example"))
    assert ask is not None and ask.kind == "start" and ask.consent_id == MDR["consumerConsent"][0]
    assert ask.manager_id == "cm.example" and ask.purpose == "billing"
    assert parse_ask("confirm", {"contract": {"commitments": []}}) is None  # not a meter-data message
    with pytest.raises(SchemaValidationFailed, match="purpose"):
        parse_ask("confirm", _confirm(MDR))
    with pytest.raises(SchemaValidationFailed):
        parse_ask("confirm", _confirm({**MDR, "duration": "a while"}, purpose="billing"))
    with pytest.raises(SchemaValidationFailed, match="no MeterDataRequest"):
        parse_ask("confirm", _confirm({"@type": "Other"}, purpose="billing"))
    page = {
        "contract": {"contractAttributes": {"@type": "MeterDataAccess"}},
        "tags": {"pagination": {"collectionId": "t1", "pageCursor": "3"}},
    }
    assert parse_ask("status", page) == parse_ask(
        "status", {**page, "tags": {"pagination": {"collectionId": "t1", "pageCursor": 3}}}
    )
    for cursor in ("-1", "x", "1" * 12):
        with pytest.raises(SchemaValidationFailed):
            parse_ask(
                "status", {**page, "tags": {"pagination": {"collectionId": "t1", "pageCursor": cursor}}}
            )
    with pytest.raises(SchemaValidationFailed, match="confirm and status"):
        parse_ask("select", page)
    message = answer(
        collection_id="t1",
        consent_id="urn:uuid:x",
        purpose="billing",
        retention="P30D",
        retain_until=datetime(2026, 6, 1, tzinfo=UTC),
        page=1,
        page_size=10,
        records_total=20,
        pages_total=2,
        payload=[],
    )
    info = message["contract"]["performance"][0]["performanceAttributes"]["pageInfo"]
    assert info == {
        "sequence": 1,
        "pageSize": 10,
        "total": 20,
        "totalPages": 2,
        "isLast": True,
        "cursor": "1",
        "nextCursor": None,
        "collectionId": "t1",
    }
    assert json.loads(json.dumps(message)) == message
