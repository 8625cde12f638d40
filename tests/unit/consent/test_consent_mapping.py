"""Mapping between the consent artefact and IES: MeterDataAuthorisation, MeterDataRequest, the request VC."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from consent_helpers import CONSUMER, MANAGER, MANAGER_KEY, PROVIDER, example_artefact

from ies.consent.artefact import ConsentArtefact
from ies.consent.errors import ArtefactInvalid
from ies.consent.mapping import (
    from_authorisation,
    request_of_credential,
    to_authorisation,
    to_meter_data_request,
    to_request_credential,
)
from ies.consent.store import new_artefact
from ies.credentials import CredentialInvalid, IssuerKey
from ies.errors import SchemaValidationFailed
from ies.identity.resolver import DIDResolver
from ies.schemas import DATA_ROOT, validate

AUTH_EXAMPLE = DATA_ROOT / "schemas/MeterDataRequest/v0.6/examples/Authorisation_Example.json"


def _artefact() -> ConsentArtefact:
    return ConsentArtefact.parse(example_artefact())


def test_to_authorisation_is_a_valid_ies_document() -> None:
    auth = to_authorisation(_artefact())
    assert validate(auth).valid
    assert auth["grantor"] == _artefact().principal_did
    assert auth["grantee"] == f"did:web:{CONSUMER}"
    assert auth["purpose"] == "Energy efficiency advisory"
    assert auth["capabilities"]["profiles"] == example_artefact()["dataScope"]["profiles"]


def test_a_principal_without_did_is_named_by_the_ies_consumer_identifier() -> None:
    doc = example_artefact()
    doc["dataPrincipal"] = {"consumerNumber": "CN/10.01"}
    auth = to_authorisation(ConsentArtefact.parse(doc))
    assert auth["grantor"] == f"did:web:{PROVIDER}:consumers:CN%2F10.01"


def test_round_trip_through_the_authorisation() -> None:
    artefact = _artefact()
    draft = from_authorisation(
        to_authorisation(artefact),
        provider_id=PROVIDER,
        consumer_id=CONSUMER,
        resources=list(artefact.scope.resources),
        data_from=artefact.scope.data_from,
        data_until=artefact.scope.data_until,
        max_accesses=artefact.max_accesses,
        period=artefact.doc["frequency"]["period"],
        retention=artefact.doc["retention"],
        consumer_number=artefact.principal_number,
    )
    again = new_artefact(draft, manager_id=MANAGER, now=datetime.now(UTC))
    for field in ("dataPrincipal", "dataScope", "frequency", "validFrom", "validUntil", "retention"):
        assert again.doc[field] == artefact.doc[field], field
    assert again.doc["dataConsumer"]["id"] == CONSUMER and again.purpose.code == artefact.purpose.code


def test_the_published_ies_authorisation_maps_in_through_the_purpose_catalogue() -> None:
    auth = json.loads(AUTH_EXAMPLE.read_text("utf-8"))
    consumer = auth["grantee"].removeprefix("did:web:")
    with pytest.raises(ArtefactInvalid, match="give the consumer number"):
        from_authorisation(
            auth,
            provider_id=PROVIDER,
            consumer_id=consumer,
            resources=["did:web:ies.discom.example:meter:IN-MH-MTR-89721"],
            data_from=datetime(2026, 5, 1, tzinfo=UTC),
            data_until=datetime(2026, 6, 1, tzinfo=UTC),
            max_accesses=1,
            period="P1D",
            retention="P1Y",
        )
    draft = from_authorisation(
        auth,
        provider_id=PROVIDER,
        consumer_id=consumer,
        resources=["did:web:ies.discom.example:meter:IN-MH-MTR-89721"],
        data_from=datetime(2026, 5, 1, tzinfo=UTC),
        data_until=datetime(2026, 6, 1, tzinfo=UTC),
        max_accesses=1,
        period="P1D",
        retention="P1Y",
        consumer_number="IN-MH-CUST-80",
    )
    artefact = new_artefact(draft, manager_id=MANAGER, now=datetime.now(UTC))
    assert artefact.purpose.code == "research-anonymised"  # "ESG Carbon Accounting & Trend Analysis"
    assert artefact.doc["purpose"]["text"] == auth["purpose"]


def test_unmappable_authorisations_are_refused() -> None:
    auth = to_authorisation(_artefact())
    kw = dict(
        provider_id=PROVIDER,
        consumer_id=CONSUMER,
        resources=["m"],
        data_from=datetime(2026, 1, 1, tzinfo=UTC),
        data_until=datetime(2026, 2, 1, tzinfo=UTC),
        max_accesses=1,
        period="P1D",
        retention="P30D",
    )
    with pytest.raises(ArtefactInvalid, match="grantee"):
        from_authorisation(auth, **{**kw, "consumer_id": "someone-else.example"})  # type: ignore[arg-type]
    unknown = {**auth, "purpose": "Selling to advertisers"}
    with pytest.raises(ArtefactInvalid, match="matches no catalogued purpose"):
        from_authorisation(unknown, **kw)  # type: ignore[arg-type]
    broken = copy.deepcopy(auth)
    del broken["capabilities"]
    with pytest.raises(SchemaValidationFailed):
        from_authorisation(broken, **kw)  # type: ignore[arg-type]


def test_the_meter_data_request_names_the_consent_and_is_valid() -> None:
    artefact = _artefact()
    mdr = to_meter_data_request(artefact, max_records=96)
    assert validate(mdr).valid
    assert mdr["consumerConsent"] == [artefact.id] and mdr["authorisation"] == artefact.id
    assert mdr["from"] == "2025-05-01T00:00:00Z" and mdr["duration"] == "P365D"
    part = to_meter_data_request(
        artefact,
        data_from=datetime(2025, 6, 1, tzinfo=UTC),
        data_until=datetime(2025, 6, 1, 6, 30, tzinfo=UTC),
    )
    assert part["duration"] == "PT6H30M"


def test_the_request_credential_round_trips_and_fails_when_tampered() -> None:
    issuer = IssuerKey.did_key(MANAGER_KEY)
    did = issuer.verification_method.split("#")[0]
    vc = to_request_credential(
        _artefact(),
        key=issuer,
        issuer={"id": did, "name": "Sandbox CM", "licenseNumber": "CM-1"},
        created=datetime(2026, 5, 1, tzinfo=UTC),
    )
    assert isinstance(vc, dict) and vc["type"] == ["VerifiableCredential", "MeterDataRequestCredential"]
    assert vc["validUntil"] == _artefact().doc["validUntil"]
    at = datetime(2026, 6, 1, tzinfo=UTC)
    request = request_of_credential(vc, resolver=DIDResolver(), at=at)
    assert request["consumerConsent"] == [_artefact().id]
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["meterDataRequest"]["resources"].append("did:web:x:assets:meter:EXTRA")
    with pytest.raises(CredentialInvalid):
        request_of_credential(tampered, resolver=DIDResolver(), at=at)
    with pytest.raises(CredentialInvalid):
        request_of_credential(vc, resolver=DIDResolver(), at=datetime(2026, 9, 1, tzinfo=UTC))  # consent over
