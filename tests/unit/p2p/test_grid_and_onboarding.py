"""Pre-trade feasibility on a feeder model (envelope screen, then pandapower) and DISCOM-signed records."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from ies.identity.keys import SigningKeyPair
from ies.usecases.p2p.grid import GridView, Infeasible, ScheduledLeg
from ies.usecases.p2p.market import DistributionTransformer, FeederModel, GridLimits, ServicePointModel
from ies.usecases.p2p.onboarding import ConnectionFacts, IneligibleProsumer, sign_record, verify_record


def feeder(name: str, kva: int, points: int) -> FeederModel:
    dts = (DistributionTransformer(f"{name}-DT1", kva, 0.5),)
    sps = tuple(ServicePointModel(f"{name}-SP{i}", f"{name}-DT1", 5000) for i in range(points))
    return FeederModel(feeder_id=name, substation_id="SS1", transformers=dts, service_points=sps)


@pytest.fixture(scope="module")
def grid() -> GridView:
    feeders = {"F1": feeder("F1", 250, 4), "F2": feeder("F2", 10, 2)}
    meters = {
        f"M-{sp.service_point_id}": (f.feeder_id, sp.service_point_id)
        for f in feeders.values()
        for sp in f.service_points
    }
    view = GridView(feeders, meters, GridLimits())
    view.prove_envelopes()
    return view


def test_envelopes_are_proven_per_feeder(grid: GridView) -> None:
    assert set(grid.envelope_w) == {f"F1-SP{i}" for i in range(4)} | {"F2-SP0", "F2-SP1"}
    assert grid.envelope_w["F1-SP0"] > grid.envelope_w["F2-SP0"] > 0


def test_a_small_trade_inside_the_envelope_needs_no_power_flow(grid: GridView) -> None:
    before = grid.power_flows
    legs = [ScheduledLeg("t1", 100, 500, "M-F1-SP0", "M-F2-SP1")]  # 2 kW from F1 to a buyer on F2
    grid.check(legs, "t1")
    assert grid.power_flows == before


def test_an_injection_above_the_transformer_rating_is_refused_with_the_breach(grid: GridView) -> None:
    legs = [ScheduledLeg("ok", 100, 300, "M-F2-SP0", None), ScheduledLeg("big", 100, 5000, "M-F2-SP1", None)]
    with pytest.raises(Infeasible) as refused:
        grid.check(legs, "big")  # 20 kW through a 10 kVA transformer
    assert refused.value.code == "POL_P2P_FEEDER_INFEASIBLE"
    assert "thermal" in refused.value.message and refused.value.details["block"] == 100
    grid.check(legs[:1], "ok")  # the earlier, small trade stays feasible on its own


FACTS = ConnectionFacts(
    "discom-n.ies.local",
    "NORTH-DL",
    "MTR-1",
    "C-1",
    5000,
    3000,
    "did:web:discom-n.ies.local:assets:feeder:F1",
    datetime.now(UTC) + timedelta(days=30),
)


def test_a_signed_record_verifies_and_carries_the_connection() -> None:
    key = SigningKeyPair.generate()
    record = sign_record(FACTS, key=key, key_id="k1")
    facts = verify_record(
        record, accepted_issuers={"NORTH-DL": FACTS.issuer}, issuer_keys={"k1": key.public_key_b64}
    )
    assert facts == FACTS.__class__(**{**FACTS.__dict__, "valid_until": facts.valid_until})
    assert facts.sanctioned_load_w == 5000 and facts.solar_w == 3000


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda r: r.update(sanctionedLoadW=50_000), "SIGNATURE_INVALID"),
        (lambda r: r.update(utilityId="SOUTH-DL"), "ISSUER_NOT_ACCEPTED"),
        (lambda r: r["proof"].update(keyId="discom-n.ies.local|k9|ed25519"), "KEY_UNKNOWN"),
        (lambda r: r.pop("proof"), "RECORD_UNSIGNED"),
        (lambda r: r.pop("meterId"), "RECORD_MALFORMED"),
    ],
)
def test_every_tampered_or_foreign_record_is_refused_with_its_step(mutate: object, rule: str) -> None:
    key = SigningKeyPair.generate()
    record = copy.deepcopy(sign_record(FACTS, key=key, key_id="k1"))
    mutate(record)  # type: ignore[operator]
    with pytest.raises(IneligibleProsumer) as refused:
        verify_record(
            record, accepted_issuers={"NORTH-DL": FACTS.issuer}, issuer_keys={"k1": key.public_key_b64}
        )
    assert refused.value.details["rule"] == rule and refused.value.code == "POL_P2P_INELIGIBLE"


def test_an_expired_record_is_refused() -> None:
    key = SigningKeyPair.generate()
    record = sign_record(FACTS, key=key, key_id="k1")
    with pytest.raises(IneligibleProsumer) as refused:
        verify_record(
            record,
            accepted_issuers={"NORTH-DL": FACTS.issuer},
            issuer_keys={"k1": key.public_key_b64},
            now=datetime.now(UTC) + timedelta(days=60),
        )
    assert refused.value.details["rule"] == "RECORD_EXPIRED"
