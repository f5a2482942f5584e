"""Shared fixtures: the program's clock frozen, a real, migrated store per
test (a SQLite file, or with ``CUS_DESK_TEST_DB=postgresql`` its own database
on a real PostgreSQL server, see tests/backends.py) and one actor per role."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One audit key for the whole run (session templates, every test, CLI
# subprocesses), never the real installation's (services.audit_key).
if "CUS_DESK_AUDIT_KEY_FILE" not in os.environ:
    import tempfile

    os.environ["CUS_DESK_AUDIT_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="cus-audit-key-"), "audit.key")
    # Deployed before any store is opened, as IT does for a server.
    from cus_desk.services.audit_key import create_key

    create_key()

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user, hash_password
from cus_desk.store.db import open_database, sqlite_url, upgrade_database
from cus_desk.store.models.core import Agency, User
from tests.backends import BACKENDS, POSTGRESQL, SQLITE, PgCluster, backend_from_env
from tests.frozen_time import TEST_TODAY, frozen_clock  # noqa: F401  (TEST_TODAY re-exported)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user data folder or QSettings from a test."""
    base = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("CUS_DESK_DATA_DIR", str(base))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.delenv("CUS_DESK_DB", raising=False)
    # No machine-wide settings of the test machine (/etc/cus-desk) leak in.
    monkeypatch.setenv("CUS_DESK_MACHINE_CONFIG", str(base / "machine-config.toml"))
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
def clock():
    """The program's one clock, frozen at ``TEST_TODAY`` 10:00 (Paris); a test
    may ``set()`` or ``advance()`` it. Every database of a test shares it."""
    return frozen_clock()


@pytest.fixture
def db_path(tmp_path, db_backend, request) -> Path | str:
    """Where the store of ``db`` lives: a SQLite file, or on the PostgreSQL
    run the database URL (a str: what ``--db`` takes, ``str(db_path)`` works
    on both; a test doing file operations on it is a SQLite-only test)."""
    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        return cluster.url(cluster.unique_name("db"))
    return tmp_path / "cus-desk-test.sqlite3"


# --- the store under test: SQLite files, or databases on a PostgreSQL server --------


def pytest_addoption(parser):
    parser.addoption(
        "--db-backend", choices=BACKENDS, default=None,
        help="store the db/demo_db fixtures use (default: $CUS_DESK_TEST_DB or sqlite); "
             "postgresql starts a throw-away server unless $CUS_DESK_TEST_PG_URL names one",
    )


def pytest_configure(config):
    backend = config.getoption("--db-backend") or backend_from_env()
    config.cus_db_backend = backend
    # Subprocesses started by tests (CLI, crash, concurrency) see the same choice.
    os.environ["CUS_DESK_TEST_DB"] = backend
    config.addinivalue_line(
        "markers", "sqlite_only(reason): a test of the SQLite file store itself "
        "(file copies, PRAGMAs, WAL…); skipped on the PostgreSQL run")
    config.addinivalue_line(
        "markers", "postgresql_only(reason): a test of the PostgreSQL store; "
        "skipped on the SQLite run (the PostgreSQL run of CI runs it)")


@pytest.fixture(scope="session")
def db_backend(pytestconfig) -> str:
    """"sqlite" or "postgresql": the store every db/demo_db of this run lives in."""
    return pytestconfig.cus_db_backend


_pg_state: dict = {"used": 0}


@pytest.fixture(scope="session")
def pg_cluster(db_backend):
    """The PostgreSQL server of a PostgreSQL run (PgCluster: create/drop
    databases). A server that cannot start ends the run as a FAILURE (never
    a skip: a PostgreSQL run that tests nothing must not look green)."""
    if db_backend != POSTGRESQL:
        pytest.skip("PostgreSQL run only (CUS_DESK_TEST_DB=postgresql)")
    from tests import pg_server

    server = None
    url = os.environ.get("CUS_DESK_TEST_PG_URL")
    try:
        if not url:
            server = pg_server.start(log=lambda m: sys.stderr.write(m + "\n"))
            url = server.url
        cluster = PgCluster(url)
        _pg_state["version"] = cluster.version()
    except Exception as exc:  # noqa: BLE001 - any cause: the run must fail, loudly
        if server is not None:
            server.stop()
        pytest.exit(f"PostgreSQL run: no server ({exc})", returncode=1)
    os.environ["CUS_DESK_TEST_PG_URL"] = url  # for subprocesses
    yield cluster
    cluster.drop_own_databases()
    cluster.dispose()
    if server is not None:
        server.stop()
        os.environ.pop("CUS_DESK_TEST_PG_URL", None)


_STORE_FIXTURES = {"db", "demo_db", "pg_cluster", "_migrated_template", "demo_template"}


def _skip_other_backend_tests(config, items):
    backend = config.cus_db_backend
    _pg_state["wanted"] = sum(1 for i in items if _STORE_FIXTURES & set(getattr(i, "fixturenames", ())))
    for item in items:
        for name, skipped_on in (("sqlite_only", POSTGRESQL), ("postgresql_only", SQLITE)):
            marker = item.get_closest_marker(name)
            if marker is not None and backend == skipped_on:
                reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else name)
                item.add_marker(pytest.mark.skip(reason=f"{name}: {reason}"))


def _pg_database(cluster, template: str, stem: str) -> str:
    _pg_state["used"] += 1
    return cluster.create(cluster.unique_name(stem), template=template)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory, db_backend, request):
    """A migrated, seeded database built once per run; each test gets a copy
    (SQLite: a copy of the file; PostgreSQL: CREATE DATABASE … TEMPLATE),
    the same real store, without migrating every time."""
    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.unique_name("template")
        url = cluster.create(name)
        upgrade_database(url, clock=frozen_clock()).dispose()
        return name
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    open_database(sqlite_url(path), clock=frozen_clock()).dispose()
    return path


@pytest.fixture
def db(db_path, _migrated_template, clock, db_backend, request):
    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        _pg_state["used"] += 1
        url = cluster.create(make_url(db_path).database, template=_migrated_template)
        database = open_database(url, clock=clock)
        yield database
        database.dispose()
        cluster.drop(make_url(url).database)
        return
    shutil.copy(_migrated_template, db_path)
    database = open_database(sqlite_url(db_path), clock=clock)
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


@pytest.fixture
def store_copy(db, db_path, tmp_path, db_backend, request):
    """``store_copy(name)`` → the URL of a copy of ``db``'s store as it is now
    (dispose ``db`` first): a copy of the SQLite file, or on PostgreSQL a
    database made with ``CREATE DATABASE … TEMPLATE``."""
    made = []

    def copy(name: str) -> str:
        if db_backend == POSTGRESQL:
            cluster = request.getfixturevalue("pg_cluster")
            target = cluster.unique_name(name)
            made.append(target)
            return cluster.create(target, template=make_url(db_path).database)
        target = tmp_path / f"{name}.sqlite3"
        shutil.copy(db_path, target)
        return sqlite_url(target)

    yield copy
    if made:
        cluster = request.getfixturevalue("pg_cluster")
        for name in made:
            cluster.drop(name)


@pytest.fixture
def empty_db_url(tmp_path, db_backend, request) -> str:
    """The URL of a new, empty store of this run's kind (a SQLite file not yet
    created, or an empty PostgreSQL database), dropped after the test."""
    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.unique_name("empty")
        _pg_state["used"] += 1
        yield cluster.create(name)
        cluster.drop(name)
        return
    yield sqlite_url(tmp_path / "empty.sqlite3")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, db_backend, request):
    """The demo database, built once per test run (deterministic): a SQLite
    file, or on the PostgreSQL run the name of a template database."""
    from cus_desk.demo import build_demo

    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.unique_name("demo_template")
        url = cluster.create(name)
        database = upgrade_database(url, clock=frozen_clock())
        build_demo(database)
        database.dispose()
        return name
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = open_database(sqlite_url(path), clock=frozen_clock())
    build_demo(database)
    database.dispose()
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path, clock, db_backend, request):
    """A private copy of the demo database (built for ``TEST_TODAY``) for one test."""
    if db_backend == POSTGRESQL:
        cluster = request.getfixturevalue("pg_cluster")
        url = _pg_database(cluster, demo_template, "demo")
        database = open_database(url, clock=clock)
        yield database
        database.dispose()
        cluster.drop(make_url(url).database)
        return
    path = tmp_path / "demo.sqlite3"
    shutil.copy(demo_template, path)
    database = open_database(sqlite_url(path), clock=clock)
    yield database
    database.dispose()


def pytest_collection_modifyitems(config, items):
    """Every test that drives widgets is a GUI test (``-m "not gui"`` runs
    the logic alone), whether or not its module says so. Tests of one store
    only are skipped on the other's run."""
    _skip_other_backend_tests(config, items)
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


def pytest_report_header(config):
    return f"store under test: {config.cus_db_backend}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.cus_db_backend == POSTGRESQL:
        terminalreporter.write_line(
            f"[pg] PostgreSQL {_pg_state.get('version', '(not started)')}: "
            f"{_pg_state['used']} test databases created from templates")


def pytest_sessionfinish(session, exitstatus):
    """A PostgreSQL run whose store tests never reached a server is a
    failure, whatever skipped them."""
    config = session.config
    if (getattr(config, "cus_db_backend", None) == POSTGRESQL and _pg_state.get("wanted")
            and not _pg_state.get("version") and session.exitstatus == 0):
        sys.stderr.write("[pg] PostgreSQL run: no test reached the server: FAILED\n")
        session.exitstatus = 1

