"""The whole market core on random books: match → allocate metered actuals → settle → bill.

Energy and money are conserved end to end: what is settled never exceeds what either meter saw, every
paisa paid is received, and each DISCOM's bills carry exactly the charges the flows owe it.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from ies.usecases.p2p.market import (
    AllocationMethod,
    AllocationRound,
    Bid,
    DiscomCharges,
    FlowKind,
    MeteredBlock,
    Offer,
    TradeBlock,
    TradeLeg,
    TradeRecord,
    match_orders,
    monthly_bill,
    run_allocation_round,
    settle_trade,
    settlement_statement,
)

from .strategies import PEOPLE, bids, offers

DISCOM_OF = {p: ("discom-a" if i % 2 else "discom-b") for i, p in enumerate(PEOPLE)}
CHARGES = {
    "discom-a": DiscomCharges("discom-a", 45, 120, 350, 900, 750, 300, fixed_charge_paise_per_month=5000),
    "discom-b": DiscomCharges("discom-b", 55, 90, 420, 1100, 820, 280),
}


@settings(max_examples=60, deadline=None)
@given(
    bids(),
    offers(),
    st.sampled_from(list(AllocationMethod)),
    st.dictionaries(st.sampled_from(PEOPLE), st.integers(0, 12_000)),
    st.dictionaries(st.sampled_from(PEOPLE), st.integers(0, 12_000)),
)
def test_energy_and_money_are_conserved(
    book_bids: list[Bid],
    book_offers: list[Offer],
    method: AllocationMethod,
    imports: dict[str, int],
    exports: dict[str, int],
) -> None:
    matched = match_orders(book_bids, book_offers)
    blocks = sorted({f.block for f in matched.fills})
    metered_import = {(p, b): imports.get(p, 0) for p in PEOPLE for b in blocks}
    metered_export = {(p, b): exports.get(p, 0) for p in PEOPLE for b in blocks}
    submitted = {b.order_id: b.submitted_at for b in book_bids}
    buys, sells = [], []
    for n, f in enumerate(matched.fills):
        buys.append(TradeLeg(f"T{n}", f.buyer_id, f.block, f.energy_wh, submitted[f.order_id]))
        sells.append(TradeLeg(f"T{n}", f.seller_id, f.block, f.energy_wh, submitted[f.order_id]))
    run = run_allocation_round(AllocationRound.FINAL, method, buys, sells, metered_import, metered_export)

    settlements = []
    for n, f in enumerate(matched.fills):
        key = (f"T{n}", f.block)
        block = TradeBlock(
            f.block, f.energy_wh, f.price_paise_per_kwh, run.buyer_side_wh[key], run.seller_side_wh[key]
        )
        trade = TradeRecord(
            f"T{n}", f.buyer_id, f.seller_id, DISCOM_OF[f.buyer_id], DISCOM_OF[f.seller_id], (block,)
        )
        settlements.append(settle_trade(trade, CHARGES))

    # energy: settled ≤ metered on both sides, per person and block
    bought: dict[tuple[str, int], int] = defaultdict(int)
    sold: dict[tuple[str, int], int] = defaultdict(int)
    for s in settlements:
        for flow in s.flows:
            if flow.kind is FlowKind.ENERGY:
                bought[(flow.payer_id, flow.block)] += flow.energy_wh
                sold[(flow.payee_id, flow.block)] += flow.energy_wh
    assert all(v <= metered_import[k] for k, v in bought.items())
    assert all(v <= metered_export[k] for k, v in sold.items())
    assert sum(bought.values()) == sum(run.final_wh.values()) <= sum(f.energy_wh for f in matched.fills)

    # money: zero-sum overall; statements add up; bills carry exactly the DISCOM charges
    net: dict[str, int] = defaultdict(int)
    for s in settlements:
        assert sum(s.net_by_party.values()) == 0
        for party, amount in s.net_by_party.items():
            net[party] += amount
    assert sum(net.values()) == 0
    for person in PEOPLE:
        assert sum(r.amount_paise for r in settlement_statement(person, settlements)) == net[person]
        charges = CHARGES[DISCOM_OF[person]]
        metered = [MeteredBlock(b, metered_import[(person, b)], metered_export[(person, b)]) for b in blocks]
        bill = monthly_bill(person, charges, metered, settlements)
        owed = sum(
            (f.amount_paise if f.payer_id == person else -f.amount_paise)
            for s in settlements for f in s.flows
            if f.kind is not FlowKind.ENERGY and {f.payer_id, f.payee_id} == {person, charges.discom_id}
        )  # fmt: skip
        energy_lines = {"IMPORT", "EXPORT_CREDIT", "FIXED"}
        assert sum(line.amount_paise for line in bill.lines if line.kind.value not in energy_lines) == owed
        assert bill.traded_import_wh == sum(v for (p, _), v in bought.items() if p == person)


@settings(max_examples=40, deadline=None)
@given(bids(), offers(), st.randoms(use_true_random=False))
def test_matching_does_not_depend_on_input_order(book_bids: list[Bid], book_offers: list[Offer], rnd) -> None:
    first = match_orders(book_bids, book_offers)
    shuffled_bids, shuffled_offers = list(book_bids), list(book_offers)
    rnd.shuffle(shuffled_bids)
    rnd.shuffle(shuffled_offers)
    assert match_orders(shuffled_bids, shuffled_offers) == first
