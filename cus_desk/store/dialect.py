"""The dialect seam: everything that differs between the two stores.

CUS Desk runs on an embedded SQLite file (one PC, the demo) and on a shared
PostgreSQL server (the organisation). Services and the rest of the store ask
this module (``dialect.of(session_or_connection_or_engine)``) instead of
testing a dialect name:

- connection set-up (SQLite PRAGMAs) and how a write transaction begins:
  one writer at a time on both stores (SQLite ``BEGIN IMMEDIATE``; on
  PostgreSQL a transaction-level advisory lock taken first thing in every
  write session), so read-then-write sequences (the audit chain's last
  link, "next number" allocations) never race and writers never deadlock on
  each other;
- the audit chain's append lock (``lock_audit_chain``: the same advisory
  lock, re-entrant, for a session not opened by ``write_session``);
- the per-call account check (one primary-key lookup at driver level, with
  the driver's placeholder);
- running final SQL written with ``:name`` parameters;
- aggregates (``group_concat`` / ``string_agg``);
- the case search: FTS5 trigram on SQLite, ``pg_trgm`` over the folded
  ``cases.search_doc`` column on PostgreSQL (both kept by triggers in the
  database: ``store.models.cases`` and ``store.pg_search``);
- where the store's file is, if it is one (``store_file``: the signed head
  of the audit chain is kept next to it, services.audit_head; a server
  keeps its head in the ``audit_chain_head`` table, migration 0010);
- whether opening a store may migrate it (SQLite: yes, after a backup copy;
  a server: never, an administrator runs ``cus-desk db upgrade``);
- what erasing really means (``reclaim_after_purge``): on SQLite,
  ``secure_delete`` overwrites every deleted row with zeros, the FTS index
  is merged (its deleted entries dropped), the file rebuilt (VACUUM: free
  pages written before ``secure_delete`` was set) and the WAL emptied; on
  PostgreSQL, VACUUM of the purged tables (dead rows made reusable; the
  bytes go when PostgreSQL reuses the space, or at once with VACUUM FULL,
  an administrator's act: docs/securite/purges.md).
- the rights the server enforces (``store.pg_rights``: group roles, grants,
  row-level security, one server account per person); a SQLite file has
  none (its file permissions are its only protection).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 10_000

# pg_advisory_xact_lock key of "the writer" (any constant; "CUSD" in ASCII).
WRITE_LOCK_KEY = 0x43555344

WRITE_OPTION = "cus_write"
# Milliseconds a write session waits for the writer's lock (else BUSY_TIMEOUT_MS).
WAIT_OPTION = "cus_wait_ms"


@dataclass(frozen=True)
class SearchSQL:
    """Conditions (on ``cases c``) of a case search, their parameters, the
    FROM clause and the column that orders by reference (= case id)."""

    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    from_clause: str = "cases c"
    id_order: str = "c.id"


class StoreDialect:
    name = "generic"
    migrates_on_open = False
    # The case search is the FTS5 table ``case_search`` and its triggers,
    # which a table rebuild (SQLite batch migration) drops: re-installed at
    # open when missing (store.models.cases.install_case_search).
    fts5_case_search = False
    # Placeholder of the DB-API driver, for driver-level SQL.
    placeholder = "%s"
    # Seconds an account check stays good (0: every service call checks).
    account_check_ttl = 0.0

    # -- engine ----------------------------------------------------------------
    def prepare_engine(self, engine: Engine) -> None:
        """Listeners every connection of ``engine`` needs."""

    def write_engine(self, engine: Engine) -> Engine:
        """The engine write sessions use (one writer at a time)."""
        return engine.execution_options(**{WRITE_OPTION: True})

    def engine_options(self) -> dict:
        """Extra ``create_engine`` arguments for this kind of store."""
        return {}

    def error_kind(self, exc) -> str | None:
        """What a DBAPIError means for the user: "lost" (the connection went
        away: nothing was saved), "busy" (another writer held the store too
        long: nothing was saved, retry), "denied" (the server's rights refuse
        it to this account) or None (a real error)."""
        if exc.connection_invalidated:
            return "lost"
        return None

    # -- erasing -----------------------------------------------------------------
    def reclaim_after_purge(self, engine: Engine, tables: list[str]) -> list[str]:
        """After a purge has committed: make the purged bytes unreadable from
        the store's files as far as this store allows. Returns French notes
        on what could not be done (empty: done)."""
        return []

    def store_file(self, bind) -> Path | None:
        """The file the store lives in (None: a server, or in memory)."""
        return None

    # -- per-call statements ---------------------------------------------------
    @property
    def account_check_sql(self) -> str:
        return ("SELECT active, role, agency_id, credentials_epoch, must_change_password "
                f"FROM users WHERE id = {self.placeholder}")

    def execute_final_sql(self, session: Session, sql: str, params: dict):
        """Run SQL already final (no ORM compile) written with ``:name``
        parameters."""
        return session.execute(text(sql), params)

    def group_concat(self, expr: str, separator: str) -> str:
        """An aggregate joining ``expr`` with ``separator`` (an SQL literal)."""
        return f"string_agg({expr}, {separator})"

    def nulls_as_smallest(self, descending: bool) -> str:
        """ORDER BY suffix placing NULLs as SQLite does (smaller than any
        value: first ascending, last descending)."""
        return " NULLS LAST" if descending else " NULLS FIRST"

    # -- locking -----------------------------------------------------------------
    def lock_audit_chain(self, session: Session) -> None:
        """Serialise audit appends: reading the last link and appending the
        next happen under one lock held until commit."""

    def lock_for_migration(self, connection: Connection) -> None:
        """Inside the migration transaction: one upgrade at a time, and no
        client write while it runs."""

    # -- rights the server enforces --------------------------------------------------
    def secure_store(self, connection: Connection, access) -> list[str]:
        """Install the server's rights (``cus-desk db secure``, the owner).
        ``access``: services.access, from which the row rules are generated.
        Returns the statements run; none on a store without server rights."""
        return []

    def is_secured(self, connection: Connection) -> bool:
        return False

    def set_server_account(self, session: Session, login: str, role, active: bool,
                           password: str | None = None) -> None:
        """Create or update the person's server account (same transaction
        as the ``users`` row): group of ``role``, able to log in when
        ``active``, ``password`` (when given) as its SCRAM secret."""

    def set_own_server_password(self, session: Session, login: str, password: str) -> None:
        """The signed-in person's own server password follows her new one."""

    def personal_url(self, url: str, login: str, password: str | None) -> str:
        """The address a person connects with: on a server whose address
        names no account, her own server account (``login``'s) and password."""
        return url

    def may_sign_in_as(self, session: Session, login: str) -> bool:
        """False when this connection is another person's server account."""
        return True

    def password_hash(self, session: Session, login: str) -> str | None:
        """The stored password hash of ``login`` (the application checks it)."""
        return session.execute(text("SELECT password_hash FROM users WHERE login = :l"),
                               {"l": login}).scalar()

    # -- search ------------------------------------------------------------------
    def case_search(self, plan, words: list[str]) -> SearchSQL:
        """``plan``: domain.cases.SearchPlan; ``words``: the folded words
        typed (each a substring to find, accent- and case-insensitive)."""
        from cus_desk.domain.cases import _like

        conds, params = [], {}
        for i, word in enumerate(words):
            conds.append(f"c.search_doc ILIKE :like{i} ESCAPE '\\'")
            params[f"like{i}"] = _like(word)
        return SearchSQL(conds, params)


class SQLiteDialect(StoreDialect):
    name = "sqlite"
    migrates_on_open = True
    fts5_case_search = True
    placeholder = "?"

    def error_kind(self, exc) -> str | None:
        if "database is locked" in str(getattr(exc, "orig", "")):
            return "busy"
        return super().error_kind(exc)

    def prepare_engine(self, engine: Engine) -> None:
        # pysqlite's own transaction handling is switched off so that we emit
        # BEGIN ourselves: writes use BEGIN IMMEDIATE, which takes the write
        # lock up front (no "database is locked" half-way through a
        # transaction, and the audit chain reads its last link under the lock).
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten with zeros, not left in free pages
            # (a purge must not stay readable in the file: issue 15).
            cur.execute("PRAGMA secure_delete = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - exercised by every test
            options = conn.get_execution_options()
            if options.get(WRITE_OPTION):
                # How long BEGIN IMMEDIATE waits for another writer (set at
                # every write: a short wait asked once does not stick).
                wait = int(options.get(WAIT_OPTION, BUSY_TIMEOUT_MS))
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {wait}")
            conn.exec_driver_sql(options.get("cus_begin", "BEGIN"))

    def write_engine(self, engine: Engine) -> Engine:
        return engine.execution_options(cus_begin="BEGIN IMMEDIATE", **{WRITE_OPTION: True})

    def reclaim_after_purge(self, engine: Engine, tables: list[str]) -> list[str]:
        notes: list[str] = []
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            cur = raw.cursor()
            try:
                # The FTS5 index keeps deleted terms in its segments until they
                # are merged ('optimize' rewrites the index without them).
                if cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_search'").fetchone():
                    cur.execute("BEGIN IMMEDIATE")
                    cur.execute("INSERT INTO case_search(case_search) VALUES ('optimize')")
                    cur.execute("COMMIT")
                if engine.url.database in (None, "", ":memory:"):
                    return notes
                # Free pages written before secure_delete was set (an older
                # store) still hold old rows: VACUUM rebuilds the file.
                cur.execute("VACUUM")
                busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy and busy[0]:
                    notes.append("Le journal WAL n'a pas pu être vidé (un autre poste lit la base) : "
                                 "il le sera à la fermeture du dernier poste.")
            except Exception as exc:  # noqa: BLE001 - the purge itself is committed
                if raw.in_transaction:
                    cur.execute("ROLLBACK")
                notes.append(f"Le fichier n'a pas pu être compacté après la purge ({exc}) : "
                             "relancez la purge quand aucun autre poste n'est connecté.")
            finally:
                cur.close()
        return notes

    def store_file(self, bind) -> Path | None:
        if isinstance(bind, Session):
            bind = bind.get_bind()
        name = bind.engine.url.database if isinstance(bind, Connection) else bind.url.database
        return Path(name) if name and name != ":memory:" and not name.startswith("file:") else None

    def execute_final_sql(self, session: Session, sql: str, params: dict):
        # Driver-level: sqlite3 takes :name parameters itself (no compile step).
        return session.connection().exec_driver_sql(sql, params)

    def group_concat(self, expr: str, separator: str) -> str:
        return f"group_concat({expr}, {separator})"

    def nulls_as_smallest(self, descending: bool) -> str:
        return ""  # SQLite's own order (and the sort indexes stay usable)

    def case_search(self, plan, words: list[str]) -> SearchSQL:
        # The FTS table drives the query: MATCH on it, in rowid (= case id)
        # order, stops after one page. Words under 3 characters (below a
        # trigram) are LIKE patterns on the indexed text.
        conds, params = [], {}
        if plan.fts_query:
            conds.append("s.case_search MATCH :fts")
            params["fts"] = plan.fts_query
        for i, pattern in enumerate(plan.like_patterns):
            conds.append(f"c.search_doc LIKE :like{i} ESCAPE '\\'")
            params[f"like{i}"] = pattern
        if plan.fts_query:
            return SearchSQL(conds, params, "case_search s JOIN cases c ON c.id = s.rowid", "s.rowid")
        return SearchSQL(conds, params)


class PostgreSQLDialect(StoreDialect):
    name = "postgresql"
    migrates_on_open = False
    placeholder = "%s"
    # On a server the check is a network round trip: once per few seconds,
    # and at once after any change to accounts (store.changes / store.listen).
    account_check_ttl = 5.0

    # The network is not a disk: a server that does not answer is given up
    # after a few seconds, a statement (or a wait for the writer's lock) after
    # a minute.
    CONNECT_TIMEOUT_S = 5
    STATEMENT_TIMEOUT_MS = 60_000

    def engine_options(self) -> dict:
        return {
            # No pool_pre_ping: it would cost a round trip per transaction. A
            # connection found dead invalidates the whole pool (SQLAlchemy), so
            # after an outage the first call says so and the next one reconnects.
            "connect_args": {
                "connect_timeout": self.CONNECT_TIMEOUT_S,
                "application_name": "cus-desk",
                "options": f"-c statement_timeout={self.STATEMENT_TIMEOUT_MS}",
            },
        }

    def error_kind(self, exc) -> str | None:
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
        if exc.connection_invalidated or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03"):
            return "lost"  # connection failure, or the server shut the backend down
        if sqlstate in ("57014", "55P03", "40P01", "40001"):
            return "busy"  # statement timeout, lock not available, deadlock, serialisation
        if sqlstate == "42501":
            return "denied"  # the server's rights (grants, row policies: store.pg_rights)
        if sqlstate == "" and "connection" in str(getattr(exc, "orig", "")).lower():
            return "lost"  # refused before any protocol exchange (no SQLSTATE)
        return None

    def prepare_engine(self, engine: Engine) -> None:
        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - exercised by every PostgreSQL test
            options = conn.get_execution_options()
            if options.get(WRITE_OPTION):
                if WAIT_OPTION in options:  # a short wait for the writer's lock (55P03 = busy)
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(options[WAIT_OPTION])}")
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    def lock_audit_chain(self, session: Session) -> None:
        session.connection().exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    def reclaim_after_purge(self, engine: Engine, tables: list[str]) -> list[str]:
        # VACUUM cannot run inside a transaction block. It marks the purged
        # rows' space reusable (their bytes stay in the table files until
        # reused); VACUUM FULL would rewrite the files at once but locks
        # every table exclusively: an administrator's act (docs).
        notes: list[str] = []
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # VACUUM by a role that does not own a table is skipped with a
            # mere warning: say it instead of pretending.
            not_owned = [row[0] for row in conn.exec_driver_sql(
                "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname = ANY(%s) "
                "AND c.relnamespace = to_regnamespace(current_schema())::oid "
                "AND NOT pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY c.relname",
                (list(tables),))]
            if not_owned:
                notes.append("Le compte connecté ne peut pas lancer VACUUM sur " + ", ".join(not_owned)
                             + " : l'administrateur du serveur le lancera (docs/securite/purges.md).")
            for table in tables:
                if table in not_owned:
                    continue
                try:
                    conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
                except Exception as exc:  # noqa: BLE001 - the purge itself is committed
                    notes.append(f"VACUUM de la table {table} impossible ({type(exc).__name__}) : "
                                 "l'administrateur du serveur le lancera.")
        return notes

    def lock_for_migration(self, connection: Connection) -> None:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    # The database's size on the server (the free-space check before a dump).
    database_size_sql = "SELECT pg_database_size(current_database())"

    # Other connections to this database (other workstations, tools), not
    # counting this one: a restore is refused while there are any.
    other_sessions_sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")

    def secure_store(self, connection: Connection, access) -> list[str]:
        from cus_desk.store import pg_rights

        return pg_rights.secure(connection, access)

    def is_secured(self, connection: Connection) -> bool:
        from cus_desk.store import pg_rights

        return pg_rights.is_secured(connection)

    def set_server_account(self, session: Session, login: str, role, active: bool,
                           password: str | None = None) -> None:
        from cus_desk.store import pg_rights

        conn = session.connection()
        if pg_rights.accounts_enabled(conn):
            pg_rights.set_account(conn, login, role, active, password)

    def set_own_server_password(self, session: Session, login: str, password: str) -> None:
        from cus_desk.store import pg_rights

        conn = session.connection()
        if pg_rights.accounts_enabled(conn) and pg_rights.session_account(conn).startswith(
                pg_rights.LOGIN_PREFIX):
            pg_rights.set_own_password(conn, login, password)

    def password_hash(self, session: Session, login: str) -> str | None:
        from cus_desk.store import pg_rights

        return pg_rights.password_hash(session.connection(), login)

    def may_sign_in_as(self, session: Session, login: str) -> bool:
        from cus_desk.store import pg_rights

        return pg_rights.may_sign_in_as(session.connection(), login)

    def personal_url(self, url: str, login: str, password: str | None) -> str:
        from sqlalchemy.engine import make_url

        from cus_desk.store import pg_rights

        parsed = make_url(url)
        if parsed.username:
            return url  # an account named by IT (the owner, a shared account): kept
        parsed = parsed.set(username=pg_rights.login_role(login))
        if password is not None and not parsed.password:
            parsed = parsed.set(password=password)
        return parsed.render_as_string(hide_password=False)


_DIALECTS: dict[str, StoreDialect] = {
    "sqlite": SQLiteDialect(),
    "postgresql": PostgreSQLDialect(),
}
_GENERIC = StoreDialect()


def named(name: str) -> StoreDialect:
    return _DIALECTS.get(name, _GENERIC)


def of(bind: Session | Connection | Engine) -> StoreDialect:
    """The seam for a session, a connection or an engine."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return _DIALECTS.get(bind.dialect.name, _GENERIC)
