"""The DEG wave-2 P2P contract on the wire (`message.contract`), built and read in one place.

What we emit follows the newer devkit generation: `DEGContract` roles `buyerPlatform`, `sellerPlatform`,
`buyerDiscom`, `sellerDiscom`; `participants[]` of `EnergyCustomer` and `DiscomLedgerProvider`; one
commitment whose `commitmentAttributes` is the growing `BecknTimeSeries`; `consideration[]` holding the
`RevenueFlow`; `schema.nfh.global` contexts. What we read is wider, because the devkit's own examples
disagree with each other: role names `buyer`/`seller` as well as `…Platform`; participants keyed by `id`
or `participantId` (with or without `role`); `EnergyResource` `type`/`id` or `sourceType`/`meterId`; the
series in `commitmentAttributes`, or (older examples) in `offerAttributes.inputs[]` as `payload`,
`inputs.offerTimeseries` / `inputs.bidTimeseries`.

Participants: our `EnergyCustomer` entries carry the prosumer's own id (`id`), the platform in
`platformId`, and `role`, so a trade between two customers of one platform stays unambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ies.errors import SchemaValidationFailed
from ies.usecases.p2p.market import Block
from ies.usecases.p2p.timeseries import build_series, read_series, wh_of

__all__ = [
    "CONTEXTS",
    "Customer",
    "LedgerParty",
    "PolicyRef",
    "Trade",
    "contract_body",
    "parse_contract",
]

_NFH = "https://schema.nfh.global"
CONTEXTS = {
    name: f"{_NFH}/{name}/{version}/context.jsonld"
    for name, version in (
        ("EnergyTradeOffer", "v2.0"),
        ("EnergyResource", "v2.0"),
        ("EnergyCustomer", "v2.0"),
        ("DEGContract", "v2.0"),
        ("BecknTimeSeries", "v1.0"),
        ("DiscomLedgerProvider", "v1.0"),
        ("RevenueFlow", "v2.0"),
        ("SettlementTerm", "v2.0"),
        ("DatasetItem", "v1.1"),
    )
}
ROLE_ALIASES = {
    "buyer": "buyerPlatform",
    "seller": "sellerPlatform",
    "buyerPlatform": "buyerPlatform",
    "sellerPlatform": "sellerPlatform",
    "buyerDiscom": "buyerDiscom",
    "sellerDiscom": "sellerDiscom",
}
CUSTOMER_ROLES = {"buyerPlatform": "buyer", "sellerPlatform": "seller"}


@dataclass(frozen=True)
class Customer:
    """A prosumer as the contract names it (DEG `EnergyCustomer`)."""

    participant_id: str
    platform_id: str
    meter_id: str
    customer_id: str
    utility_id: str
    platform_url: str = ""
    sanctioned_load_w: int | None = None
    aggregator_id: str = ""  # the registered aggregator that acts for this customer, if any

    def attributes(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "@context": CONTEXTS["EnergyCustomer"],
            "@type": "EnergyCustomer",
            "meterId": self.meter_id,
            "utilityCustomerId": self.customer_id,
            "utilityId": self.utility_id,
            "platformId": self.platform_id,
            "platformUrl": self.platform_url,
        }
        if self.sanctioned_load_w is not None:
            out["sanctionedLoad"] = {"unitCode": "KWT", "value": self.sanctioned_load_w / 1000}
        if self.aggregator_id:
            out["aggregatorId"] = self.aggregator_id
        return out


@dataclass(frozen=True)
class LedgerParty:
    """A DISCOM and its Ledger Provider (DEG `DiscomLedgerProvider`)."""

    utility_id: str
    ledger_id: str
    ledger_uri: str = ""
    discom_id: str = ""
    discom_uri: str = ""
    allocation_version: int = 0  # how many allocation updates this ledger has made to the trade

    def attributes(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "@context": CONTEXTS["DiscomLedgerProvider"],
            "@type": "DiscomLedgerProvider",
            "utilityId": self.utility_id,
            "discomId": self.discom_id,
            "discomUri": self.discom_uri,
            "ledgerId": self.ledger_id,
            "ledgerUri": self.ledger_uri,
        }
        if self.allocation_version:
            out["allocationVersion"] = self.allocation_version
        return out


@dataclass(frozen=True)
class PolicyRef:
    """The rule bundle a contract is made under; a contract keeps it for life (versions never float)."""

    url: str
    query_path: str
    name: str = ""
    version: str = ""
    bundle_hash: str = ""

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "queryPath": self.query_path}
        if self.version:
            out.update(bundle=self.name, version=self.version, hash=self.bundle_hash)
        return out


@dataclass
class Trade:
    """One P2P contract: one seller, one buyer, one offer, the series of its blocks."""

    contract_id: str
    offer_id: str
    seller: Customer
    buyer: Customer | None = None
    seller_ledger: LedgerParty | None = None
    buyer_ledger: LedgerParty | None = None
    source_type: str = "SOLAR"
    status: str = "DRAFT"
    policy: PolicyRef | None = None
    columns: dict[str, dict[Block, int | str]] = field(default_factory=dict)
    revenue_flows: list[dict[str, Any]] = field(default_factory=list)
    resource_id: str = ""
    #: which settlement `revenue_flows` are (1 the first, +1 per true-up; 0 when unnumbered)
    settlement_version: int = 0
    #: each true-up's explicit adjustment lines: {"version": v, "lines": [...]} (v−1 totals + lines = v)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    market: str = ""  # "CALL_AUCTION" when a local exchange cleared the trade; "" for bilateral matching

    def column(self, kind: str) -> dict[Block, int]:
        return {b: int(v) for b, v in self.columns.get(kind, {}).items()}

    @property
    def blocks(self) -> list[Block]:
        return sorted(self.columns.get("REQUESTED_QTY") or self.columns.get("AVAILABLE_QTY") or {})

    def with_columns(self, **columns: dict[Block, int | str]) -> Trade:
        merged = {**self.columns, **columns}
        return replace(self, columns=merged)


# -- building ---------------------------------------------------------------------------------------
_ORDER = (
    "PRICE_PER_KWH",
    "AVAILABLE_QTY",
    "REQUESTED_QTY",
    "BUYER_DISCOM_ALLOC",
    "BUYER_DISCOM_STATUS",
    "SELLER_DISCOM_ALLOC",
    "SELLER_DISCOM_STATUS",
    "FINAL_ALLOC",
    "SELLER_DISCOM_CURTAILED",
    "SELLER_DISCOM_CURTAIL_REASON",
    "BUYER_DISCOM_CURTAILED",
    "BUYER_DISCOM_CURTAIL_REASON",
)


def contract_body(trade: Trade) -> dict[str, Any]:
    """The `message.contract` of a trade in its current state."""
    columns = {k: trade.columns[k] for k in _ORDER if trade.columns.get(k)}
    total_wh = sum(
        int(v) for v in (columns.get("REQUESTED_QTY") or columns.get("AVAILABLE_QTY") or {}).values()
    )
    resource_id = trade.resource_id or f"energy-{trade.offer_id}"
    commitment: dict[str, Any] = {
        "id": f"commitment-{trade.contract_id}",
        "status": {"descriptor": {"code": _commitment_status(trade.status)}},
        "resources": [
            {
                "id": resource_id,
                "quantity": {"@type": "Quantity", "unitCode": "KWH", "unitQuantity": total_wh / 1000},
                "resourceAttributes": {
                    "@context": CONTEXTS["EnergyResource"],
                    "@type": "EnergyResource",
                    "type": trade.source_type,
                    "id": trade.seller.meter_id,
                },
            }
        ],
        "offer": {"id": trade.offer_id, "resourceIds": [resource_id]},
    }
    if columns:
        commitment["commitmentAttributes"] = build_series(columns)
    roles = [{"role": "sellerPlatform", "participantId": trade.seller.platform_id}]
    participants = [
        {
            "id": trade.seller.participant_id,
            "role": "sellerPlatform",
            "participantAttributes": trade.seller.attributes(),
        }
    ]
    if trade.buyer is not None:
        roles.insert(0, {"role": "buyerPlatform", "participantId": trade.buyer.platform_id})
        participants.append(
            {
                "id": trade.buyer.participant_id,
                "role": "buyerPlatform",
                "participantAttributes": trade.buyer.attributes(),
            }
        )
    for role, party in (("buyerDiscom", trade.buyer_ledger), ("sellerDiscom", trade.seller_ledger)):
        if party is not None:
            roles.append({"role": role, "participantId": party.utility_id})
            participants.append(
                {"id": party.utility_id, "role": role, "participantAttributes": party.attributes()}
            )
    attributes: dict[str, Any] = {"@context": CONTEXTS["DEGContract"], "@type": "DEGContract", "roles": roles}
    if trade.market:
        attributes["marketMechanism"] = trade.market
    if trade.policy is not None:
        attributes["policy"] = trade.policy.wire()
    body: dict[str, Any] = {
        "id": trade.contract_id,
        "status": {"code": trade.status},
        "commitments": [commitment],
        "contractAttributes": attributes,
        "participants": participants,
    }
    if trade.revenue_flows:
        totals: dict[str, Any] = {
            "@context": CONTEXTS["RevenueFlow"],
            "@type": "RevenueFlow",
            "revenueFlows": trade.revenue_flows,
        }
        if trade.settlement_version:
            totals["settlementVersion"] = trade.settlement_version
        body["consideration"] = [{"id": "auto-settlement-flows", "considerationAttributes": totals}]
        for adjustment in trade.adjustments:
            version = int(adjustment["version"])
            body["consideration"].append(
                {
                    "id": f"settlement-adjustment-{version}",
                    "considerationAttributes": {
                        "@context": CONTEXTS["RevenueFlow"],
                        "@type": "RevenueFlow",
                        "adjustment": {"settlementVersion": version, "adjusts": version - 1},
                        "revenueFlows": adjustment["lines"],
                    },
                }
            )
    return body


def _commitment_status(contract_status: str) -> str:
    return {"COMPLETE": "CLOSED", "CANCELLED": "CANCELLED"}.get(contract_status, contract_status)


# -- reading ----------------------------------------------------------------------------------------
def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _status_code(value: Any) -> str:
    if isinstance(value, str):
        return value
    status = _obj(value)
    code = status.get("code") or _obj(status.get("descriptor")).get("code")
    return str(code) if code else "DRAFT"


def _roles(attributes: dict[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for entry in attributes.get("roles") or []:
        role = ROLE_ALIASES.get(str(_obj(entry).get("role")))
        if role:
            pid = _obj(entry).get("participantId")
            out[role] = str(pid) if pid is not None else None
    return out


def _participants(contract: dict[str, Any]) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
    for entry in contract.get("participants") or []:
        entry = _obj(entry)
        pid = entry.get("id") or entry.get("participantId")
        role = ROLE_ALIASES.get(str(entry.get("role"))) if entry.get("role") else None
        if pid:
            yield role, str(pid), _obj(entry.get("participantAttributes"))


def _customer(pid: str, attrs: dict[str, Any], platform: str | None) -> Customer:
    load = _obj(attrs.get("sanctionedLoad"))
    sanctioned = None
    if "value" in load:
        sanctioned = wh_of(load["value"], "sanctionedLoad.value")  # kW → W through the same ×1000
    return Customer(
        participant_id=pid,
        platform_id=str(attrs.get("platformId") or platform or pid),
        meter_id=str(attrs.get("meterId") or ""),
        customer_id=str(attrs.get("utilityCustomerId") or ""),
        utility_id=str(attrs.get("utilityId") or ""),
        platform_url=str(attrs.get("platformUrl") or ""),
        sanctioned_load_w=sanctioned,
        aggregator_id=str(attrs.get("aggregatorId") or ""),
    )


def _ledger(attrs: dict[str, Any], utility: str) -> LedgerParty:
    return LedgerParty(
        utility_id=str(attrs.get("utilityId") or utility),
        ledger_id=str(attrs.get("ledgerId") or ""),
        ledger_uri=str(attrs.get("ledgerUri") or attrs.get("ledgerUrl") or ""),
        discom_id=str(attrs.get("discomId") or ""),
        discom_uri=str(attrs.get("discomUri") or ""),
        allocation_version=int(attrs["allocationVersion"])
        if isinstance(attrs.get("allocationVersion"), int)
        else 0,
    )


def _legacy_series(offer: dict[str, Any]) -> list[dict[str, Any]]:
    """Series carried by older examples inside `offerAttributes.inputs[]`."""
    found = []
    for entry in _obj(offer.get("offerAttributes")).get("inputs") or []:
        entry = _obj(entry)
        if isinstance(entry.get("payload"), dict):
            found.append(entry["payload"])
        inner = _obj(entry.get("inputs"))
        for key in ("offerTimeseries", "bidTimeseries"):
            if isinstance(inner.get(key), dict):
                found.append(inner[key])
    return found


def parse_contract(contract: Any) -> Trade:
    """A `message.contract` as a Trade; SchemaValidationFailed (with the JSON path) when unusable."""
    if not isinstance(contract, dict):
        raise SchemaValidationFailed("message.contract is required", details={"path": "$.message.contract"})
    commitments = contract.get("commitments")
    if not isinstance(commitments, list) or not commitments or not isinstance(commitments[0], dict):
        raise SchemaValidationFailed(
            "a P2P contract needs one commitment", details={"path": "$.message.contract.commitments"}
        )
    commitment = commitments[0]
    offer = _obj(commitment.get("offer"))
    offer_id = offer.get("id")
    if not isinstance(offer_id, str) or not offer_id:
        raise SchemaValidationFailed(
            "the commitment names no offer", details={"path": "$.message.contract.commitments[0].offer.id"}
        )
    columns: dict[str, dict[Block, int | str]] = {}
    series = (
        [commitment["commitmentAttributes"]]
        if isinstance(commitment.get("commitmentAttributes"), dict)
        and "intervals" in commitment["commitmentAttributes"]
        else _legacy_series(offer)
    )
    for one in series:
        try:
            for kind, column in read_series(one).items():
                columns.setdefault(kind, {}).update(column)
        except SchemaValidationFailed as err:
            path = "$.message.contract.commitments[0].commitmentAttributes"
            raise SchemaValidationFailed(err.message, details={"path": path, **err.details}) from None
    resources = [_obj(r) for r in commitment.get("resources") or []]
    resource = resources[0] if resources else {}
    res_attrs = _obj(resource.get("resourceAttributes"))
    attributes = _obj(contract.get("contractAttributes"))
    roles = _roles(attributes)
    by_role: dict[str, tuple[str, dict[str, Any]]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for role, pid, attrs in _participants(contract):
        by_id[pid] = attrs
        if role:
            by_role[role] = (pid, attrs)

    def customer(role: str) -> Customer | None:
        if role in by_role:
            pid, attrs = by_role[role]
            return _customer(pid, attrs, roles.get(role))
        pid_or_none = roles.get(role)
        if pid_or_none and pid_or_none in by_id:
            return _customer(pid_or_none, by_id[pid_or_none], pid_or_none)
        return None

    def ledger(role: str) -> LedgerParty | None:
        if role in by_role:
            pid, attrs = by_role[role]
            return _ledger(attrs, pid)
        pid_or_none = roles.get(role)
        if pid_or_none and pid_or_none in by_id:
            return _ledger(by_id[pid_or_none], pid_or_none)
        return None

    seller = customer("sellerPlatform") or Customer(
        participant_id=str(roles.get("sellerPlatform") or ""),
        platform_id=str(roles.get("sellerPlatform") or ""),
        meter_id=str(res_attrs.get("meterId") or res_attrs.get("id") or ""),
        customer_id="",
        utility_id="",
    )
    policy_raw = _obj(attributes.get("policy"))
    policy = None
    if policy_raw.get("url") or policy_raw.get("queryPath"):
        policy = PolicyRef(
            url=str(policy_raw.get("url") or ""),
            query_path=str(policy_raw.get("queryPath") or ""),
            name=str(policy_raw.get("bundle") or ""),
            version=str(policy_raw.get("version") or ""),
            bundle_hash=str(policy_raw.get("hash") or ""),
        )
    flows, version, adjustments = _consideration(contract)
    return Trade(
        contract_id=str(contract.get("id") or ""),
        offer_id=offer_id,
        seller=seller,
        buyer=customer("buyerPlatform"),
        seller_ledger=ledger("sellerDiscom"),
        buyer_ledger=ledger("buyerDiscom"),
        source_type=str(res_attrs.get("type") or res_attrs.get("sourceType") or "SOLAR"),
        status=_status_code(contract.get("status")),
        policy=policy,
        columns=columns,
        revenue_flows=flows,
        resource_id=str(resource.get("id") or ""),
        settlement_version=version,
        adjustments=adjustments,
        market=str(attributes.get("marketMechanism") or ""),
    )


def _consideration(contract: dict[str, Any]) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """(settlement totals, their version, true-up adjustments) from `consideration[]`.

    An entry whose attributes carry `adjustment` holds a true-up's lines; every other entry's lines are
    the settlement totals (the devkit's examples have one entry of totals and no adjustments).
    """
    flows: list[dict[str, Any]] = []
    version = 0
    adjustments: list[dict[str, Any]] = []
    for item in contract.get("consideration") or []:
        attrs = _obj(_obj(item).get("considerationAttributes"))
        lines = [f for f in attrs.get("revenueFlows") or [] if isinstance(f, dict)]
        marker = _obj(attrs.get("adjustment"))
        if marker:
            number = marker.get("settlementVersion")
            if not isinstance(number, int) or isinstance(number, bool) or number < 2:
                raise SchemaValidationFailed(
                    "a settlement adjustment names the settlementVersion (≥ 2) it produces",
                    details={"path": "$.message.contract.consideration"},
                )
            adjustments.append({"version": number, "lines": lines})
            continue
        flows.extend(lines)
        if isinstance(attrs.get("settlementVersion"), int):
            version = int(attrs["settlementVersion"])
    return flows, version, sorted(adjustments, key=lambda a: int(a["version"]))
