"""Eligibility from an IES `ElectricityCredential` (v1.2) the DISCOM issues to its customer.

The credential carries what the signed onboarding record carries — the customer number, the meter (and
the feeder above it) in `energyResources`, the sanctioned load in `consumptionProfiles`, the PV behind the
meter — as a W3C VC the customer can show to any platform. It is secured with `eddsa-jcs-2022` (RFC 8785
+ Ed25519 with the DISCOM node's registered key, published in its did:web document): the IES v1.2
context pulls remote JSON-LD contexts that an offline verifier cannot expand, and JCS needs none.

Verification (`facts_from_credential`) raises `IneligibleProsumer` with the step that failed:
  (1) `ies.credentials.verify`: format, issuer DID and key, proof purpose, signature, validity window,
      the ElectricityCredential schema (its VC_* code is kept in `details.rule`)
  (2) the issuer is `did:web:<a DISCOM this platform accepts>`, which gives the utility
  (3) the credential names one meter, its sanctioned load and its feeder
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ies.credentials import CredentialInvalid, IssuerKey, ProofFormat, issue, verify
from ies.errors import IESError
from ies.identity.did_web import did_web_for_subscriber
from ies.identity.keys import NodeKeys
from ies.identity.resolver import DIDResolver, Override
from ies.usecases.p2p.onboarding import ConnectionFacts, IneligibleProsumer
from ies.usecases.p2p.timeseries import iso

__all__ = ["electricity_credential", "facts_from_credential"]

EC_CONTEXT = (
    "https://india-energy-stack.github.io/ies-accelerator/schemas/ElectricityCredential/v1.2/context.jsonld"
)
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def _kw(watts: int) -> float:
    return watts / 1000


def electricity_credential(
    facts: ConnectionFacts, *, keys: NodeKeys, discom_name: str, issued_at: datetime | None = None
) -> dict[str, Any]:
    """The DISCOM's credential for one connection, signed with its node key."""
    did = did_web_for_subscriber(facts.issuer)
    meter = f"{did}:assets:meter:{facts.meter_id}"
    resources: list[dict[str, Any]] = [
        {
            "id": meter,
            "type": "METER",
            "parentResources": [facts.feeder_id],
            "attributes": {
                "meterCapability": "AMI",
                "energyDirection": "Bidirectional",
                "serialNumber": facts.meter_id,
            },
        },
    ]
    if facts.solar_w:
        resources.append(
            {
                "id": f"{did}:assets:solar:PV-{facts.meter_id}",
                "type": "SOLAR_PV",
                "parentResources": [meter],
                "attributes": {"maxExport": {"value": _kw(facts.solar_w), "unit": "kW"}},
            }
        )
    issued = (issued_at or datetime.now(UTC)).astimezone(UTC)
    credential = {
        "@context": [VC_CONTEXT, EC_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ElectricityCredential"],
        "issuer": {"id": did, "name": discom_name},
        "validFrom": iso(issued),
        "validUntil": iso(facts.valid_until),
        "credentialSubject": {
            "id": f"{did}:consumers:{facts.customer_id}",
            "customerProfile": {
                "customerNumber": facts.customer_id,
                "energyResources": resources,
                "consumptionProfiles": [
                    {
                        "meterId": meter,
                        "sanctionedLoad": {"value": _kw(facts.sanctioned_load_w), "unit": "kW"},
                        "tariffCategoryCode": "LT-P2P",
                        "premisesType": "Residential",
                        "connectionType": "Single-phase",
                        "serviceStatus": "active",
                    }
                ],
            },
        },
    }
    key = IssuerKey(f"{did}#{keys.key_id}", keys.signing)
    signed = issue(credential, key=key, format=ProofFormat.EDDSA_JCS_2022, created=issued)
    assert isinstance(signed, dict)
    return signed


def _watts(quantity: Any, what: str) -> int:
    if (
        not isinstance(quantity, dict)
        or quantity.get("unit") != "kW"
        or not isinstance(quantity.get("value"), int | float)
    ):
        raise IneligibleProsumer(
            f"the credential's {what} is not a kW quantity", details={"rule": "RECORD_MALFORMED"}
        )
    return round(float(quantity["value"]) * 1000)


def facts_from_credential(
    credential: Any,
    *,
    accepted_issuers: Mapping[str, str],
    documents: Mapping[str, Override],
    now: datetime | None = None,
) -> ConnectionFacts:
    """Verify an ElectricityCredential; `documents` maps issuer DIDs to their node's URL (or document)."""
    try:  # (1)
        verified = verify(credential, resolver=DIDResolver(documents), at=now)
    except CredentialInvalid as err:
        raise IneligibleProsumer(
            f"the ElectricityCredential does not verify: {err.message}", details={"rule": err.code}
        ) from None
    except IESError as err:
        raise IneligibleProsumer(
            f"the ElectricityCredential cannot be checked: {err.message}", details={"rule": err.code}
        ) from None
    utilities = {did_web_for_subscriber(sub): utility for utility, sub in accepted_issuers.items()}
    utility = utilities.get(verified.issuer)  # (2)
    if utility is None:
        raise IneligibleProsumer(
            f"{verified.issuer} is not a DISCOM this platform accepts",
            details={"rule": "ISSUER_NOT_ACCEPTED"},
        )
    profile = verified.credential.get("credentialSubject", {}).get("customerProfile", {})  # (3)
    meters = [
        r for r in profile.get("energyResources") or [] if isinstance(r, dict) and r.get("type") == "METER"
    ]
    loads = [p for p in profile.get("consumptionProfiles") or [] if isinstance(p, dict)]
    if len(meters) != 1 or not loads or not meters[0].get("parentResources"):
        raise IneligibleProsumer(
            "the credential must name one meter, its feeder and its sanctioned load",
            details={"rule": "RECORD_MALFORMED"},
        )
    meter_did = str(meters[0]["id"])
    solar = sum(
        _watts((r.get("attributes") or {}).get("maxExport"), "PV export")
        for r in profile.get("energyResources") or []
        if isinstance(r, dict) and r.get("type") == "SOLAR_PV"
    )
    until = verified.valid_until or (datetime.now(UTC) + timedelta(days=1))
    return ConnectionFacts(
        issuer=accepted_issuers[utility],
        utility_id=utility,
        meter_id=meter_did.rsplit(":", 1)[-1],
        customer_id=str(profile.get("customerNumber", "")),
        sanctioned_load_w=_watts(loads[0].get("sanctionedLoad"), "sanctioned load"),
        solar_w=solar,
        feeder_id=str(meters[0]["parentResources"][0]),
        valid_until=until,
    )
