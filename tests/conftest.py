"""Shared fixtures: a real, migrated SQLite file per test and one actor per role."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from sqlalchemy import select

from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user, hash_password
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Agency, User


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
        from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

        QThreadPool.globalInstance().waitForDone(30_000)
        # Widgets closed by the test (deleteLater) are destroyed now, while
        # their Python side is intact; left to the collector below, a window
        # would be destroyed after its wrappers' attributes were cleared, and
        # its models or filters would fail when called during destruction.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Garbage is collected here, on the GUI thread, never by a worker thread
    # that happens to allocate (see cus_desk/ui/gc_guard.py). What survives is
    # frozen, so the next collection scans only what the next test creates
    # (a full scan of the whole heap after each test doubled the run time).
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def _no_automatic_garbage_collection():
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "cus-desk-test.sqlite3"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """A migrated, seeded database built once per run; each test gets a copy
    of the file (the same real SQLite file, without migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    open_database(sqlite_url(path)).dispose()
    return path


@pytest.fixture
def db(db_path, _migrated_template):
    shutil.copy(_migrated_template, db_path)
    database = open_database(sqlite_url(db_path))
    yield database
    database.dispose()


def agency_id(db, code: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


TEST_PASSWORD = "Mot-de-passe-test-1"


@pytest.fixture(scope="session")
def _test_password_hash() -> str:
    # Argon2 is slow on purpose: one real hash per run, shared by the accounts.
    return hash_password(TEST_PASSWORD)


ACCOUNTS = {  # key: (login, name, role, agency code)
    "admin": ("admin", "Alice Admin", Role.ADMIN, None),
    "adviser_metz": ("cs.metz", "Camille Conseillère", Role.SOCIAL_ADVISER, "metz"),
    "adviser_forbach": ("cs.forbach", "Fanny Forbach", Role.SOCIAL_ADVISER, "forbach"),
    "social_head": ("pole.social", "Sophie Responsable", Role.SOCIAL_HEAD, None),
    "cas_member": ("cas.securite", "Serge Sécurité", Role.CAS_MEMBER, None),
    "recovery_metz": ("recouvrement.metz", "Romain Recouvrement", Role.RECOVERY, "metz"),
}


@pytest.fixture
def actors(db, _test_password_hash):
    """One account per role, each with the password TEST_PASSWORD. Keys:
    admin, adviser_metz, adviser_forbach, social_head, cas_member,
    recovery_metz."""
    made = {
        key: create_user(db, login, name, role, None, agency_id(db, code) if code else None)
        for key, (login, name, role, code) in ACCOUNTS.items()
    }
    with db.write_session() as session:
        for user in session.scalars(select(User).where(User.id.in_([a.user_id for a in made.values()]))):
            user.password_hash = _test_password_hash
    return made


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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """A test that fails while a window holds unsaved changes leaves that
    window to be closed here, and the window asks "discard?" in a modal box
    that nobody answers offscreen: the whole run would hang instead of
    reporting the failure. During teardown, such a box is dismissed (as
    Escape would). A timer rather than a patched exec(): a test's own
    monkeypatch of exec() is undone inside this teardown."""
    if "PySide6.QtWidgets" not in sys.modules:
        return (yield)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:  # no window can be open
        return (yield)

    def dismiss() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.done(0)

    timer = QTimer()
    timer.timeout.connect(dismiss)
    timer.start(20)
    try:
        return (yield)
    finally:
        timer.stop()

