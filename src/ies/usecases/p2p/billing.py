"""The DISCOM's monthly bill of each of its P2P customers, served over HTTP (`GET /p2p/discom/bills`).

Charge coherence (seed §12.5.1, issue 7 item 8): energy a customer bought or sold by P2P trades is
settled between the parties, so the DISCOM's bill excludes it — import is billed less what trades
supplied, export credited less what trades took — and includes what the customer owes the DISCOM on
those trades (wheeling, cross-subsidy surcharge, losses, deviations). The market engine's
`monthly_bill` does the arithmetic, in integer paise, each line rounded once on the month's Wh.

Where the numbers come from: the meter data is the DISCOM's own (released readings only: data still
late is not billed yet); the trades and their per-block flows come from the DISCOM's own ledger
provider, asked with a signed request (`POST /p2p/ledger/settlements`), recomputed there under each
trade's pinned contract policy. Only settled (COMPLETE) trades change a bill; trades still awaiting
final data are listed as unsettled and their energy is billed as ordinary import/export until a later
bill. Each bill also states what the same meter data would have cost without any trade, and the net
the customer settled with parties other than this DISCOM (peers' energy, another DISCOM's charges),
which together give the net bill impact of P2P trading.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from ies.errors import ConflictError, IESError, InternalError, NotFoundError, UsageError
from ies.usecases.p2p.base import P2PNode
from ies.usecases.p2p.market import (
    FlowKind,
    MeteredBlock,
    MoneyFlow,
    TradeSettlement,
    blocks_of_day,
    monthly_bill,
    settlement_statement,
)
from ies.usecases.p2p.signed_http import signed_post
from ies.usecases.p2p.tables import ConnectionRow, ReadingRow

__all__ = ["bills", "period_of_month"]


def period_of_month(month: str) -> tuple[int, int]:
    """[first, last) blocks of an IST calendar month given as YYYY-MM."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first_day = date(year, number, 1)
    except ValueError:
        raise UsageError(f"month {month!r} is not YYYY-MM") from None
    last_day = date(year, number, calendar.monthrange(year, number)[1])
    return blocks_of_day(first_day).start, blocks_of_day(last_day).stop


def _settlement(entry: dict[str, Any]) -> TradeSettlement:
    flows = tuple(MoneyFlow(**{**f, "kind": FlowKind(f["kind"])}) for f in entry["flows"])
    net: dict[str, int] = defaultdict(int)
    for f in flows:
        net[f.payer_id] -= f.amount_paise
        net[f.payee_id] += f.amount_paise
    if sum(net.values()) != 0:
        raise InternalError(f"the ledger's flows of {entry['contract_id']} do not sum to zero")
    return TradeSettlement(str(entry["contract_id"]), flows, dict(net))


async def bills(node: P2PNode, month: str, meter: str | None = None) -> list[dict[str, Any]]:
    """The bills of the month for every connection of this DISCOM (or one meter's)."""
    first, last = period_of_month(month)
    utility = str(node.settings.utility_id)
    charges = node.settings.tariffs[utility].for_discom(utility)
    with node.sessions() as session:
        query = select(ConnectionRow).order_by(ConnectionRow.meter_id)
        if meter is not None:
            query = query.where(ConnectionRow.meter_id == meter)
        connections = session.scalars(query).all()
        if meter is not None and not connections:
            raise NotFoundError(f"{meter} is not a connection of {utility}")
        readings: dict[str, list[MeteredBlock]] = defaultdict(list)
        reading_query = select(ReadingRow).where(
            ReadingRow.block >= first, ReadingRow.block < last, ReadingRow.released.is_(True)
        )
        if meter is not None:
            reading_query = reading_query.where(ReadingRow.meter_id == meter)
        for r in session.scalars(reading_query):
            readings[r.meter_id].append(MeteredBlock(r.block, r.import_wh, r.export_wh))
    ledger = await node.peer(str(node.settings.ledger))
    answer = await signed_post(
        node,
        f"{ledger.base_url}/p2p/ledger/settlements",
        {"first_block": first, "last_block": last, "meters": [meter] if meter else None},
    )
    settled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending: dict[str, list[str]] = defaultdict(list)
    for entry in answer.get("settled") or []:
        for side in ("seller", "buyer"):
            if entry[side]["utility"] == utility:
                settled[entry[side]["meter"]].append(entry)
    for entry in answer.get("pending") or []:
        for side in ("seller", "buyer"):
            if entry[side]["utility"] == utility:
                pending[entry[side]["meter"]].append(str(entry["contract_id"]))
    out = []
    for c in connections:
        try:
            out.append(
                _bill(c, month, first, last, charges, readings[c.meter_id], settled[c.meter_id], pending)
            )
        except IESError as err:  # one customer's bill that cannot be made does not hold up the others
            out.append({"meter_id": c.meter_id, "customer_id": c.customer_id, "error": err.to_dict()})
    return out


def _bill(
    c: ConnectionRow,
    month: str,
    first: int,
    last: int,
    charges: Any,
    metered: list[MeteredBlock],
    entries: list[dict[str, Any]],
    pending: dict[str, list[str]],
) -> dict[str, Any]:
    ids = {
        entry[side]["id"]
        for entry in entries
        for side in ("seller", "buyer")
        if entry[side]["meter"] == c.meter_id
    }
    if len(ids) > 1:
        raise ConflictError(f"meter {c.meter_id} traded under several participant ids: {sorted(ids)}")
    participant = ids.pop() if ids else c.customer_id
    settlements = [_settlement(e) for e in {e["contract_id"]: e for e in entries}.values()]
    bill = monthly_bill(participant, charges, metered, settlements)
    plain = monthly_bill(participant, charges, metered, [])
    with_others = sum(
        r.amount_paise
        for r in settlement_statement(participant, settlements)
        if r.counterparty_id != charges.discom_id
    )
    return {
        "meter_id": c.meter_id,
        "customer_id": c.customer_id,
        "participant_id": participant,
        "utility_id": charges.discom_id,
        "month": month,
        "first_block": first,
        "last_block": last,
        "blocks_metered": len(metered),
        "metered_import_wh": sum(m.import_wh for m in metered),
        "metered_export_wh": sum(m.export_wh for m in metered),
        "traded_import_wh": bill.traded_import_wh,
        "traded_export_wh": bill.traded_export_wh,
        "lines": [
            {
                "kind": line.kind.value,
                "energy_wh": line.energy_wh,
                "rate_paise_per_kwh": line.rate_paise_per_kwh,
                "amount_paise": line.amount_paise,
                "description": line.description,
            }
            for line in bill.lines
        ],
        "total_paise": bill.total_paise,
        "without_p2p_total_paise": plain.total_paise,
        "settled_with_others_paise": with_others,
        "trades": sorted(s.trade_id for s in settlements),
        "settlement_versions": {e["contract_id"]: e["settlement_version"] for e in entries},
        "unsettled_trades": sorted(set(pending.get(c.meter_id, []))),
    }
