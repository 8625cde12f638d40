"""What a trading platform does for its customers whichever side they trade on: onboarding, the
regulator's per-prosumer rules, and relaying allocation updates between ledgers and the peer platform.

Relay (the IES cascade LP → TP → peer TP → peer LP, never ledger → ledger): an `on_status` about a trade
is accepted only for the columns its sender speaks for (a ledger or platform of the seller side for the
seller's allocation and the settlement; of the buyer side for the buyer's), merged, and — only when it
changed something, so duplicates die out — passed on: from a ledger to the other side's platform; from
the peer platform to our side's ledger, unless that ledger is the one the update came from (one ledger
for both DISCOM sides).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ies.errors import IESError, NotFoundError, UsageError
from ies.exchange.inbound import InboundMessage
from ies.identity.did_web import did_web_for_subscriber
from ies.store import utcnow
from ies.usecases.p2p.base import P2PNode
from ies.usecases.p2p.contract import Customer, LedgerParty, contract_body, parse_contract
from ies.usecases.p2p.credential import facts_from_credential
from ies.usecases.p2p.ledger_book import adopt_settlement, current_trade, merge_allocations
from ies.usecases.p2p.market import Block, TradeRequestFacts
from ies.usecases.p2p.onboarding import IneligibleProsumer, verify_record
from ies.usecases.p2p.rules import RuleViolation
from ies.usecases.p2p.tables import ProsumerRow, TradeBlockRow, TradeRow

__all__ = [
    "customer_of",
    "enrol",
    "enrol_all",
    "known_prosumer",
    "ledger_party",
    "prosumer",
    "regulator_check",
    "relay_status",
    "traded_wh",
]


async def enrol(
    node: P2PNode, participant_id: str, record: Any = None, credential: Any = None, *, aggregator: str = ""
) -> dict[str, Any]:
    """Verify the DISCOM's proof of a connection — its signed onboarding record or the customer's
    ElectricityCredential — and make the participant eligible here (idempotent). `aggregator` names the
    registered aggregator enrolling the prosumer: the same proof is required, and the aggregator may then
    offer and bid for this prosumer (and no other aggregator may)."""
    if not participant_id or len(participant_id) > 200:
        raise IneligibleProsumer("participant_id is required", details={"rule": "RECORD_MALFORMED"})
    try:
        if credential is not None:
            documents = {}
            for subscriber in node.settings.discoms.values():
                documents[did_web_for_subscriber(subscriber)] = (await node.peer(subscriber)).base_url
            facts = facts_from_credential(
                credential, accepted_issuers=node.settings.discoms, documents=documents
            )
        else:
            issuer = str(record.get("issuer", "")) if isinstance(record, dict) else ""
            keys: dict[str, str] = {}
            if issuer and issuer in node.settings.discoms.values():
                keys = (await node.peer(issuer)).keys
            facts = verify_record(record, accepted_issuers=node.settings.discoms, issuer_keys=keys)
    except IneligibleProsumer as err:
        with node.transaction() as session:
            node.refuse(session, "INELIGIBLE", participant_id, err.message, {"step": err.details.get("rule")})
        raise
    proof = credential if credential is not None else record
    with node.transaction() as session:
        row = session.get(ProsumerRow, participant_id)
        if row is not None and row.aggregator_id != aggregator:
            raise IneligibleProsumer(
                f"{participant_id} is already enrolled here "
                + (f"through aggregator {row.aggregator_id}" if row.aggregator_id else "in person"),
                details={"rule": "ALREADY_REPRESENTED"},
            )
        if row is None:
            clash = session.scalar(select(ProsumerRow).where(ProsumerRow.meter_id == facts.meter_id))
            if clash is not None:
                raise IneligibleProsumer(
                    f"meter {facts.meter_id} is already enrolled as {clash.participant_id}",
                    details={"rule": "METER_TAKEN"},
                )
            session.add(
                ProsumerRow(
                    participant_id=participant_id,
                    meter_id=facts.meter_id,
                    customer_id=facts.customer_id,
                    utility_id=facts.utility_id,
                    discom_id=facts.issuer,
                    sanctioned_load_w=facts.sanctioned_load_w,
                    solar_w=facts.solar_w,
                    record=proof,
                    verified_at=utcnow(),
                    aggregator_id=aggregator,
                )
            )
            node.audit(
                session,
                "p2p.enrol",
                participant_id,
                {"meter": facts.meter_id, "utility": facts.utility_id, "aggregator": aggregator},
            )
    answer = {"participant_id": participant_id, "meter_id": facts.meter_id, "utility_id": facts.utility_id}
    return {**answer, "aggregator_id": aggregator} if aggregator else answer


async def enrol_all(node: P2PNode, items: list[Any], *, aggregator: str = "") -> list[dict[str, Any]]:
    """`enrol` each `{participant_id, record | credential}` item; a refused item gets its error in its
    place and does not stop the others (what the operator's and the aggregators' routes answer)."""
    results: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            err = UsageError("each prosumer is an object {participant_id, record | credential}")
            results.append({"participant_id": None, "error": err.to_dict()})
            continue
        try:
            results.append(
                await enrol(
                    node,
                    str(item.get("participant_id", "")),
                    item.get("record"),
                    item.get("credential"),
                    aggregator=aggregator,
                )
            )
        except IESError as err:
            results.append({"participant_id": item.get("participant_id"), "error": err.to_dict()})
    return results


def known_prosumer(node: P2PNode, session: Session, participant_id: str) -> ProsumerRow:
    """`prosumer`, recording the refusal when the participant is not onboarded here."""
    try:
        return prosumer(session, participant_id)
    except IneligibleProsumer as err:
        with node.transaction() as own:
            node.refuse(own, "UNKNOWN_PROSUMER", participant_id or "-", err.message)
        raise


def prosumer(session: Session, participant_id: str) -> ProsumerRow:
    row = session.get(ProsumerRow, participant_id)
    if row is None:
        raise IneligibleProsumer(
            f"{participant_id} is not an onboarded prosumer of this platform",
            details={"rule": "UNKNOWN_PROSUMER"},
        )
    return row


def customer_of(node: P2PNode, row: ProsumerRow) -> Customer:
    return Customer(
        participant_id=row.participant_id,
        platform_id=node.subscriber_id,
        meter_id=row.meter_id,
        customer_id=row.customer_id,
        utility_id=row.utility_id,
        platform_url=node.runtime.cfg.public_url,
        sanctioned_load_w=row.sanctioned_load_w,
        aggregator_id=row.aggregator_id or "",
    )


async def ledger_party(node: P2PNode, utility_id: str) -> LedgerParty:
    ledger_id = node.settings.ledgers.get(utility_id)
    if ledger_id is None:
        raise IneligibleProsumer(
            f"this platform knows no ledger provider for {utility_id}", details={"rule": "NO_LEDGER"}
        )
    ledger = await node.peer(ledger_id)
    discom_id = node.settings.discoms.get(utility_id, "")
    return LedgerParty(utility_id=utility_id, ledger_id=ledger_id, ledger_uri=ledger.url, discom_id=discom_id)


def traded_wh(
    session: Session, participant_id: str, blocks: list[Block], exclude: str = ""
) -> dict[Block, int]:
    """Energy the participant already trades (bought or sold, ACTIVE or COMPLETE) per block."""
    rows = session.execute(
        select(TradeBlockRow.block, func.sum(TradeBlockRow.requested_wh))
        .join(TradeRow, TradeRow.contract_id == TradeBlockRow.contract_id)
        .where(
            TradeBlockRow.block.in_(blocks),
            TradeRow.status.in_(("ACTIVE", "COMPLETE")),
            (TradeRow.seller_id == participant_id) | (TradeRow.buyer_id == participant_id),
            TradeRow.contract_id != exclude,
        )
        .group_by(TradeBlockRow.block)
    ).all()
    return {int(b): int(wh or 0) for b, wh in rows}


def regulator_check(
    node: P2PNode,
    session: Session,
    row: ProsumerRow,
    requested: dict[Block, int],
    at: datetime,
    *,
    already: dict[Block, int] | None = None,
    subject: str = "",
) -> dict[str, str]:
    """The regulator's cap and gate closure for each requested block; refusals are recorded and raised."""
    assert node.rules is not None
    already = already if already is not None else traded_wh(session, row.participant_id, list(requested))
    ref: dict[str, str] = {}
    for block, wh in sorted(requested.items()):
        facts = TradeRequestFacts(
            row.participant_id, row.sanctioned_load_w, block, wh, already.get(block, 0), at
        )
        try:
            ref = node.rules.check_regulator(facts)
        except RuleViolation as err:
            with node.transaction() as own:
                node.refuse(
                    own,
                    err.violation.rule,
                    subject or row.participant_id,
                    err.message,
                    {"block": block, **err.violation.details},
                    err.bundle,
                )
            raise
    return ref


async def relay_status(node: P2PNode, msg: InboundMessage) -> None:
    incoming = parse_contract(msg.message.get("contract"))
    sender = msg.signature.subscriber_id
    with node.sessions() as session:
        try:
            row, stored = current_trade(session, incoming.contract_id)
        except NotFoundError:
            return
    seller_lp = stored.seller_ledger.ledger_id if stored.seller_ledger else ""
    buyer_lp = stored.buyer_ledger.ledger_id if stored.buyer_ledger else ""
    sides = set()
    if sender in (seller_lp, row.seller_platform):
        sides.add("seller")
    if sender in (buyer_lp, row.buyer_platform):
        sides.add("buyer")
    if sides and seller_lp == buyer_lp and sender in (row.seller_platform, row.buyer_platform):
        sides = {"seller", "buyer"}  # one ledger speaks for both sides; either platform relays it
    if not sides:
        return
    with node.transaction() as session:
        row, applied, changed = merge_allocations(session, incoming.contract_id, incoming, sides)
        if "seller" in applied:
            _, mine = current_trade(session, incoming.contract_id)
            if adopt_settlement(mine, incoming):
                row.body, row.status = contract_body(mine), mine.status
                changed = True
        if changed:
            node.keep_message(session, incoming.contract_id, msg)
        _, current = current_trade(session, incoming.contract_id)
        transaction = row.transaction_id
    if not changed:
        return
    targets: list[str] = []
    me = node.subscriber_id
    if sender in (seller_lp, buyer_lp):
        for platform in (row.seller_platform, row.buyer_platform):
            if platform not in (me, sender) and platform not in targets:
                targets.append(platform)
        if row.seller_platform == me == row.buyer_platform:
            targets += [lp for lp in {seller_lp, buyer_lp} if lp and lp != sender]
    else:
        relayed_lps = {seller_lp if s == "seller" else buyer_lp for s in sides}
        for side, lp in (("seller", seller_lp), ("buyer", buyer_lp)):
            if getattr(row, f"{side}_platform") == me and lp and lp not in relayed_lps and lp not in targets:
                targets.append(lp)
    body = {"contract": contract_body(current)}
    for target in targets:
        peer = await node.peer(target)
        await node.send_one_way(peer, "on_status", body, transaction)
