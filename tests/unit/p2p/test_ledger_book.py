"""A node's record of a trade: saving it, and merging allocation updates in the right order."""

from __future__ import annotations

from sqlalchemy import Engine

from ies.store import session_factory
from ies.usecases.p2p.contract import Customer, LedgerParty, Trade
from ies.usecases.p2p.ledger_book import current_trade, merge_allocations, save_trade, trade_summary

SELLER = Customer("S", "tp-1", "MS", "CS", "NORTH-DL")
BUYER = Customer("B", "tp-2", "MB", "CB", "SOUTH-DL")
BLOCKS = (1000, 1001)


def trade(**columns: dict[int, int | str]) -> Trade:
    return Trade(
        contract_id="c-1",
        offer_id="o-1",
        seller=SELLER,
        buyer=BUYER,
        seller_ledger=LedgerParty("NORTH-DL", "lp-n"),
        buyer_ledger=LedgerParty("SOUTH-DL", "lp-s"),
        status="ACTIVE",
        columns={
            "PRICE_PER_KWH": dict.fromkeys(BLOCKS, 500),
            "REQUESTED_QTY": dict.fromkeys(BLOCKS, 300),
            **columns,
        },
    )


def update(side: str, version: int, wh: int, status: str = "FINAL") -> Trade:
    prefix = "SELLER" if side == "seller" else "BUYER"
    alloc: dict[int, int | str] = dict.fromkeys(BLOCKS, wh)
    states: dict[int, int | str] = dict.fromkeys(BLOCKS, status)
    t = trade(**{f"{prefix}_DISCOM_ALLOC": alloc, f"{prefix}_DISCOM_STATUS": states})
    if side == "seller":
        t.seller_ledger = LedgerParty("NORTH-DL", "lp-n", allocation_version=version)
    else:
        t.buyer_ledger = LedgerParty("SOUTH-DL", "lp-s", allocation_version=version)
    return t


def test_final_alloc_is_the_smaller_side_once_both_are_final_and_stale_updates_are_dropped(
    engine: Engine,
) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        save_trade(session, trade(), transaction_id="t", status="ACTIVE")
    with sessions.begin() as session:
        _, applied, changed = merge_allocations(session, "c-1", update("seller", 2, 280), {"seller"})
        assert applied == {"seller"} and changed
        _, applied, changed = merge_allocations(
            session, "c-1", update("seller", 1, 999, "PROVISIONAL"), {"seller"}
        )
        assert applied == set() and not changed  # overtaken by version 2: not applied
        merge_allocations(session, "c-1", update("buyer", 1, 250), {"buyer"})
    with sessions() as session:
        row, current = current_trade(session, "c-1")
        blocks = trade_summary(session, row)["blocks"]
    assert [b["final_alloc_wh"] for b in blocks] == [250, 250]
    assert [b["seller_alloc_wh"] for b in blocks] == [280, 280]
    assert (row.seller_version, row.buyer_version) == (2, 1)
    assert current.seller_ledger is not None and current.seller_ledger.allocation_version == 2


def test_the_ledger_numbers_its_own_changes(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        save_trade(session, trade(), transaction_id="t", status="ACTIVE")
        for wh in (100, 100, 120):
            merge_allocations(session, "c-1", update("seller", 0, wh, "PROVISIONAL"), {"seller"}, author=True)
        row, current = current_trade(session, "c-1")
    assert row.seller_version == 2  # the repeated 100 changed nothing and is not a new version
    assert current.column("SELLER_DISCOM_ALLOC") == dict.fromkeys(BLOCKS, 120)
    assert "FINAL_ALLOC" not in current.columns  # provisional on one side only
