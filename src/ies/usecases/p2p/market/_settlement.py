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

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ies.errors import InternalError, UsageError
from ies.usecases.p2p.market._units import Block, Paise, PaisePerKWh, Wh, energy_value_paise

__all__ = [
    "DiscomCharges",
    "FlowKind",
    "MoneyFlow",
    "SettlementPolicy",
    "TradeBlock",
    "TradeRecord",
    "TradeSettlement",
    "contract_policy_data",
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
            self.wheeling_paise_per_kwh,
            self.cross_subsidy_paise_per_kwh,
            self.loss_basis_points,
            self.deviation_paise_per_kwh,
            self.import_tariff_paise_per_kwh,
            self.export_rate_paise_per_kwh,
            self.fixed_charge_paise_per_month,
        )
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
    policy = policy or SettlementPolicy()
    _check_trade(trade, charges)
    buyer_discom, seller_discom = charges[trade.buyer_discom_id], charges[trade.seller_discom_id]
    carriers = [(seller_discom, "sellerDiscom")]
    if trade.buyer_discom_id != trade.seller_discom_id:
        carriers.append((buyer_discom, "buyerDiscom"))
    parties = {"BUYER": (trade.buyer_id, "buyer"), "SELLER": (trade.seller_id, "seller")}
    flows: list[MoneyFlow] = []

    def line(
        block: Block,
        kind: FlowKind,
        payer: tuple[str, str],
        payee: tuple[str, str],
        energy_wh: Wh,
        rate: int,
        per: int = 1000,
    ) -> None:
        if energy_wh > 0:
            amount = energy_value_paise(energy_wh, rate, per=per)
            flows.append(MoneyFlow(trade.trade_id, block, kind, *payer, *payee, energy_wh, rate, amount))

    for tb in sorted(trade.blocks, key=lambda b: b.block):
        final, price = tb.final_alloc_wh, tb.price_paise_per_kwh
        line(tb.block, FlowKind.ENERGY, parties["BUYER"], parties["SELLER"], final, price)
        for discom, role in carriers:
            payee = (discom.discom_id, role)
            line(
                tb.block,
                FlowKind.WHEELING,
                parties[policy.wheeling_payer],
                payee,
                final,
                discom.wheeling_paise_per_kwh,
            )
        line(
            tb.block,
            FlowKind.CROSS_SUBSIDY,
            parties[policy.cross_subsidy_payer],
            (buyer_discom.discom_id, "buyerDiscom"),
            final,
            buyer_discom.cross_subsidy_paise_per_kwh,
        )
        for discom, role in carriers:
            line(
                tb.block,
                FlowKind.LOSSES,
                parties[policy.loss_payer],
                (discom.discom_id, role),
                final,
                price * discom.loss_basis_points,
                per=1000 * LOSS_BASIS,
            )
        line(
            tb.block,
            FlowKind.UNDER_DELIVERY,
            parties["SELLER"],
            (seller_discom.discom_id, "sellerDiscom"),
            tb.contracted_wh - tb.seller_alloc_wh,
            seller_discom.deviation_paise_per_kwh,
        )
        line(
            tb.block,
            FlowKind.UNDER_CONSUMPTION,
            parties["BUYER"],
            (buyer_discom.discom_id, "buyerDiscom"),
            tb.contracted_wh - tb.buyer_alloc_wh,
            buyer_discom.deviation_paise_per_kwh,
        )
    return _settlement(trade.trade_id, flows)


def _check_trade(trade: TradeRecord, charges: Mapping[str, DiscomCharges]) -> None:
    for discom_id in (trade.buyer_discom_id, trade.seller_discom_id):
        if discom_id not in charges:
            raise UsageError(f"trade {trade.trade_id}: no charges known for DISCOM {discom_id!r}")
    if len({tb.block for tb in trade.blocks}) != len(trade.blocks):
        raise UsageError(f"trade {trade.trade_id}: a block appears twice")
    if trade.buyer_id == trade.seller_id:
        raise UsageError(f"trade {trade.trade_id}: buyer and seller are the same party")
    for tb in trade.blocks:
        values = (tb.contracted_wh, tb.price_paise_per_kwh, tb.buyer_alloc_wh, tb.seller_alloc_wh)
        if min(values) < 0:
            raise UsageError(f"trade {trade.trade_id} block {tb.block}: negative quantity or price")
        if max(tb.buyer_alloc_wh, tb.seller_alloc_wh) > tb.contracted_wh:
            raise UsageError(
                f"trade {trade.trade_id} block {tb.block}: an allocation exceeds the contracted "
                f"{tb.contracted_wh} Wh (buyer {tb.buyer_alloc_wh}, seller {tb.seller_alloc_wh})"
            )


def _settlement(trade_id: str, flows: Iterable[MoneyFlow]) -> TradeSettlement:
    """Wrap flows, computing the nets and checking they sum to zero."""
    flows = tuple(flows)
    by_party: dict[str, int] = defaultdict(int)
    by_role: dict[str, int] = defaultdict(int)
    for f in flows:
        by_party[f.payer_id] -= f.amount_paise
        by_party[f.payee_id] += f.amount_paise
        by_role[f.payer_role] -= f.amount_paise
        by_role[f.payee_role] += f.amount_paise
    if sum(by_party.values()) or any(f.amount_paise < 0 for f in flows):  # pragma: no cover - structural
        raise InternalError(f"trade {trade_id}: flows do not sum to zero")
    return TradeSettlement(trade_id, flows, dict(by_party), dict(by_role))


def settlement_adjustment(previous: TradeSettlement, current: TradeSettlement) -> TradeSettlement:
    """What to pay on top of `previous` to reach `current` (a true-up): per line, current − previous.

    Lines are matched on (block, kind, payer, payee); a negative difference becomes a flow in the
    opposite direction, so the adjustment is itself a set of non-negative transfers summing to zero, and
    previous + adjustment nets to exactly current for every party.
    """
    if previous.trade_id != current.trade_id:
        raise UsageError(f"cannot adjust trade {previous.trade_id} by trade {current.trade_id}")
    Key = tuple[Block, FlowKind, str, str, str, str]
    amounts: dict[Key, list[int]] = {}
    for sign, settlement in ((-1, previous), (1, current)):
        for f in settlement.flows:
            key = (f.block, f.kind, f.payer_id, f.payer_role, f.payee_id, f.payee_role)
            entry = amounts.setdefault(key, [0, 0, f.rate])
            entry[0] += sign * f.amount_paise
            entry[1] += sign * f.energy_wh
            if sign > 0:
                entry[2] = f.rate
    flows = []
    for (block, kind, payer, payer_role, payee, payee_role), (amount, energy, rate) in sorted(
        amounts.items()
    ):
        if amount == 0 and energy == 0:
            continue
        if amount > 0 or (amount == 0 and energy > 0):
            flows.append(
                MoneyFlow(
                    current.trade_id,
                    block,
                    kind,
                    payer,
                    payer_role,
                    payee,
                    payee_role,
                    abs(energy),
                    rate,
                    amount,
                )
            )
        else:
            flows.append(
                MoneyFlow(
                    current.trade_id,
                    block,
                    kind,
                    payee,
                    payee_role,
                    payer,
                    payer_role,
                    abs(energy),
                    rate,
                    -amount,
                )
            )
    return _settlement(current.trade_id, flows)


def contract_policy_input(trade: TradeRecord) -> dict[str, Any]:
    """The input document of `data.deg.contracts.p2p_trading` (rego/contract/contract.rego)."""
    return {
        "trade": {
            "trade_id": trade.trade_id,
            "buyer_id": trade.buyer_id,
            "seller_id": trade.seller_id,
            "buyer_discom_id": trade.buyer_discom_id,
            "seller_discom_id": trade.seller_discom_id,
            "blocks": [
                {
                    "block": tb.block,
                    "contracted_wh": tb.contracted_wh,
                    "price_paise_per_kwh": tb.price_paise_per_kwh,
                    "buyer_alloc_wh": tb.buyer_alloc_wh,
                    "seller_alloc_wh": tb.seller_alloc_wh,
                }
                for tb in sorted(trade.blocks, key=lambda b: b.block)
            ],
        }
    }


def contract_policy_data(
    charges: Iterable[DiscomCharges], policy: SettlementPolicy | None = None
) -> dict[str, Any]:
    """The data.json of a contract policy bundle: every DISCOM's rates and who pays which charge.

    Rates live in the signed bundle, not in the input: a tariff change is a new bundle version, and a
    contract keeps the version it was made under.
    """
    policy = policy or SettlementPolicy()
    return {
        "deg": {
            "contract_settings": {
                "p2p_trading": {
                    "charges": {
                        c.discom_id: {
                            "wheeling_paise_per_kwh": c.wheeling_paise_per_kwh,
                            "cross_subsidy_paise_per_kwh": c.cross_subsidy_paise_per_kwh,
                            "loss_basis_points": c.loss_basis_points,
                            "deviation_paise_per_kwh": c.deviation_paise_per_kwh,
                        }
                        for c in sorted(charges, key=lambda c: c.discom_id)
                    },
                    "policy": {
                        "wheeling_payer": policy.wheeling_payer,
                        "cross_subsidy_payer": policy.cross_subsidy_payer,
                        "loss_payer": policy.loss_payer,
                    },
                }
            }
        }
    }
