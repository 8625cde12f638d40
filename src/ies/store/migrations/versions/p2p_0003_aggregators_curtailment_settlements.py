"""p2p: aggregated prosumers, ex-post curtailment per side and block, the ledger's settlement history

Revision ID: p2p_0003
Revises: p2p_0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p2p_0003"
down_revision = "p2p_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("p2p_prosumers") as batch:
        batch.add_column(sa.Column("aggregator_id", sa.String(255), nullable=False, server_default=""))
    with op.batch_alter_table("p2p_trade_blocks") as batch:
        for side in ("seller", "buyer"):
            batch.add_column(
                sa.Column(f"{side}_curtailed_wh", sa.BigInteger(), nullable=False, server_default="0")
            )
            batch.add_column(
                sa.Column(f"{side}_curtail_reason", sa.Text(), nullable=False, server_default="")
            )
    op.create_table(
        "p2p_settlements",
        sa.Column("settlement_row", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("flows", sa.JSON(), nullable=False),
        sa.Column("adjustment", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("contract_id", "version", name="uq_p2p_settlements_version"),
    )
    op.create_index("ix_p2p_settlements_contract_id", "p2p_settlements", ["contract_id"])


def downgrade() -> None:
    op.drop_index("ix_p2p_settlements_contract_id", table_name="p2p_settlements")
    op.drop_table("p2p_settlements")
    with op.batch_alter_table("p2p_trade_blocks") as batch:
        for side in ("buyer", "seller"):
            batch.drop_column(f"{side}_curtail_reason")
            batch.drop_column(f"{side}_curtailed_wh")
    with op.batch_alter_table("p2p_prosumers") as batch:
        batch.drop_column("aggregator_id")
