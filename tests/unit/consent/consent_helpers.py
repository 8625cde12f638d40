"""Builders shared by the consent tests: keys from fixed seeds, a draft consent request, a store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from ies.consent.signatures import principal_did_of
from ies.consent.store import ConsentStore, ManagerIdentity
from ies.identity.keys import SigningKeyPair

PROVIDER = "discom.sandbox.ies"
CONSUMER = "advisor.sandbox.ies"
MANAGER = "cm.sandbox.ies"
METER_1 = "did:web:discom.sandbox.ies:assets:meter:MTR-0001"
METER_2 = "did:web:discom.sandbox.ies:assets:meter:MTR-0002"
OTHER_METER = "did:web:discom.sandbox.ies:assets:meter:MTR-9999"


def key(label: str) -> SigningKeyPair:
    """A deterministic Ed25519 key (published examples and vectors use these seeds)."""
    return SigningKeyPair.from_seed(hashlib.sha256(f"ies consent example {label}".encode()).digest())


PRINCIPAL_KEY = key("principal")
PROVIDER_KEY = key("provider")
MANAGER_KEY = key("manager")
PRINCIPAL_DID = principal_did_of(PRINCIPAL_KEY)


def manager() -> ManagerIdentity:
    return ManagerIdentity(MANAGER, "cm-k1", MANAGER_KEY)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def draft(
    *,
    now: datetime | None = None,
    purpose: str = "energy-advisory",
    resources: tuple[str, ...] = (METER_1, METER_2),
    profiles: list[dict[str, Any]] | None = None,
    valid_days: int = 30,
    max_accesses: int = 5,
    period: str = "P1D",
    retention: str = "P30D",
    principal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC).replace(microsecond=0)
    return {
        "dataPrincipal": principal or {"consumerNumber": "CN-1001", "id": PRINCIPAL_DID},
        "dataProvider": {"id": PROVIDER},
        "dataConsumer": {"id": CONSUMER, "name": "Sandbox energy advisor"},
        "purpose": {"code": purpose},
        "dataScope": {
            "resources": list(resources),
            "profiles": profiles
            or [{"profileType": "IntervalProfile", "readings": [{"value": "kWh imp block", "mode": "USAGE"}]}],
            "dataFrom": "2026-05-01T00:00:00Z",
            "dataUntil": "2026-06-01T00:00:00Z",
        },
        "frequency": {"maxAccesses": max_accesses, "period": period},
        "validFrom": iso(now - timedelta(minutes=1)),
        "validUntil": iso(now + timedelta(days=valid_days)),
        "retention": retention,
    }


class Clock:
    """A settable clock for stores (aware UTC)."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def store(engine: Engine, clock: Clock | None = None) -> ConsentStore:
    return ConsentStore(engine, manager(), clock=clock or Clock())
