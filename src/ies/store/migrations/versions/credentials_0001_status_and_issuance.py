"""credentials: status lists and entries, issued credentials, DeDi records, holder binding, subject records

Revision ID: credentials_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "credentials_0001"
down_revision = None
branch_labels = ("credentials",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vc_status_lists",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("size_bits", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vc_status_lists"),
    )
    op.create_table(
        "vc_status_entries",
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("credential_id", sa.String(255), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("list_id", "idx", name="pk_vc_status_entries"),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["vc_status_lists.id"],
            name="fk_vc_status_entries_list_id_vc_status_lists",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_vc_status_entries_credential_id", "vc_status_entries", ["credential_id"])
    op.create_table(
        "vc_issued_credentials",
        sa.Column("credential_id", sa.String(255), nullable=False),
        sa.Column("credential_type", sa.String(64), nullable=False),
        sa.Column("proof_format", sa.String(32), nullable=False),
        sa.Column("holder_binding", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_hash", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("credential_id", name="pk_vc_issued_credentials"),
        sa.UniqueConstraint("revocation_hash", name="uq_vc_issued_credentials_revocation_hash"),
    )
    op.create_table(
        "vc_dedi_records",
        sa.Column("registry_name", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("credential_id", sa.String(255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("registry_name", "record_hash", name="pk_vc_dedi_records"),
    )
    op.create_table(
        "vc_holder_nonces",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name="pk_vc_holder_nonces"),
    )
    op.create_index("ix_vc_holder_nonces_expires_at", "vc_holder_nonces", ["expires_at"])
    op.create_table(
        "vc_holder_otps",
        sa.Column("otp_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("otp_id", name="pk_vc_holder_otps"),
    )
    op.create_table(
        "vc_subject_records",
        sa.Column("doc_type", sa.String(8), nullable=False),
        sa.Column("consumer_no", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("mobile", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("doc_type", "consumer_no", "period", name="pk_vc_subject_records"),
    )


def downgrade() -> None:
    op.drop_table("vc_subject_records")
    op.drop_table("vc_holder_otps")
    op.drop_index("ix_vc_holder_nonces_expires_at", "vc_holder_nonces")
    op.drop_table("vc_holder_nonces")
    op.drop_table("vc_dedi_records")
    op.drop_table("vc_issued_credentials")
    op.drop_index("ix_vc_status_entries_credential_id", "vc_status_entries")
    op.drop_table("vc_status_entries")
    op.drop_table("vc_status_lists")
