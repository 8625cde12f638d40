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
            or [
                {"profileType": "IntervalProfile", "readings": [{"value": "kWh imp block", "mode": "USAGE"}]}
            ],
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


EXAMPLE_ID = "urn:uuid:6f1c2b9e-4d3a-4e8f-9b71-2c5d8e0a1f34"
EXAMPLE_CREATED = "2026-04-28T09:30:00Z"


def example_draft() -> dict[str, Any]:
    """The request a data consumer sends (published as schema/examples/consent-request.json)."""
    return {
        "dataPrincipal": {"consumerNumber": "CN-1001", "id": PRINCIPAL_DID},
        "dataProvider": {"id": PROVIDER, "name": "Sandbox DISCOM"},
        "dataConsumer": {"id": CONSUMER, "name": "Sandbox energy advisor"},
        "purpose": {
            "code": "energy-advisory",
            "text": "Advice on rooftop solar sizing from your load profile",
        },
        "dataScope": {
            "resources": [METER_1],
            "profiles": [
                {"profileType": "IntervalProfile", "readings": [{"value": "kWh imp block", "mode": "USAGE"}]},
                {"profileType": "DailyProfile", "readings": [{"value": "kWh imp", "mode": "READING"}]},
            ],
            "dataFrom": "2025-05-01T00:00:00Z",
            "dataUntil": "2026-05-01T00:00:00Z",
        },
        "frequency": {"maxAccesses": 4, "period": "P1D"},
        "validFrom": "2026-05-01T00:00:00Z",
        "validUntil": "2026-08-01T00:00:00Z",
        "retention": "P90D",
    }


def example_artefact() -> dict[str, Any]:
    """The artefact the manager assigned for `example_draft` (unsigned)."""
    return {
        "type": "ConsentArtefact",
        "specVersion": "1.0",
        **example_draft(),
        "purpose": {**example_draft()["purpose"], "catalogue": "ies-consent-purposes/1.0"},
        "id": EXAMPLE_ID,
        "consentManager": MANAGER,
        "createdAt": EXAMPLE_CREATED,
    }


def example_documents() -> dict[str, Any]:
    """Every published example, rebuilt from fixed keys and times (the files must equal these)."""
    from ies.consent.artefact import ConsentArtefact
    from ies.consent.signatures import attest_as_portal, sign_as_principal

    created = datetime(2026, 4, 28, 10, 0, tzinfo=UTC)
    artefact = ConsentArtefact.parse(example_artefact())
    principal_signed = artefact.with_signature(sign_as_principal(artefact, PRINCIPAL_KEY, created=created))
    portal_doc = {**example_artefact()}
    portal_doc["dataPrincipal"] = {"consumerNumber": "CN-1001"}
    portal = ConsentArtefact.parse(portal_doc)
    evidence = {
        "method": "OTP",
        "channel": "SMS",
        "verifiedAt": "2026-04-28T09:58:41Z",
        "reference": "portal-session-5521/otp-88213",
        "identityDigest": hashlib.sha256(b"+91-98xxxxxx10").hexdigest(),
    }
    attested = portal.with_signature(
        attest_as_portal(
            portal, PROVIDER_KEY, provider_id=PROVIDER, key_id="discom-k1", evidence=evidence, created=created
        )
    )
    return {
        "example-public-keys.json": {
            "principalDid": PRINCIPAL_DID,
            "provider": {
                "subscriberId": PROVIDER,
                "keyId": "discom-k1",
                "publicKeyB64": PROVIDER_KEY.public_key_b64,
            },
            "manager": {
                "subscriberId": MANAGER,
                "keyId": "cm-k1",
                "publicKeyB64": MANAGER_KEY.public_key_b64,
            },
        },
        "consent-request.json": example_draft(),
        "consent-artefact-principal-signed.json": principal_signed.to_dict(),
        "consent-artefact-portal-attested.json": attested.to_dict(),
    }
