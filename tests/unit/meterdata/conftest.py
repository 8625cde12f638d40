"""Builders for small hand-made MeterData v0.6 bulk documents used by the meterdata tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

IMP = "kWh imp block"
EXP = "kWh exp block"


def descriptor(with_registers: bool = False) -> dict[str, Any]:
    """One set 'S' whose sequence 'Q' is import value (+ openingValue, closingValue) or import+export."""
    items = [{"readingType": IMP, "attribute": "value"}]
    descriptors = [{"readingType": IMP, "reportedMode": "USAGE"}]
    if with_registers:
        items += [
            {"readingType": IMP, "attribute": "openingValue"},
            {"readingType": IMP, "attribute": "closingValue"},
        ]
    return {
        "profileType": "DESCRIPTOR",
        "id": "DESC-T",
        "payloadDescriptorSets": [
            {
                "name": "S",
                "payloadDescriptors": descriptors,
                "compactSequences": [{"name": "Q", "sequenceItems": items}],
            }
        ],
    }


def customer(meter: str, sanctioned_kw: float = 5.0) -> dict[str, Any]:
    sdp = {"value": f"sdp-{meter}", "scheme": "SERVICE_DELIVERY_POINT"}
    ref = {"value": meter, "scheme": "METER_SERIAL"}
    return {
        "profileType": "CUSTOMER",
        "customer": {
            "id": {"value": f"c-{meter}", "scheme": "CONSUMER_NUMBER"},
            "sanctionedLoadKw": sanctioned_kw,
        },
        "serviceDeliveryPoints": [{"id": sdp}],
        "meters": [{"id": ref}],
        "associations": [{"serviceDeliveryPointRefs": [sdp], "meterRefs": [ref]}],
    }


def interval(
    meter: str,
    rows: list[tuple[int, list[float]]],
    start: str = "2026-05-04T00:00:00+05:30",
    overrides: dict[int, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    intervals: list[dict[str, Any]] = []
    for row_id, payloads in rows:
        row: dict[str, Any] = {"id": row_id, "payloads": payloads}
        if overrides and row_id in overrides:
            row["overrides"] = overrides[row_id]
        intervals.append(row)
    return {
        "profileType": "INTERVAL",
        "meterRefs": [{"value": meter, "scheme": "METER_SERIAL"}],
        "payloadDescriptorSetRef": "S",
        "compactSequenceRef": "Q",
        "intervalPeriod": {"start": start, "duration": "PT15M"},
        "intervals": intervals,
    }


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[[Any, str], Path]:
    def write(doc: Any, name: str = "doc.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return write
