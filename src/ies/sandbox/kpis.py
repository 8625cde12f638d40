"""Network KPIs of the IES strategy (§10, §12.6.2) computed from what the nodes themselves recorded.

- share of interactions through IES-compliant signed interfaces: inbound messages that passed signature
  verification (not refused with an AUT_* code), over all inbound messages, across every node;
- share of transactions using IES identifiers: transactions whose every inbound message came from a
  registered, verified subscriber (no AUT_SUBSCRIBER_NOT_FOUND / AUT_SIGNATURE_MISSING), over all;
- audit verification pass rate: nodes whose audit log (hash chain, Merkle tree, signed heads, checked
  against the node's own published key) verifies, over all nodes;
- participants by role, from the registry.

Read from each node's message log over its operator API and from its database for the audit check; the
nodes are never trusted to report their own KPI figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ies.errors import PeerUnreachable
from ies.node.config import load_config
from ies.registry.records import Role
from ies.sandbox.network import NetworkState, NodeState

__all__ = ["NetworkKpis", "compute_kpis"]

UNIDENTIFIED = {"AUT_SUBSCRIBER_NOT_FOUND", "AUT_SIGNATURE_MISSING"}


@dataclass
class NetworkKpis:
    inbound_messages: int
    signed_and_verified: int
    share_signed_interfaces: float
    transactions: int
    transactions_with_ies_identifiers: int
    share_ies_identifiers: float
    nodes_audited: int
    audit_logs_verified: int
    audit_pass_rate: float
    participants_by_role: dict[str, int]
    nacks_by_code: dict[str, int] = field(default_factory=dict)
    audit_findings: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _messages(state: NetworkState, node: NodeState) -> list[dict[str, Any]]:
    try:
        resp = httpx.get(
            f"{node.url}/admin/messages",
            params={"limit": 5000},
            headers={"Authorization": f"Bearer {state.admin_token(node)}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise PeerUnreachable(f"{node.name} unreachable: {exc.__class__.__name__}") from None
    if resp.status_code != 200:
        raise PeerUnreachable(f"{node.name} answered HTTP {resp.status_code} for its message log")
    return list(resp.json())


def _audit_ok(node: NodeState) -> tuple[bool, int]:
    from ies.audit import check_log
    from ies.store import open_engine

    cfg = load_config(Path(node.config))
    engine = open_engine(cfg.db_url())
    try:
        report = check_log(engine, trusted_key=cfg.keys().signing.public_key)
    finally:
        engine.dispose()
    return report.ok, len(report.findings.items)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def compute_kpis(state: NetworkState) -> NetworkKpis:
    inbound = verified = 0
    nacks: Counter[str] = Counter()
    transactions: dict[str, bool] = {}
    audited = passed = 0
    findings: dict[str, int] = {}
    for node in state.nodes:
        for line in _messages(state, node):
            if line["direction"] != "in":
                continue
            inbound += 1
            code = line.get("error_code")
            if code:
                nacks[code] += 1
            if not (code or "").startswith("AUT_"):
                verified += 1
            txn = line.get("transaction_id")
            if txn:
                transactions[txn] = transactions.get(txn, True) and code not in UNIDENTIFIED
        ok, count = _audit_ok(node)
        audited += 1
        passed += ok
        if count:
            findings[node.name] = count
    roles: Counter[str] = Counter()
    for node in state.nodes:
        for role in node.roles:
            roles[Role(role).value] += 1
    identified = sum(transactions.values())
    return NetworkKpis(
        inbound_messages=inbound,
        signed_and_verified=verified,
        share_signed_interfaces=_ratio(verified, inbound),
        transactions=len(transactions),
        transactions_with_ies_identifiers=identified,
        share_ies_identifiers=_ratio(identified, len(transactions)),
        nodes_audited=audited,
        audit_logs_verified=passed,
        audit_pass_rate=_ratio(passed, audited),
        participants_by_role=dict(sorted(roles.items())),
        nacks_by_code=dict(sorted(nacks.items())),
        audit_findings=findings,
    )
