"""case economics (#14): budget around the rent, dates of the eviction
procedure, CCAPEX referral, and the date the typed arrears were noted.

Revision ID: 0011_case_economics
Revises: 0010_agency_contact
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cus_desk.store.models.base import UTCDateTime

revision = "0011_case_economics"
down_revision = "0010_agency_contact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_economics",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("rent_cents", sa.Integer(), nullable=True),
        sa.Column("charges_cents", sa.Integer(), nullable=True),
        sa.Column("housing_aid_cents", sa.Integer(), nullable=True),
        sa.Column("housing_aid_kind", sa.String(length=8), nullable=True),
        sa.Column("resources_cents", sa.Integer(), nullable=True),
        sa.Column("other_charges_cents", sa.Integer(), nullable=True),
        sa.Column("commandement_payer_on", sa.Date(), nullable=True),
        sa.Column("assignation_on", sa.Date(), nullable=True),
        sa.Column("audience_on", sa.Date(), nullable=True),
        sa.Column("jugement_on", sa.Date(), nullable=True),
        sa.Column("commandement_quitter_on", sa.Date(), nullable=True),
        sa.Column("concours_force_publique_on", sa.Date(), nullable=True),
        sa.Column("ccapex_referred_on", sa.Date(), nullable=True),
        sa.Column("arrears_noted_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_economics_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_economics")),
    )


def downgrade() -> None:
    op.drop_table("case_economics")
