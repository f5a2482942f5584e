"""agencies' contact details (#13): the address, phone and e-mail a partner
uses to answer a signalement (entered by an administrator, never seeded).

Revision ID: 0010_agency_contact
Revises: 0009_arrears_import
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_agency_contact"
down_revision = "0009_arrears_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=255), server_default="", nullable=False))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
        batch_op.drop_column("address")
