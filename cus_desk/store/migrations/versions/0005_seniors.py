"""seniors feature schema (slot reserved for that feature; see docs/architecture.md)

Revision ID: 0005_seniors
Revises: 0004_partners
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cus_desk.store.models.base  # noqa: F401

revision = "0005_seniors"
down_revision = "0004_partners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
