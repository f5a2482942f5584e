"""seniors feature schema: arrears extracts and lines, field observations,
signalement status history, remembered column mappings.

Revision ID: 0005_seniors
Revises: 0004_partners
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cus_desk.store.models.base

revision = "0005_seniors"
down_revision = "0004_partners"
branch_labels = None
depends_on = None

UTC = cus_desk.store.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "arrears_extracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("imported_at", UTC(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("lines_read", sa.Integer(), nullable=False),
        sa.Column("lines_imported", sa.Integer(), nullable=False),
        sa.Column("rejected_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by_id"], ["users.id"],
                                name=op.f("fk_arrears_extracts_imported_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrears_extracts")),
        sa.UniqueConstraint("extract_date", name=op.f("uq_arrears_extracts_extract_date")),
    )
    op.create_table(
        "arrears_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("extract_id", sa.Integer(), nullable=False),
        sa.Column("lease_id", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=False),
        sa.Column("months_unpaid", sa.Integer(), nullable=True),
        sa.Column("last_payment_on", sa.Date(), nullable=True),
        sa.Column("monthly_rent_cents", sa.Integer(), nullable=True),
        sa.Column("holder_birth_date", sa.Date(), nullable=True),
        sa.Column("cotenant_birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["extract_id"], ["arrears_extracts.id"],
                                name=op.f("fk_arrears_lines_extract_id_arrears_extracts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lease_id"], ["leases.id"],
                                name=op.f("fk_arrears_lines_lease_id_leases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrears_lines")),
        sa.UniqueConstraint("extract_id", "lease_id", name=op.f("uq_arrears_lines_extract_id_lease_id")),
    )
    op.create_index(op.f("ix_arrears_lines_lease_id"), "arrears_lines", ["lease_id"], unique=False)
    op.create_table(
        "field_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lease_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("observer", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["lease_id"], ["leases.id"],
                                name=op.f("fk_field_observations_lease_id_leases")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_field_observations_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_observations")),
    )
    op.create_index(op.f("ix_field_observations_lease_id"), "field_observations", ["lease_id"], unique=False)
    op.create_table(
        "senior_alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_senior_alert_events_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_senior_alert_events_referral_id_referrals"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_senior_alert_events")),
    )
    op.create_index(op.f("ix_senior_alert_events_referral_id"), "senior_alert_events", ["referral_id"], unique=False)
    op.create_table(
        "arrears_column_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_arrears_column_mappings_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrears_column_mappings")),
        sa.UniqueConstraint("signature", name=op.f("uq_arrears_column_mappings_signature")),
    )


def downgrade() -> None:
    op.drop_table("arrears_column_mappings")
    op.drop_index(op.f("ix_senior_alert_events_referral_id"), table_name="senior_alert_events")
    op.drop_table("senior_alert_events")
    op.drop_index(op.f("ix_field_observations_lease_id"), table_name="field_observations")
    op.drop_table("field_observations")
    op.drop_index(op.f("ix_arrears_lines_lease_id"), table_name="arrears_lines")
    op.drop_table("arrears_lines")
    op.drop_table("arrears_extracts")
