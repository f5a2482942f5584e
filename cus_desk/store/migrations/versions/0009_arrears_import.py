"""seniors follow-up (#13): what the fiche tells the partner (tenant told,
reply expected and by when), relances and cancellations in the signalement
history, corrected observations kept as versions.

Revision ID: 0009_arrears_import
Revises: 0008_accounts_subjects
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_arrears_import"
down_revision = "0008_accounts_subjects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "senior_alert_info",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("tenant_informed", sa.Boolean(), nullable=False),
        sa.Column("tenant_informed_note", sa.String(length=255), nullable=False),
        sa.Column("reply_expected", sa.Text(), nullable=False),
        sa.Column("reply_by", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_senior_alert_info_referral_id_referrals"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_senior_alert_info")),
    )
    with op.batch_alter_table("field_observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("correction_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_field_observations_corrects_id_field_observations"),
                                    "field_observations", ["corrects_id"], ["id"])
    with op.batch_alter_table("senior_alert_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="statut", nullable=False))
        batch_op.add_column(sa.Column("means", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("senior_alert_events", schema=None) as batch_op:
        batch_op.drop_column("means")
        batch_op.drop_column("kind")
    with op.batch_alter_table("field_observations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_field_observations_corrects_id_field_observations"),
                                 type_="foreignkey")
        batch_op.drop_column("correction_reason")
        batch_op.drop_column("corrects_id")
    op.drop_table("senior_alert_info")
