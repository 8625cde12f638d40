"""What a transfer carries, cut into pages: IES MeterData v0.6 documents minimised to the consented scope.

A transfer is planned once from the (already consent-checked) request: a list of *series*, one per
requested profile and meter, each a run of records (one 15-minute interval, or one day). Pages cut that
list at fixed record counts, so page k of a transfer is always the same data, and the total is known at
the start (the data consumer sees `pageInfo.total`).

Minimisation: a page holds only the meters, registers and instants the request named (and the consent
check already proved the request is inside the consent); nothing else the source knows is copied over:
no customer profile, no other register, no reading outside the period. For purposes the catalogue marks
`anonymisedOnly` (research), meter identifiers are replaced by keyed pseudonyms that are stable within one
transfer and unlinkable across transfers.

Every page is checked with `ies.schemas` (structure and MeterData semantic rules) before it is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson

from ies.consent._time import format_instant
from ies.consent.enforcement import AccessRequest
from ies.consent.ledger import PageServed
from ies.errors import SchemaValidationFailed
from ies.schemas import reading_types, require_valid
from ies.usecases.meter_exchange.data import DAILY_REGISTERS, INTERVAL_REGISTERS, STEP, MeterDataSource

__all__ = ["Page", "Series", "build_page", "plan_transfer"]

SERVED_PROFILES = {"IntervalProfile": "INTERVAL", "DailyProfile": "DAILY"}
_SOURCE_REGISTERS = {"INTERVAL": INTERVAL_REGISTERS, "DAILY": DAILY_REGISTERS}
_DEFAULT_MODE = {"INTERVAL": "USAGE", "DAILY": "READING"}
_SET_NAMES = {"INTERVAL": ("IntervalSet", "IntervalSeq"), "DAILY": ("DailySet", "DailySeq")}
_TYPES = {"INTERVAL": "IntervalProfile", "DAILY": "DailyProfile"}


@dataclass(frozen=True)
class Series:
    """One profile of one meter over the requested period: `count` records from `start`, `step` apart."""

    profile: str  # INTERVAL | DAILY
    meter: str
    start: datetime
    step: timedelta
    count: int
    registers: tuple[tuple[str, str], ...]  # (short label, mode)


@dataclass(frozen=True)
class Page:
    doc: list[dict[str, Any]]
    raw: bytes
    served: PageServed


def _served_register(profile: str, value: str, mode: str | None) -> tuple[str, str]:
    entry = reading_types().resolve(value)
    label = entry.short_label if entry is not None else None
    if label not in _SOURCE_REGISTERS[profile]:
        raise SchemaValidationFailed(
            f"this provider serves {', '.join(_SOURCE_REGISTERS[profile])} in {_TYPES[profile]}, "
            f"not {value!r}",
            details={"path": "$.capabilitiesRequested.profiles"},
        )
    mode = mode or _DEFAULT_MODE[profile]
    if profile == "INTERVAL" and mode != "USAGE":
        raise SchemaValidationFailed(f"{value!r} in IntervalProfile is served as USAGE only")
    return str(label), mode


def plan_transfer(request: AccessRequest) -> list[Series]:
    """The series a request asks for, in a fixed order (profile, then meter); raises for what this provider
    cannot serve at all (SCH_SCHEMA_VALIDATION_FAILED before any data moves)."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for reading in request.readings:
        profile = SERVED_PROFILES.get(reading.profile_type)
        if profile is None:
            raise SchemaValidationFailed(
                f"this provider serves {' and '.join(SERVED_PROFILES)} only, not {reading.profile_type}",
                details={"path": "$.capabilitiesRequested.profiles"},
            )
        registers = (
            [(label, _DEFAULT_MODE[profile]) for label in _SOURCE_REGISTERS[profile]]
            if reading.value is None
            else [_served_register(profile, reading.value, reading.mode)]
        )
        bucket = wanted.setdefault(profile, [])
        for label, mode in registers:
            if any(have == label and have_mode != mode for have, have_mode in bucket):
                raise SchemaValidationFailed(
                    f"{label!r} is requested in two modes in {reading.profile_type}; ask for one",
                    details={"path": "$.capabilitiesRequested.profiles"},
                )
            if (label, mode) not in bucket:
                bucket.append((label, mode))
    series: list[Series] = []
    for profile in ("INTERVAL", "DAILY"):
        if profile not in wanted:
            continue
        if profile == "INTERVAL":
            start = _ceil(request.data_from, STEP)
            step = STEP
        else:
            day = request.data_from.astimezone(UTC).date()
            start = datetime.combine(day, time(), UTC)
            start = start if start >= request.data_from else start + timedelta(days=1)
            step = timedelta(days=1)
        count = max(0, int((request.data_until - start) / step))
        if count:
            for meter in request.resources:
                series.append(Series(profile, meter, start, step, count, tuple(wanted[profile])))
    return series


def _ceil(value: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    offset = (value - epoch) % step
    return value if not offset else value + (step - offset)


def total_records(series: list[Series]) -> int:
    return sum(s.count for s in series)


def _slices(series: list[Series], first: int, size: int) -> list[tuple[Series, int, int]]:
    """(series, offset, count) covering records [first, first + size) of the transfer."""
    out = []
    position = 0
    for s in series:
        lo, hi = max(first, position), min(first + size, position + s.count)
        if lo < hi:
            out.append((s, lo - position, hi - lo))
        position += s.count
    return out


def pseudonym(meter: str, salt: bytes) -> str:
    return "anon-" + hashlib.blake2b(meter.encode(), key=salt[:64], digest_size=10).hexdigest()


def _descriptor(profiles: dict[str, tuple[tuple[str, str], ...]]) -> dict[str, Any]:
    sets = []
    for profile, registers in profiles.items():
        set_name, seq_name = _SET_NAMES[profile]
        descriptors = []
        for label, mode in registers:
            entry = reading_types().resolve(label)
            assert entry is not None
            descriptors.append(
                {
                    "readingType": label,
                    "reportedMode": mode,
                    "obis": entry.obis,
                    "multiplier": 1.0,
                    "accuracy": 1.0,
                }
            )
        sets.append(
            {
                "name": set_name,
                "payloadDescriptors": descriptors,
                "compactSequences": [
                    {"name": seq_name, "sequenceItems": [{"readingType": label} for label, _ in registers]}
                ],
            }
        )
    return {
        "@type": "PayloadDescriptorProfile",
        "profileType": "DESCRIPTOR",
        "id": "DESC-METER-EXCHANGE",
        "payloadDescriptorSets": sets,
    }


def _values(source: MeterDataSource, s: Series, offset: int, count: int) -> list[list[float]]:
    start = s.start + s.step * offset
    if s.profile == "INTERVAL":
        wh = source.interval_wh(s.meter, start, count)
        return [[round(wh[label][i] / 1000, 3) for label, _ in s.registers] for i in range(count)]
    rows = []
    for i in range(count):
        day = (start + timedelta(days=i)).date()
        reading = source.daily_register_wh(s.meter, day)
        after = (
            source.daily_register_wh(s.meter, day + timedelta(days=1))
            if any(m == "USAGE" for _, m in s.registers)
            else reading
        )
        rows.append(
            [
                round((after[label] - reading[label] if mode == "USAGE" else reading[label]) / 1000, 3)
                for label, mode in s.registers
            ]
        )
    return rows


def build_page(
    source: MeterDataSource,
    series: list[Series],
    page: int,
    page_size: int,
    *,
    salt: bytes | None = None,
) -> Page:
    """Page `page` of the transfer as a MeterData v0.6 array, checked with ies.schemas."""
    slices = _slices(series, page * page_size, page_size)
    if not slices:
        raise SchemaValidationFailed(f"page {page} is past the end of the transfer")
    used = {s.profile: s.registers for s, _, _ in slices}
    doc: list[dict[str, Any]] = [_descriptor(used)]
    meters: list[str] = []
    first, last = None, None
    for s, offset, count in slices:
        start = s.start + s.step * offset
        end = start + s.step * count
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
        if s.meter not in meters:
            meters.append(s.meter)
        ref = (
            {"scheme": "OTHER", "value": pseudonym(s.meter, salt), "namespace": "pseudonym"}
            if salt is not None
            else {"scheme": "DID" if s.meter.startswith("did:") else "METER_SERIAL", "value": s.meter}
        )
        set_name, seq_name = _SET_NAMES[s.profile]
        doc.append(
            {
                "@type": _TYPES[s.profile],
                "profileType": s.profile,
                "meterRefs": [ref],
                "payloadDescriptorSetRef": set_name,
                "intervalPeriod": {
                    "start": format_instant(start),
                    "duration": "PT15M" if s.profile == "INTERVAL" else "P1D",
                },
                "intervals": [
                    {"id": i, "payloads": row} for i, row in enumerate(_values(source, s, offset, count))
                ],
                "compactSequenceRef": seq_name,
            }
        )
    require_valid(doc, "MeterData", "0.6")
    raw = orjson.dumps(doc)
    assert first is not None and last is not None
    served = PageServed(
        page=page,
        resources=tuple(meters),
        data_from=first,
        data_until=last,
        records=sum(count for _, _, count in slices),
        bytes=len(raw),
        payload_sha256=hashlib.sha256(raw).hexdigest(),
    )
    return Page(doc, raw, served)
