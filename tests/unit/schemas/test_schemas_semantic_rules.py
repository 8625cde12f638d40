"""MeterData and MeterDataRequest rules not exercised by the generated profiles: elaborated readings,
descriptor/registry agreement, cross-profile continuity, request ⊆ authorisation, windows."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from ies.schemas import DATA_ROOT, validate

SCHEMAS = DATA_ROOT / "schemas"


def _load(relative: str) -> Any:
    return json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))


def _rules(doc: Any, **kwargs: Any) -> set[str]:
    return validate(doc, jsonld=False, **kwargs).rules()


MONTHLY = _load("MeterData/v0.6/examples/MonthlyProfile_MultipleResets.json")
INSTANT = _load("MeterData/v0.6/examples/InstantaneousProfile.json")
DESCRIPTOR_FIRST = _load("MeterData/v0.6/examples/IntervalProfile.json")
REQUEST = _load("MeterDataRequest/v0.6/validation/test_cases/valid_request.json")
AUTHORISATION = _load("MeterDataRequest/v0.6/examples/Authorisation_Example.json")


def test_baselines_are_valid() -> None:
    for doc in (MONTHLY, INSTANT, DESCRIPTOR_FIRST, REQUEST, AUTHORISATION):
        assert _rules(doc) == set()


def test_reading_attribute_not_in_the_registry_allowed_attributes() -> None:
    doc = copy.deepcopy(INSTANT)
    doc[1]["readings"][0]["openingValue"] = 230.0  # a voltage has no opening/closing values
    assert "md.attribute-not-allowed" in _rules(doc)


def test_reported_mode_inside_a_reading() -> None:
    doc = copy.deepcopy(INSTANT)
    doc[1]["readings"][0]["reportedMode"] = "READING"
    assert _rules(doc) == {"md.mode-in-reading"}


def test_opening_and_closing_under_reading_mode() -> None:
    doc = copy.deepcopy(MONTHLY)
    for desc in doc[0]["payloadDescriptorSets"][0]["payloadDescriptors"]:
        if desc["readingType"] == "kWh imp":
            desc["reportedMode"] = "READING"
    assert _rules(doc) == {"md.opening-closing-not-allowed"}


def test_monthly_register_opening_below_the_previous_closing() -> None:
    doc = copy.deepcopy(MONTHLY)
    second = doc[2]["readings"][0]
    second["openingValue"] -= 50.0
    second["value"] += 50.0
    assert _rules(doc) == {"md.cumulative-decrease"}
    second["changeMethod"] = "meter-change"
    assert _rules(doc) == set()


def test_closing_below_opening_in_one_reading() -> None:
    doc = copy.deepcopy(MONTHLY)
    reading = doc[1]["readings"][0]
    reading["closingValue"], reading["openingValue"] = reading["openingValue"], reading["closingValue"]
    reading["value"] = reading["closingValue"] - reading["openingValue"]
    assert "md.cumulative-decrease" in _rules(doc)


@pytest.mark.parametrize(
    ("member", "value", "rule"),
    [
        ("name", "Some other register", "md.descriptor-registry-mismatch"),
        ("flowDirection", "EXPORT", "md.descriptor-registry-mismatch"),
        ("obis", "1.0.2.8.0.255", "md.descriptor-registry-mismatch"),
        ("reportedMode", "READING", "md.descriptor-registry-mismatch"),  # a block register is USAGE only
        ("unit", "kVAh", "md.unit-mismatch"),
        ("readingType", "no such register", "md.reading-type-unresolved"),
    ],
)
def test_descriptor_must_agree_with_the_registry(member: str, value: str, rule: str) -> None:
    doc = copy.deepcopy(DESCRIPTOR_FIRST)
    doc[0]["payloadDescriptorSets"][0]["payloadDescriptors"][0][member] = value
    assert rule in _rules(doc)


def test_frequency_outside_any_working_grid_is_implausible() -> None:
    doc = copy.deepcopy(INSTANT)
    for reading in doc[1]["readings"]:
        if reading["readingType"] == "Freq":
            reading["value"] = 5.0
    assert _rules(doc) == {"md.value-implausible"}


def test_power_beyond_the_sanctioned_load_is_implausible() -> None:
    customer = _load("MeterData/v0.6/examples/CustomerProfile.json")[0]
    doc = [*copy.deepcopy(INSTANT), customer]
    assert _rules(doc) == set()
    for reading in doc[1]["readings"]:
        if reading["readingType"] == "P_Import":
            reading["value"] = customer["customer"]["sanctionedLoadKw"] * 6
    assert _rules(doc) == {"md.value-implausible"}


def test_quality_flags() -> None:
    doc = copy.deepcopy(INSTANT)
    doc[1]["readings"][0].update(validationStatus="ESTIMATED", changeMethod="linear-interpolation")
    assert _rules(doc) == set()
    doc[1]["readings"][0].update(source="ESTIMATED", validationStatus="VALID")
    assert _rules(doc) == {"md.quality-flag-invalid"}


def test_a_single_profile_object_reports_paths_relative_to_itself() -> None:
    doc = copy.deepcopy(INSTANT[1])
    report = validate(doc, "MeterData", "0.6", jsonld=False)
    assert report.rules() == {"md.descriptor-missing"}
    assert [f.path for f in report.errors] == [""]


# --- MeterDataRequest --------------------------------------------------------------------------------


def _with_embedded_authorisation(valid_from: str, valid_until: str) -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    authorisation = {k: v for k, v in AUTHORISATION.items() if not k.startswith("@")}
    authorisation.update(validFrom=valid_from, validUntil=valid_until)
    request["authorisation"] = authorisation
    return request


def test_request_inside_its_authorisation_is_valid() -> None:
    assert _rules(_with_embedded_authorisation("2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z")) == set()


def test_request_period_outside_the_authorisation_is_expired() -> None:
    # the request asks for 2026-05-18T10:00+05:30 for 30 minutes; the authorisation ends 04:40Z (10:10 IST)
    request = _with_embedded_authorisation("2026-05-01T00:00:00Z", "2026-05-18T04:40:00Z")
    assert _rules(request) == {"mdr.authorisation-expired"}


def test_authorisation_expired_at_the_evaluation_instant() -> None:
    late = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    assert _rules(AUTHORISATION, at=late) == {"mdr.authorisation-expired"}
    assert _rules(AUTHORISATION, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == set()


def test_request_asking_more_than_the_embedded_authorisation_grants() -> None:
    request = _with_embedded_authorisation("2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z")
    request["capabilitiesRequested"]["profiles"].append(
        {"profileType": "DailyProfile", "readings": [{"value": "kWh exp", "mode": "USAGE"}]}
    )
    assert _rules(request) == {"mdr.exceeds-authorisation"}


def test_checks_against_an_authorisation_by_uri_are_warnings() -> None:
    doc = _load("MeterDataRequest/v0.6/examples/Anonymised_Telemetry_Request.json")
    report = validate(doc)
    assert report.valid
    assert "mdr.exceeds-authorisation" in {w.rule for w in report.warnings}


def test_unresolvable_register_in_a_request() -> None:
    request = copy.deepcopy(REQUEST)
    request["capabilitiesRequested"]["profiles"][0]["readings"][0]["value"] = "kWh of moonlight"
    assert _rules(request) == {"mdr.reading-type-unresolved"}


def test_a_gap_in_the_series_is_a_warning_that_strict_turns_into_an_error() -> None:
    doc = copy.deepcopy(DESCRIPTOR_FIRST)
    del doc[1]["intervals"][1]
    del doc[1]["intervals"][1]  # ids 0 and 3 remain
    report = validate(doc, jsonld=False)
    assert report.valid
    [gap] = [w for w in report.warnings if w.rule == "md.interval-missing"]
    assert gap.path == "/1/intervals" and "ids 1, 2" in gap.message
    assert validate(doc, jsonld=False, strict=True).rules() == {"md.interval-missing"}


@pytest.mark.parametrize(
    ("start", "duration", "aligned"),
    [
        ("2026-05-04T00:00:00+05:30", "P1D", True),
        ("2026-05-03T18:30:00Z", "P1D", True),  # IST midnight written in UTC
        ("2026-05-04T00:00:00Z", "P1D", True),  # UTC midnight in its own offset
        ("2026-05-04T06:00:00+05:30", "P1D", False),
        ("2026-05-04T09:45:00+05:30", "PT15M", True),
        ("2026-05-04T09:50:00+05:30", "PT15M", False),
        ("2026-05-04T09:50:00+05:30", "PT7M", True),  # no calendar grid for 7 minutes
    ],
)
def test_interval_start_alignment(start: str, duration: str, aligned: bool) -> None:
    doc = copy.deepcopy(_load("MeterData/v0.6/examples/DailyProfile_ReadingMode.json"))
    doc[1]["intervalPeriod"] = {"start": start, "duration": duration}
    assert ("md.interval-misaligned" not in _rules(doc)) is aligned


EVENTS = _load("MeterData/v0.6/examples/EventProfile.json")
ALARMS = _load("MeterData/v0.6/examples/AlarmProfile.json")


def test_event_and_alarm_ids_resolve_in_the_registry() -> None:
    assert _rules(EVENTS) == set() and _rules(ALARMS) == set()
    events = copy.deepcopy(EVENTS)
    events[1]["events"][0]["eventId"] = 9999
    assert _rules(events) == {"md.event-unknown"}
    alarms = copy.deepcopy(ALARMS)
    alarms[1]["alarms"][0]["alarmId"] = 99
    assert _rules(alarms) == {"md.alarm-unknown"}


def test_events_in_order_and_inside_their_period() -> None:
    swapped = copy.deepcopy(EVENTS)
    records = swapped[1]["events"]
    records[0]["timestamp"], records[1]["timestamp"] = records[1]["timestamp"], records[0]["timestamp"]
    assert _rules(swapped) == {"md.timestamp-order"}
    outside = copy.deepcopy(EVENTS)
    outside[1]["events"][-1]["timestamp"] = "2026-05-11T00:00:00+05:30"  # the P7D period ends here
    assert _rules(outside) == {"md.timestamp-outside-period"}


def _day_of_blocks(blocks_wh: list[int], daily_wh: int) -> list[dict[str, Any]]:
    """One meter: 96 quarter-hour import blocks and the same day's usage of the import register."""
    meter = [{"scheme": "DID", "value": "did:web:discom.example:assets:meter:REC-1"}]
    descriptor = {
        "@type": "PayloadDescriptorProfile",
        "profileType": "DESCRIPTOR",
        "id": "DESC-REC",
        "payloadDescriptorSets": [
            {
                "name": "RecSet",
                "payloadDescriptors": [
                    {"readingType": "kWh imp block", "reportedMode": "USAGE"},
                    {"readingType": "kWh imp", "reportedMode": "USAGE"},
                ],
                "compactSequences": [
                    {"name": "Blocks", "sequenceItems": [{"readingType": "kWh imp block"}]},
                    {"name": "Daily", "sequenceItems": [{"readingType": "kWh imp"}]},
                ],
            }
        ],
    }
    interval = {
        "@type": "IntervalProfile",
        "profileType": "INTERVAL",
        "meterRefs": meter,
        "payloadDescriptorSetRef": "RecSet",
        "compactSequenceRef": "Blocks",
        "intervalPeriod": {"start": "2026-05-04T00:00:00+05:30", "duration": "PT15M"},
        "intervals": [{"id": i, "payloads": [wh / 1000]} for i, wh in enumerate(blocks_wh)],
    }
    daily = {
        "@type": "DailyProfile",
        "profileType": "DAILY",
        "meterRefs": meter,
        "payloadDescriptorSetRef": "RecSet",
        "compactSequenceRef": "Daily",
        "intervalPeriod": {"start": "2026-05-04T00:00:00+05:30", "duration": "P1D"},
        "intervals": [{"id": 0, "payloads": [daily_wh / 1000]}],
    }
    return [descriptor, interval, daily]


def test_a_days_blocks_add_up_to_its_daily_usage() -> None:
    blocks = [250 + (i % 7) * 13 for i in range(96)]
    assert _rules(_day_of_blocks(blocks, sum(blocks))) == set()
    assert _rules(_day_of_blocks(blocks, int(sum(blocks) * 1.005))) == set()  # within meter accuracy
    [finding] = validate(_day_of_blocks(blocks, int(sum(blocks) * 1.05)), jsonld=False).errors
    assert (finding.rule, finding.path) == ("md.interval-daily-mismatch", "/2/intervals/0/payloads/0")


def test_an_incomplete_day_is_not_reconciled_only_flagged_as_a_gap() -> None:
    blocks = [300] * 96
    doc = _day_of_blocks(blocks, 10 * sum(blocks))
    del doc[1]["intervals"][40]
    report = validate(doc, jsonld=False)
    assert report.valid
    assert {w.rule for w in report.warnings} == {"md.interval-missing"}


def test_monthly_usage_beyond_the_sanctioned_load_over_the_calendar_month() -> None:
    customer = _load("MeterData/v0.6/examples/CustomerProfile.json")[0]  # 15 kW sanctioned
    doc = [*copy.deepcopy(MONTHLY), customer]
    assert _rules(doc) == set()
    reading = doc[1]["readings"][0]  # P15D from 2026-04-01: at most 5 × 15 kW × 360 h = 27 000 kWh
    reading["value"] = 30000.0
    reading["closingValue"] = reading["openingValue"] + 30000.0
    doc[2]["readings"][0]["openingValue"] = reading["closingValue"]
    doc[2]["readings"][0]["closingValue"] = reading["closingValue"] + doc[2]["readings"][0]["value"]
    assert _rules(doc) == {"md.value-implausible"}
