"""The access decision point: entitlement AND consent AND IT/OT, refusals raised, every decision audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import derived_bundle, researchers_lose_consumer_data
from sqlalchemy import Engine, select

from ies.audit import verify_log
from ies.audit.tables import AuditEntryRow
from ies.errors import PolicyError
from ies.identity.keys import SigningKeyPair
from ies.policy.catalogue import DatasetDecl, default_catalogue
from ies.policy.decision import DecisionAudit, DecisionPoint, RegistryRoleCredential
from ies.policy.errors import (
    AggregatedOnly,
    ConsentRequired,
    EntitlementDenied,
    OtCredentialRequired,
    OtTradingPlatform,
    OtWrongEndpoint,
    PurposeNotPermitted,
)
from ies.policy.store import BundleStore
from ies.store import session_factory

CATALOGUE = default_catalogue("discom.example")
METER = CATALOGUE.get("meter-data-interval")  # Consumer, C2, personal
SCADA = CATALOGUE.get("scada-telemetry")  # Operational, C3
TARIFFS = CATALOGUE.get("tariff-schedules")  # Market, C0


def _audit(engine: Engine) -> list[dict[str, Any]]:
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.kind == "policy.decision").order_by(AuditEntryRow.seq)
        ).all()
        return [{"actor": r.actor, "subject": r.subject, **json.loads(r.payload)} for r in rows]


@pytest.fixture
def point(store: BundleStore) -> DecisionPoint:
    return DecisionPoint(store)


class TestEntitlements:
    def test_researcher_gets_aggregated_only(self, point: DecisionPoint, record: Any) -> None:
        researcher = record("uni.example", ("RESEARCHER",))
        decision = point.decide(researcher, METER, "research", granularity="aggregate")
        assert decision.effect == "allow_aggregated" and decision.aggregated_only
        assert decision.rule == "researcher-aggregated" and decision.min_k == 10
        with pytest.raises(AggregatedOnly) as info:
            point.decide(researcher, METER, "research", granularity="record")
        assert info.value.details["rule"] == "researcher-aggregated"
        assert info.value.code == "POL_AGGREGATED_ONLY"

    def test_market_participant_is_refused_critical_operational_data(
        self, point: DecisionPoint, record: Any
    ) -> None:
        for roles in (("AGGREGATOR",), ("BAP",), ("BPP", "AGGREGATOR")):
            with pytest.raises(EntitlementDenied) as info:
                point.decide(record("agg.example", roles), SCADA, "market_operations", operational=True)
            assert info.value.details["rule"] == "critical-operational-restricted"

    def test_critical_operational_needs_the_ot_endpoint_and_a_certified_interface(
        self, point: DecisionPoint, record: Any
    ) -> None:
        sldc = record("sldc.example", ("SYSTEM_OPERATOR",))
        with pytest.raises(OtWrongEndpoint):
            point.decide(sldc, SCADA, "grid_operations")
        with pytest.raises(OtCredentialRequired):
            point.decide(sldc, SCADA, "grid_operations", operational=True)
        certified = record("sldc.example", ("SYSTEM_OPERATOR", "CERTIFIED_OT"))
        assert point.decide(certified, SCADA, "grid_operations", operational=True).effect == "allow"
        platform = record("p2p.example", ("BPP", "SYSTEM_OPERATOR", "CERTIFIED_OT"))
        with pytest.raises(OtTradingPlatform):
            point.decide(platform, SCADA, "grid_operations", operational=True)

    def test_open_data_for_every_registered_participant(self, point: DecisionPoint, record: Any) -> None:
        for roles in (("BAP",), ("RESEARCHER",), ("CDS",)):
            assert point.decide(record("x.example", roles), TARIFFS, "anything").rule == "open-data-c0"

    def test_purpose_outside_the_entitlement_is_refused(self, point: DecisionPoint, record: Any) -> None:
        with pytest.raises(PurposeNotPermitted) as info:
            point.decide(
                record("cerc.example", ("REGULATOR",)), METER, "advertising", granularity="aggregate"
            )
        assert info.value.details["rule"] == "regulator-oversight"

    def test_suspended_or_revoked_requester_gets_nothing(self, point: DecisionPoint, record: Any) -> None:
        for rec in (
            record("cerc.example", ("REGULATOR",), status="SUSPENDED"),
            record("cerc.example", ("REGULATOR",), key_status="REVOKED"),
        ):
            with pytest.raises(EntitlementDenied) as info:
                point.decide(rec, TARIFFS, "transparency")
            assert info.value.details["rule"] == "requester-not-active"

    def test_custodian_reaches_its_own_data_without_consent(self, point: DecisionPoint, record: Any) -> None:
        own = record("discom.example", ("BPP",))
        decision = point.decide(own, METER, "billing_settlement")
        assert decision.rule == "custodian" and decision.consent is None


class TestConsent:
    def test_personal_records_without_a_consent_layer_are_refused(
        self, point: DecisionPoint, record: Any
    ) -> None:
        with pytest.raises(ConsentRequired) as info:
            point.decide(record("app.example", ("BAP",)), METER, "service_delivery")
        assert info.value.details["rule"] == "consent-required"

    def test_consent_checker_decides_and_is_asked_the_right_question(
        self, point: DecisionPoint, record: Any
    ) -> None:
        asked: list[tuple[str, str, str]] = []

        def consent(requester: Any, dataset: DatasetDecl, purpose: str) -> bool:
            asked.append((requester.subscriber_id, dataset.id, purpose))
            return requester.subscriber_id == "consented.example"

        ok = point.decide(
            record("consented.example", ("BAP",)), METER, "service_delivery", consent_check=consent
        )
        assert ok.consent is True and ok.effect == "allow"
        with pytest.raises(ConsentRequired):
            point.decide(record("other.example", ("BAP",)), METER, "service_delivery", consent_check=consent)
        assert asked == [
            ("consented.example", "meter-data-interval", "service_delivery"),
            ("other.example", "meter-data-interval", "service_delivery"),
        ]

    def test_consent_layer_refusal_keeps_its_code(self, point: DecisionPoint, record: Any) -> None:
        def consent(requester: Any, dataset: DatasetDecl, purpose: str) -> bool:
            raise PolicyError(
                "consent expired", code="POL_CONSENT_EXPIRED", details={"rule": "consent-expiry"}
            )

        with pytest.raises(PolicyError) as info:
            point.decide(record("app.example", ("BAP",)), METER, "service_delivery", consent_check=consent)
        assert info.value.code == "POL_CONSENT_EXPIRED"
        assert info.value.details["rule"] == "consent-expiry"

    def test_aggregates_of_personal_data_need_no_consent(self, point: DecisionPoint, record: Any) -> None:
        decision = point.decide(
            record("app.example", ("BAP",)), METER, "service_delivery", granularity="aggregate"
        )
        assert decision.consent is None and decision.aggregated_only


class TestAuditAndVersions:
    def test_every_decision_is_audited_with_its_bundle(
        self, engine: Engine, store: BundleStore, record: Any
    ) -> None:
        point = DecisionPoint(store, audit=DecisionAudit(engine))
        point.decide(record("uni.example", ("RESEARCHER",)), METER, "research", granularity="aggregate")
        with pytest.raises(AggregatedOnly):
            point.decide(record("uni.example", ("RESEARCHER",)), METER, "research")
        lines = _audit(engine)
        ref = store.latest("ies-entitlements").ref.to_dict()
        assert [(line["effect"], line["rule"]) for line in lines] == [
            ("allow_aggregated", "researcher-aggregated"),
            ("deny", "researcher-aggregated"),
        ]
        assert all(line["bundle"] == ref and line["actor"] == "uni.example" for line in lines)
        assert lines[1]["code"] == "POL_AGGREGATED_ONLY"
        assert verify_log(engine).ok

    def test_allow_joins_the_callers_transaction(
        self, engine: Engine, store: BundleStore, record: Any
    ) -> None:
        point = DecisionPoint(store, audit=DecisionAudit(engine))
        with session_factory(engine)() as session:
            point.decide(record("x.example", ("BAP",)), TARIFFS, "transparency", session=session)
            session.rollback()  # the caller's action failed: its decision line goes with it
        assert _audit(engine) == []

    def test_a_new_version_changes_decisions_and_a_pin_keeps_the_old(
        self, engine: Engine, store: BundleStore, record: Any, tmp_path: Path, publisher_key: SigningKeyPair
    ) -> None:
        point = DecisionPoint(store, audit=DecisionAudit(engine))
        researcher = record("uni.example", ("RESEARCHER",))
        before = point.decide(researcher, METER, "research", granularity="aggregate")
        store.install(
            derived_bundle(
                tmp_path, publisher_key, version="1.1.0", revision=2, edit=researchers_lose_consumer_data
            ),
            [publisher_key.public_key],
        )
        with pytest.raises(EntitlementDenied) as info:
            point.decide(researcher, METER, "research", granularity="aggregate")
        assert info.value.details["bundle"]["version"] == "1.1.0"
        pinned = point.decide(researcher, METER, "research", granularity="aggregate", bundle=before.bundle)
        assert pinned.bundle == before.bundle
        assert [line["bundle"]["version"] for line in _audit(engine)] == ["1.0.0", "1.1.0", "1.0.0"]

    def test_metrics_hear_every_outcome(self, store: BundleStore, record: Any) -> None:
        heard: list[tuple[str, str | None]] = []
        point = DecisionPoint(store, on_decision=lambda outcome, code: heard.append((outcome, code)))
        point.decide(record("x.example", ("BAP",)), TARIFFS, "transparency")
        with pytest.raises(ConsentRequired):
            point.decide(record("x.example", ("BAP",)), METER, "service_delivery")
        assert heard == [("allow", None), ("deny", "POL_CONSENT_REQUIRED")]


class TestCommands:
    def test_trading_platform_command_refused_certified_operator_accepted(
        self, point: DecisionPoint, record: Any
    ) -> None:
        with pytest.raises(OtTradingPlatform):
            point.decide_command(record("p2p.example", ("BAP", "CERTIFIED_OT")), "DISPATCH", operational=True)
        ok = point.decide_command(
            record("sldc.example", ("SYSTEM_OPERATOR", "CERTIFIED_OT")), "DISPATCH", operational=True
        )
        assert ok.rule == "itot-certified-interface" and ok.subject == "command:DISPATCH"

    def test_credential_check_is_pluggable(self, store: BundleStore, record: Any) -> None:
        vc_holders = {"sldc.example"}
        point = DecisionPoint(store, credential=lambda rec: rec.subscriber_id in vc_holders)
        assert point.decide_command(
            record("sldc.example", ("SYSTEM_OPERATOR",)), "CURTAILMENT", operational=True
        )
        with pytest.raises(OtCredentialRequired):
            point.decide_command(
                record("other.example", ("SYSTEM_OPERATOR", "CERTIFIED_OT")), "CURTAILMENT", operational=True
            )
        assert RegistryRoleCredential()(record("a", ("CERTIFIED_OT",)))
