"""p2p: connections, readings, prosumers, offers, bids, trades, rounds, events, signed messages

Revision ID: p2p_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p2p_0001"
down_revision = None
branch_labels = ("p2p",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "p2p_connections",
        sa.Column("meter_id", sa.String(255), primary_key=True),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("utility_id", sa.String(64), nullable=False),
        sa.Column("sanctioned_load_w", sa.BigInteger(), nullable=False),
        sa.Column("solar_w", sa.BigInteger(), nullable=False),
        sa.Column("feeder_id", sa.String(512), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("issued_at", _TS, nullable=False),
    )
    op.create_index("ix_p2p_connections_customer_id", "p2p_connections", ["customer_id"])
    op.create_table(
        "p2p_readings",
        sa.Column("meter_id", sa.String(255), primary_key=True),
        sa.Column("block", sa.BigInteger(), primary_key=True),
        sa.Column("import_wh", sa.BigInteger(), nullable=False),
        sa.Column("export_wh", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "p2p_prosumers",
        sa.Column("participant_id", sa.String(255), primary_key=True),
        sa.Column("meter_id", sa.String(255), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("utility_id", sa.String(64), nullable=False),
        sa.Column("discom_id", sa.String(255), nullable=False),
        sa.Column("sanctioned_load_w", sa.BigInteger(), nullable=False),
        sa.Column("solar_w", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("verified_at", _TS, nullable=False),
    )
    op.create_index("ix_p2p_prosumers_utility_id", "p2p_prosumers", ["utility_id"])
    op.create_table(
        "p2p_offer_blocks",
        sa.Column("offer_id", sa.String(255), primary_key=True),
        sa.Column("block", sa.BigInteger(), primary_key=True),
        sa.Column("participant_id", sa.String(255), nullable=False),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("price_paise_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("available_wh", sa.BigInteger(), nullable=False),
        sa.Column("sold_wh", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_p2p_offer_blocks_participant_id", "p2p_offer_blocks", ["participant_id"])
    op.create_table(
        "p2p_bids",
        sa.Column("order_id", sa.String(255), primary_key=True),
        sa.Column("participant_id", sa.String(255), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("quantity_wh", sa.BigInteger(), nullable=False),
        sa.Column("limit_price_paise_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("source_types", sa.String(128), nullable=False),
        sa.Column("filled_wh", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", _TS, nullable=False),
    )
    op.create_index("ix_p2p_bids_participant_id", "p2p_bids", ["participant_id"])
    op.create_index("ix_p2p_bids_block", "p2p_bids", ["block"])
    op.create_table(
        "p2p_trades",
        sa.Column("contract_id", sa.String(255), primary_key=True),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("offer_id", sa.String(255), nullable=False),
        sa.Column("seller_id", sa.String(255), nullable=False),
        sa.Column("buyer_id", sa.String(255), nullable=False),
        sa.Column("seller_meter", sa.String(255), nullable=False),
        sa.Column("buyer_meter", sa.String(255), nullable=False),
        sa.Column("seller_utility", sa.String(64), nullable=False),
        sa.Column("buyer_utility", sa.String(64), nullable=False),
        sa.Column("seller_platform", sa.String(255), nullable=False),
        sa.Column("buyer_platform", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("seller_recorded", sa.Boolean(), nullable=False),
        sa.Column("buyer_recorded", sa.Boolean(), nullable=False),
        sa.Column("allocation_round", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.String(255), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    for column in ("transaction_id", "seller_id", "buyer_id", "status"):
        op.create_index(f"ix_p2p_trades_{column}", "p2p_trades", [column])
    op.create_table(
        "p2p_trade_blocks",
        sa.Column("contract_id", sa.String(255), primary_key=True),
        sa.Column("block", sa.BigInteger(), primary_key=True),
        sa.Column("price_paise_per_kwh", sa.BigInteger(), nullable=False),
        sa.Column("requested_wh", sa.BigInteger(), nullable=False),
        sa.Column("buyer_alloc_wh", sa.BigInteger(), nullable=True),
        sa.Column("seller_alloc_wh", sa.BigInteger(), nullable=True),
        sa.Column("buyer_status", sa.String(16), nullable=False),
        sa.Column("seller_status", sa.String(16), nullable=False),
        sa.Column("final_alloc_wh", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_p2p_trade_blocks_block", "p2p_trade_blocks", ["block"])
    op.create_table(
        "p2p_rounds",
        sa.Column("round_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_table(
        "p2p_events",
        sa.Column("event_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("bundle_name", sa.String(255), nullable=False),
        sa.Column("bundle_version", sa.String(64), nullable=False),
        sa.Column("bundle_hash", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_p2p_events_at", "p2p_events", ["at"])
    op.create_index("ix_p2p_events_rule", "p2p_events", ["rule"])
    op.create_table(
        "p2p_messages",
        sa.Column("message_row", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("signer", sa.String(255), nullable=False),
        sa.Column("authorization", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_index("ix_p2p_messages_contract_id", "p2p_messages", ["contract_id"])


def downgrade() -> None:
    for table in (
        "p2p_messages", "p2p_events", "p2p_rounds", "p2p_trade_blocks", "p2p_trades", "p2p_bids",
        "p2p_offer_blocks", "p2p_prosumers", "p2p_readings", "p2p_connections",
    ):  # fmt: skip
        op.drop_table(table)
