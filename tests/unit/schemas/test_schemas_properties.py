"""Property tests: generate valid MeterData profiles, break them in each way a rule forbids, and check that
exactly the matching rule fires (and nothing fires on the unbroken profile).

Registers are drawn from the bundled `ies-codes.json` by their properties (profiles, modes, accumulation,
unit), never named, so the tests follow the registry as the rules do.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ies.schemas import reading_types, validate
from ies.schemas.codes import ReadingType

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
ENERGY_UNITS = {"kWh", "kVAh", "kvarh"}
METER = "did:web:discom.example:assets:meter:PROP-0001"
REGISTRY = list(reading_types())
INTERVAL_REGISTERS = [
    e
    for e in REGISTRY
    if "INTERVAL" in e.profiles
    and e.unit in ENERGY_UNITS
    and "USAGE" in e.supported_modes
    and not e.cumulative
]
DAILY_CUMULATIVE = [
    e for e in REGISTRY if "DAILY" in e.profiles and e.cumulative and "READING" in e.supported_modes
]
NOT_IN_INTERVAL = [
    e
    for e in REGISTRY
    if "INTERVAL" not in e.profiles and e.unit in ENERGY_UNITS and "USAGE" in e.supported_modes
]
MONTHLY_CUMULATIVE = [
    e
    for e in REGISTRY
    if "MONTHLY" in e.profiles
    and e.cumulative
    and "USAGE" in e.supported_modes
    and "openingValue" in e.allowed_attributes
]
OTHER_UNITS = ["V", "A", "Hz", "kW", "kvar", "kVA", "PF", "INR"]

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _descriptor(entry: ReadingType, mode: str) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "readingType": entry.short_label,
        "obis": entry.obis,
        "name": entry.name,
        "unit": entry.unit,
        "reportedMode": mode,
        "multiplier": 1.0,
    }
    if entry.flow_direction:
        desc["flowDirection"] = entry.flow_direction
    return desc


def _customer(sanctioned_kw: float) -> dict[str, Any]:
    ident = {"scheme": "DID", "value": METER}
    return {
        "@type": "CustomerProfile",
        "profileType": "CUSTOMER",
        "customer": {
            "id": {"scheme": "DID", "value": "did:web:discom.example:consumers:P-1"},
            "sanctionedLoadKw": sanctioned_kw,
        },
        "serviceDeliveryPoints": [
            {"id": {"scheme": "DID", "value": "did:web:discom.example:connections:S-1"}}
        ],
        "meters": [{"id": ident}],
        "associations": [
            {
                "serviceDeliveryPointRefs": [
                    {"scheme": "DID", "value": "did:web:discom.example:connections:S-1"}
                ],
                "meterRefs": [ident],
            }
        ],
    }


def _payload(
    kind: str,
    registers: list[ReadingType],
    mode: str,
    start: dt.datetime,
    duration: str,
    rows: list[list[float]],
    sanctioned_kw: float,
) -> list[dict[str, Any]]:
    descriptor = {
        "@type": "PayloadDescriptorProfile",
        "profileType": "DESCRIPTOR",
        "id": "DESC-PROP",
        "payloadDescriptorSets": [
            {
                "name": "PropSet",
                "payloadDescriptors": [_descriptor(e, mode) for e in registers],
                "compactSequences": [
                    {
                        "name": "PropSeq",
                        "sequenceItems": [
                            {"readingType": e.short_label, "attribute": "value"} for e in registers
                        ],
                    }
                ],
            }
        ],
    }
    profile = {
        "@type": "IntervalProfile" if kind == "INTERVAL" else "DailyProfile",
        "profileType": kind,
        "meterRefs": [{"scheme": "DID", "value": METER}],
        "payloadDescriptorSetRef": "PropSet",
        "compactSequenceRef": "PropSeq",
        "intervalPeriod": {"start": start.isoformat(), "duration": duration},
        "intervals": [{"id": i, "payloads": row} for i, row in enumerate(rows)],
    }
    return [descriptor, _customer(sanctioned_kw), profile]


@st.composite
def interval_profiles(draw: st.DrawFn) -> tuple[list[dict[str, Any]], float]:
    """A valid 15-minute INTERVAL profile with its DESCRIPTOR and CUSTOMER (sanctioned load)."""
    registers = draw(
        st.lists(st.sampled_from(INTERVAL_REGISTERS), min_size=1, max_size=3, unique_by=lambda e: e.obis)
    )
    sanctioned_kw = float(draw(st.integers(1, 200)))
    day = draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    start = dt.datetime.combine(day, dt.time(), IST) + dt.timedelta(minutes=15 * draw(st.integers(0, 95)))
    n = draw(st.integers(3, 24))
    max_wh = int(sanctioned_kw * 250)  # one sanctioned load for a quarter hour, in Wh
    rows = [[draw(st.integers(0, max_wh)) / 1000 for _ in registers] for _ in range(n)]
    return _payload("INTERVAL", registers, "USAGE", start, "PT15M", rows, sanctioned_kw), sanctioned_kw


@st.composite
def daily_cumulative_profiles(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid DAILY profile of cumulative registers read in READING mode (never decreasing)."""
    registers = draw(
        st.lists(st.sampled_from(DAILY_CUMULATIVE), min_size=1, max_size=3, unique_by=lambda e: e.obis)
    )
    sanctioned_kw = float(draw(st.integers(1, 200)))
    start = dt.datetime.combine(draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31))), dt.time(), IST)
    n = draw(st.integers(3, 20))
    columns = []
    for _ in registers:
        value = draw(st.integers(1000, 10**8))
        column = [value]
        for _ in range(n - 1):
            value += draw(st.integers(0, int(sanctioned_kw * 24_000)))
            column.append(value)
        columns.append([v / 1000 for v in column])
    rows = [list(r) for r in zip(*columns, strict=True)]
    return _payload("DAILY", registers, "READING", start, "P1D", rows, sanctioned_kw)


def _rules(doc: Any) -> set[str]:
    return validate(doc, "MeterData", "0.6", jsonld=False).rules()


Mutation = Callable[[list[dict[str, Any]], st.DataObject, float], str]


def _intervals(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return doc[2]["intervals"]


def _descs(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return doc[0]["payloadDescriptorSets"][0]["payloadDescriptors"]


def _seq(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return doc[0]["payloadDescriptorSets"][0]["compactSequences"][0]["sequenceItems"]


def duplicate_id(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    k = data.draw(st.integers(1, len(_intervals(doc)) - 1))
    _intervals(doc)[k]["id"] = _intervals(doc)[k - 1]["id"]
    return "md.interval-duplicate"


def ids_out_of_order(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    rows = _intervals(doc)
    k = data.draw(st.integers(0, len(rows) - 2))
    rows[k]["id"], rows[k + 1]["id"] = rows[k + 1]["id"], rows[k]["id"]
    return "md.interval-id-order"


def misaligned_start(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    period = doc[2]["intervalPeriod"]
    start = dt.datetime.fromisoformat(period["start"]) + dt.timedelta(minutes=data.draw(st.integers(1, 14)))
    period["start"] = start.isoformat()
    return "md.interval-misaligned"


def unresolved_register(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    c = data.draw(st.integers(0, len(_descs(doc)) - 1))
    _descs(doc)[c]["readingType"] = _seq(doc)[c]["readingType"] = "NOT-IN-THE-REGISTRY"
    return "md.reading-type-unresolved"


def register_not_allowed_in_profile(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    c = data.draw(st.integers(0, len(_descs(doc)) - 1))
    other = data.draw(st.sampled_from(NOT_IN_INTERVAL))
    _descs(doc)[c] = _descriptor(other, "USAGE")
    _seq(doc)[c]["readingType"] = other.short_label
    return "md.profile-type-mismatch"


def column_not_declared(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    c = data.draw(st.integers(0, len(_descs(doc)) - 1))
    del _descs(doc)[c]
    return "md.reading-undeclared"


def wrong_arity(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]["payloads"].append(0.0)
    return "md.sequence-arity"


def wrong_cell_type(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    row = _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]["payloads"]
    row[data.draw(st.integers(0, len(row) - 1))] = "n/a"
    return "md.cell-type"


def wrong_unit(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    c = data.draw(st.integers(0, len(_descs(doc)) - 1))
    _descs(doc)[c]["unit"] = data.draw(st.sampled_from(OTHER_UNITS))
    return "md.unit-mismatch"


def beyond_sanctioned_load(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    row = _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]["payloads"]
    row[data.draw(st.integers(0, len(row) - 1))] = kw * 0.25 * 5 * data.draw(st.floats(1.01, 10))
    return "md.value-implausible"


def negative_energy(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    row = _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]["payloads"]
    row[data.draw(st.integers(0, len(row) - 1))] = -data.draw(st.integers(1, 10_000)) / 1000
    return "md.value-implausible"


def estimated_without_method(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    interval = _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]
    c = data.draw(st.integers(0, len(interval["payloads"]) - 1))
    interval["overrides"] = [
        {"descriptorIndex": c, "validationStatus": data.draw(st.sampled_from(["ESTIMATED", "MANUAL"]))}
    ]
    return "md.quality-flag-invalid"


def override_of_missing_column(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    interval = _intervals(doc)[data.draw(st.integers(0, len(_intervals(doc)) - 1))]
    index = len(interval["payloads"]) + data.draw(st.integers(0, 5))
    interval["overrides"] = [{"descriptorIndex": index, "validationStatus": "VALID"}]
    return "md.quality-flag-invalid"


def unknown_descriptor_set(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    doc[2]["payloadDescriptorSetRef"] = "NoSuchSet"
    return "md.descriptor-ref-unknown"


def unknown_sequence(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    doc[2]["compactSequenceRef"] = "NoSuchSequence"
    return "md.sequence-ref-unknown"


def descriptor_obis_mismatch(doc: list[dict[str, Any]], data: st.DataObject, kw: float) -> str:
    c = data.draw(st.integers(0, len(_descs(doc)) - 1))
    other = data.draw(st.sampled_from([e for e in REGISTRY if e.obis != _descs(doc)[c]["obis"]]))
    _descs(doc)[c]["obis"] = other.obis
    return "md.descriptor-registry-mismatch"


INTERVAL_MUTATIONS: list[Mutation] = [
    duplicate_id,
    ids_out_of_order,
    misaligned_start,
    unresolved_register,
    register_not_allowed_in_profile,
    column_not_declared,
    wrong_arity,
    wrong_cell_type,
    wrong_unit,
    beyond_sanctioned_load,
    negative_energy,
    estimated_without_method,
    override_of_missing_column,
    unknown_descriptor_set,
    unknown_sequence,
    descriptor_obis_mismatch,
]


@SETTINGS
@given(interval_profiles())
def test_generated_interval_profiles_are_valid(generated: tuple[list[dict[str, Any]], float]) -> None:
    doc, _ = generated
    assert _rules(doc) == set()


@pytest.mark.parametrize("mutation", INTERVAL_MUTATIONS, ids=lambda m: m.__name__)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=interval_profiles(), data=st.data())
def test_each_forbidden_interval_mutation_fires_exactly_its_rule(
    mutation: Mutation, generated: tuple[list[dict[str, Any]], float], data: st.DataObject
) -> None:
    doc, sanctioned_kw = copy.deepcopy(generated[0]), generated[1]
    expected = mutation(doc, data, sanctioned_kw)
    assert _rules(doc) == {expected}


@SETTINGS
@given(interval_profiles())
def test_removing_the_descriptor_profile_fires_only_descriptor_missing(
    generated: tuple[list[dict[str, Any]], float],
) -> None:
    doc = copy.deepcopy(generated[0])[1:]
    assert _rules(doc) == {"md.descriptor-missing"}


@SETTINGS
@given(daily_cumulative_profiles())
def test_generated_cumulative_profiles_are_valid(doc: list[dict[str, Any]]) -> None:
    assert _rules(doc) == set()


@SETTINGS
@given(daily_cumulative_profiles(), st.data())
def test_a_decreasing_cumulative_register_fires_only_cumulative_decrease(
    doc: list[dict[str, Any]], data: st.DataObject
) -> None:
    rows = _intervals(doc)
    k = data.draw(st.integers(1, len(rows) - 1))
    c = data.draw(st.integers(0, len(rows[k]["payloads"]) - 1))
    previous = rows[k - 1]["payloads"][c]
    rows[k]["payloads"][c] = round(previous - data.draw(st.integers(1, int(previous * 1000))) / 1000, 3)
    assert _rules(doc) == {"md.cumulative-decrease"}
    # a declared register reset on that cell makes the same decrease legitimate
    rows[k]["overrides"] = [{"descriptorIndex": c, "changeMethod": "meter-reset"}]
    assert _rules(doc) == set()


@SETTINGS
@given(daily_cumulative_profiles(), st.data())
def test_a_negative_cumulative_register_fires_only_cumulative_negative(
    doc: list[dict[str, Any]], data: st.DataObject
) -> None:
    rows = _intervals(doc)
    row = rows[data.draw(st.integers(0, len(rows) - 1))]["payloads"]
    row[data.draw(st.integers(0, len(row) - 1))] = -data.draw(st.integers(1, 10**6)) / 1000
    assert _rules(doc) == {"md.cumulative-negative"}


def _elaborated(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same INTERVAL profile in elaborated form, each interval carrying its own start."""
    profile = doc[2]
    start = dt.datetime.fromisoformat(profile["intervalPeriod"]["start"])
    labels = [item["readingType"] for item in _seq(doc)]
    for i, interval in enumerate(profile["intervals"]):
        interval["intervalPeriod"] = {
            "start": (start + dt.timedelta(minutes=15 * i)).isoformat(),
            "duration": "PT15M",
        }
        interval["readings"] = [
            {"readingType": rt, "value": v} for rt, v in zip(labels, interval.pop("payloads"), strict=True)
        ]
    del profile["compactSequenceRef"]
    return doc


@SETTINGS
@given(interval_profiles(), st.data())
def test_elaborated_timestamps_out_of_order_or_duplicated(
    generated: tuple[list[dict[str, Any]], float], data: st.DataObject
) -> None:
    doc = _elaborated(copy.deepcopy(generated[0]))
    assert _rules(doc) == set()
    rows = _intervals(doc)
    k = data.draw(st.integers(0, len(rows) - 2))
    swapped = copy.deepcopy(doc)
    a, b = _intervals(swapped)[k]["intervalPeriod"], _intervals(swapped)[k + 1]["intervalPeriod"]
    a["start"], b["start"] = b["start"], a["start"]
    assert _rules(swapped) == {"md.timestamp-order"}
    duplicated = copy.deepcopy(doc)
    _intervals(duplicated)[k + 1]["intervalPeriod"]["start"] = _intervals(duplicated)[k]["intervalPeriod"][
        "start"
    ]
    assert _rules(duplicated) == {"md.interval-duplicate"}
    off_grid = copy.deepcopy(doc)
    shifted = dt.datetime.fromisoformat(rows[k]["intervalPeriod"]["start"]) + dt.timedelta(minutes=1)
    _intervals(off_grid)[k]["intervalPeriod"]["start"] = shifted.isoformat()
    assert _rules(off_grid) == {"md.interval-misaligned"}


@st.composite
def monthly_pairs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Two consecutive MONTHLY profiles of one meter, USAGE with opening/closing that chain."""
    entry = draw(st.sampled_from(MONTHLY_CUMULATIVE))
    opening = draw(st.integers(1000, 10**8))
    usage = [draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))]
    first = draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 11, 1))).replace(day=1)
    months = [first, (first + dt.timedelta(days=32)).replace(day=1)]
    descriptor = {
        "@type": "PayloadDescriptorProfile",
        "profileType": "DESCRIPTOR",
        "id": "DESC-M",
        "payloadDescriptorSets": [
            {"name": "MonthlySet", "payloadDescriptors": [_descriptor(entry, "USAGE")]}
        ],
    }
    profiles: list[dict[str, Any]] = [descriptor]
    for i, used in enumerate(usage):
        start = dt.datetime.combine(months[i], dt.time(), IST)
        closing = opening + used
        profiles.append(
            {
                "@type": "MonthlyProfile",
                "profileType": "MONTHLY",
                "meterRefs": [{"scheme": "DID", "value": METER}],
                "payloadDescriptorSetRef": "MonthlySet",
                "timePeriod": {"start": start.isoformat(), "duration": "P1M"},
                "readings": [
                    {
                        "readingType": entry.short_label,
                        "value": used / 1000,
                        "openingValue": opening / 1000,
                        "closingValue": closing / 1000,
                    }
                ],
            }
        )
        opening = closing
    return profiles


@SETTINGS
@given(monthly_pairs(), st.data())
def test_monthly_usage_math_and_continuity(doc: list[dict[str, Any]], data: st.DataObject) -> None:
    assert _rules(doc) == set()
    wrong_value = copy.deepcopy(doc)
    wrong_value[1]["readings"][0]["value"] += data.draw(st.integers(1, 10**5)) / 100
    assert _rules(wrong_value) == {"md.usage-math"}
    gap_back = copy.deepcopy(doc)
    reading = gap_back[2]["readings"][0]
    back = data.draw(st.integers(1, int(reading["openingValue"] * 1000))) / 1000
    reading["openingValue"] = round(reading["openingValue"] - back, 3)
    reading["value"] = round(reading["closingValue"] - reading["openingValue"], 3)
    assert _rules(gap_back) == {"md.cumulative-decrease"}
