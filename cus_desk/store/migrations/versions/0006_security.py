"""security feature schema: audit purge anchors, retention register

Revision ID: 0006_security
Revises: 0005_seniors
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cus_desk.store.models.base

revision = "0006_security"
down_revision = "0005_seniors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", cus_desk.store.models.base.UTCDateTime(), nullable=False),
        sa.Column("through_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_hash", sa.String(length=64), nullable=False),
        sa.Column("purged_count", sa.Integer(), nullable=False),
        sa.Column("purged_by", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_anchors_hash")),
    )
    op.create_table(
        "retention_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("purged_at", cus_desk.store.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_records")),
        sa.UniqueConstraint("entity_type", "entity_id",
                            name=op.f("uq_retention_records_entity_type_entity_id")),
    )


def downgrade() -> None:
    op.drop_table("retention_records")
    op.drop_table("audit_anchors")
