"""registry: subscriber directory (participants and their keys)

Revision ID: registry_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_participants",
        sa.Column("subscriber_id", sa.String(255), primary_key=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("network_memberships", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "registry_keys",
        sa.Column("key_id", sa.String(255), primary_key=True),
        sa.Column(
            "subscriber_id",
            sa.String(255),
            sa.ForeignKey(
                "registry_participants.subscriber_id",
                name="fk_registry_keys_subscriber_id_registry_participants",
            ),
            nullable=False,
        ),
        sa.Column("signing_public_key", sa.String(64), nullable=False),
        sa.Column("encr_public_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("challenge_digest", sa.String(128), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
    )
    op.create_index("ix_registry_keys_subscriber_id", "registry_keys", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_registry_keys_subscriber_id", "registry_keys")
    op.drop_table("registry_keys")
    op.drop_table("registry_participants")
