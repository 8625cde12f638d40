"""The P2P use case's tables (Alembic branch "p2p"). Every node role uses the subset it needs.

    p2p_connections      DISCOM: the connections it vouches for (the signed onboarding record it issued)
    p2p_readings         DISCOM: metered import/export per meter and block, released or held back
    p2p_prosumers        TP: customers onboarded with a verified DISCOM record
    p2p_offer_blocks     seller TP: price, availability and what is sold, per offer and block
    p2p_bids             buyer TP: customers' buy orders per block, and how much was filled
    p2p_trades           every role: the contract as this node holds it (status, pinned policy, body)
    p2p_trade_blocks     every role: per contract and block the agreed price and quantities, allocations
    p2p_rounds           LP: allocation rounds (provisional, final, true-up) it ran
    p2p_settlements      LP: every settlement of a trade it made (the blocks it settled, the flows, and for a
                         true-up the adjustment lines from the previous one)
    p2p_events           refusals and policy decisions (rule, reason, bundle name/version/hash)
    p2p_messages         the signed P2P messages in and out (raw body + Authorization), for evidence

Units are in the column names (`_wh`, `_paise_per_kwh`, `_w`); blocks are the market's 15-minute block
numbers; times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ies.store import Base, UTCDateTime

__all__ = [
    "BidRow",
    "ConnectionRow",
    "EventRow",
    "MessageRow",
    "OfferBlockRow",
    "ProsumerRow",
    "ReadingRow",
    "RoundRow",
    "SettlementRow",
    "TradeBlockRow",
    "TradeRow",
]


class ConnectionRow(Base):
    __tablename__ = "p2p_connections"

    meter_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    utility_id: Mapped[str] = mapped_column(String(64))
    sanctioned_load_w: Mapped[int] = mapped_column(BigInteger)
    solar_w: Mapped[int] = mapped_column(BigInteger, doc="rooftop PV capacity behind the meter, 0 if none")
    feeder_id: Mapped[str] = mapped_column(String(512), doc="DID of the feeder in the asset registry")
    eligible: Mapped[bool] = mapped_column(Boolean)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the signed onboarding record as issued")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReadingRow(Base):
    __tablename__ = "p2p_readings"

    meter_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_wh: Mapped[int] = mapped_column(BigInteger)
    export_wh: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, doc="false while the data is late (not yet served)")


class ProsumerRow(Base):
    __tablename__ = "p2p_prosumers"

    participant_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[str] = mapped_column(String(255))
    utility_id: Mapped[str] = mapped_column(String(64), index=True)
    discom_id: Mapped[str] = mapped_column(String(255), doc="subscriber id of the DISCOM that signed")
    sanctioned_load_w: Mapped[int] = mapped_column(BigInteger)
    solar_w: Mapped[int] = mapped_column(BigInteger)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    aggregator_id: Mapped[str] = mapped_column(
        String(255), default="", doc="subscriber id of the aggregator acting for the prosumer, or empty"
    )


class OfferBlockRow(Base):
    __tablename__ = "p2p_offer_blocks"

    offer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(255), index=True)
    source_type: Mapped[str] = mapped_column(String(16))
    price_paise_per_kwh: Mapped[int] = mapped_column(BigInteger)
    available_wh: Mapped[int] = mapped_column(BigInteger)
    sold_wh: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BidRow(Base):
    __tablename__ = "p2p_bids"

    order_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(255), index=True)
    block: Mapped[int] = mapped_column(BigInteger, index=True)
    quantity_wh: Mapped[int] = mapped_column(BigInteger)
    limit_price_paise_per_kwh: Mapped[int] = mapped_column(BigInteger)
    source_types: Mapped[str] = mapped_column(String(128), doc="comma-separated; empty = any source")
    filled_wh: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TradeRow(Base):
    __tablename__ = "p2p_trades"

    contract_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(255), index=True)
    offer_id: Mapped[str] = mapped_column(String(255))
    seller_id: Mapped[str] = mapped_column(String(255), index=True)
    buyer_id: Mapped[str] = mapped_column(String(255), index=True)
    seller_meter: Mapped[str] = mapped_column(String(255))
    buyer_meter: Mapped[str] = mapped_column(String(255))
    seller_utility: Mapped[str] = mapped_column(String(64))
    buyer_utility: Mapped[str] = mapped_column(String(64))
    seller_platform: Mapped[str] = mapped_column(String(255))
    buyer_platform: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), index=True, doc="DRAFT, ACTIVE, CANCELLED, COMPLETE")
    seller_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    buyer_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    allocation_round: Mapped[str] = mapped_column(String(16), default="", doc="last round applied")
    seller_version: Mapped[int] = mapped_column(Integer, default=0, doc="seller-side ledger's update count")
    buyer_version: Mapped[int] = mapped_column(Integer, default=0, doc="buyer-side ledger's update count")
    policy_name: Mapped[str] = mapped_column(String(255), default="")
    policy_version: Mapped[str] = mapped_column(String(64), default="")
    policy_hash: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the contract as last sent or received")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TradeBlockRow(Base):
    __tablename__ = "p2p_trade_blocks"

    contract_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    price_paise_per_kwh: Mapped[int] = mapped_column(BigInteger)
    requested_wh: Mapped[int] = mapped_column(BigInteger)
    buyer_alloc_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seller_alloc_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    buyer_status: Mapped[str] = mapped_column(String(16), default="")
    seller_status: Mapped[str] = mapped_column(String(16), default="")
    final_alloc_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seller_curtailed_wh: Mapped[int] = mapped_column(
        BigInteger, default=0, doc="Wh the seller's DISCOM curtailed ex post (its feeder's limits)"
    )
    buyer_curtailed_wh: Mapped[int] = mapped_column(
        BigInteger, default=0, doc="Wh the buyer's DISCOM curtailed ex post (its feeder's limits)"
    )
    seller_curtail_reason: Mapped[str] = mapped_column(Text, default="")
    buyer_curtail_reason: Mapped[str] = mapped_column(Text, default="")

    @property
    def curtailed_wh(self) -> int:
        """What the trade lost to curtailment in this block: the larger of the two DISCOMs' cuts."""
        return max(self.seller_curtailed_wh or 0, self.buyer_curtailed_wh or 0)

    @property
    def effective_wh(self) -> int:
        """The contracted Wh still to be delivered: requested less curtailed (never negative)."""
        return max(self.requested_wh - self.curtailed_wh, 0)


class RoundRow(Base):
    __tablename__ = "p2p_rounds"

    round_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), doc="PROVISIONAL, FINAL or TRUE_UP")
    first_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class SettlementRow(Base):
    __tablename__ = "p2p_settlements"
    __table_args__ = (UniqueConstraint("contract_id", "version", name="uq_p2p_settlements_version"),)

    settlement_row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer, doc="1 for the first settlement, +1 per true-up")
    round: Mapped[str] = mapped_column(String(16), doc="the allocation round that produced it")
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, doc="the trade blocks as settled")
    flows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, doc="the RevenueFlow lines (totals)")
    adjustment: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON, nullable=True, doc="true-up: the lines that take the previous settlement to this one"
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "p2p_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32), doc="refusal or decision")
    rule: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(255), doc="contract, order or participant concerned")
    message: Mapped[str] = mapped_column(Text)
    bundle_name: Mapped[str] = mapped_column(String(255), default="")
    bundle_version: Mapped[str] = mapped_column(String(64), default="")
    bundle_hash: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class MessageRow(Base):
    __tablename__ = "p2p_messages"

    message_row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(String(255), index=True)
    transaction_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8), doc="in or out")
    signer: Mapped[str] = mapped_column(String(255))
    authorization: Mapped[str] = mapped_column(Text, doc="the Signature header exactly as sent")
    body: Mapped[str] = mapped_column(Text, doc="the raw body bytes as UTF-8 (what the signature covers)")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
