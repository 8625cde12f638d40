"""assets: asset and entity registry (current state and version history)

Revision ID: assets_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assets_0001"
down_revision = None
branch_labels = ("assets",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_entities",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("entity_class", sa.String(32), nullable=False),
        sa.Column("discom", sa.String(253), nullable=False),
        sa.Column("local_id", sa.String(128), nullable=False),
        sa.Column("parent_id", sa.String(512), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_asset_entities"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["asset_entities.id"], name="fk_asset_entities_parent_id_asset_entities"
        ),
        sa.UniqueConstraint("discom", "entity_class", "local_id", name="uq_asset_entities_discom"),
    )
    op.create_index("ix_asset_entities_entity_class", "asset_entities", ["entity_class"])
    op.create_index("ix_asset_entities_discom", "asset_entities", ["discom"])
    op.create_index("ix_asset_entities_parent_id", "asset_entities", ["parent_id"])
    op.create_index("ix_asset_entities_status", "asset_entities", ["status"])

    op.create_table(
        "asset_versions",
        sa.Column("entity_id", sa.String(512), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(256), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(512), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entity_id", "version", name="pk_asset_versions"),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["asset_entities.id"], name="fk_asset_versions_entity_id_asset_entities"
        ),
    )
    op.create_index("ix_asset_versions_changed_at", "asset_versions", ["changed_at"])
    op.create_index("ix_asset_versions_parent_id_changed_at", "asset_versions", ["parent_id", "changed_at"])


def downgrade() -> None:
    op.drop_index("ix_asset_versions_parent_id_changed_at", "asset_versions")
    op.drop_index("ix_asset_versions_changed_at", "asset_versions")
    op.drop_table("asset_versions")
    op.drop_index("ix_asset_entities_status", "asset_entities")
    op.drop_index("ix_asset_entities_parent_id", "asset_entities")
    op.drop_index("ix_asset_entities_discom", "asset_entities")
    op.drop_index("ix_asset_entities_entity_class", "asset_entities")
    op.drop_table("asset_entities")
