"""Opening a database: engine with the same PRAGMAs on every connection,
migrations to head (after a backup copy), reference data, sessions."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

from cus_desk.domain.clock import Clock, system_clock
from cus_desk.domain.errors import (
    DatabaseDamagedError,
    DatabaseOpenError,
    ServerPasswordError,
    StoreBusyError,
)
from cus_desk.store import changes  # noqa: F401  (registers the change announcements)
from cus_desk.store import dialect as dialects
from cus_desk.store.dialect import BUSY_TIMEOUT_MS  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

def with_password(url: str, password: str) -> str:
    """``url`` carrying ``password`` (kept in memory only: never logged, the
    displayed address hides it)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def personal_url(url: str, login: str, password: str | None) -> str:
    """The address a person connects with (store.dialect.personal_url): on
    a server whose address names no account, her own server account."""
    engine = make_engine(url)
    try:
        return dialects.of(engine).personal_url(url, login, password)
    finally:
        engine.dispose()


def server_address(url: str) -> str:
    """« hôte:port, base nom » of a server address, for people."""
    parsed = make_url(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}, base {parsed.database}"


def needs_personal_account(url: str) -> bool:
    """A server address that names no account: each person connects with
    her own (login and password asked before the connection)."""
    try:
        return personal_url(url, "x", None) != url
    except DatabaseOpenError:
        return False


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def program_owned(url: str) -> bool:
    """The per-user store or the demo's: files only the program creates (an
    empty one is a first start interrupted, not a file chosen by mistake)."""
    from cus_desk import paths

    return url in (sqlite_url(paths.default_db_path()), sqlite_url(paths.demo_db_path()))


CLOCK_OPTION = "cus_clock"
# How many times a write asks for the writer's lock before saying the store is busy.
WRITE_ATTEMPTS = 3


def make_engine(url: str, clock: Clock | None = None) -> Engine:
    """An engine whose statements carry the program's clock (column
    defaults such as ``created_at`` read it from the execution context)."""
    try:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            # psycopg 3 (SQLAlchemy's default for a bare postgresql:// is psycopg2).
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, execution_options={CLOCK_OPTION: clock or system_clock()},
                               **dialects.named(parsed.get_backend_name()).engine_options())
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseOpenError(
            f"L'adresse de base de données « {url} » n'est pas valide ({exc}). "
            "Exemple attendu : sqlite:///C:/chemin/cus-desk.sqlite3"
        ) from exc
    except ImportError as exc:
        raise DatabaseOpenError(
            f"Le pilote nécessaire pour « {url} » n'est pas installé ({exc})."
        ) from exc
    dialects.of(engine).prepare_engine(engine)
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
    _checked_accounts: dict = field(default_factory=dict, repr=False)
    # Settings as read recently: key -> (raw JSON or None, monotonic seconds).
    _settings: dict = field(default_factory=dict, repr=False)
    # This process's registration on a SQLite file (store.presence).
    _presence: object | None = field(default=None, repr=False)
    # Called before a write session opens (and at dispose): writes deferred
    # while the store was busy (services.deferred_audit) get their turn.
    deferred_writes: list = field(default_factory=list, repr=False)

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
        with Session(self.engine, expire_on_commit=False, info=self._session_info()) as session:
            yield session

    @contextmanager
    def write_session(self, *, wait_ms: int | None = None,
                      attempts: int = WRITE_ATTEMPTS) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, rolled back
        (nothing half written) if it raises.

        The writer's lock is taken first thing (SQLite ``BEGIN IMMEDIATE``, a
        PostgreSQL advisory lock), before the block runs: when another
        writer (a long import) holds it past the wait (``wait_ms``, else the
        store's busy timeout), the lock is asked again, ``attempts`` times in
        all, then a French StoreBusyError says that nothing was saved. The
        block itself never runs twice and never half-runs."""
        self._run_deferred_writes()
        engine = self._write_engine
        if wait_ms is not None:
            engine = engine.execution_options(**{dialects.WAIT_OPTION: int(wait_ms)})
        with Session(engine, expire_on_commit=False, info=self._session_info()) as session:
            self._take_write_lock(session, attempts)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _take_write_lock(self, session: Session, attempts: int) -> None:
        for attempt in range(1, max(1, attempts) + 1):
            try:
                session.connection()  # runs the dialect's BEGIN (the lock)
                return
            except DBAPIError as exc:
                if dialects.of(self.engine).error_kind(exc) != "busy":
                    raise
                session.rollback()
                log.warning("store busy (attempt %d of %d)", attempt, attempts)
                if attempt >= attempts:
                    raise StoreBusyError() from exc

    def _run_deferred_writes(self) -> None:
        for flush in list(self.deferred_writes):
            try:
                flush(self)
            except Exception:  # noqa: BLE001 - a deferred write waits for its next turn
                log.warning("deferred write not done yet", exc_info=True)

    def _session_info(self) -> dict:
        return {"clock": self.clock, "changed": self.forget_cached, "settings_cache": self._settings}

    # Accounts checked recently (per actor, monotonic seconds), so that a
    # server store does not pay a round trip per service call for it.
    def account_checked_recently(self, actor, ttl: float) -> bool:
        seen = self._checked_accounts.get(actor)
        return seen is not None and time.monotonic() - seen < ttl

    def note_account_checked(self, actor) -> None:
        self._checked_accounts[actor] = time.monotonic()

    def forget_checked_accounts(self) -> None:
        self._checked_accounts.clear()

    def forget_cached(self, topics) -> None:
        """What a committed write (here, or heard from the server) changed
        makes the matching caches go: accounts checked, settings read."""
        if "users" in topics:
            self._checked_accounts.clear()
        if "settings" in topics:
            self._settings.clear()

    def register_presence(self) -> None:
        """Mark this process as having the SQLite file open (store.presence)."""
        if self.path is not None and self._presence is None:
            from cus_desk.store import presence

            self._presence = presence.register(self.path)

    def dispose(self) -> None:
        if self.deferred_writes:
            self._run_deferred_writes()
        self.engine.dispose()
        if self._presence is not None:
            self._presence.release()
            self._presence = None


EMPTY_FILE = (
    "Le fichier « {path} » est vide (0 octet) : ce n'est pas une base CUS Desk. Rien n'y a été "
    "écrit. Indiquez le bon fichier, ou, pour créer une nouvelle base à cet endroit, relancez "
    "la commande avec --create."
)


def check_sqlite_file(path: Path, *, allow_empty: bool = False) -> None:
    """Refuse, with a French sentence, a file that is not a readable SQLite
    database, before SQLAlchemy or Alembic touch it. An empty file (0 byte)
    is refused unless ``allow_empty`` (creating a store there was asked):
    SQLite would silently make it a new, empty store."""
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
        if allow_empty:
            return  # SQLite treats it as a new database
        raise DatabaseOpenError(EMPTY_FILE.format(path=path))
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


# Copies kept before a migration (next to the store): how many.
MIGRATION_COPIES_KEPT = 3


def backup_before_upgrade(path: Path, from_revision: str | None, clock: Clock) -> Path | None:
    """Copy the file aside before migrating it (nothing to copy when new):
    written as ``.<name>.part`` then renamed (a killed migration leaves no
    half-written copy under the final name; the next copy or opening cleans
    the part), user-only, the newest ``MIGRATION_COPIES_KEPT`` kept."""
    from cus_desk.store import copies

    if not path.exists() or path.stat().st_size == 0 or from_revision is None:
        return None
    stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.avant-migration-{from_revision}-{stamp}{path.suffix}")
    copies.online_copy(path, target, pages=-1)
    copies.rotate_glob(path.parent, f"{path.stem}.avant-migration-*{path.suffix}", MIGRATION_COPIES_KEPT)
    log.info("backup before migration: %s", target)
    return target


def preflight(url: str, *, check_file: bool = True, create: bool = False) -> None:
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
                check_sqlite_file(path, allow_empty=create)
    finally:
        engine.dispose()


class SchemaError(DatabaseOpenError):
    """The store's schema is not the one this program knows (empty on a
    server, older, newer, or another application's): refused, nothing written."""


def _schema_refusal(db: Database, current: str | None, *, upgrading: bool) -> str | None:
    """A French sentence refusing this schema, or None when it is usable
    (``upgrading``: the caller will bring an older or empty schema to head)."""
    from cus_desk import __version__
    from cus_desk.store import migrate as migrations

    if current == migrations.HEAD:
        return None
    where = f"La base « {db.display_name} »"
    upgrade_cmd = f"cus-desk --db {db.display_name} db upgrade"
    if current is None:
        others = migrations.other_tables(db.engine)
        if others:
            shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            return (
                f"{where} contient déjà des tables d'une autre application ({shown}) : "
                "CUS Desk ne l'utilise pas et n'y a rien écrit. Indiquez une base vide, "
                "réservée à CUS Desk."
            )
        if upgrading:
            return None
        return (
            f"{where} est vide : le schéma de CUS Desk n'y a pas encore été créé. "
            f"L'administrateur doit le créer une fois : {upgrade_cmd}"
        )
    known = migrations.known_revisions()
    if current not in known:
        wanted = _store_app_version(db)
        install = (f"installez CUS Desk {wanted} (ou plus récent)" if wanted
                   else "installez la version de CUS Desk déployée par votre service informatique")
        return (
            f"{where} a été mise à jour par une version plus récente de CUS Desk "
            f"(schéma « {current} ») que celle-ci ({__version__}, schéma « {migrations.HEAD} ») : "
            f"{install}. Rien n'a été modifié."
        )
    if upgrading:
        return None
    return (
        f"{where} est au schéma « {current} », plus ancien que celui de cette version de "
        f"CUS Desk ({__version__}, schéma « {migrations.HEAD} »). Sur un serveur partagé, la "
        "mise à jour est un acte d'administrateur : une fois les autres postes fermés et une "
        f"sauvegarde faite, lancez {upgrade_cmd} (ou demandez-le à votre service informatique)."
    )


def schema_status(url: str) -> tuple[str | None, str | None]:
    """(the store's revision, a French sentence when a client would refuse
    it, else None). Reads only."""
    from cus_desk.store import migrate as migrations

    engine = make_engine(url)
    db = Database(url=url, engine=engine, _write_engine=engine)
    try:
        current = migrations.current_revision(engine)
        return current, _schema_refusal(db, current, upgrading=dialects.of(engine).migrates_on_open)
    except DBAPIError as exc:
        raise _open_error(db, exc) from exc
    finally:
        engine.dispose()


APP_VERSION_KEY = "store_app_version"


def _store_app_version(db: Database) -> str | None:
    """The CUS Desk version that last upgraded this store, if recorded."""
    import json

    try:
        with db.engine.connect() as conn:
            raw = conn.execute(text("SELECT value_json FROM settings WHERE key = :k"),
                               {"k": APP_VERSION_KEY}).scalar()
        return json.loads(raw) if raw else None
    except Exception:  # noqa: BLE001 - a newer schema may differ: the hint is optional
        return None


def _open_error(db: Database, exc: DBAPIError) -> DatabaseOpenError:
    code = getattr(exc.orig, "sqlstate", None)
    if code == "42501":  # insufficient_privilege
        user = db.engine.url.username or "(compte courant)"
        return DatabaseOpenError(
            f"Le compte « {user} » n'a pas les droits nécessaires sur la base "
            f"« {db.display_name} » ({str(exc.orig).strip().splitlines()[0]}). Demandez à "
            "l'administrateur de la base de donner à ce compte les droits de lecture et "
            "d'écriture sur les tables de CUS Desk (et, pour « db upgrade », le droit de "
            "créer des tables dans le schéma)."
        )
    if code == "28P01" or "password" in str(exc.orig).lower():  # authentication failed / none given
        return ServerPasswordError(
            f"Le serveur « {db.display_name} » refuse la connexion : mot de passe absent ou "
            "incorrect pour ce compte. Indiquez-le dans votre fichier de mots de passe "
            "PostgreSQL (pgpass) ou saisissez-le quand il est demandé."
        )
    if dialects.of(db.engine).error_kind(exc) == "lost":
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return DatabaseOpenError(
            f"Le serveur de base de données « {db.display_name} » ne répond pas ({first}). "
            "Vérifiez le réseau et que le serveur est démarré, puis réessayez ; si cela dure, "
            "prévenez le service informatique."
        )
    return DatabaseOpenError(
        f"La base « {db.display_name} » ne peut pas être ouverte : {exc.orig}. "
        "Vérifiez le chemin et les droits, ou restaurez une sauvegarde."
    )


def open_database(url: str, *, migrate: bool | None = None, seed: bool = True,
                  clock: Clock | None = None, create: bool = False) -> Database:
    """Open the database at ``url`` and make sure the CUS reference data is
    there. ``clock`` is the program's one clock (the machine's by default).

    ``migrate``: None (the default) does what the store calls for — a SQLite
    file (one PC) is created if needed and brought to the latest migration
    after a backup copy; a server's schema is never changed by opening it
    (an administrator runs ``cus-desk db upgrade``): an empty, older or newer
    schema is refused with a French SchemaError. True upgrades (the
    administrator's act), False checks nothing. A store holding another
    application's tables, or a schema newer than this program, is always
    refused, before anything is written.

    A SQLite file that does not exist is created (user-only); an existing
    empty file (0 byte) is refused unless ``create``. The process registers
    its presence on the file (store.presence) until ``dispose``."""
    from cus_desk.store import migrate as migrations
    from cus_desk.store.seed import seed_reference_data

    clock = clock or system_clock()
    engine = make_engine(url, clock)
    seam = dialects.of(engine)
    db = Database(url=url, engine=engine, _write_engine=seam.write_engine(engine), clock=clock)
    if migrate is None:
        migrate_now, check = seam.migrates_on_open, True
    else:
        migrate_now, check = migrate, migrate
    if db.path is not None:
        if not db.path.parent.exists():
            raise DatabaseOpenError(
                f"Le dossier « {db.path.parent} » n'existe pas : impossible d'y créer la base."
            )
        check_sqlite_file(db.path, allow_empty=create)
        from cus_desk.store import copies

        copies.create_private_empty(db.path)
        db.register_presence()
        copies.clean_stale_parts_now(db.path.parent)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if check:
            current = migrations.current_revision(engine)
            refusal = _schema_refusal(db, current, upgrading=migrate_now)
            if refusal:
                db.dispose()
                raise SchemaError(refusal)
            if migrate_now and current != migrations.HEAD:
                if db.path is not None:
                    backup_before_upgrade(db.path, current, clock)
                migrations.upgrade(engine)
                _record_app_version(db)
        if seed:
            seed_reference_data(db)
    except DBAPIError as exc:
        db.dispose()
        raise _open_error(db, exc) from exc
    except BaseException:
        db.dispose()
        raise
    return db


def _record_app_version(db: Database) -> None:
    import json

    from cus_desk import __version__
    from cus_desk.store.models.core import Setting

    with db.write_session() as session:
        session.merge(Setting(key=APP_VERSION_KEY, value_json=json.dumps(__version__)))


def upgrade_database(url: str, *, clock: Clock | None = None, seed: bool = True,
                     create: bool = False) -> Database:
    """The administrator's schema upgrade (``cus-desk db upgrade``): create
    the schema in an empty store or bring an older one to this program's
    latest migration, then seed the reference data. Refuses another
    application's database and a newer schema (nothing written)."""
    return open_database(url, migrate=True, seed=seed, clock=clock, create=create)
