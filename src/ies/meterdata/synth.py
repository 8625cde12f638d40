"""Generate a realistic MultiMeterBulkDataset with faults injected at known positions.

Why in the package (not only in benchmarks/): the same generator feeds the benchmark, the tests that prove
every injected fault is found and nothing else is flagged, and sandbox demos. Each meter gets a CUSTOMER
profile (sanctioned load, export limit for prosumers) and one PT15M INTERVAL profile of D days (96 reads a
day). Consumers report import energy with its register (`value`, `openingValue`, `closingValue`); prosumers
report import and export energy shaped by a rooftop-PV day curve with cloud cover. Energies are integer Wh
internally (written as kWh with three decimals), so registers add up exactly.

Every fault is written into a distinct meter and recorded as (kind, meter, element, intervalId, rule): the
element index in the JSON array and the interval id where the validator must report it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np

from ies.meterdata._checks import LOAD_FACTOR, MD_INTERVAL_MISSING
from ies.schemas import rule_ids as R

__all__ = ["FAULT_KINDS", "GeneratedDataset", "InjectedFault", "generate", "read_faults"]

IST = timezone(timedelta(hours=5, minutes=30))
READS_PER_DAY = 96
STEP = timedelta(minutes=15)

#: Fault kind → the rule the validator must report for it.
FAULT_KINDS: dict[str, str] = {
    "gap": MD_INTERVAL_MISSING,
    "duplicate": R.MD_INTERVAL_DUPLICATE,
    "order": R.MD_INTERVAL_ID_ORDER,
    "usage-math": R.MD_USAGE_MATH,
    "cumulative-decrease": R.MD_CUMULATIVE_DECREASE,
    "implausible": R.MD_VALUE_IMPLAUSIBLE,
    "misaligned": R.MD_INTERVAL_MISALIGNED,
    "quality-flag": R.MD_QUALITY_FLAG_INVALID,
    "unit": R.MD_UNIT_MISMATCH,
    "unresolved": R.MD_READING_TYPE_UNRESOLVED,
}
_REGISTER_ONLY = frozenset({"usage-math", "cumulative-decrease"})
_PROSUMER_ONLY = frozenset({"implausible"})

_CONSUMER_SET, _CONSUMER_SEQ = "SettlementImportSet", "ImportRegisterSeq"
_PROSUMER_SET, _PROSUMER_SEQ = "SettlementProsumerSet", "ProsumerSeq"
_UNIT_SET, _UNRESOLVED_SET, _SINGLE_SEQ = "FaultUnitSet", "FaultUnresolvedSet", "SingleValueSeq"


@dataclass(frozen=True)
class InjectedFault:
    kind: str
    meter: str
    element: int
    interval_id: int | None
    rule: str


@dataclass
class GeneratedDataset:
    meters: int
    days: int
    readings: int
    intervals: int
    faults: list[InjectedFault]


def _descriptor_profile(kinds: set[str]) -> dict[str, Any]:
    """The payload descriptor sets; the two faulty sets only when a meter will use them."""

    def block(rt: str) -> dict[str, Any]:
        return {"readingType": rt, "reportedMode": "USAGE", "multiplier": 1.0, "accuracy": 0.5}

    def seq(name: str, items: list[tuple[str, str]]) -> dict[str, Any]:
        return {"name": name, "sequenceItems": [{"readingType": rt, "attribute": a} for rt, a in items]}

    imp, exp = "kWh imp block", "kWh exp block"
    sets: list[dict[str, Any]] = [
        {
            "name": _CONSUMER_SET,
            "payloadDescriptors": [block(imp)],
            "compactSequences": [
                seq(_CONSUMER_SEQ, [(imp, "value"), (imp, "openingValue"), (imp, "closingValue")])
            ],
        },
        {
            "name": _PROSUMER_SET,
            "payloadDescriptors": [block(imp), block(exp)],
            "compactSequences": [seq(_PROSUMER_SEQ, [(imp, "value"), (exp, "value")])],
        },
    ]
    if "unit" in kinds:
        sets.append(
            {
                "name": _UNIT_SET,
                "payloadDescriptors": [{**block(imp), "unit": "kW"}],
                "compactSequences": [seq(_SINGLE_SEQ, [(imp, "value")])],
            }
        )
    if "unresolved" in kinds:
        sets.append(
            {
                "name": _UNRESOLVED_SET,
                "payloadDescriptors": [block("kWh imp blok")],
                "compactSequences": [seq(_SINGLE_SEQ, [("kWh imp blok", "value")])],
            }
        )
    return {
        "@type": "PayloadDescriptorProfile",
        "profileType": "DESCRIPTOR",
        "id": "DESC-SYNTHETIC-BULK",
        "payloadDescriptorSets": sets,
    }


def _ref(kind: str, value: str) -> list[dict[str, str]]:
    return [{"value": value, "scheme": kind}]


def _customer_profile(meter: str, index: int, sanctioned_kw: float, pv_kw: float | None) -> dict[str, Any]:
    sdp = f"did:web:discom.example:connections:SDP-{index:07d}"
    customer: dict[str, Any] = {
        "id": {"value": f"did:web:discom.example:consumers:C-{index:07d}", "scheme": "DID"},
        "consumerCategory": "LT-1",
        "sanctionedLoadKw": sanctioned_kw,
        "connectionType": "Single-phase" if sanctioned_kw <= 7 else "Three-phase",
    }
    association: dict[str, Any] = {
        "serviceDeliveryPointRefs": _ref("DID", sdp),
        "meterRefs": _ref("DID", meter),
    }
    if pv_kw is not None:
        customer["sanctionedExportLoadKw"] = pv_kw
        association["generationCapacityKw"] = pv_kw
    return {
        "@type": "CustomerProfile",
        "profileType": "CUSTOMER",
        "timeZone": "Asia/Kolkata",
        "customer": customer,
        "serviceDeliveryPoints": [{"id": {"value": sdp, "scheme": "DID"}}],
        "meters": [
            {"id": {"value": meter, "scheme": "DID"}, "meterType": "AMI", "serviceKind": "ELECTRICITY"}
        ],
        "associations": [association],
    }


def _load_wh(rng: np.random.Generator, days: int, start: date, sanctioned_kw: float) -> np.ndarray:
    """Household load per 15 minutes in Wh: base, morning and evening peaks, weekends higher, noise."""
    hours = (np.arange(READS_PER_DAY) + 0.5) / 4
    shape = 0.25 + 0.5 * np.exp(-(((hours - 8) / 1.5) ** 2)) + 0.9 * np.exp(-(((hours - 20.5) / 2.0) ** 2))
    weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
    day_factor = np.where(weekday >= 5, 1.15, 1.0) * rng.uniform(0.85, 1.15, days)
    kw = shape[None, :] * day_factor[:, None] * rng.lognormal(0.0, 0.15, (days, READS_PER_DAY))
    kw *= sanctioned_kw * 0.45
    return np.minimum(np.rint(kw.ravel() * 250), sanctioned_kw * 250 * 0.95).astype(np.int64)


def _pv_wh(rng: np.random.Generator, days: int, pv_kw: float) -> np.ndarray:
    """Rooftop PV output per 15 minutes in Wh: a 06:00–18:00 bell with daily cloud cover and noise."""
    hours = (np.arange(READS_PER_DAY) + 0.5) / 4
    bell = np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None) ** 1.3
    cloud = rng.uniform(0.4, 1.0, days)
    kw = pv_kw * 0.85 * bell[None, :] * cloud[:, None] * rng.uniform(0.8, 1.0, (days, READS_PER_DAY))
    return np.rint(kw.ravel() * 250).astype(np.int64)


def _kwh(wh: int) -> str:
    return f"{wh // 1000}.{wh % 1000:03d}"


class _MeterSeries:
    """One meter's rows as integer Wh, mutated in place by a fault, then rendered as compact rows."""

    def __init__(self, columns: list[np.ndarray]):
        self.ids = list(range(len(columns[0])))
        self.rows = [list(map(int, r)) for r in zip(*columns, strict=True)]
        self.overrides: dict[int, list[dict[str, Any]]] = {}

    def render(self) -> str:
        parts = []
        for row_id, row in zip(self.ids, self.rows, strict=True):
            cells = ", ".join(_kwh(v) for v in row)
            extra = self.overrides.get(row_id)
            if extra is not None:
                parts.append(f'{{"id": {row_id}, "payloads": [{cells}], "overrides": {json.dumps(extra)}}}')
            else:
                parts.append(f'{{"id": {row_id}, "payloads": [{cells}]}}')
        return ",\n".join(parts)


def _inject(kind: str, series: _MeterSeries, rng: np.random.Generator, limit_wh: int) -> int | None:
    """Apply one fault to a meter's rows; return the interval id where it must be reported."""
    k = int(rng.integers(3, len(series.rows) - 8))
    if kind == "gap":
        width = int(rng.integers(1, 7))
        del series.ids[k : k + width], series.rows[k : k + width]
    elif kind == "duplicate":
        series.ids.insert(k + 1, series.ids[k])
        series.rows.insert(k + 1, list(series.rows[k]))
    elif kind == "order":
        series.ids[k], series.ids[k + 1] = series.ids[k + 1], series.ids[k]
        series.rows[k], series.rows[k + 1] = series.rows[k + 1], series.rows[k]
        return k
    elif kind == "usage-math":
        series.rows[k][0] += 500
    elif kind == "cumulative-decrease":
        drop = min(100_000, series.rows[0][1] // 2)
        for row in series.rows[k:]:
            row[1] -= drop
            row[2] -= drop
    elif kind == "implausible":
        series.rows[k][0] = int(limit_wh * 1.5)
    elif kind == "quality-flag":
        series.overrides[k] = [{"descriptorIndex": 0, "validationStatus": "ESTIMATED", "source": "ESTIMATED"}]
    return k


def _plan(
    meters: int, faults: int, prosumer: np.ndarray, rng: np.random.Generator, kinds: list[str]
) -> dict[int, str]:
    """Which meter gets which fault: kinds in rotation, each on a meter whose shape supports it."""
    if faults > meters:
        raise ValueError(f"cannot inject {faults} faults into {meters} meters (one fault per meter)")
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown or not kinds:
        raise ValueError(f"unknown fault kinds {unknown}; known: {sorted(FAULT_KINDS)}")
    plan: dict[int, str] = {}
    candidates = [int(i) for i in rng.permutation(meters)]
    for n in range(faults):
        kind = kinds[n % len(kinds)]
        for i in candidates:
            if i in plan:
                continue
            if (kind in _REGISTER_ONLY and prosumer[i]) or (kind in _PROSUMER_ONLY and not prosumer[i]):
                continue
            plan[i] = kind
            break
    return plan


def _elements(
    meters: int,
    days: int,
    seed: int,
    faults: int,
    prosumer_share: float,
    start: date,
    kinds: list[str],
    out: GeneratedDataset,
) -> Iterator[str]:
    rng = np.random.default_rng(seed)
    prosumer = rng.random(meters) < prosumer_share
    plan = _plan(meters, faults, prosumer, rng, kinds)
    yield json.dumps(_descriptor_profile(set(plan.values())), indent=1)
    start_at = datetime.combine(start, datetime.min.time(), IST)
    for i in range(meters):
        meter = f"did:web:discom.example:assets:meter:SM-{i:07d}"
        sanctioned = float(rng.choice([2.0, 3.0, 5.0, 7.0, 10.0]))
        pv_kw = float(rng.choice([2.0, 3.0, 5.0])) if prosumer[i] else None
        yield json.dumps(_customer_profile(meter, i, sanctioned, pv_kw))
        load = _load_wh(rng, days, start, sanctioned)
        kind = plan.get(i)
        if pv_kw is not None:
            pv = _pv_wh(rng, days, pv_kw)
            columns = [np.maximum(load - pv, 0), np.maximum(pv - load, 0)]
            set_name, seq_name = _PROSUMER_SET, _PROSUMER_SEQ
        else:
            closing = int(rng.integers(1_000_000, 50_000_000)) + np.cumsum(load)
            columns = [load, closing - load, closing]
            set_name, seq_name = _CONSUMER_SET, _CONSUMER_SEQ
        if kind == "unit":
            set_name, seq_name, columns = _UNIT_SET, _SINGLE_SEQ, [load]
        elif kind == "unresolved":
            set_name, seq_name, columns = _UNRESOLVED_SET, _SINGLE_SEQ, [load]
        series = _MeterSeries(columns)
        period_start = start_at + (timedelta(minutes=7) if kind == "misaligned" else timedelta(0))
        element = 2 + 2 * i
        if kind is not None:
            limit_wh = math.ceil(sanctioned * 250 * LOAD_FACTOR)
            at = _inject(kind, series, rng, limit_wh)
            if kind in ("misaligned", "unit", "unresolved"):
                at = None
            out.faults.append(InjectedFault(kind, meter, element, at, FAULT_KINDS[kind]))
        groups = 2 if set_name == _PROSUMER_SET else 1
        out.intervals += len(series.rows)
        out.readings += len(series.rows) * groups
        head = json.dumps(
            {
                "@type": "IntervalProfile",
                "profileType": "INTERVAL",
                "serviceDeliveryPointRefs": _ref("DID", f"did:web:discom.example:connections:SDP-{i:07d}"),
                "meterRefs": _ref("DID", meter),
                "payloadDescriptorSetRef": set_name,
                "compactSequenceRef": seq_name,
                "intervalPeriod": {"start": period_start.isoformat(), "duration": "PT15M"},
            }
        )
        yield head[:-1] + ', "intervals": [\n' + series.render() + "\n]}"


def generate(
    out: Path | IO[str],
    *,
    meters: int,
    days: int,
    seed: int = 0,
    faults: int = 0,
    prosumer_share: float = 0.3,
    start: date = date(2026, 5, 4),
    kinds: Sequence[str] | None = None,
) -> GeneratedDataset:
    """Write the dataset as a MeterData v0.6 JSON array; return its size and the injected faults.

    `kinds` restricts the fault kinds used (in rotation); by default every kind of FAULT_KINDS.
    """
    if meters < 1 or days < 1:
        raise ValueError("meters and days must be at least 1")
    if days * READS_PER_DAY < 16:
        raise ValueError("at least 16 intervals per meter are needed to place faults")
    chosen = list(kinds) if kinds is not None else list(FAULT_KINDS)
    result = GeneratedDataset(meters=meters, days=days, readings=0, intervals=0, faults=[])
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8") as handle:
            return generate(
                handle,
                meters=meters,
                days=days,
                seed=seed,
                faults=faults,
                prosumer_share=prosumer_share,
                start=start,
                kinds=chosen,
            )
    out.write("[\n")
    for n, text in enumerate(_elements(meters, days, seed, faults, prosumer_share, start, chosen, result)):
        if n:
            out.write(",\n")
        out.write(text)
    out.write("\n]\n")
    return result


def write_faults(path: Path, dataset: GeneratedDataset) -> None:
    """The side file: every injected fault with where it must be reported."""
    path.write_text(json.dumps([asdict(f) for f in dataset.faults], indent=1) + "\n", encoding="utf-8")


def read_faults(path: Path) -> list[InjectedFault]:
    return [InjectedFault(**item) for item in json.loads(path.read_text(encoding="utf-8"))]
