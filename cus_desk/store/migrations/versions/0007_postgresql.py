"""the shared PostgreSQL store: case search kept by the database (pg_trgm
GIN index over the folded search text, folding function and triggers that
keep the list columns), as the FTS5 index and triggers of 0002_cases do on
SQLite. Nothing changes in a SQLite file.

Revision ID: 0007_postgresql
Revises: 0006_security
"""
from __future__ import annotations

from alembic import op

revision = "0007_postgresql"
down_revision = "0006_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from cus_desk.store import pg_search

    pg_search.install(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from cus_desk.store import pg_search

    pg_search.uninstall(op.get_bind())
