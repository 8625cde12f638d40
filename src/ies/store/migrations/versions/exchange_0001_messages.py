"""exchange: message log and replay guard

Revision ID: exchange_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exchange_0001"
down_revision = None
branch_labels = ("exchange",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=True),
        sa.Column("receiver", sa.String(2048), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("transaction_id", sa.String(255), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(128), nullable=True),
        sa.Column("key_id", sa.String(512), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
    )
    op.create_index("ix_exchange_messages_message_id", "exchange_messages", ["message_id"])
    op.create_index("ix_exchange_messages_transaction_id", "exchange_messages", ["transaction_id"])
    op.create_index("ix_exchange_messages_at", "exchange_messages", ["at"])
    op.create_table(
        "exchange_replay_guard",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("action", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exchange_replay_guard_expires_at", "exchange_replay_guard", ["expires_at"])


def downgrade() -> None:
    op.drop_table("exchange_replay_guard")
    op.drop_table("exchange_messages")
