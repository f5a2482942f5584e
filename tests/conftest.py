"""Shared fixtures: a real, migrated SQLite file per test and one actor per role."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from sqlalchemy import select

from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Agency


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user data folder or QSettings from a test."""
    base = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("CUS_DESK_DATA_DIR", str(base))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.delenv("CUS_DESK_DB", raising=False)
    monkeypatch.delenv("CUS_DESK_USER", raising=False)
    monkeypatch.delenv("CUS_DESK_PASSWORD", raising=False)


@pytest.fixture(autouse=True)
def _background_jobs_end_with_their_test():
    """A job started by a test finishes before the next test (and before its
    temporary database goes away)."""
    yield
    if "PySide6.QtCore" in sys.modules:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "cus-desk-test.sqlite3"


@pytest.fixture
def db(db_path):
    database = open_database(sqlite_url(db_path))
    yield database
    database.dispose()


def agency_id(db, code: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


TEST_PASSWORD = "Mot-de-passe-test-1"


@pytest.fixture
def actors(db):
    """One account per role (password TEST_PASSWORD). Keys: admin,
    adviser_metz, adviser_forbach, social_head, cas_member, recovery_metz."""
    metz, forbach = agency_id(db, "metz"), agency_id(db, "forbach")
    return {
        "admin": create_user(db, "admin", "Alice Admin", Role.ADMIN, TEST_PASSWORD),
        "adviser_metz": create_user(db, "cs.metz", "Camille Conseillère", Role.SOCIAL_ADVISER, TEST_PASSWORD, metz),
        "adviser_forbach": create_user(db, "cs.forbach", "Fanny Forbach", Role.SOCIAL_ADVISER, TEST_PASSWORD, forbach),
        "social_head": create_user(db, "pole.social", "Sophie Responsable", Role.SOCIAL_HEAD, TEST_PASSWORD),
        "cas_member": create_user(db, "cas.securite", "Serge Sécurité", Role.CAS_MEMBER, TEST_PASSWORD),
        "recovery_metz": create_user(db, "recouvrement.metz", "Romain Recouvrement", Role.RECOVERY, TEST_PASSWORD, metz),
    }


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo database, built once per test run (deterministic)."""
    from cus_desk.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = open_database(sqlite_url(path))
    build_demo(database)
    database.dispose()
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path):
    """A private copy of the demo database for one test."""
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    database = open_database(sqlite_url(path))
    yield database
    database.dispose()


def pytest_collection_modifyitems(items):
    """Every test that drives widgets is a GUI test (``-m "not gui"`` runs
    the logic alone), whether or not its module says so."""
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)
