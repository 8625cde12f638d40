"""The data policy over real processes: a DISCOM node with the policy layer among real participants.

Every participant is its own OS process with its own registry record (roles as the registry lists them);
requests are signed Beckn messages sent through each node's `/admin/caller`, answers are the real signed
callbacks. The DISCOM runs `python -m ies.policy` with its operational endpoint on a separate listener.
Issue 8, "Done when": a researcher gets only aggregated data; a market participant is refused critical
operational data; a trading platform's control command is refused; a regulator's policy update changes
decisions from the next request, both versions audited; a role claimed in a message grants nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ies.audit import verify_log
from ies.audit.tables import AuditEntryRow
from ies.identity.keys import load_node_keys
from ies.node.config import init_node, load_config
from ies.policy.bundle import build_bundle, read_source
from ies.policy.open_data import verify_release
from ies.policy.sources import DEFAULT_BUNDLE_DIR
from ies.sandbox.launcher import is_alive, start_network, stop_network, wait_healthy
from ies.sandbox.network import NetworkSpec, NetworkState, NodeSpec, NodeState, free_port
from ies.store import open_engine, session_factory


class PolicyNet:
    def __init__(self, state: NetworkState, discom: NodeState, ot_url: str):
        self.state, self.discom, self.ot_url = state, discom, ot_url

    def token(self, node: NodeState) -> str:
        return (Path(node.config).parent / "admin.token").read_text().strip()

    def node(self, name: str) -> NodeState:
        return self.discom if name == "discom" else self.state.node(name)

    def admin(self, name: str, method: str, path: str, **kw: Any) -> httpx.Response:
        node = self.node(name)
        headers = {"Authorization": f"Bearer {self.token(node)}", **kw.pop("headers", {})}
        return httpx.request(method, f"{node.url}{path}", headers=headers, timeout=30, **kw)

    def ask(self, sender: str, action: str, message: dict[str, Any], *, ot: bool = False) -> dict[str, Any]:
        """Send a signed request from `sender` to the DISCOM; the ACK/NACK and the callback body."""
        target = f"{self.ot_url}/ot/beckn" if ot else self.discom.beckn_url
        resp = self.admin(
            sender,
            "POST",
            f"/admin/caller/{action}",
            json={"bpp_id": self.discom.subscriber_id, "bpp_uri": target, "message": message},
        )
        return dict(resp.json())

    def decisions(self) -> list[dict[str, Any]]:
        engine = open_engine(load_config(self.discom.config).db_url())
        try:
            with session_factory(engine)() as session:
                rows = session.scalars(
                    select(AuditEntryRow)
                    .where(AuditEntryRow.kind == "policy.decision")
                    .order_by(AuditEntryRow.seq)
                ).all()
                out = [{"actor": r.actor, **json.loads(r.payload)} for r in rows]
            assert verify_log(engine).ok
            return out
        finally:
            engine.dispose()


def _start_discom(home: Path, state: NetworkState) -> tuple[NodeState, str, int]:
    registry = state.node("registry")
    port = free_port(18790, {int(n.url.rsplit(":", 1)[1]) for n in state.nodes})
    ot_port = free_port(port + 1, {port})
    cfg_path = init_node(
        home / "discom",
        name="discom",
        roles=["BPP", "DISCOM"],
        port=port,
        registry_url=registry.url,
        cds_url=f"{state.node('cds').url}/beckn",
        network_id=state.network_id,
        settings={"policy": {"sources": "sandbox", "ot_port": ot_port}},
    )
    cfg = load_config(cfg_path)
    log = open(home / "discom" / "node.log", "ab")  # noqa: SIM115  (the child owns it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ies.policy", str(cfg_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cfg_path.parent,
    )
    log.close()
    node = NodeState(
        "discom",
        ["BPP", "DISCOM"],
        cfg.public_url,
        cfg.beckn_url,
        cfg.subscriber_id,
        cfg.keys().key_id,
        proc.pid,
        str(cfg_path),
        str(home / "discom" / "node.log"),
    )
    return node, f"http://127.0.0.1:{ot_port}", ot_port


def _stop(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_alive(pid):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def pnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyNet]:
    os.environ["IES_NODE_REGISTRY_CACHE_TTL_S"] = "0.2"
    home = tmp_path_factory.mktemp("policy-network")
    spec = NetworkSpec(
        nodes=(
            NodeSpec("registry", ("REGISTRY",)),
            NodeSpec("cds", ("CDS",)),
            NodeSpec("uni", ("RESEARCHER",)),
            NodeSpec("p2p-platform", ("BAP",)),
            NodeSpec("aggregator", ("AGGREGATOR",)),
            NodeSpec("cerc", ("REGULATOR",)),
            NodeSpec("sldc", ("SYSTEM_OPERATOR", "CERTIFIED_OT")),
        ),
        base_port=18700,
    )
    state = start_network(spec, home / "net")
    discom: NodeState | None = None
    try:
        discom, ot_url, _ = _start_discom(home, state)
        wait_healthy(discom)
        net = PolicyNet(state, discom, ot_url)
        assert net.admin("discom", "POST", "/admin/subscribe").status_code == 200
        approve = f"/admin/subscribers/{discom.subscriber_id}/approve"
        assert net.admin("registry", "POST", approve).status_code == 200
        for _ in range(100):  # the OT listener starts with the node's lifespan
            try:
                if httpx.get(f"{ot_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield net
    finally:
        if discom is not None:
            _stop(discom.pid)
        stop_network(state)
        os.environ.pop("IES_NODE_REGISTRY_CACHE_TTL_S", None)


def data_request(dataset: str, purpose: str, granularity: str = "record", **claims: Any) -> dict[str, Any]:
    return {
        "contract": {
            "commitments": [{"id": "c1", "resources": [{"id": dataset}]}],
            "contractAttributes": {
                "@type": "DataAccessRequest",
                "purpose": purpose,
                "granularity": granularity,
                **claims,
            },
        }
    }


def dispatch() -> dict[str, Any]:
    return {
        "command": {
            "@type": "DispatchInstruction",
            "commandId": "d-1",
            "target": "did:web:discom:assets:der:7",
            "setpointW": 4000,
        }
    }


def nack(answer: dict[str, Any]) -> dict[str, Any]:
    message = answer["ack"]["message"]
    assert message["status"] == "NACK", answer
    assert answer["callback"] is None
    return dict(message["error"])


def served(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["ack"]["message"]["status"] == "ACK", answer
    assert answer["callback"] is not None, answer
    resource = answer["callback"]["message"]["contract"]["commitments"][0]["resources"][0]
    return dict(resource["resourceAttributes"])


def test_researcher_gets_only_aggregated_data_and_never_an_identity(pnet: PolicyNet) -> None:
    error = nack(pnet.ask("uni", "confirm", data_request("meter-data-interval", "research")))
    assert (error["code"], error["details"]["rule"]) == ("POL_AGGREGATED_ONLY", "researcher-aggregated")
    answer = pnet.ask("uni", "confirm", data_request("meter-data-interval", "research", "aggregate"))
    attrs = served(answer)
    assert attrs["accessDecision"]["effect"] == "allow_aggregated"
    rows = attrs["dataPayload"]["rows"]
    assert rows and all(r["consumers"] >= 10 for r in rows)
    assert "CONS-" not in json.dumps(answer["callback"])
    profiles = served(pnet.ask("uni", "confirm", data_request("anonymised-load-profiles", "research")))
    assert profiles["accessDecision"]["rule"] == "open-data-c0"
    assert all(r["consumers"] >= 10 for r in profiles["dataPayload"]["records"])
    assert "CONS-" not in json.dumps(profiles)


def test_market_participant_is_refused_critical_operational_data(pnet: PolicyNet) -> None:
    for ot in (False, True):
        error = nack(
            pnet.ask("aggregator", "confirm", data_request("scada-telemetry", "market_operations"), ot=ot)
        )
        assert (error["code"], error["details"]["rule"]) == (
            "POL_ENTITLEMENT_DENIED",
            "critical-operational-restricted",
        )
    attrs = served(pnet.ask("sldc", "confirm", data_request("scada-telemetry", "grid_operations"), ot=True))
    assert attrs["dataPayload"]["records"][0]["feederId"] == "FDR-001"


def test_trading_platform_control_command_is_refused(pnet: PolicyNet) -> None:
    assert nack(pnet.ask("p2p-platform", "confirm", dispatch(), ot=True))["code"] == "POL_OT_TRADING_PLATFORM"
    assert nack(pnet.ask("p2p-platform", "confirm", dispatch()))["code"] == "POL_OT_WRONG_ENDPOINT"
    assert nack(pnet.ask("sldc", "confirm", dispatch()))["code"] == "POL_OT_WRONG_ENDPOINT"
    accepted = pnet.ask("sldc", "confirm", dispatch(), ot=True)
    assert accepted["callback"]["message"]["commandResults"][0]["status"] == "ACCEPTED"


def test_a_role_claimed_in_the_message_grants_nothing(pnet: PolicyNet) -> None:
    claim = data_request(
        "meter-data-interval", "regulatory_oversight", "aggregate", requesterRoles=["REGULATOR"]
    )
    claim["contract"]["participants"] = [{"id": pnet.node("p2p-platform").subscriber_id, "role": "REGULATOR"}]
    error = nack(pnet.ask("p2p-platform", "confirm", claim))
    assert error["code"] == "POL_PURPOSE_NOT_PERMITTED"
    assert served(pnet.ask("cerc", "confirm", claim))["accessDecision"]["rule"] == "regulator-oversight"


def test_catalogue_open_data_and_metrics(pnet: PolicyNet) -> None:
    published = pnet.admin("discom", "POST", "/admin/policy/catalogue/publish")
    assert published.status_code == 200 and published.json()["ack"]["message"]["status"] == "ACK"
    found = pnet.admin(
        "uni",
        "POST",
        "/admin/caller/discover",
        json={"message": {"intent": {"textSearch": "scada telemetry"}}},
    ).json()
    catalogs = found["callback"]["message"]["catalogs"]
    assert [c["id"] for c in catalogs] == [f"data-catalogue-{pnet.discom.subscriber_id}"]
    assert pnet.admin("discom", "POST", "/admin/policy/open-data/feeder-load-aggregates").status_code == 200
    release = httpx.get(f"{pnet.discom.url}/open-data/feeder-load-aggregates", timeout=10).json()
    verify_release(release, load_node_keys(Path(pnet.discom.config).parent / "keys.json").signing.public_key)
    metrics = httpx.get(f"{pnet.discom.url}/metrics", timeout=10).text
    assert 'ies_nacks_total{code="POL_AGGREGATED_ONLY"}' in metrics
    assert 'ies_nacks_total{code="POL_OT_TRADING_PLATFORM"}' in metrics
    assert 'ies_policy_decisions_total{outcome="allow_aggregated",code=""}' in metrics


def test_regulator_policy_update_applies_from_the_next_request(pnet: PolicyNet, tmp_path: Path) -> None:
    aggregate = data_request("meter-data-interval", "research", "aggregate")
    assert served(pnet.ask("uni", "confirm", aggregate))["accessDecision"]["bundle"]["version"] == "1.0.0"
    source = tmp_path / "src"
    source.mkdir()
    for f in DEFAULT_BUNDLE_DIR.iterdir():
        (source / f.name).write_bytes(f.read_bytes())
    data = json.loads((source / "data.json").read_text())
    for rule in data["ies"]["policy"]["entitlements"]["researcher"]:
        rule["taxonomy"] = [t for t in rule["taxonomy"] if t != "Consumer"]
    (source / "data.json").write_text(json.dumps(data))
    src = read_source(source, version="1.1.0", revision=2)

    def signed_by(name: str) -> bytes:
        keys = load_node_keys(Path(pnet.node(name).config).parent / "keys.json")
        return build_bundle(src, keys.signing, publisher=pnet.node(name).subscriber_id, key_id=keys.key_id)

    forged = pnet.admin("discom", "POST", "/admin/policy/bundles", content=signed_by("p2p-platform"))
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "POL_BUNDLE_UNTRUSTED_KEY"
    installed = pnet.admin("discom", "POST", "/admin/policy/bundles", content=signed_by("cerc"))
    assert installed.status_code == 200, installed.text
    error = nack(pnet.ask("uni", "confirm", aggregate))
    assert error["code"] == "POL_ENTITLEMENT_DENIED" and error["details"]["bundle"]["version"] == "1.1.0"
    uni = pnet.node("uni").subscriber_id
    versions = [d["bundle"]["version"] for d in pnet.decisions() if d["actor"] == uni]
    assert versions[-2:] == ["1.0.0", "1.1.0"]
    listing = httpx.get(f"{pnet.discom.url}/policy/bundles", timeout=10).json()["bundles"]
    assert [(b["version"], b["publisher"]["subscriber_id"], b["latest"]) for b in listing] == [
        ("1.0.0", pnet.discom.subscriber_id, False),
        ("1.1.0", pnet.node("cerc").subscriber_id, True),
    ]
