"""Data requests on the Beckn wire, the exchange's policy hook, and the data-serving handlers.

A data request is a contract whose commitments name catalogued datasets as resources; the purpose and the
wanted granularity travel in `contract.contractAttributes`:

    {"contract": {"commitments": [{"id": "c1", "resources": [{"id": "feeder-load-aggregates"}]}],
                  "contractAttributes": {"@type": "DataAccessRequest", "purpose": "research",
                                         "granularity": "aggregate"}}}

`policy_hook` runs inside the ExchangeRouter before the ACK: it decides every requested dataset through
the DecisionPoint and raises the refusal, which the router sends back as a NACK with its `POL_*` code and
rule. It also refuses any operational-control command on the informational endpoint (IT/OT). Messages
that request no catalogued dataset (a P2P energy offer, say) pass untouched. The decisions made are kept
on the message, so the handler that later serves the data uses exactly them (and the audit holds one
line per decision, not two).

`install_data_serving` answers `select`/`init` with the decisions and `confirm` with the data inline as
IES DatasetItems (`accessMethod: INLINE`, `dataPayload`): record level only when the decision allows it,
otherwise the k-anonymous aggregate the source produces with the decision's `min_k`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ies.errors import NotFoundError, SchemaValidationFailed
from ies.exchange.context import is_callback
from ies.exchange.inbound import ExchangeRouter, InboundMessage
from ies.policy.catalogue import DataCatalogue, DatasetDecl
from ies.policy.decision import ConsentCheck, Decision, DecisionPoint, Granularity
from ies.policy.errors import OtWrongEndpoint
from ies.policy.operational import find_commands

__all__ = [
    "DataRequest",
    "DataSource",
    "data_requests",
    "decisions_of",
    "install_data_serving",
    "policy_hook",
]

_DECISIONS = "ies_policy_decisions"


@dataclass(frozen=True)
class DataRequest:
    dataset: DatasetDecl
    purpose: str
    granularity: Granularity


def _contract(message: dict[str, Any]) -> dict[str, Any]:
    contract = message.get("contract")
    return contract if isinstance(contract, dict) else {}


def data_requests(message: dict[str, Any], catalogue: DataCatalogue) -> list[DataRequest]:
    """The catalogued datasets a message asks for (none: not a data request)."""
    contract = _contract(message)
    ids: list[str] = []
    for commitment in contract.get("commitments") or []:
        if not isinstance(commitment, dict):
            continue
        for resource in commitment.get("resources") or []:
            rid = resource.get("id") if isinstance(resource, dict) else None
            if isinstance(rid, str) and rid in catalogue and rid not in ids:
                ids.append(rid)
    if not ids:
        return []
    attrs = contract.get("contractAttributes")
    attrs = attrs if isinstance(attrs, dict) else {}
    purpose = attrs.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise SchemaValidationFailed(
            "a data request needs contract.contractAttributes.purpose",
            details={"path": "$.message.contract.contractAttributes.purpose"},
        )
    granularity = attrs.get("granularity", "record")
    if granularity not in ("record", "aggregate"):
        raise SchemaValidationFailed(
            "granularity is 'record' or 'aggregate'",
            details={"path": "$.message.contract.contractAttributes.granularity"},
        )
    return [DataRequest(catalogue.get(i), purpose, cast(Granularity, granularity)) for i in ids]


def decisions_of(msg: InboundMessage) -> list[tuple[DataRequest, Decision]] | None:
    """The decisions the policy hook made for this very message (None if it made none)."""
    found = msg.__dict__.get(_DECISIONS)
    return cast(list[tuple[DataRequest, Decision]], found) if found is not None else None


def policy_hook(
    point: DecisionPoint,
    catalogue: DataCatalogue,
    *,
    operational: bool = False,
    consent_check: ConsentCheck | None = None,
) -> Callable[[InboundMessage], Awaitable[None]]:
    """The `policy=` hook of an ExchangeRouter: raise PolicyError to NACK, return to go on."""

    async def check(msg: InboundMessage) -> None:
        if is_callback(msg.action):
            # A callback answers a request this node made; the data in it was decided on by its sender.
            return
        commands = find_commands(msg.message)
        if commands and not operational:
            # Pillar 1: control commands never travel over the informational endpoint. The bundle
            # refuses (and the refusal is audited with its rule); should a bundle ever allow it, this
            # endpoint still has no command handler, so it refuses anyway.
            for command in commands:
                point.decide_command(msg.signer, command.kind, operational=False)
            raise OtWrongEndpoint(
                "operational-control commands are accepted only on the operational endpoint",
                details={"rule": "itot-operational-endpoint"},
            )
        requests = data_requests(msg.message, catalogue)
        if not requests:
            return
        made = [
            (
                req,
                point.decide(
                    msg.signer,
                    req.dataset,
                    req.purpose,
                    consent_check=consent_check,
                    operational=operational,
                    granularity=req.granularity,
                ),
            )
            for req in requests
        ]
        msg.__dict__[_DECISIONS] = made

    return check


class DataSource(Protocol):
    """Where a dataset's content comes from (the custodian's system of record, behind an adapter)."""

    def records(self, dataset: DatasetDecl) -> list[dict[str, Any]]:
        """Record-level rows (may be personal data; served only under an allow decision)."""
        ...

    def aggregate(self, dataset: DatasetDecl, k: int) -> dict[str, Any]:
        """An aggregated/anonymised view in which every cell covers at least k subjects."""
        ...


def _payload(source: DataSource, req: DataRequest, decision: Decision) -> dict[str, Any]:
    if decision.aggregated_only:
        return source.aggregate(req.dataset, decision.min_k)
    return {"records": source.records(req.dataset)}


def install_data_serving(
    router: ExchangeRouter,
    point: DecisionPoint,
    catalogue: DataCatalogue,
    sources: dict[str, DataSource],
    *,
    consent_check: ConsentCheck | None = None,
) -> None:
    """Serve catalogued datasets on select/init (decisions) and confirm (data); anything else goes to
    the handler that was registered before (e.g. a BPP's trade catalogue)."""
    previous = {a: router.handlers.get(a) for a in ("select", "init", "confirm")}

    def decided(msg: InboundMessage) -> list[tuple[DataRequest, Decision]]:
        made = decisions_of(msg)
        if made is not None:
            return made
        # A router without the hook (or a direct call): decide here, through the same point.
        return [
            (
                r,
                point.decide(
                    msg.signer, r.dataset, r.purpose, consent_check=consent_check, granularity=r.granularity
                ),
            )
            for r in data_requests(msg.message, catalogue)
        ]

    def answer(msg: InboundMessage, status: str, with_data: bool) -> dict[str, Any]:
        contract = dict(_contract(msg.message))
        commitments = []
        for i, (req, decision) in enumerate(decided(msg)):
            resource: dict[str, Any] = {"id": req.dataset.id}
            attrs: dict[str, Any] = {
                "@type": "DatasetItem",
                "accessMethod": "INLINE",
                "accessDecision": decision.to_dict(),
            }
            if with_data:
                source = sources.get(req.dataset.id)
                if source is None:
                    raise NotFoundError(f"dataset {req.dataset.id!r} has no data source on this node")
                attrs["dataPayload"] = _payload(source, req, decision)
            resource["resourceAttributes"] = attrs
            commitments.append({"id": f"c{i + 1}", "status": "ACTIVE", "resources": [resource]})
        contract.update(commitments=commitments, status=status)
        return {"contract": contract}

    def handler(action: str, status: str, with_data: bool) -> Callable[[InboundMessage], Awaitable[Any]]:
        async def handle(msg: InboundMessage) -> dict[str, Any] | None:
            if not data_requests(msg.message, catalogue):
                fallback = previous[action]
                return await fallback(msg) if fallback is not None else None
            return answer(msg, status, with_data)

        return handle

    router.on("select")(handler("select", "DRAFT", False))
    router.on("init")(handler("init", "DRAFT", False))
    router.on("confirm")(handler("confirm", "ACTIVE", True))
