"""Reference implementations of the P2P network policy and the regulator's rules.

The network edge evaluates the signed Rego bundles in `rego/`; these functions are the same rules in
Python, used by the engines themselves (a trade the policy would refuse is never proposed) and by the
tests that check both say the same thing on generated inputs. `*_input` builds the exact input document
the Rego entrypoints expect and `*_data` the bundle's data.json (settings are signed with the rules, so a
settings change is a new bundle version), so the two can never read different facts.

Each rule has a stable id (`Violation.rule`), the same in Python and Rego.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ies.errors import UsageError
from ies.usecases.p2p.market._units import BLOCK_SECONDS, Block, Wh, block_start

__all__ = [
    "CONTRACT_ROLES",
    "ContractFacts",
    "ContractInterval",
    "RegulatorSettings",
    "TradeRequestFacts",
    "Violation",
    "network_policy_data",
    "network_policy_input",
    "network_policy_violations",
    "regulator_input",
    "regulator_policy_data",
    "regulator_violations",
]

CONTRACT_ROLES = ("buyerPlatform", "sellerPlatform", "buyerDiscom", "sellerDiscom")
"""The four roles a DEG P2P contract binds (`DEGContract.roles[].role`)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: stable `rule` id, a sentence for people, and the facts that broke it."""

    rule: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "details": self.details}


@dataclass(frozen=True)
class ContractInterval:
    """The quantities of one contract interval in Wh; None where the lifecycle has not set them yet."""

    interval_id: int
    available_wh: Wh | None = None
    requested_wh: Wh | None = None
    buyer_alloc_wh: Wh | None = None
    seller_alloc_wh: Wh | None = None
    final_alloc_wh: Wh | None = None


@dataclass(frozen=True)
class ContractFacts:
    """What the network policy reads from a contract: role → participant id, and its intervals."""

    roles: Mapping[str, str]
    intervals: tuple[ContractInterval, ...]


@dataclass(frozen=True)
class RegulatorSettings:
    """Per-SERC settings (DERC P2P Guidelines 2024: 500 % and 8 blocks)."""

    max_traded_percent_of_sanctioned_load: int = 500
    gate_closure_blocks: int = 8

    def __post_init__(self) -> None:
        if self.max_traded_percent_of_sanctioned_load < 0 or self.gate_closure_blocks < 0:
            raise UsageError("regulator settings must not be negative")


@dataclass(frozen=True)
class TradeRequestFacts:
    """A prosumer's request to trade `requested_wh` in `block`, next to what it already trades there.

    `already_traded_wh` counts the prosumer's confirmed trades in the block, bought and sold alike
    (the cap is on traded power whatever its direction).
    """

    participant_id: str
    sanctioned_load_w: int
    block: Block
    requested_wh: Wh
    already_traded_wh: Wh
    requested_at: datetime


def network_policy_data(utility_allow_list: Iterable[str]) -> dict[str, Any]:
    """The data.json of a network policy bundle: the network's settings, signed with the policy."""
    return {
        "deg": {"network_settings": {"p2p_trading": {"utility_allow_list": sorted(set(utility_allow_list))}}}
    }


def network_policy_input(facts: ContractFacts) -> dict[str, Any]:
    """The input document of `data.deg.network.p2p_trading` (see rego/network/network.rego)."""
    return {
        "roles": [{"role": role, "participantId": pid} for role, pid in sorted(facts.roles.items())],
        "intervals": [
            {
                k: v
                for k, v in (
                    ("id", iv.interval_id),
                    ("available_wh", iv.available_wh),
                    ("requested_wh", iv.requested_wh),
                    ("buyer_alloc_wh", iv.buyer_alloc_wh),
                    ("seller_alloc_wh", iv.seller_alloc_wh),
                    ("final_alloc_wh", iv.final_alloc_wh),
                )
                if v is not None
            }
            for iv in facts.intervals
        ],
    }


def network_policy_violations(facts: ContractFacts, utility_allow_list: Iterable[str]) -> list[Violation]:
    """Every broken network rule, sorted by (rule, details) as the Rego policy sorts them."""
    allowed = set(utility_allow_list)
    out: list[Violation] = []
    for role in CONTRACT_ROLES:
        if not facts.roles.get(role):
            out.append(
                Violation("ROLE_UNBOUND", f"role {role} is not bound to a participant", {"role": role})
            )
    for role in ("buyerDiscom", "sellerDiscom"):
        pid = facts.roles.get(role)
        if pid and pid not in allowed:
            out.append(Violation(
                "UTILITY_NOT_ALLOWED", f"{role} {pid} is not on the utility allow-list",
                {"role": role, "participantId": pid},
            ))  # fmt: skip
    for iv in facts.intervals:
        if iv.requested_wh is not None and (iv.available_wh is None or iv.requested_wh > iv.available_wh):
            out.append(Violation(
                "REQUESTED_EXCEEDS_AVAILABLE",
                f"interval {iv.interval_id}: requested {iv.requested_wh} Wh > available {iv.available_wh} Wh",
                {"interval": iv.interval_id},
            ))  # fmt: skip
        if iv.final_alloc_wh is not None:
            sides = [v for v in (iv.buyer_alloc_wh, iv.seller_alloc_wh) if v is not None]
            if len(sides) < 2 or iv.final_alloc_wh > min(sides):
                out.append(Violation(
                    "FINAL_ALLOC_EXCEEDS_SIDES",
                    f"interval {iv.interval_id}: final allocation {iv.final_alloc_wh} Wh exceeds "
                    f"min(buyer {iv.buyer_alloc_wh}, seller {iv.seller_alloc_wh}) Wh",
                    {"interval": iv.interval_id},
                ))  # fmt: skip
    return sorted(out, key=_order)


def regulator_policy_data(settings: RegulatorSettings) -> dict[str, Any]:
    """The data.json of a regulator bundle: the SERC's settings, signed with the rules."""
    return {
        "ies": {
            "p2p_settings": {
                "regulator": {
                    "max_traded_percent_of_sanctioned_load": settings.max_traded_percent_of_sanctioned_load,
                    "gate_closure_blocks": settings.gate_closure_blocks,
                }
            }
        }
    }


def regulator_input(facts: TradeRequestFacts) -> dict[str, Any]:
    """The input document of `data.ies.p2p.regulator` (see rego/regulator/regulator.rego).

    Instants are whole seconds since the epoch: the rule compares integers, never parses dates. The
    request time is rounded up, so a request any fraction of a second past the gate is late.
    """
    if facts.requested_at.tzinfo is None or facts.requested_at.utcoffset() is None:
        raise UsageError("requested_at must be timezone-aware")
    return {
        "participant_id": facts.participant_id,
        "sanctioned_load_w": facts.sanctioned_load_w,
        "block_start_s": int(block_start(facts.block).timestamp()),
        "block_seconds": BLOCK_SECONDS,
        "requested_wh": facts.requested_wh,
        "already_traded_wh": facts.already_traded_wh,
        "requested_at_s": math.ceil(facts.requested_at.timestamp()),
    }


def regulator_violations(facts: TradeRequestFacts, settings: RegulatorSettings) -> list[Violation]:
    """The regulator's rules for one trade request.

    - TRADED_POWER_OVER_CAP: average power of everything the prosumer trades in the block
      (energy × 3600 / block seconds, in W) > cap % of sanctioned load. Compared as
      `(already + requested) × 3600 × 100 > cap × sanctioned_load_w × block_seconds`, integers only.
    - GATE_CLOSED: the request arrives later than `gate_closure_blocks` blocks before the block starts
      (at exactly the gate it is still on time). Later changes are deviations, not trades.
    """
    doc = regulator_input(facts)
    out: list[Violation] = []
    cap = settings.max_traded_percent_of_sanctioned_load
    traded = facts.already_traded_wh + facts.requested_wh
    if traded * 3600 * 100 > cap * facts.sanctioned_load_w * BLOCK_SECONDS:
        out.append(Violation(
            "TRADED_POWER_OVER_CAP",
            f"{facts.participant_id} would trade {traded} Wh in the block, above {cap} % of its "
            f"sanctioned load of {facts.sanctioned_load_w} W",
            {"traded_wh": traded, "sanctioned_load_w": facts.sanctioned_load_w, "cap_percent": cap},
        ))  # fmt: skip
    gate_s = doc["block_start_s"] - settings.gate_closure_blocks * BLOCK_SECONDS
    if doc["requested_at_s"] > gate_s:
        out.append(Violation(
            "GATE_CLOSED",
            f"gate closure for the block was {settings.gate_closure_blocks} blocks before its start",
            {"gate_closure_s": gate_s, "requested_at_s": doc["requested_at_s"]},
        ))  # fmt: skip
    return sorted(out, key=_order)


def _order(v: Violation) -> tuple[str, str]:
    return (v.rule, repr(sorted(v.details.items())))
