"""the shared PostgreSQL store: case search kept by the database (pg_trgm
GIN index over the folded search text, folding function and triggers that
keep the list columns), as the FTS5 index and triggers of 0002_cases do on
SQLite. On SQLite: the search triggers are rebuilt with the larger folding
table (Turkish, Polish, Czech, Romanian... letters: "sahin" finds "Şahin")
and the index recomputed; no table changes.

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
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from cus_desk.store import pg_search

        pg_search.install(bind)
    elif bind.dialect.name == "sqlite":
        from cus_desk.store.models.cases import CASE_SEARCH_TRIGGERS, install_case_search

        for name in CASE_SEARCH_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        install_case_search(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from cus_desk.store import pg_search

        pg_search.uninstall(op.get_bind())
