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
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from ies.usecases.p2p.market._settlement import DiscomCharges, TradeSettlement
from ies.usecases.p2p.market._units import Block, Paise, Wh

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
    charges are the flows the prosumer pays to this DISCOM. Refuses (UsageError) a settlement whose
    traded volume in a block exceeds the metered import or export there: allocation never allows it.
    """
    raise NotImplementedError


def settlement_statement(participant_id: str, settlements: Iterable[TradeSettlement]) -> list[StatementRow]:
    """Every flow involving `participant_id`, signed from its point of view, in (trade, block, kind) order."""
    raise NotImplementedError


def statement_csv(rows: Sequence[StatementRow]) -> str:
    """The rows as CSV text with a header (column names = StatementRow fields)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(StatementRow.__slots__), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_dict())
    return buffer.getvalue()
