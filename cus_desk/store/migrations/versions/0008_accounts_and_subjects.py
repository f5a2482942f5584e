"""issue 11 (accounts, right of access): temporary passwords expire, a
password reset ends open sessions (credentials epoch), and confidential
notes / journal entries name the household member they are about.

Revision ID: 0008_accounts_subjects
Revises: 0007_postgresql

A temporary password set before this revision has no expiry recorded:
sign-in treats it as expired (the administrator gives a new one).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cus_desk.store.models.base

revision = "0008_accounts_subjects"
down_revision = "0007_postgresql"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("confidential_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_tenant_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_confidential_notes_subject_tenant_id"), ["subject_tenant_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_confidential_notes_subject_tenant_id_tenants"), "tenants",
                                    ["subject_tenant_id"], ["id"], ondelete="SET NULL")

    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_tenant_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_journal_entries_subject_tenant_id"), ["subject_tenant_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_journal_entries_subject_tenant_id_tenants"), "tenants",
                                    ["subject_tenant_id"], ["id"], ondelete="SET NULL")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("temporary_password_expires_at",
                                      cus_desk.store.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("credentials_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("credentials_epoch")
        batch_op.drop_column("temporary_password_expires_at")

    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_journal_entries_subject_tenant_id_tenants"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_journal_entries_subject_tenant_id"))
        batch_op.drop_column("subject_tenant_id")

    with op.batch_alter_table("confidential_notes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_confidential_notes_subject_tenant_id_tenants"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_confidential_notes_subject_tenant_id"))
        batch_op.drop_column("subject_tenant_id")
