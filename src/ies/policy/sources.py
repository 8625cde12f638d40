"""Data sources behind the data-serving handlers: the default bundle's source folder, a synthetic
consumer-load source for the sandbox, and a static source for small reference datasets.

The synthetic source stands in for a DISCOM's meter-data management system: record level it returns
each consumer's 15-minute readings (personal data: consumer id, service point, feeder), aggregated it
returns only what `ies.policy.anonymise` releases with the decision's k.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ies.identity.keys import SigningKeyPair
from ies.policy.anonymise import Reading, anonymised_load_profiles, feeder_aggregates
from ies.policy.bundle import build_bundle, read_source
from ies.policy.catalogue import DatasetDecl

__all__ = [
    "DEFAULT_BUNDLE_DIR",
    "AnonymisedView",
    "StaticSource",
    "SyntheticConsumerLoad",
    "build_default_bundle",
    "sandbox_sources",
    "synthetic_readings",
]

DEFAULT_BUNDLE_DIR = Path(__file__).parent / "data" / "default_bundle"


def build_default_bundle(
    key: SigningKeyPair, *, publisher: str, key_id: str, created: datetime | None = None
) -> bytes:
    """The shipped default policy, signed by `key` (a node's own key for its local default, or the
    regulator's when it adopts the default as its first published version)."""
    return build_bundle(
        read_source(DEFAULT_BUNDLE_DIR), key, publisher=publisher, key_id=key_id, created=created
    )


def synthetic_readings(
    *,
    consumers: int = 60,
    feeders: int = 3,
    categories: tuple[str, ...] = ("DOMESTIC", "COMMERCIAL"),
    blocks: int = 8,
    start: datetime = datetime(2026, 11, 1, 18, 30, tzinfo=UTC),
    seed: int = 7,
) -> list[Reading]:
    """Deterministic readings: `consumers` spread over feeders and categories, `blocks` 15-minute blocks."""
    rng = random.Random(seed)
    out = []
    for c in range(consumers):
        feeder = f"FDR-{c % feeders + 1:03d}"
        category = categories[(c // feeders) % len(categories)]
        base = rng.randint(80, 400) * (3 if category == "COMMERCIAL" else 1)
        for b in range(blocks):
            out.append(
                Reading(
                    consumer_id=f"CONS-{c + 1:05d}",
                    feeder_id=feeder,
                    category=category,
                    interval_start=start + timedelta(minutes=15 * b),
                    energy_wh=base + rng.randint(0, 60),
                )
            )
    return out


@dataclass
class SyntheticConsumerLoad:
    """Consumer interval data; its aggregated views are the k-anonymous releases."""

    readings: list[Reading] = field(default_factory=synthetic_readings)

    def records(self, dataset: DatasetDecl) -> list[dict[str, Any]]:
        return [
            {
                "consumerId": r.consumer_id,
                "feederId": r.feeder_id,
                "category": r.category,
                "intervalStart": r.interval_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "energyWh": r.energy_wh,
            }
            for r in self.readings
        ]

    def aggregate(self, dataset: DatasetDecl, k: int) -> dict[str, Any]:
        if dataset.id == "anonymised-load-profiles":
            return anonymised_load_profiles(self.readings, k=k).to_json()
        return feeder_aggregates(self.readings, k=k).to_json()


@dataclass
class AnonymisedView:
    """A C0 dataset derived from personal data: its "records" ARE the k-anonymous release, so even a
    record-level request for the open dataset never reaches a consumer's rows."""

    base: SyntheticConsumerLoad
    k: int = 10

    def records(self, dataset: DatasetDecl) -> list[dict[str, Any]]:
        return list(self.aggregate(dataset, self.k)["rows"])

    def aggregate(self, dataset: DatasetDecl, k: int) -> dict[str, Any]:
        return self.base.aggregate(dataset, max(k, self.k))


def sandbox_sources() -> dict[str, Any]:
    """Sources for the default catalogue's datasets in a sandbox node (synthetic, deterministic)."""
    load = SyntheticConsumerLoad()
    return {
        "meter-data-interval": load,
        "feeder-load-aggregates": AnonymisedView(load),
        "anonymised-load-profiles": AnonymisedView(load),
        "tariff-schedules": StaticSource(
            [{"category": "DOMESTIC", "slab": "0-200", "energyChargePaisePerKwh": 300}]
        ),
        "scada-telemetry": StaticSource(
            [{"feederId": "FDR-001", "breaker": "CLOSED", "loadingPercent": 61, "at": "2026-11-01T18:30:00Z"}]
        ),
        "feeder-loading": StaticSource(
            [{"feederId": "FDR-001", "hour": "2026-11-01T18:00:00Z", "peakKw": 412}]
        ),
    }


@dataclass
class StaticSource:
    """Fixed rows (reference data, telemetry snapshots in the sandbox); aggregated view: the row count
    only, since rows of non-personal data need no cell protection but a summary must not leak them."""

    rows: list[dict[str, Any]]

    def records(self, dataset: DatasetDecl) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def aggregate(self, dataset: DatasetDecl, k: int) -> dict[str, Any]:
        return {"kind": "count", "k": k, "rows": [{"records": len(self.rows)}] if len(self.rows) >= k else []}
