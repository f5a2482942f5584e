"""Tests of the shared PostgreSQL store itself (live refresh, lost
connections, pg_dump backups, moving a pilot's file): they run in the
suite's PostgreSQL run and are skipped, by marker, on the SQLite run."""

from __future__ import annotations

import shutil

import pytest

from cus_desk.store.db import open_database, sqlite_url
from tests.frozen_time import frozen_clock


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/server/" in str(item.fspath):
            item.add_marker(pytest.mark.postgresql_only(reason="a shared-server feature"))


@pytest.fixture
def pg_url(empty_db_url):
    """An empty PostgreSQL database of this run's server."""
    return empty_db_url


@pytest.fixture
def pg_db(db):
    """A migrated PostgreSQL store (the run's ``db``)."""
    return db


@pytest.fixture(scope="session")
def _sqlite_demo_file(tmp_path_factory):
    from cus_desk.demo import build_demo

    path = tmp_path_factory.mktemp("pilot") / "pilote.sqlite3"
    database = open_database(sqlite_url(path), clock=frozen_clock())
    build_demo(database)
    database.dispose()
    return path


@pytest.fixture
def sqlite_demo(_sqlite_demo_file, tmp_path, clock):
    """A pilot's SQLite store (the demo), whatever this run's backend."""
    path = tmp_path / "pilote.sqlite3"
    shutil.copy(_sqlite_demo_file, path)
    database = open_database(sqlite_url(path), clock=clock)
    yield database
    database.dispose()
