"""consent: the data consumer's verified consent notices

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "consent_0002"
down_revision = "consent_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_notices",
        sa.Column("consent_id", sa.String(64), primary_key=True),
        sa.Column("manager_id", sa.String(255), nullable=False),
        sa.Column("provider_id", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("artefact", sa.JSON(), nullable=False),
        sa.Column("transition", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_notices")
