"""The policy on the wire, in process: real signatures, the real ExchangeRouter pipeline and message log.

Refusals come back as NACKs with the POL_* code and the refusing rule; allowed requests are answered
with exactly what the decision permits; operational commands only on the OT router, only from certified
non-trading participants; metrics count all of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from policy_helpers import Participants, command, data_request
from sqlalchemy import Engine, select

from ies.audit import append_many
from ies.audit.tables import AuditEntryRow
from ies.exchange.inbound import ExchangeRouter, InboundMessage, Reply
from ies.exchange.messagelog import MessageLog
from ies.exchange.verify import Verifier
from ies.policy.catalogue import default_catalogue
from ies.policy.decision import DecisionAudit, DecisionPoint
from ies.policy.metrics import NodeMetrics, instrument_router
from ies.policy.operational import find_commands, operational_exchange
from ies.policy.serving import install_data_serving, policy_hook
from ies.policy.sources import sandbox_sources
from ies.policy.store import BundleStore
from ies.store import session_factory

CATALOGUE = default_catalogue("discom.example")


class Node:
    """A data custodian's routers, wired as `ies.policy.install` wires them."""

    def __init__(self, engine: Engine, store: BundleStore, people: Participants):
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.metrics = NodeMetrics()
        self.point = DecisionPoint(
            store, audit=DecisionAudit(engine), on_decision=self.metrics.observe_decision
        )

        async def send_callback(msg: InboundMessage, action: str, answer: dict[str, Any]) -> None:
            self.answers.append((action, answer))

        self.router = ExchangeRouter(
            subscriber_id="discom.example",
            verifier=Verifier(people.key_source),
            log=MessageLog(engine, append_many),
            send_callback=send_callback,
            policy=policy_hook(self.point, CATALOGUE),
        )

        @self.router.on("select")
        async def trade(msg: InboundMessage) -> dict[str, Any]:
            return {"contract": {"status": "DRAFT", "trade": True}}

        install_data_serving(self.router, self.point, CATALOGUE, sandbox_sources())
        self.ot = operational_exchange(
            self.router, self.point, CATALOGUE, engine=engine, sources=sandbox_sources()
        )
        instrument_router(self.router, self.metrics)
        instrument_router(self.ot, self.metrics)

    def send(
        self, people: Participants, sender: str, action: str, message: dict[str, Any], *, ot: bool = False
    ) -> tuple[Reply, list[tuple[str, dict[str, Any]]]]:
        router = self.ot if ot else self.router
        header, raw = people.request(sender, action, message)

        async def go() -> Reply:
            reply = await router.receive(action, header, raw)
            await router.drain()
            return reply

        before = len(self.answers)
        reply = asyncio.run(go())
        return reply, self.answers[before:]


@pytest.fixture
def people() -> Participants:
    p = Participants()
    p.add("uni.example", "RESEARCHER")
    p.add("p2p.example", "BAP")
    p.add("agg.example", "AGGREGATOR")
    p.add("cerc.example", "REGULATOR")
    p.add("sldc.example", "SYSTEM_OPERATOR", "CERTIFIED_OT")
    p.add("sldc-uncertified.example", "SYSTEM_OPERATOR")
    p.add("platform-certified.example", "BPP", "CERTIFIED_OT")
    return p


@pytest.fixture
def node(people: Participants, store: BundleStore, tmp_path: Any) -> Iterator[Node]:
    from ies.store import migrate, open_engine, sqlite_url_for

    engine = open_engine(sqlite_url_for(tmp_path / "node.db"))
    migrate(engine)
    yield Node(engine, store, people)
    engine.dispose()


def _nack(reply: Reply) -> dict[str, Any]:
    assert reply.status == 403, reply.body
    assert reply.body["message"]["status"] == "NACK"
    return dict(reply.body["message"]["error"])


def _kinds(node: Node) -> list[str]:
    engine = node.router.log.engine
    with session_factory(engine)() as session:
        return list(session.scalars(select(AuditEntryRow.kind).order_by(AuditEntryRow.seq)))


class TestInformationalEndpoint:
    def test_researcher_gets_aggregates_and_never_an_identity(self, node: Node, people: Participants) -> None:
        aggregate = data_request("meter-data-interval", purpose="research", granularity="aggregate")
        reply, answers = node.send(people, "uni.example", "confirm", aggregate)
        assert reply.status == 200
        [(action, answer)] = answers
        assert action == "on_confirm"
        attrs = answer["contract"]["commitments"][0]["resources"][0]["resourceAttributes"]
        assert attrs["accessDecision"]["effect"] == "allow_aggregated"
        assert attrs["accessDecision"]["bundle"]["version"] == "1.0.0"
        rows = attrs["dataPayload"]["rows"]
        assert rows and all(r["consumers"] >= 10 for r in rows)
        assert "CONS-" not in json.dumps(answer)

    def test_researcher_asking_for_records_is_nacked_with_the_rule(
        self, node: Node, people: Participants
    ) -> None:
        reply, answers = node.send(
            people, "uni.example", "confirm", data_request("meter-data-interval", purpose="research")
        )
        error = _nack(reply)
        assert error["code"] == "POL_AGGREGATED_ONLY"
        assert error["details"]["rule"] == "researcher-aggregated"
        assert error["details"]["bundle"]["name"] == "ies-entitlements"
        assert answers == []
        assert _kinds(node)[-2:] == ["policy.decision", "message.in"]

    def test_market_participant_refused_critical_operational_data(
        self, node: Node, people: Participants
    ) -> None:
        for ot in (False, True):
            reply, _ = node.send(
                people,
                "agg.example",
                "confirm",
                data_request("scada-telemetry", purpose="market_operations"),
                ot=ot,
            )
            error = _nack(reply)
            assert (error["code"], error["details"]["rule"]) == (
                "POL_ENTITLEMENT_DENIED",
                "critical-operational-restricted",
            )

    def test_a_role_claimed_in_the_message_grants_nothing(self, node: Node, people: Participants) -> None:
        claim = data_request(
            "meter-data-interval",
            purpose="regulatory_oversight",
            granularity="aggregate",
            requesterRoles=["REGULATOR"],
            role="REGULATOR",
        )
        claim["contract"]["participants"] = [{"id": "p2p.example", "role": "REGULATOR"}]
        error = _nack(node.send(people, "p2p.example", "confirm", claim)[0])
        assert error["code"] == "POL_PURPOSE_NOT_PERMITTED"
        assert node.send(people, "cerc.example", "confirm", claim)[0].status == 200

    def test_personal_records_need_consent(self, node: Node, people: Participants) -> None:
        reply, _ = node.send(
            people, "p2p.example", "confirm", data_request("meter-data-interval", purpose="service_delivery")
        )
        assert _nack(reply)["code"] == "POL_CONSENT_REQUIRED"

    def test_open_data_and_non_data_requests(self, node: Node, people: Participants) -> None:
        reply, answers = node.send(
            people, "p2p.example", "select", data_request("tariff-schedules", purpose="transparency")
        )
        assert reply.status == 200
        assert (
            answers[0][1]["contract"]["commitments"][0]["resources"][0]["resourceAttributes"][
                "accessDecision"
            ]["rule"]
            == "open-data-c0"
        )
        reply, answers = node.send(
            people,
            "p2p.example",
            "select",
            {"contract": {"commitments": [{"id": "c", "offer": {"id": "o"}}]}},
        )
        assert reply.status == 200 and answers == [
            ("on_select", {"contract": {"status": "DRAFT", "trade": True}})
        ]

    def test_data_request_without_purpose_is_a_schema_error(self, node: Node, people: Participants) -> None:
        message = data_request("tariff-schedules", purpose="x")
        del message["contract"]["contractAttributes"]["purpose"]
        reply, _ = node.send(people, "p2p.example", "confirm", message)
        assert (
            reply.status == 400 and reply.body["message"]["error"]["code"] == "SCH_SCHEMA_VALIDATION_FAILED"
        )

    def test_commands_are_refused_on_the_informational_endpoint(
        self, node: Node, people: Participants
    ) -> None:
        hidden = {
            "contract": {
                "commitments": [
                    {"id": "c", "resources": [{"id": "r", "payload": [command("CurtailmentInstruction")]}]}
                ]
            }
        }
        for sender, message in (("sldc.example", command()), ("p2p.example", hidden)):
            error = _nack(node.send(people, sender, "confirm", message)[0])
            assert (error["code"], error["details"]["rule"]) == (
                "POL_OT_WRONG_ENDPOINT",
                "itot-operational-endpoint",
            )


class TestOperationalEndpoint:
    def test_trading_platform_command_is_refused_even_if_certified(
        self, node: Node, people: Participants
    ) -> None:
        for sender in ("p2p.example", "platform-certified.example"):
            error = _nack(node.send(people, sender, "confirm", command(), ot=True)[0])
            assert error["code"] == "POL_OT_TRADING_PLATFORM"

    def test_certified_operator_command_is_accepted_and_audited(
        self, node: Node, people: Participants
    ) -> None:
        reply, answers = node.send(people, "sldc.example", "confirm", command(), ot=True)
        assert reply.status == 200
        [(action, answer)] = answers
        assert action == "on_confirm"
        assert answer["commandResults"][0]["commandType"] == "DISPATCH"
        assert answer["commandResults"][0]["status"] == "ACCEPTED"
        assert {"policy.decision", "message.in", "policy.ot_command"} <= set(_kinds(node))

    def test_uncertified_operator_is_refused(self, node: Node, people: Participants) -> None:
        error = _nack(
            node.send(people, "sldc-uncertified.example", "update", command("LoadControlCommand"), ot=True)[0]
        )
        assert error["code"] == "POL_OT_CREDENTIAL_REQUIRED"

    def test_only_operational_traffic_on_the_operational_endpoint(
        self, node: Node, people: Participants
    ) -> None:
        error = _nack(
            node.send(people, "sldc.example", "confirm", {"contract": {"commitments": []}}, ot=True)[0]
        )
        assert error["code"] == "POL_OT_NOT_OPERATIONAL"

    def test_critical_operational_data_served_on_the_operational_endpoint(
        self, node: Node, people: Participants
    ) -> None:
        reply, answers = node.send(
            people,
            "sldc.example",
            "confirm",
            data_request("scada-telemetry", purpose="grid_operations"),
            ot=True,
        )
        assert reply.status == 200
        payload = answers[0][1]["contract"]["commitments"][0]["resources"][0]["resourceAttributes"][
            "dataPayload"
        ]
        assert payload["records"][0]["breaker"] == "CLOSED"
        error = _nack(
            node.send(
                people, "sldc.example", "confirm", data_request("scada-telemetry", purpose="grid_operations")
            )[0]
        )
        assert error["code"] == "POL_OT_WRONG_ENDPOINT"


def test_metrics_count_messages_nacks_and_decisions(node: Node, people: Participants) -> None:
    node.send(
        people,
        "uni.example",
        "confirm",
        data_request("meter-data-interval", purpose="research", granularity="aggregate"),
    )
    node.send(people, "uni.example", "confirm", data_request("meter-data-interval", purpose="research"))
    node.send(people, "p2p.example", "confirm", command(), ot=True)
    text = node.metrics.exposition()
    assert 'ies_messages_total{action="confirm",outcome="ACK"} 1' in text
    assert 'ies_messages_total{action="confirm",outcome="NACK"} 2' in text
    assert 'ies_nacks_total{code="POL_AGGREGATED_ONLY"} 1' in text
    assert 'ies_nacks_total{code="POL_OT_TRADING_PLATFORM"} 1' in text
    assert 'ies_policy_decisions_total{outcome="allow_aggregated",code=""} 1' in text
    assert 'ies_message_latency_seconds_count{action="confirm"} 3' in text
    assert 'ies_message_latency_seconds_bucket{action="confirm",le="+Inf"} 3' in text


def test_find_commands_sees_every_nesting() -> None:
    assert [c.kind for c in find_commands(command("LoadControlCommand"))] == ["LOAD_CONTROL"]
    deep: Any = command()
    for _ in range(50):
        deep = {"wrap": [deep]}
    assert [c.kind for c in find_commands(deep)] == ["DISPATCH"]
    assert find_commands({"contract": {"@type": "Contract"}}) == []
    big = {"items": [{"x": i} for i in range(30_000)], "tail": command()}  # a big catalogue is scanned whole
    assert [c.kind for c in find_commands(big)] == ["DISPATCH"]
    huge = {"items": [{"x": i} for i in range(600_000)]}
    assert [c.kind for c in find_commands(huge)] == ["UNKNOWN"]  # past the cap: treated as operational
