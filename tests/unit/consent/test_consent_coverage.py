"""Does a consent cover a request: each check (1)–(7) with its exact refusal; the policy-layer plug-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from consent_helpers import CONSUMER, METER_1, METER_2, OTHER_METER, PROVIDER, example_artefact
from hypothesis import given, settings
from hypothesis import strategies as st

from ies.consent.artefact import ConsentArtefact
from ies.consent.enforcement import AccessRequest, RequestedReading, check_access
from ies.consent.errors import ArtefactInvalid, ConsentRefused
from ies.consent.gate import ConsentGate, bound_check
from ies.consent.lifecycle import ConsentState
from ies.consent.source import VerifiedConsent
from ies.errors import PolicyError
from ies.identity.keys import SigningKeyPair
from ies.policy.catalogue import default_catalogue
from ies.policy.decision import DecisionPoint
from ies.policy.sources import build_default_bundle
from ies.policy.store import BundleStore
from ies.registry.records import KeyRecord, standing_record

NOW = datetime(2026, 6, 1, tzinfo=UTC)  # inside the example's validity (May–July 2026)


def _artefact(**changes: Any) -> ConsentArtefact:
    doc = example_artefact()
    doc["dataScope"]["resources"] = [METER_1, METER_2]
    for key, value in changes.items():
        doc[key] = value
    return ConsentArtefact.parse(doc)


def _request(**changes: Any) -> AccessRequest:
    base: dict[str, Any] = {
        "requester": CONSUMER,
        "provider": PROVIDER,
        "purpose": "energy-advisory",
        "resources": (METER_1,),
        "readings": (RequestedReading("IntervalProfile", "kWh imp block", "USAGE"),),
        "data_from": datetime(2026, 1, 1, tzinfo=UTC),
        "data_until": datetime(2026, 1, 8, tzinfo=UTC),
    }
    base.update(changes)
    return AccessRequest(**base)


def _refusal(artefact: ConsentArtefact, request: AccessRequest, **kw: Any) -> str | None:
    state = kw.pop("state", ConsentState.ACTIVE)
    try:
        check_access(artefact, state, request, at=kw.pop("at", NOW), **kw)
    except ConsentRefused as err:
        return err.code
    return None


def test_a_covered_request_passes() -> None:
    assert _refusal(_artefact(), _request()) is None
    assert _refusal(_artefact(), _request(resources=(METER_1, METER_2)), recent_accesses=3) is None
    # The register may be named by OBIS code as well as by short label.
    obis = _request(readings=(RequestedReading("IntervalProfile", "1.0.1.29.0.255", "USAGE"),))
    assert _refusal(_artefact(), obis) is None


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (ConsentState.REQUESTED, "POL_CONSENT_NOT_ACTIVE"),
        (ConsentState.REJECTED, "POL_CONSENT_REJECTED"),
        (ConsentState.PAUSED, "POL_CONSENT_PAUSED"),
        (ConsentState.REVOKED, "POL_CONSENT_REVOKED"),
        (ConsentState.EXPIRED, "POL_CONSENT_EXPIRED"),
    ],
)
def test_only_an_active_consent_covers_anything(state: ConsentState, code: str) -> None:
    assert _refusal(_artefact(), _request(), state=state) == code


def test_time() -> None:
    artefact = _artefact()
    assert _refusal(artefact, _request(), at=artefact.valid_until) == "POL_CONSENT_EXPIRED"
    assert (
        _refusal(artefact, _request(), at=artefact.valid_from - timedelta(seconds=1))
        == "POL_CONSENT_NOT_YET_VALID"
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"requester": "lender.example"}, "POL_CONSENT_WRONG_PARTY"),
        ({"provider": "other-discom.example"}, "POL_CONSENT_WRONG_PARTY"),
        ({"purpose": "loan-underwriting"}, "POL_CONSENT_PURPOSE_MISMATCH"),
        ({"resources": (METER_1, OTHER_METER)}, "POL_CONSENT_RESOURCE_NOT_COVERED"),
        (
            {"readings": (RequestedReading("IntervalProfile", "kWh exp block", "USAGE"),)},
            "POL_CONSENT_PROFILE_NOT_COVERED",
        ),
        ({"readings": (RequestedReading("IntervalProfile"),)}, "POL_CONSENT_PROFILE_NOT_COVERED"),
        ({"readings": (RequestedReading("MonthlyProfile"),)}, "POL_CONSENT_PROFILE_NOT_COVERED"),
        (
            {"readings": (RequestedReading("DailyProfile", "kWh imp", "USAGE"),)},
            "POL_CONSENT_PROFILE_NOT_COVERED",
        ),
        (
            {"readings": (RequestedReading("IntervalProfile", "no such register"),)},
            "POL_CONSENT_PROFILE_NOT_COVERED",
        ),
        ({"data_from": datetime(2025, 4, 30, tzinfo=UTC)}, "POL_CONSENT_PERIOD_NOT_COVERED"),
        ({"data_until": datetime(2026, 5, 1, 0, 15, tzinfo=UTC)}, "POL_CONSENT_PERIOD_NOT_COVERED"),
    ],
)
def test_out_of_scope(changes: dict[str, Any], code: str) -> None:
    assert _refusal(_artefact(), _request(**changes)) == code


def test_the_refusal_names_what_is_not_covered() -> None:
    with pytest.raises(ConsentRefused) as err:
        check_access(_artefact(), ConsentState.ACTIVE, _request(resources=(METER_1, OTHER_METER)), at=NOW)
    assert err.value.details == {
        "rule": "consent-scope-resources",
        "consentId": _artefact().id,
        "resource": OTHER_METER,
    }


def test_frequency_and_ownership() -> None:
    artefact = _artefact()  # 4 transfers a day
    assert _refusal(artefact, _request(), recent_accesses=3) is None
    assert _refusal(artefact, _request(), recent_accesses=4) == "POL_CONSENT_FREQUENCY_EXCEEDED"
    assert _refusal(artefact, _request(), recent_accesses=None) is None  # a later page of a counted transfer
    assert _refusal(artefact, _request(), owns=lambda a, m: m != METER_1) == "POL_CONSENT_PRINCIPAL_MISMATCH"


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=-400, max_value=400),
    st.integers(min_value=1, max_value=400),
)
def test_the_period_check_is_exact_to_the_day(start_day: int, days: int) -> None:
    """A request is inside [dataFrom, dataUntil) exactly when its first and last instants are."""
    artefact = _artefact()
    start = artefact.scope.data_from + timedelta(days=start_day)
    end = start + timedelta(days=days)
    inside = start >= artefact.scope.data_from and end <= artefact.scope.data_until
    code = _refusal(artefact, _request(data_from=start, data_until=end))
    assert (code is None) is inside
    assert code in (None, "POL_CONSENT_PERIOD_NOT_COVERED")


def test_a_meter_data_request_becomes_an_access_request() -> None:
    mdr = {
        "from": "2026-01-01T00:00:00Z",
        "duration": "P1M",
        "resources": [METER_1, METER_1, METER_2],
        "capabilitiesRequested": {"profiles": [{"profileType": "IntervalProfile"}]},
    }
    request = AccessRequest.from_meter_data_request(
        mdr, requester=CONSUMER, provider=PROVIDER, purpose="billing"
    )
    assert request.resources == (METER_1, METER_2)
    assert request.data_until == datetime(2026, 2, 1, tzinfo=UTC)
    assert request.readings == (RequestedReading("IntervalProfile"),)
    assert AccessRequest.from_dict(request.to_dict()) == request
    for broken in (
        {**mdr, "resources": []},
        {**mdr, "capabilitiesRequested": {}},
        {**mdr, "duration": "soon"},
    ):
        with pytest.raises(ArtefactInvalid):
            AccessRequest.from_meter_data_request(
                broken, requester=CONSUMER, provider=PROVIDER, purpose="billing"
            )


# -- the policy layer's decision point, with the consent as its consent check ---------------------------
def _record(subscriber: str = CONSUMER, roles: tuple[str, ...] = ("BAP",)) -> KeyRecord:
    return standing_record(subscriber, "k1", SigningKeyPair.generate().public_key_b64, roles=roles)


@pytest.fixture(scope="module")
def point() -> DecisionPoint:
    publisher = SigningKeyPair.from_seed(bytes(range(32)))
    bundles = BundleStore()
    bundles.install(
        build_default_bundle(publisher, publisher="regulator.example", key_id="k1"), [publisher.public_key]
    )
    return DecisionPoint(bundles)


def _verified(state: ConsentState = ConsentState.ACTIVE) -> VerifiedConsent:
    return VerifiedConsent(_artefact(), state, 2, NOW, "cm.example")


def test_the_decision_point_asks_the_bound_consent(point: DecisionPoint) -> None:
    dataset = default_catalogue(PROVIDER).get("meter-data-interval")
    consent = _verified()
    check = bound_check(consent, _request(), at=NOW)
    decision = point.decide(_record(), dataset, "energy-advisory", consent_check=check)
    assert decision.consent is True and decision.effect == "allow"
    paused = bound_check(_verified(ConsentState.PAUSED), _request(), at=NOW)
    with pytest.raises(PolicyError) as err:
        point.decide(_record(), dataset, "energy-advisory", consent_check=paused)
    assert err.value.code == "POL_CONSENT_PAUSED"
    with pytest.raises(PolicyError) as err:
        point.decide(_record("lender.example"), dataset, "energy-advisory", consent_check=check)
    assert err.value.code == "POL_CONSENT_WRONG_PARTY"


def test_the_gate_refuses_unless_a_consent_is_bound(point: DecisionPoint) -> None:
    dataset = default_catalogue(PROVIDER).get("meter-data-interval")
    gate = ConsentGate()
    with pytest.raises(PolicyError) as err:
        point.decide(_record(), dataset, "energy-advisory", consent_check=gate)
    assert err.value.code == "POL_CONSENT_MISSING"
    with gate.bound(_verified(), _request(), at=NOW):
        assert point.decide(_record(), dataset, "energy-advisory", consent_check=gate).consent is True
        with pytest.raises(PolicyError, match="purpose"):
            point.decide(_record(), dataset, "billing", consent_check=gate)
    with pytest.raises(PolicyError):
        point.decide(_record(), dataset, "energy-advisory", consent_check=gate)
