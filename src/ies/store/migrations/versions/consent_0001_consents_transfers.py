"""consent: artefacts, signed transitions, transfers and the access ledger

Revision ID: consent_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "consent_0001"
down_revision = None
branch_labels = ("consent",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_artefacts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("manager_id", sa.String(255), nullable=False),
        sa.Column("principal_number", sa.String(64), nullable=True),
        sa.Column("principal_did", sa.String(255), nullable=True),
        sa.Column("provider_id", sa.String(255), nullable=False),
        sa.Column("consumer_id", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("artefact", sa.JSON(), nullable=False),
    )
    for column in ("principal_number", "principal_did", "provider_id", "consumer_id", "state", "valid_until"):
        op.create_index(f"ix_consent_artefacts_{column}", "consent_artefacts", [column])
    op.create_table(
        "consent_transitions",
        sa.Column("consent_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
    )
    op.create_table(
        "consent_transfers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("consent_id", sa.String(64), nullable=False),
        sa.Column("manager_id", sa.String(255), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("principal_number", sa.String(64), nullable=True),
        sa.Column("principal_did", sa.String(255), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("pages_total", sa.Integer(), nullable=False),
        sa.Column("records_total", sa.BigInteger(), nullable=False),
        sa.Column("pages_served", sa.Integer(), nullable=False),
        sa.Column("records_served", sa.BigInteger(), nullable=False),
        sa.Column("bytes_served", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_code", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_transfers_requester", "consent_transfers", ["requester"])
    op.create_index("ix_consent_transfers_consent_started", "consent_transfers", ["consent_id", "started_at"])
    op.create_table(
        "consent_accesses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("transfer_id", sa.String(64), nullable=False),
        sa.Column("consent_id", sa.String(64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("principal_number", sa.String(64), nullable=True),
        sa.Column("principal_did", sa.String(255), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("data_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("transfer_id", "consent_id", "principal_number", "principal_did"):
        op.create_index(f"ix_consent_accesses_{column}", "consent_accesses", [column])


def downgrade() -> None:
    op.drop_table("consent_accesses")
    op.drop_table("consent_transfers")
    op.drop_table("consent_transitions")
    op.drop_table("consent_artefacts")
