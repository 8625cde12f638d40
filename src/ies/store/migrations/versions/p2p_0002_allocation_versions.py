"""p2p: each side's allocation version on a trade (updates that arrive out of order are not applied)

Revision ID: p2p_0002
Revises: p2p_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p2p_0002"
down_revision = "p2p_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("p2p_trades") as batch:
        batch.add_column(sa.Column("seller_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("buyer_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("p2p_trades") as batch:
        batch.drop_column("buyer_version")
        batch.drop_column("seller_version")
