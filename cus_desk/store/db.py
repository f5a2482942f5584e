"""Opening a database: engine with the same PRAGMAs on every connection,
migrations to head (after a backup copy), reference data, sessions."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

from cus_desk.domain.clock import Clock, system_clock
from cus_desk.domain.errors import DatabaseDamagedError, DatabaseOpenError
from cus_desk.store import changes  # noqa: F401  (registers the change announcements)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def _install_sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so that we emit
    # BEGIN ourselves: writes use BEGIN IMMEDIATE, which takes the write lock
    # up front (no "database is locked" half-way through a transaction, and
    # the audit chain reads its last link under the lock).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        conn.exec_driver_sql(conn.get_execution_options().get("cus_begin", "BEGIN"))


CLOCK_OPTION = "cus_clock"


def make_engine(url: str, clock: Clock | None = None) -> Engine:
    """An engine whose statements carry the program's clock (column
    defaults such as ``created_at`` read it from the execution context)."""
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, execution_options={CLOCK_OPTION: clock or system_clock()})
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseOpenError(
            f"L'adresse de base de données « {url} » n'est pas valide ({exc}). "
            "Exemple attendu : sqlite:///C:/chemin/cus-desk.sqlite3"
        ) from exc
    except ImportError as exc:
        raise DatabaseOpenError(
            f"Le pilote nécessaire pour « {url} » n'est pas installé ({exc})."
        ) from exc
    if engine.dialect.name == "sqlite":
        _install_sqlite_pragmas(engine)
    return engine


@dataclass
class Database:
    """An open, migrated database. Services open short sessions on it."""

    url: str
    engine: Engine
    _write_engine: Engine
    clock: Clock = field(default_factory=system_clock)
    # A sentence for the status bar about how the store was opened (e.g. the
    # demo rebuilt for today), or None.
    notice: str | None = None

    @property
    def path(self) -> Path | None:
        if self.engine.dialect.name != "sqlite":
            return None
        name = self.engine.url.database
        return Path(name) if name and name != ":memory:" else None

    @property
    def display_name(self) -> str:
        return str(self.path) if self.path else self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False, info={"clock": self.clock}) as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, rolled back
        (nothing half written) if it raises."""
        with Session(self._write_engine, expire_on_commit=False, info={"clock": self.clock}) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def check_sqlite_file(path: Path) -> None:
    """Refuse, with a French sentence, a file that is not a readable SQLite
    database, before SQLAlchemy or Alembic touch it."""
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseOpenError(f"« {path} » est un dossier, pas un fichier de base de données.")
    try:
        with path.open("rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise DatabaseOpenError(
            f"Le fichier « {path} » ne peut pas être lu ({exc.strerror}). "
            "Vérifiez vos droits d'accès ou choisissez un autre fichier."
        ) from exc
    if header and header != b"SQLite format 3\x00":
        raise DatabaseDamagedError(
            f"Le fichier « {path} » n'est pas une base CUS Desk (ce n'est pas une base SQLite)."
        )
    if not header:
        return  # empty file: SQLite treats it as a new database
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseDamagedError(
            f"La base « {path} » est endommagée ou illisible ({exc}). "
            "Restaurez la dernière sauvegarde (cus-desk restore FICHIER)."
        ) from exc
    if not row or row[0] != "ok":
        raise DatabaseDamagedError(
            f"La base « {path} » est endommagée (contrôle d'intégrité : {row[0] if row else '?'}). "
            "Elle n'a pas été ouverte en écriture. Restaurez la dernière sauvegarde "
            "(cus-desk restore FICHIER)."
        )


def session_clock(session: Session) -> Clock:
    """The program's clock, for store and service code that holds a session."""
    return session.info["clock"]


def backup_before_upgrade(path: Path, from_revision: str | None, clock: Clock) -> Path | None:
    """Copy the file aside before migrating it (nothing to copy when new)."""
    if not path.exists() or path.stat().st_size == 0 or from_revision is None:
        return None
    stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.avant-migration-{from_revision}-{stamp}{path.suffix}")
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    log.info("backup before migration: %s", target)
    return target


def preflight(url: str, *, check_file: bool = True) -> None:
    """Refuse a bad URL, a missing folder or (``check_file``) an unusable
    file before any window opens."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            path = Path(engine.url.database)
            if not path.parent.exists():
                raise DatabaseOpenError(
                    f"Le dossier « {path.parent} » n'existe pas : impossible d'y créer la base."
                )
            if check_file:
                check_sqlite_file(path)
    finally:
        engine.dispose()


def open_database(url: str, *, migrate: bool = True, seed: bool = True,
                  clock: Clock | None = None) -> Database:
    """Open (creating if needed) the database at ``url``, bring its schema to
    the latest migration and make sure the CUS reference data is there.
    ``clock`` is the program's one clock (the machine's by default)."""
    from cus_desk.store import migrate as migrations
    from cus_desk.store.seed import seed_reference_data

    clock = clock or system_clock()
    engine = make_engine(url, clock)
    db = Database(url=url, engine=engine, _write_engine=engine, clock=clock)
    if engine.dialect.name == "sqlite":
        db._write_engine = engine.execution_options(cus_begin="BEGIN IMMEDIATE")
        if db.path is not None:
            if not db.path.parent.exists():
                raise DatabaseOpenError(
                    f"Le dossier « {db.path.parent} » n'existe pas : impossible d'y créer la base."
                )
            check_sqlite_file(db.path)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if migrate:
            current = migrations.current_revision(engine)
            if current != migrations.HEAD:
                if db.path is not None:
                    backup_before_upgrade(db.path, current, clock)
                migrations.upgrade(engine)
        if seed:
            seed_reference_data(db)
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseOpenError(
            f"La base « {db.display_name} » ne peut pas être ouverte : {exc.orig}. "
            "Vérifiez le chemin et les droits, ou restaurez une sauvegarde."
        ) from exc
    return db
