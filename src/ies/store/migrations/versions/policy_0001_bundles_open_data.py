"""policy: installed policy bundles, open-data releases

Revision ID: policy_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "policy_0001"
down_revision = None
branch_labels = ("policy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_bundles",
        sa.Column("bundle_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("publisher", sa.String(255), nullable=False),
        sa.Column("key_id", sa.String(255), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_policy_bundles_name_version"),
    )
    op.create_table(
        "policy_open_releases",
        sa.Column("dataset_id", sa.String(128), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("release", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_open_releases")
    op.drop_table("policy_bundles")
