"""partners feature schema (slot reserved for that feature; see docs/architecture.md)

Revision ID: 0004_partners
Revises: 0003_meetings
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import cus_desk.store.models.base  # noqa: F401

revision = "0004_partners"
down_revision = "0003_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
