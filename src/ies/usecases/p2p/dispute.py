"""Checking a dispute bundle without trusting any party: signatures, actuals, allocation, settlement.

Steps (each finding names the step; nothing is taken from a node's summary that can be recomputed):
  (1) every message in the bundle verifies against its signer's registered Ed25519 key, and the signer
      is the sender its context names (bppId for callbacks, bapId for requests);
  (2) the contract — blocks, agreed prices, contracted quantities, pinned policy — is read from the
      on_confirm the platform signed and the ledger recorded;
  (3) metered actuals are read from the DISCOMs' signed answers to the ledgers' pulls (the latest per meter);
  (4) each side's allocation is recomputed with the market engine (the ledger's method, over every leg of
      that meter in those blocks) and FINAL_ALLOC = min of the two sides;
  (5) the pinned contract policy bundle verifies (its signature, and its hash is the one the contract
      pinned), and the settlement is recomputed under its charges; the flows must sum to zero and equal
      the revenue flows of the newest signed settlement;
  (6) true-ups: every signed adjustment takes the signed totals of the settlement before it exactly to
      the signed totals it announces, and each settlement the seller's ledger kept recomputes to its
      signed totals, each adjustment to the market engine's `settlement_adjustment` of the two.
Ex-post curtailment is read from the signed messages too (the largest cut each side's DISCOM announced
for a block): what is contracted, and so settled, is requested − curtailed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ies.errors import IESError, SchemaValidationFailed, UsageError
from ies.exchange.context import is_callback, normalise_context
from ies.exchange.signing import parse_authorization, verify_parsed
from ies.identity.keys import b64decode_strict
from ies.policy import load_bundle
from ies.usecases.p2p.contract import parse_contract
from ies.usecases.p2p.market import (
    AllocationMethod,
    Block,
    DiscomCharges,
    TradeLeg,
    TradeSettlement,
    allocate_side,
    settlement_adjustment,
)
from ies.usecases.p2p.settle import (
    adjustment_holds,
    lines_by_key,
    record_from_blocks,
    revenue_flows,
    settle,
    sum_paise,
)
from ies.usecases.p2p.timeseries import read_series

__all__ = ["DisputeReport", "verify_bundle"]


@dataclass
class DisputeReport:
    contract_id: str
    messages_verified: int = 0
    blocks: list[dict[str, Any]] = field(default_factory=list)
    recomputed_flows: list[dict[str, Any]] = field(default_factory=list)
    signed_flows: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, str] = field(default_factory=dict)
    true_ups: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "ok": self.ok,
            "messages_verified": self.messages_verified,
            "policy": self.policy,
            "blocks": self.blocks,
            "recomputed_flows": self.recomputed_flows,
            "signed_flows": self.signed_flows,
            "true_ups": self.true_ups,
            "findings": self.findings,
        }


def _messages(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for part in bundle.get("parts") or []:
        for m in part.get("messages") or []:
            seen.setdefault(str(m.get("authorization")), {**m, "holder": part.get("node")})
    return list(seen.values())


def _check_signatures(bundle: Mapping[str, Any], report: DisputeReport) -> list[dict[str, Any]]:
    """(1) Keep only messages whose signature and sender verify; report the others."""
    keys: Mapping[str, Mapping[str, str]] = bundle.get("keys") or {}
    good = []
    for m in _messages(bundle):
        raw = str(m.get("body", "")).encode("utf-8")
        try:
            parsed = parse_authorization(str(m.get("authorization")))
            public = keys.get(parsed.subscriber_id, {}).get(parsed.key_id)
            if public is None:
                raise UsageError(f"no registered key {parsed.key_id} of {parsed.subscriber_id} in the bundle")
            verify_parsed(parsed, raw, b64decode_strict(public, lengths=(32,)))
            body = orjson.loads(raw)
            ctx = normalise_context(body.get("context") or {})
            action = str(ctx.get("action", ""))
            sender = ctx.get("bppId") if is_callback(action) else ctx.get("bapId")
            if sender != parsed.subscriber_id:
                raise UsageError(f"signed by {parsed.subscriber_id}, but the context names {sender}")
        except (IESError, orjson.JSONDecodeError) as err:
            report.findings.append(f"(1) a {m.get('action')} message held by {m.get('holder')}: {err}")
            continue
        good.append({**m, "parsed": body, "signer": parsed.subscriber_id, "action": action})
    report.messages_verified = len(good)
    return good


def _actuals(messages: list[dict[str, Any]], meters: set[str]) -> dict[str, dict[Block, int]]:
    """(3) Net consumption per meter and block from the DISCOMs' signed answers (latest answer wins)."""
    out: dict[str, dict[Block, int]] = {}
    answers = sorted(
        (m for m in messages if m["action"] == "on_status"), key=lambda m: m.get("received_at", "")
    )
    for m in answers:
        for commitment in (m["parsed"].get("message", {}).get("contract") or {}).get("commitments") or []:
            for resource in commitment.get("resources") or []:
                for series in (resource.get("resourceAttributes") or {}).get("dataPayload") or []:
                    meter = series.get("resourceName") if isinstance(series, dict) else None
                    if meter in meters:
                        column = read_series(series).get("ENERGY_CONSUMPTION", {})
                        out[str(meter)] = {b: int(v) for b, v in column.items()}
    return out


def _legs(bundle: Mapping[str, Any], meter: str, side: str, blocks: list[Block]) -> list[TradeLeg]:
    legs: dict[tuple[str, Block], TradeLeg] = {}
    for part in bundle.get("parts") or []:
        for leg in part.get("allocation_context") or []:
            if leg.get(f"{side}_meter") != meter or int(leg["block"]) not in blocks:
                continue
            if leg.get("status") not in ("ACTIVE", "COMPLETE"):
                continue
            key = (str(leg["contract_id"]), int(leg["block"]))
            legs[key] = TradeLeg(
                key[0],
                meter,
                key[1],
                int(leg["contracted_wh"]),
                datetime.fromisoformat(str(leg["traded_at"])),
            )
    return list(legs.values())


def verify_bundle(bundle: Mapping[str, Any]) -> DisputeReport:
    contract_id = str(bundle.get("contract_id") or "")
    if not contract_id or not isinstance(bundle.get("parts"), list):
        raise SchemaValidationFailed("not a P2P evidence bundle: contract_id and parts are required")
    report = DisputeReport(contract_id)
    messages = _check_signatures(bundle, report)
    # (2) the contract as the platform signed it
    confirms = [
        m
        for m in messages
        if m["action"] == "on_confirm"
        and (m["parsed"].get("message", {}).get("contract") or {}).get("id") == contract_id
    ]
    if not confirms:
        report.findings.append("(2) no signed on_confirm of this contract in the bundle")
        return report
    trade = parse_contract(confirms[0]["parsed"]["message"]["contract"])
    if trade.buyer is None:
        report.findings.append("(2) the confirmed contract names no buyer")
        return report
    requested, prices = trade.column("REQUESTED_QTY"), trade.column("PRICE_PER_KWH")
    blocks = sorted(requested)
    about = [
        parse_contract(m["parsed"]["message"]["contract"])
        for m in messages
        if (m["parsed"].get("message", {}).get("contract") or {}).get("id") == contract_id
    ]
    curtailed = _curtailment(about)
    policy = trade.policy
    report.policy = (
        {"name": policy.name, "version": policy.version, "hash": policy.bundle_hash} if policy else {}
    )
    # (3) actuals
    actuals = _actuals(messages, {trade.seller.meter_id, trade.buyer.meter_id})
    # (4) allocation, per side, with each ledger's method
    methods = {
        p.get("utility_id"): p.get("allocation", "pro_rata")
        for p in bundle["parts"]
        if p.get("role") == "ledger"
    }
    side_alloc: dict[str, dict[Block, int]] = {}
    for side, party in (("seller", trade.seller), ("buyer", trade.buyer)):
        if party.meter_id not in actuals:
            report.findings.append(f"(3) no signed meter data for the {side}'s meter {party.meter_id}")
            return report
        metered = {
            (party.meter_id, b): max(-v, 0) if side == "seller" else max(v, 0)
            for b, v in actuals[party.meter_id].items()
        }
        method = (
            AllocationMethod.FIFO if methods.get(party.utility_id) == "fifo" else AllocationMethod.PRO_RATA
        )
        legs = _legs(bundle, party.meter_id, side, blocks)
        if not any(leg.trade_id == contract_id for leg in legs):
            report.findings.append(f"(4) the {side}'s ledger context does not hold this trade")
            return report
        shares = allocate_side(legs, metered, method)
        side_alloc[side] = {b: shares[(contract_id, b)] for b in blocks}
    for b in blocks:
        report.blocks.append(
            {
                "block": b,
                "price_paise_per_kwh": prices.get(b, 0),
                "requested_wh": requested[b],
                "curtailed_wh": curtailed.get(b, 0),
                "buyer_alloc_wh": side_alloc["buyer"][b],
                "seller_alloc_wh": side_alloc["seller"][b],
                "final_alloc_wh": min(side_alloc["buyer"][b], side_alloc["seller"][b]),
            }
        )
    for part in bundle["parts"]:
        recorded = {
            int(b["block"]): b.get("final_alloc_wh") for b in (part.get("trade") or {}).get("blocks", [])
        }
        mine = {b["block"]: b["final_alloc_wh"] for b in report.blocks}
        if recorded and any(v is not None for v in recorded.values()) and recorded != mine:
            report.findings.append(
                f"(4) {part.get('node')} recorded FINAL_ALLOC {recorded}, recomputed {mine}"
            )
    # (5) the policy and the settlement
    tariffs = _tariffs(bundle, report)
    if tariffs is None:
        return report
    record = record_from_blocks(
        contract_id,
        buyer_id=trade.buyer.participant_id,
        seller_id=trade.seller.participant_id,
        buyer_utility=trade.buyer.utility_id,
        seller_utility=trade.seller.utility_id,
        blocks=report.blocks,
    )
    report.recomputed_flows = revenue_flows(settle(record, tariffs))
    if sum_paise(report.recomputed_flows) != 0:
        report.findings.append("(5) the recomputed flows do not sum to zero")
    carrying = [
        (t.settlement_version, m.get("received_at", ""), t, m["signer"])
        for m, t in zip(
            (
                m
                for m in messages
                if (m["parsed"].get("message", {}).get("contract") or {}).get("id") == contract_id
            ),
            about,
            strict=True,
        )
        if t.revenue_flows
    ]
    if carrying:
        _, _, newest, signer = max(carrying, key=lambda c: (c[0], c[1]))
        report.signed_flows = newest.revenue_flows
        if report.signed_flows != report.recomputed_flows:
            report.findings.append(
                f"(5) the signed revenue flows (by {signer}) differ from the recomputation"
            )
    else:
        report.findings.append("(5) no signed message carries this trade's revenue flows")
    _check_true_ups(bundle, [c[2] for c in carrying], tariffs, trade, report)
    return report


def _curtailment(about: list[Any]) -> dict[Block, int]:
    """Per block, the largest cut either side's DISCOM announced in a signed message (cuts only grow)."""
    out: dict[Block, int] = {}
    for t in about:
        for column in ("SELLER_DISCOM_CURTAILED", "BUYER_DISCOM_CURTAILED"):
            for block, wh in t.column(column).items():
                out[block] = max(out.get(block, 0), wh)
    return out


def _check_true_ups(
    bundle: Mapping[str, Any],
    signed: list[Any],
    tariffs: dict[str, DiscomCharges],
    trade: Any,
    report: DisputeReport,
) -> None:
    """(6) Each signed adjustment bridges the signed totals around it; the ledger's kept settlements
    recompute to those totals, and each adjustment to the engine's difference between them."""
    totals: dict[int, list[dict[str, Any]]] = {}
    adjustments: dict[int, list[dict[str, Any]]] = {}
    for t in signed:
        if t.settlement_version:
            held = totals.setdefault(t.settlement_version, t.revenue_flows)
            if lines_by_key(held) != lines_by_key(t.revenue_flows):
                report.findings.append(
                    f"(6) two different signed totals for settlement {t.settlement_version}"
                )
        for a in t.adjustments:
            adjustments.setdefault(int(a["version"]), a["lines"])
    for version, lines in sorted(adjustments.items()):
        holds = version - 1 in totals and version in totals
        holds = holds and adjustment_holds(totals[version - 1], lines, totals[version])
        report.true_ups.append({"version": version, "lines": lines, "bridges_signed_totals": holds})
        if not holds:
            report.findings.append(
                f"(6) adjustment {version} does not take signed settlement {version - 1} to {version}"
            )
    kept = next((p.get("settlements") for p in bundle.get("parts") or [] if p.get("settlements")), None) or []
    recomputed: dict[int, TradeSettlement] = {}
    for entry in kept:
        version = int(entry["version"])
        try:
            record = record_from_blocks(
                report.contract_id,
                buyer_id=trade.buyer.participant_id,
                seller_id=trade.seller.participant_id,
                buyer_utility=trade.buyer.utility_id,
                seller_utility=trade.seller.utility_id,
                blocks=entry["blocks"],
            )
            recomputed[version] = settle(record, tariffs)
        except (IESError, KeyError, TypeError, ValueError) as err:
            report.findings.append(f"(6) settlement {version} as the ledger kept it cannot be settled: {err}")
            continue
        if version in totals and lines_by_key(revenue_flows(recomputed[version])) != lines_by_key(
            totals[version]
        ):
            report.findings.append(f"(6) settlement {version} as the ledger kept it does not recompute")
        if version - 1 in recomputed and version in adjustments:
            engine = revenue_flows(settlement_adjustment(recomputed[version - 1], recomputed[version]))
            if lines_by_key(engine) != lines_by_key(adjustments[version]):
                report.findings.append(f"(6) adjustment {version} is not the engine's settlement_adjustment")


def _tariffs(bundle: Mapping[str, Any], report: DisputeReport) -> dict[str, DiscomCharges] | None:
    pinned = bundle.get("policy_bundle") or {}
    try:
        archive = base64.b64decode(str(pinned.get("archive_b64", "")), validate=True)
        trusted = [str(pinned.get("publisher_key", ""))]
        verified = load_bundle(archive, trusted)
    except (IESError, ValueError) as err:
        report.findings.append(f"(5) the contract policy bundle does not verify: {err}")
        return None
    if report.policy and verified.hash != report.policy.get("hash"):
        report.findings.append("(5) the bundle in the evidence is not the version the contract pinned")
        return None
    data = verified.data.get("deg", {}).get("contract_settings", {}).get("p2p_trading", {}).get("charges", {})
    base = {"import_tariff_paise_per_kwh": 0, "export_rate_paise_per_kwh": 0}
    return {
        u: DiscomCharges(discom_id=u, **{**base, **{k: int(v) for k, v in rates.items()}})
        for u, rates in data.items()
    }
