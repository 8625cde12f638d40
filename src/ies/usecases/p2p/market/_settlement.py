"""Settlement with charge coherence: every trade's money flows, unbundled and summing to zero.

Seed §12.5.1: a P2P trade must pay for energy and for the network separately, so the DISCOM is not
bypassed. For each trade and block, with F = FINAL_ALLOC, C = contracted, A_b / A_s = the buyer- and
seller-side allocations, P = the agreed price:

    flow              Wh           rate                          payer → payee
    ENERGY            F            P                             buyer → seller
    WHEELING          F            wheeling rate of each DISCOM  policy payer (buyer) → that DISCOM
                                   whose network carries it (one DISCOM intra, both inter)
    CROSS_SUBSIDY     F            buyer DISCOM's CSS rate       policy payer (buyer) → buyer DISCOM
    LOSSES            F            P × loss basis points of      policy payer (seller) → that DISCOM
                                   each DISCOM carrying it
    UNDER_DELIVERY    C − A_s      seller DISCOM's deviation     seller → seller DISCOM
    UNDER_CONSUMPTION C − A_b      buyer DISCOM's deviation      buyer → buyer DISCOM

UNDER_DELIVERY is the seller injecting less than it sold; UNDER_CONSUMPTION the buyer taking less than
it bought. A buyer's consumption beyond its trades (over-consumption relative to its schedule) and a
seller's injection beyond its trades are ordinary import and export, billed by the DISCOM at tariff in
the monthly bill (see `_billing`), which is where the energy they replace is paid for.

Rounding: each line (trade, block, kind, payee) is rounded half up to a whole paisa on its own
(`energy_value_paise`), and a line is a transfer of a non-negative amount from one party to another, so
every trade's flows sum to zero by construction, and nothing is created or lost when lines are summed
into statements and bills. The Rego contract policy computes the same lines the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ies.errors import UsageError
from ies.usecases.p2p.market._units import Block, Paise, PaisePerKWh, Wh

__all__ = [
    "DiscomCharges",
    "FlowKind",
    "MoneyFlow",
    "SettlementPolicy",
    "TradeBlock",
    "TradeRecord",
    "TradeSettlement",
    "contract_policy_input",
    "settle_trade",
    "settlement_adjustment",
]

Payer = Literal["BUYER", "SELLER"]
LOSS_BASIS = 10_000
"""Loss factors are in basis points: 350 is 3.5 %."""


class FlowKind(StrEnum):
    ENERGY = "ENERGY"
    WHEELING = "WHEELING"
    CROSS_SUBSIDY = "CROSS_SUBSIDY"
    LOSSES = "LOSSES"
    UNDER_DELIVERY = "UNDER_DELIVERY"
    UNDER_CONSUMPTION = "UNDER_CONSUMPTION"


@dataclass(frozen=True)
class DiscomCharges:
    """A DISCOM's regulated rates (paise/kWh unless named otherwise), from its tariff order."""

    discom_id: str
    wheeling_paise_per_kwh: PaisePerKWh
    cross_subsidy_paise_per_kwh: PaisePerKWh
    loss_basis_points: int
    deviation_paise_per_kwh: PaisePerKWh
    import_tariff_paise_per_kwh: PaisePerKWh
    export_rate_paise_per_kwh: PaisePerKWh
    fixed_charge_paise_per_month: Paise = 0

    def __post_init__(self) -> None:
        rates = (
            self.wheeling_paise_per_kwh, self.cross_subsidy_paise_per_kwh, self.loss_basis_points,
            self.deviation_paise_per_kwh, self.import_tariff_paise_per_kwh, self.export_rate_paise_per_kwh,
            self.fixed_charge_paise_per_month,
        )  # fmt: skip
        if not self.discom_id or any(r < 0 for r in rates):
            raise UsageError(
                f"charges of {self.discom_id!r}: a DISCOM id and non-negative rates are required"
            )
        if self.loss_basis_points > LOSS_BASIS:
            raise UsageError(
                f"charges of {self.discom_id}: loss of {self.loss_basis_points} bp exceeds 100 %"
            )


@dataclass(frozen=True)
class SettlementPolicy:
    """Who pays the network charges (the seller DISCOM's contract policy; defaults per decisions.md)."""

    wheeling_payer: Payer = "BUYER"
    cross_subsidy_payer: Payer = "BUYER"
    loss_payer: Payer = "SELLER"


@dataclass(frozen=True, slots=True)
class TradeBlock:
    """One block of a trade: contracted Wh, agreed price, and the two sides' allocations of actuals."""

    block: Block
    contracted_wh: Wh
    price_paise_per_kwh: PaisePerKWh
    buyer_alloc_wh: Wh
    seller_alloc_wh: Wh

    @property
    def final_alloc_wh(self) -> Wh:
        return min(self.buyer_alloc_wh, self.seller_alloc_wh)


@dataclass(frozen=True)
class TradeRecord:
    """A confirmed trade ready to settle."""

    trade_id: str
    buyer_id: str
    seller_id: str
    buyer_discom_id: str
    seller_discom_id: str
    blocks: tuple[TradeBlock, ...]


@dataclass(frozen=True, slots=True)
class MoneyFlow:
    """`amount_paise` (≥ 0) from `payer_id` to `payee_id` for `energy_wh` at `rate`.

    `rate` is paise/kWh, except LOSSES where it is price × loss basis points (divided by 10⁷).
    Roles are DEG contract roles: buyer/seller for customers, buyerDiscom/sellerDiscom for DISCOMs.
    """

    trade_id: str
    block: Block
    kind: FlowKind
    payer_id: str
    payer_role: str
    payee_id: str
    payee_role: str
    energy_wh: Wh
    rate: int
    amount_paise: Paise


@dataclass(frozen=True)
class TradeSettlement:
    """All money flows of one trade; `net_by_party` sums to zero (tested, and checked on construction)."""

    trade_id: str
    flows: tuple[MoneyFlow, ...]
    net_by_party: dict[str, Paise] = field(default_factory=dict)
    net_by_role: dict[str, Paise] = field(default_factory=dict)

    def total(self, kind: FlowKind) -> Paise:
        return sum(f.amount_paise for f in self.flows if f.kind is kind)


def settle_trade(
    trade: TradeRecord, charges: Mapping[str, DiscomCharges], policy: SettlementPolicy | None = None
) -> TradeSettlement:
    """The flows of one trade under the table in the module docstring."""
    raise NotImplementedError


def settlement_adjustment(previous: TradeSettlement, current: TradeSettlement) -> TradeSettlement:
    """What to pay on top of `previous` to reach `current` (a true-up): per line, current − previous.

    A negative difference becomes a flow in the opposite direction, so the adjustment is itself a set of
    non-negative transfers that sums to zero per trade.
    """
    raise NotImplementedError


def contract_policy_input(
    trade: TradeRecord, charges: Mapping[str, DiscomCharges], policy: SettlementPolicy | None = None
) -> dict[str, Any]:
    """The input document of `data.deg.contracts.p2p_trading` (rego/contract/contract.rego)."""
    raise NotImplementedError
