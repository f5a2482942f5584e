"""Migrations and models agree; a database is copied before an upgrade."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cus_desk.store import migrate
from cus_desk.store.db import make_engine, open_database, sqlite_url
from cus_desk.store.models import Base
from cus_desk.store.models.cases import is_case_search_table
from cus_desk.store.pg_search import is_search_index


def include_name(name, type_, _parents) -> bool:
    """The search index of the case list is not an ORM model (FTS5 tables on
    SQLite, a trigram index on PostgreSQL)."""
    if type_ == "index":
        return not is_search_index(name)
    return not (type_ == "table" and is_case_search_table(name))


def test_upgrade_head_yields_exactly_the_models(empty_db_url):
    """On the store of this run: SQLite, or PostgreSQL on the server run."""
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_single_linear_head():
    assert migrate.head_revision() == migrate.HEAD == "0013_audit_chain_head"


@pytest.mark.sqlite_only(reason="a copy of the SQLite file is taken before migrating it; "
                                "a server is never migrated on open (test_schema_upgrades.py)")
def test_backup_taken_before_upgrade(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = make_engine(sqlite_url(path))
    migrate.upgrade(engine, "0001_foundation")
    engine.dispose()
    db = open_database(sqlite_url(path))
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    db.dispose()
    copies = list(tmp_path.glob("old.avant-migration-0001_foundation-*.sqlite3"))
    assert len(copies) == 1
    check = make_engine(sqlite_url(copies[0]))
    assert migrate.current_revision(check) == "0001_foundation"
    check.dispose()


@pytest.mark.sqlite_only(reason="backup copy of a SQLite file")
def test_no_backup_for_a_new_database(tmp_path):
    open_database(sqlite_url(tmp_path / "new.sqlite3")).dispose()
    assert list(tmp_path.glob("*avant-migration*")) == []
