"""Consent enforcement over real processes: a DISCOM serves meter data only under a live, covering consent.

Network: registry, consent manager (`cm`), DISCOM (`discom`, meter_exchange provider trusting `cm`), the
data consumer `advisor` and another BAP `lender`. Each refusal is checked for its exact POL_CONSENT_* code
on the NACK; the transfer tests check that a revocation stops a paginated transfer at its next page and
that the principal's access list is exactly what was served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from consent_net import (
    ASHA,
    METER_A1,
    METER_A2,
    METER_R1,
    RAVI,
    ConsentNet,
    nack_code,
    network_spec,
    page_of,
)

from ies.consent.signatures import principal_did_of
from ies.sandbox.launcher import start_network, stop_network


@pytest.fixture(scope="module")
def cnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsentNet]:
    os.environ["IES_NODE_REGISTRY_CACHE_TTL_S"] = "0.2"
    state = start_network(network_spec(18700), tmp_path_factory.mktemp("consent-net"))
    try:
        yield ConsentNet(state)
    finally:
        stop_network(state)
        os.environ.pop("IES_NODE_REGISTRY_CACHE_TTL_S", None)


def test_a_covered_request_is_served_minimised_to_the_consented_scope(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    resp = cnet.start(cnet.meter_request(consent, resources=(METER_A1,)))
    page = page_of(resp)
    info = page["pageInfo"]
    assert info["sequence"] == 0 and info["total"] == 96 and info["isLast"] is True
    payload = page["dataPayload"]
    descriptors = payload[0]["payloadDescriptorSets"]
    # Only the consented register, though the meter is a prosumer's with export data too.
    assert [d["readingType"] for s in descriptors for d in s["payloadDescriptors"]] == ["kWh imp block"]
    profiles = payload[1:]
    assert {p["meterRefs"][0]["value"] for p in profiles} == {METER_A1}
    assert all(len(i["payloads"]) == 1 for p in profiles for i in p["intervals"])
    assert profiles[0]["intervalPeriod"]["start"] == "2026-05-02T00:00:00Z"
    assert sum(len(p["intervals"]) for p in profiles) == 96
    contract = resp.json()["callback"]["message"]["contract"]
    assert contract["contractAttributes"]["consentId"] == consent
    assert contract["contractAttributes"]["retention"] == "P30D"


def test_a_request_naming_no_consent_is_refused(cnet: ConsentNet) -> None:
    assert nack_code(cnet.start(cnet.meter_request(None))) == "POL_CONSENT_MISSING"


def test_an_unknown_consent_is_refused(cnet: ConsentNet) -> None:
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert nack_code(cnet.start(cnet.meter_request(unknown))) == "POL_CONSENT_NOT_FOUND"


def test_a_consent_not_yet_approved_is_refused(cnet: ConsentNet) -> None:
    resp = cnet.request_consent(cnet.draft())
    assert resp.status_code == 201 and resp.json()["state"] == "REQUESTED"
    assert nack_code(cnet.start(cnet.meter_request(resp.json()["id"]))) == "POL_CONSENT_NOT_ACTIVE"


def test_out_of_scope_requests_are_refused_with_what_is_not_covered(cnet: ConsentNet) -> None:
    consent = cnet.active_consent(resources=(METER_A1,))
    other_meter = cnet.start(cnet.meter_request(consent, resources=(METER_A1, METER_A2)))
    assert nack_code(other_meter) == "POL_CONSENT_RESOURCE_NOT_COVERED"
    assert other_meter.json()["ack"]["message"]["error"]["details"]["resource"] == METER_A2
    other_dates = cnet.start(cnet.meter_request(consent, start="2026-05-10T00:00:00Z", duration="P2D"))
    assert nack_code(other_dates) == "POL_CONSENT_PERIOD_NOT_COVERED"
    other_purpose = cnet.start(cnet.meter_request(consent), purpose="loan-underwriting")
    assert nack_code(other_purpose) == "POL_CONSENT_PURPOSE_MISMATCH"
    other_register = cnet.start(
        cnet.meter_request(consent, readings=[{"value": "kWh exp block", "mode": "USAGE"}])
    )
    assert nack_code(other_register) == "POL_CONSENT_PROFILE_NOT_COVERED"
    other_requester = cnet.start(cnet.meter_request(consent), consumer="lender")
    assert nack_code(other_requester) == "POL_CONSENT_WRONG_PARTY"
    # Nothing above was served: the consent's first transfer still goes through.
    assert page_of(cnet.start(cnet.meter_request(consent)))["pageInfo"]["total"] == 96


def test_a_meter_that_is_not_the_principals_is_refused(cnet: ConsentNet) -> None:
    consent = cnet.active_consent(resources=(METER_A1, METER_R1))
    refused = cnet.start(cnet.meter_request(consent, resources=(METER_R1,)))
    assert nack_code(refused) == "POL_CONSENT_PRINCIPAL_MISMATCH"


def test_the_frequency_limit_counts_transfers(cnet: ConsentNet) -> None:
    consent = cnet.active_consent(max_accesses=2)
    for _ in range(2):
        assert page_of(cnet.start(cnet.meter_request(consent)))["pageInfo"]["isLast"] is True
    assert nack_code(cnet.start(cnet.meter_request(consent))) == "POL_CONSENT_FREQUENCY_EXCEEDED"


def test_paused_then_resumed_then_revoked(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    assert cnet.act(consent, "pause").json()["state"] == "PAUSED"
    assert nack_code(cnet.start(cnet.meter_request(consent))) == "POL_CONSENT_PAUSED"
    assert cnet.act(consent, "resume").json()["state"] == "ACTIVE"
    assert page_of(cnet.start(cnet.meter_request(consent)))["pageInfo"]["total"] == 96
    assert cnet.act(consent, "revoke", reason="changed my mind").json()["state"] == "REVOKED"
    assert nack_code(cnet.start(cnet.meter_request(consent))) == "POL_CONSENT_REVOKED"


def test_an_expired_consent_is_refused(cnet: ConsentNet) -> None:
    from datetime import timedelta

    consent = cnet.active_consent(valid_for=timedelta(seconds=4))
    assert page_of(cnet.start(cnet.meter_request(consent)))["pageInfo"]["total"] == 96
    time.sleep(4.5)
    assert nack_code(cnet.start(cnet.meter_request(consent))) == "POL_CONSENT_EXPIRED"
    deadline = time.monotonic() + 10  # the manager's sweeper records EXPIRED (every second here)
    while cnet.show(consent).json()["state"] != "EXPIRED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cnet.show(consent).json()["state"] == "EXPIRED"


def test_revoking_mid_transfer_stops_it_at_the_next_page(cnet: ConsentNet) -> None:
    consent = cnet.active_consent(resources=(METER_A1, METER_A2))
    mdr = cnet.meter_request(consent, resources=(METER_A1, METER_A2), duration="P2D", max_records=96)
    first = cnet.start(mdr)
    info = page_of(first)["pageInfo"]
    assert info["totalPages"] == 4 and info["total"] == 384 and info["nextCursor"] == "1"
    collection, txn = info["collectionId"], first.json()["transaction_id"]
    assert page_of(cnet.page(collection, 1, txn=txn))["pageInfo"]["sequence"] == 1
    assert cnet.act(consent, "revoke").json()["state"] == "REVOKED"
    assert nack_code(cnet.page(collection, 2, txn=txn)) == "POL_CONSENT_REVOKED"
    # Stopped for good: a later page is refused as a stopped transfer, even for the same requester.
    assert nack_code(cnet.page(collection, 3, txn=txn)) == "POL_CONSENT_REFUSED"


def test_only_the_requester_continues_a_transfer(cnet: ConsentNet) -> None:
    consent = cnet.active_consent()
    info = page_of(cnet.start(cnet.meter_request(consent, duration="P2D", max_records=96)))["pageInfo"]
    assert nack_code(cnet.page(info["collectionId"], 1, consumer="lender")) == "POL_CONSENT_WRONG_PARTY"


def test_the_principals_access_list_is_exact(cnet: ConsentNet) -> None:
    ravi = {"consumerNumber": "CN-2002", "id": principal_did_of(RAVI)}
    consent = cnet.active_consent(key=RAVI, principal=ravi, resources=(METER_R1,))
    served: list[tuple[str, int, int]] = []
    first = cnet.start(cnet.meter_request(consent, resources=(METER_R1,), duration="P3D", max_records=80))
    info = page_of(first)["pageInfo"]
    assert info["totalPages"] == 4 and info["total"] == 288
    served.append((info["collectionId"], 0, 80))
    for k in (1, 2, 3):
        more = page_of(cnet.page(info["collectionId"], k, txn=first.json()["transaction_id"]))["pageInfo"]
        served.append((info["collectionId"], k, 80 if k < 3 else 48))
        assert more["sequence"] == k and more["isLast"] is (k == 3)
    listed = cnet.accesses("CN-2002", RAVI)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["accesses"]
    assert [(r["transferId"], r["page"], r["records"]) for r in rows] == served
    assert {r["requester"] for r in rows} == {cnet.sub("advisor")}
    assert {r["purpose"] for r in rows} == {"energy-advisory"}
    assert {tuple(r["resources"]) for r in rows} == {(METER_R1,)}
    assert rows[0]["dataFrom"] == "2026-05-02T00:00:00Z" and rows[-1]["dataUntil"] == "2026-05-05T00:00:00Z"
    # Another principal sees none of it, and cannot ask for CN-2002's list.
    assert cnet.accesses("CN-2002", ASHA).status_code == 403
