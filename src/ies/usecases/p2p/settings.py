"""A node's P2P settings (`[node.settings.p2p]` in its config), checked once at start-up.

Why peers are named by subscriber id rather than URL: a sandbox assigns ports when it starts the nodes,
and a real network moves hosts; the registry is where a subscriber's URL lives (`ies.usecases.p2p.peers`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ies.errors import UsageError
from ies.usecases.p2p.market import DiscomCharges

__all__ = ["Charges", "P2PSettings", "load_settings"]

Role = Literal["tp", "ledger", "discom", "aggregator"]


class Charges(BaseModel):
    """A DISCOM's regulated rates on P2P trades (paise per kWh; losses in basis points), from its tariff
    order; public, so every ledger provider holds every DISCOM's (the seller side settles inter-DISCOM
    trades with both)."""

    model_config = ConfigDict(extra="forbid")

    wheeling_paise_per_kwh: int = Field(50, ge=0, le=100_000)
    cross_subsidy_paise_per_kwh: int = Field(30, ge=0, le=100_000)
    loss_basis_points: int = Field(300, ge=0, le=10_000)
    deviation_paise_per_kwh: int = Field(400, ge=0, le=100_000)
    import_tariff_paise_per_kwh: int = Field(800, ge=0, le=100_000)
    export_rate_paise_per_kwh: int = Field(300, ge=0, le=100_000)
    fixed_charge_paise_per_month: int = Field(0, ge=0, le=10_000_000)

    def for_discom(self, utility_id: str) -> DiscomCharges:
        return DiscomCharges(discom_id=utility_id, **self.model_dump())


class P2PSettings(BaseModel):
    """Everything a P2P node needs to know about its place in the network."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    #: tp: the ledger provider of each DISCOM whose customers it serves (discom id → LP subscriber id)
    ledgers: dict[str, str] = Field(default_factory=dict)
    #: tp: DISCOMs whose onboarding records it accepts (discom id → DISCOM node subscriber id)
    discoms: dict[str, str] = Field(default_factory=dict)
    #: ledger / discom: the utility id of the DISCOM (e.g. "NORTH-DL")
    utility_id: str | None = None
    #: ledger: the DISCOM node it pulls meter data and the feeder model from
    discom: str | None = None
    #: discom: its ledger provider (named in onboarding records so TPs know where to record)
    ledger: str | None = None
    allocation: Literal["pro_rata", "fifo"] = "pro_rata"
    #: ledger: infeasible trades are refused at init, or accepted and curtailed ex post (operator's choice)
    feasibility: Literal["refuse", "curtail"] = "refuse"
    #: tp: how its buyers' bids meet the offers — price-time matching against each offer (bilateral), or
    #: a uniform-price call auction per block and DISCOM (the retail local energy exchange)
    market: Literal["bilateral", "auction"] = "bilateral"
    #: aggregator: the trading platform it trades through for its prosumers
    platform: str | None = None
    voltage_min_pu: float = Field(0.94, gt=0.5, lt=1.0)
    voltage_max_pu: float = Field(1.06, gt=1.0, lt=1.5)
    max_loading_percent: float = Field(100.0, gt=0, le=300)
    #: ledger: every DISCOM's charges by utility id; discom: its own tariff (bills), by its utility id
    tariffs: dict[str, Charges] = Field(default_factory=dict)
    #: signed Rego bundles this node evaluates (paths) and the publisher keys it trusts (base64 Ed25519)
    policy_bundles: list[str] = Field(default_factory=list)
    policy_trusted_keys: list[str] = Field(default_factory=list)
    #: discom: its sandbox grid (created in its asset registry at start if absent) and meter-data seed
    feeders: int = Field(2, ge=1, le=50)
    transformers_per_feeder: int = Field(4, ge=1, le=100)
    transformer_kva: int = Field(250, ge=1, le=100_000)
    meter_seed: int = 7
    ledger_timeout_s: float = Field(30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _role_needs(self) -> P2PSettings:
        if self.role in ("ledger", "discom") and not self.utility_id:
            raise ValueError(f"a {self.role} node needs utility_id")
        if self.role == "ledger" and not self.discom:
            raise ValueError("a ledger node needs discom (the DISCOM node's subscriber id)")
        if self.role in ("ledger", "discom") and self.utility_id not in self.tariffs:
            self.tariffs[str(self.utility_id)] = Charges.model_validate({})
        if self.role == "aggregator" and not self.platform:
            raise ValueError("an aggregator node needs platform (its trading platform's subscriber id)")
        if self.role == "tp" and not self.ledgers:
            raise ValueError("a tp node needs ledgers (DISCOM utility id → ledger subscriber id)")
        return self


def load_settings(raw: dict[str, Any] | None) -> P2PSettings:
    """Validate `settings["p2p"]`; a mistake stops the node at start with the field named."""
    try:
        return P2PSettings.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "p2p"
        raise UsageError(f"settings.p2p.{where}: {first['msg']}") from None
