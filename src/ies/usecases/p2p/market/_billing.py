"""The DISCOM's monthly bill of a prosumer, and per-participant settlement statements.

Charge coherence on the bill: traded volume is settled between the parties, so the DISCOM bills only
what it supplied (import − energy bought by trades) and credits only what it took (export − energy sold
by trades), then adds the network charges and deviations the prosumer owes it from its trades' flows.
Each bill line is rounded half up once, on the month's Wh total (not per block), and the bill total is the
sum of its lines.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from ies.errors import UsageError
from ies.usecases.p2p.market._settlement import DiscomCharges, FlowKind, TradeSettlement
from ies.usecases.p2p.market._units import Block, Paise, Wh, energy_value_paise

__all__ = [
    "Bill",
    "BillLine",
    "BillLineKind",
    "MeteredBlock",
    "StatementRow",
    "monthly_bill",
    "settlement_statement",
    "statement_csv",
]


class BillLineKind(StrEnum):
    IMPORT = "IMPORT"
    EXPORT_CREDIT = "EXPORT_CREDIT"
    FIXED = "FIXED"
    WHEELING = "WHEELING"
    CROSS_SUBSIDY = "CROSS_SUBSIDY"
    LOSSES = "LOSSES"
    UNDER_DELIVERY = "UNDER_DELIVERY"
    UNDER_CONSUMPTION = "UNDER_CONSUMPTION"


@dataclass(frozen=True, slots=True)
class MeteredBlock:
    """A prosumer's metered import and export in one block (validated meter data)."""

    block: Block
    import_wh: Wh
    export_wh: Wh


@dataclass(frozen=True, slots=True)
class BillLine:
    """One bill line; `amount_paise` > 0 is owed to the DISCOM, < 0 is a credit to the prosumer."""

    kind: BillLineKind
    energy_wh: Wh
    rate_paise_per_kwh: int
    amount_paise: Paise
    description: str


@dataclass(frozen=True)
class Bill:
    participant_id: str
    discom_id: str
    lines: tuple[BillLine, ...]
    traded_import_wh: Wh
    traded_export_wh: Wh

    @property
    def total_paise(self) -> Paise:
        return sum(line.amount_paise for line in self.lines)


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One row of a participant's settlement statement (a flow seen from that participant)."""

    participant_id: str
    trade_id: str
    block: Block
    kind: str
    counterparty_id: str
    energy_wh: Wh
    rate: int
    amount_paise: Paise  # + received, − paid

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def monthly_bill(
    participant_id: str,
    charges: DiscomCharges,
    metered: Sequence[MeteredBlock],
    settlements: Iterable[TradeSettlement],
) -> Bill:
    """The bill for one prosumer of the DISCOM `charges.discom_id` over the metered blocks given.

    Traded volumes come from the settlements' ENERGY flows (FINAL_ALLOC bought and sold per block); the
    charges are the flows between the prosumer and this DISCOM (positive when the prosumer pays, negative
    for a true-up refund). Refuses (UsageError) traded volume in a block above the metered import or export
    there, or in a block without meter data: allocation never produces either.
    """
    settlements = list(settlements)
    bought: dict[Block, Wh] = defaultdict(int)
    sold: dict[Block, Wh] = defaultdict(int)
    charge_wh: dict[BillLineKind, Wh] = defaultdict(int)
    charge_paise: dict[BillLineKind, Paise] = defaultdict(int)
    for settlement in settlements:
        for f in settlement.flows:
            if f.kind is FlowKind.ENERGY:
                if f.payer_id == participant_id:
                    bought[f.block] += f.energy_wh
                if f.payee_id == participant_id:
                    sold[f.block] += f.energy_wh
            elif {f.payer_id, f.payee_id} == {participant_id, charges.discom_id}:
                kind = BillLineKind(f.kind.value)
                sign = 1 if f.payer_id == participant_id else -1
                charge_wh[kind] += sign * f.energy_wh
                charge_paise[kind] += sign * f.amount_paise
    by_block: dict[Block, MeteredBlock] = {}
    for m in metered:
        if m.block in by_block:
            raise UsageError(f"{participant_id}: block {m.block} metered twice")
        if m.import_wh < 0 or m.export_wh < 0:
            raise UsageError(f"{participant_id}: negative meter reading in block {m.block}")
        by_block[m.block] = m
    for block in sorted(bought.keys() | sold.keys()):
        reading = by_block.get(block)
        if reading is None:
            raise UsageError(f"{participant_id}: traded in block {block}, which has no meter data")
        if bought[block] > reading.import_wh or sold[block] > reading.export_wh:
            raise UsageError(
                f"{participant_id}: block {block} traded (bought {bought[block]}, sold {sold[block]} Wh) "
                f"more than metered (import {reading.import_wh}, export {reading.export_wh} Wh)"
            )
    billed_import = sum(m.import_wh - bought.get(m.block, 0) for m in by_block.values())
    credited_export = sum(m.export_wh - sold.get(m.block, 0) for m in by_block.values())
    tariff, export_rate = charges.import_tariff_paise_per_kwh, charges.export_rate_paise_per_kwh
    lines = [
        BillLine(
            BillLineKind.IMPORT,
            billed_import,
            tariff,
            energy_value_paise(billed_import, tariff),
            "energy supplied by the DISCOM (import less energy bought by P2P trades)",
        ),
        BillLine(
            BillLineKind.EXPORT_CREDIT,
            credited_export,
            export_rate,
            -energy_value_paise(credited_export, export_rate),
            "energy taken by the DISCOM (export less energy sold by P2P trades)",
        ),
    ]
    if charges.fixed_charge_paise_per_month:
        lines.append(BillLine(BillLineKind.FIXED, 0, 0, charges.fixed_charge_paise_per_month, "fixed charge"))
    for kind in BillLineKind:
        if kind in charge_paise or kind in charge_wh:
            lines.append(BillLine(kind, charge_wh[kind], 0, charge_paise[kind], _CHARGE_TEXT[kind]))
    return Bill(
        participant_id,
        charges.discom_id,
        tuple(lines),
        traded_import_wh=sum(bought.values()),
        traded_export_wh=sum(sold.values()),
    )


_CHARGE_TEXT = {
    BillLineKind.WHEELING: "wheeling charge on P2P energy carried by this DISCOM's network",
    BillLineKind.CROSS_SUBSIDY: "cross-subsidy surcharge on P2P energy bought",
    BillLineKind.LOSSES: "loss compensation on P2P energy carried by this DISCOM's network",
    BillLineKind.UNDER_DELIVERY: "deviation: sold more than was injected",
    BillLineKind.UNDER_CONSUMPTION: "deviation: bought more than was consumed",
}


def settlement_statement(participant_id: str, settlements: Iterable[TradeSettlement]) -> list[StatementRow]:
    """Every flow involving `participant_id`, signed from its point of view (+ received, − paid), in
    (trade, block, kind, counterparty) order. The rows' amounts sum to the participant's net position."""
    rows = []
    for settlement in settlements:
        for f in settlement.flows:
            for me, other, sign in ((f.payee_id, f.payer_id, 1), (f.payer_id, f.payee_id, -1)):
                if me == participant_id:
                    rows.append(
                        StatementRow(
                            participant_id,
                            f.trade_id,
                            f.block,
                            f.kind.value,
                            other,
                            f.energy_wh,
                            f.rate,
                            sign * f.amount_paise,
                        )
                    )
    return sorted(rows, key=lambda r: (r.trade_id, r.block, r.kind, r.counterparty_id, r.amount_paise))


def statement_csv(rows: Sequence[StatementRow]) -> str:
    """The rows as CSV text with a header (column names = StatementRow fields)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(StatementRow.__slots__), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_dict())
    return buffer.getvalue()
