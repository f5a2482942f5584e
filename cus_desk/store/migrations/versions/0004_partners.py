"""partners feature schema: contacts, communes covered, conventions, flats
let to associations (intermédiation locative) and CUS counts.

Revision ID: 0004_partners
Revises: 0003_meetings
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cus_desk.store.models.base

revision = "0004_partners"
down_revision = "0003_meetings"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", cus_desk.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", cus_desk.store.models.base.UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "partner_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("function", sa.String(length=160), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_partner_contacts_partner_id_partners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_contacts")),
    )
    with op.batch_alter_table("partner_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_contacts_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_communes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_partner_communes_partner_id_partners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_communes")),
        sa.UniqueConstraint("partner_id", "commune", name=op.f("uq_partner_communes_partner_id_commune")),
    )
    with op.batch_alter_table("partner_communes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_communes_commune"), ["commune"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_communes_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_conventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("flat_count", sa.Integer(), nullable=True),
        sa.Column("document_ref", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_partner_conventions_agency_id_agencies")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_partner_conventions_partner_id_partners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_conventions")),
    )
    with op.batch_alter_table("partner_conventions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_conventions_end_date"), ["end_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_conventions_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "sublet_flats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("transferable", sa.Boolean(), nullable=False),
        sa.Column("transfer_date", sa.Date(), nullable=True),
        sa.Column("lease_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_sublet_flats_agency_id_agencies")),
        sa.ForeignKeyConstraint(["lease_id"], ["leases.id"], name=op.f("fk_sublet_flats_lease_id_leases")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_sublet_flats_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sublet_flats")),
    )
    with op.batch_alter_table("sublet_flats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sublet_flats_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sublet_flats_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "sublet_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed_key", sa.String(length=80), nullable=True),
        sa.Column("table_code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("commune", sa.String(length=120), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("transferable", sa.Boolean(), nullable=True),
        sa.Column("flat_count", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_sublet_counts_agency_id_agencies")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_sublet_counts_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sublet_counts")),
        sa.UniqueConstraint("seed_key", name=op.f("uq_sublet_counts_seed_key")),
    )
    with op.batch_alter_table("sublet_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sublet_counts_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sublet_counts_table_code"), ["table_code"], unique=False)


def downgrade() -> None:
    op.drop_table("sublet_counts")
    op.drop_table("sublet_flats")
    op.drop_table("partner_conventions")
    op.drop_table("partner_communes")
    op.drop_table("partner_contacts")
