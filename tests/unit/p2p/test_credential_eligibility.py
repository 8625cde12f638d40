"""Eligibility from an ElectricityCredential issued by the DISCOM (eddsa-jcs-2022, its node key)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ies.identity.did_web import did_web_for_subscriber, node_did_document
from ies.identity.keys import NodeKeys
from ies.usecases.p2p.credential import electricity_credential, facts_from_credential
from ies.usecases.p2p.onboarding import ConnectionFacts, IneligibleProsumer

ISSUER = "discom-n.ies.local"
DID = did_web_for_subscriber(ISSUER)
FACTS = ConnectionFacts(
    ISSUER,
    "NORTH-DL",
    "MTR-7",
    "C-7",
    6000,
    4000,
    f"{DID}:assets:feeder:F2",
    datetime.now(UTC).replace(microsecond=0) + timedelta(days=30),
)
KEYS = NodeKeys.generate(key_id="discom-n-k1")


def check(credential: object, *, issuers: dict[str, str] | None = None) -> ConnectionFacts:
    return facts_from_credential(
        credential,
        accepted_issuers=issuers or {"NORTH-DL": ISSUER},
        documents={DID: node_did_document(DID, KEYS)},
    )


def test_the_credential_carries_the_same_facts_as_the_signed_record() -> None:
    credential = electricity_credential(FACTS, keys=KEYS, discom_name="North")
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert check(credential) == FACTS


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (
            lambda c: c["credentialSubject"]["customerProfile"]["consumptionProfiles"][0][
                "sanctionedLoad"
            ].update(value=60),
            "VC_SIGNATURE_INVALID",
        ),
        (lambda c: c.update(validUntil="2020-01-01T00:00:00Z"), None),
    ],
)
def test_a_tampered_credential_is_refused(mutate: Callable[[dict[str, Any]], None], rule: str | None) -> None:
    credential = copy.deepcopy(electricity_credential(FACTS, keys=KEYS, discom_name="North"))
    mutate(credential)
    with pytest.raises(IneligibleProsumer) as refused:
        check(credential)
    assert refused.value.code == "POL_P2P_INELIGIBLE"
    assert refused.value.details["rule"].startswith("VC_")
    if rule:
        assert refused.value.details["rule"] == rule


def test_a_credential_from_a_discom_the_platform_does_not_accept_is_refused() -> None:
    credential = electricity_credential(FACTS, keys=KEYS, discom_name="North")
    with pytest.raises(IneligibleProsumer) as refused:
        check(credential, issuers={"NORTH-DL": "someone-else.ies.local"})
    assert refused.value.details["rule"] == "ISSUER_NOT_ACCEPTED"
