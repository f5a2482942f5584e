"""CAS as a commission (#14): presence recorded at the meeting, who presents
a case, the responsible of a decision from a list (account or service),
what a decision created (orientation, plan d'apurement) and the demande de
résiliation judiciaire it grounds.

Revision ID: 0012_cas_commission
Revises: 0011_case_economics
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_cas_commission"
down_revision = "0011_case_economics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("presence", sa.String(length=12), nullable=True))
    # Sessions held before: what was stored is the presence.
    op.execute("UPDATE attendees SET presence = CASE WHEN present THEN 'present' ELSE 'excuse' END "
               "WHERE meeting_id IN (SELECT id FROM meetings WHERE status = 'cloturee')")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("presented_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_agenda_items_presented_by_id_users"),
                                    "users", ["presented_by_id"], ["id"])
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responsible_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("responsible_service", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("referral_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("repayment_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("judicial_used_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_decisions_responsible_user_id"), ["responsible_user_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_decisions_responsible_user_id_users"),
                                    "users", ["responsible_user_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_decisions_referral_id_referrals"),
                                    "referrals", ["referral_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_decisions_repayment_plan_id_repayment_plans"),
                                    "repayment_plans", ["repayment_plan_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_decisions_repayment_plan_id_repayment_plans"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_decisions_referral_id_referrals"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_decisions_responsible_user_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_decisions_responsible_user_id"))
        batch_op.drop_column("judicial_used_on")
        batch_op.drop_column("repayment_plan_id")
        batch_op.drop_column("referral_id")
        batch_op.drop_column("responsible_service")
        batch_op.drop_column("responsible_user_id")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_agenda_items_presented_by_id_users"), type_="foreignkey")
        batch_op.drop_column("presented_by_id")
    with op.batch_alter_table("attendees", schema=None) as batch_op:
        batch_op.drop_column("presence")
