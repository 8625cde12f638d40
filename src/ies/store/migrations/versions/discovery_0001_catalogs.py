"""discovery: published catalogues

Revision ID: discovery_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "discovery_0001"
down_revision = None
branch_labels = ("discovery",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_catalogs",
        sa.Column("bpp_id", sa.String(255), primary_key=True),
        sa.Column("catalog_id", sa.String(255), primary_key=True),
        sa.Column("bpp_uri", sa.String(2048), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cds_catalogs")
