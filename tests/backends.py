"""Which store the test run uses, and PostgreSQL databases for tests.

``CUS_DESK_TEST_DB=postgresql`` (or ``pytest --db-backend=postgresql``) runs
the whole suite on a real PostgreSQL server: ``CUS_DESK_TEST_PG_URL`` (a
superuser URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
names an existing server; without it tests/pg_server.py starts a
throw-away one for the run. Each test gets its own database, made by
``CREATE DATABASE … TEMPLATE`` from a migrated (or demo) template.

Benchmarks and scripts use the same pieces::

    from tests import pg_server
    from tests.backends import PgCluster
    server = pg_server.start()
    cluster = PgCluster(server.url)
    url = cluster.create("bench")            # an empty database → its URL
    ...
    cluster.drop("bench"); server.stop()
"""

from __future__ import annotations

import itertools
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
BACKENDS = (SQLITE, POSTGRESQL)


def backend_from_env() -> str:
    value = (os.environ.get("CUS_DESK_TEST_DB") or SQLITE).strip().lower()
    if value in ("pg", "postgres"):
        value = POSTGRESQL
    if value not in BACKENDS:
        raise ValueError(f"CUS_DESK_TEST_DB={value!r}: expected one of {BACKENDS}")
    return value


class PgCluster:
    """Creates and drops databases on a server through a superuser URL."""

    _names = itertools.count(1)

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        if self.admin_url.drivername in ("postgresql", "postgres"):
            self.admin_url = self.admin_url.set(drivername="postgresql+psycopg")
        self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT",
                                    pool_size=1, max_overflow=2)
        self.prefix = f"cus_t{os.getpid()}_"

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def unique_name(self, stem: str = "db") -> str:
        return f"{self.prefix}{stem}_{next(self._names)}"

    def version(self) -> str:
        with self._admin.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar_one()

    def create(self, name: str, template: str | None = None) -> str:
        """A new database (empty, or a copy of ``template``) → its URL."""
        self.drop(name)
        tpl = f" TEMPLATE {_ident(template)}" if template else " TEMPLATE template0"
        with self._admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {_ident(name)}{tpl} ENCODING 'UTF8'"))
        return self.url(name)

    def drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)"))

    def execute(self, sql: str, database: str | None = None) -> None:
        """Run one statement as the superuser (autocommit), e.g. CREATE ROLE."""
        if database is None:
            with self._admin.connect() as conn:
                conn.execute(text(sql))
            return
        engine = create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def drop_own_databases(self) -> None:
        with self._admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": self.prefix.replace("_", r"\_") + "%"},
            ).scalars().all()
        for name in names:
            self.drop(name)

    def dispose(self) -> None:
        self._admin.dispose()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
