"""Alembic, driven from code: the migration scripts ship inside the package.

Alembic itself is imported only when a database needs upgrading: at an
ordinary start the stored revision is compared with ``HEAD`` by one query
(importing Alembic costs about as much as showing the window)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The last migration of the chain; tests/foundation/test_migrations.py proves
# it is Alembic's one head.
HEAD = "0013_audit_chain_head"


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        # ConfigParser interpolates "%": a password or a socket path with a
        # percent-escape in the URL ("p%40ss") must be doubled.
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have exactly one head, found {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError) as exc:
            if _no_such_table(exc):
                return None  # a new, empty database (or not ours: see other_tables)
            raise  # e.g. no right to read it: the caller says so in French
    return rows[0][0] if len(rows) == 1 else None


def _no_such_table(exc) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "42P01":  # PostgreSQL undefined_table
        return True
    return "no such table" in str(orig or exc)


def known_revisions() -> list[str]:
    """Every revision of this program's chain, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def other_tables(engine: Engine) -> list[str]:
    """Tables of the store's default schema that are not Alembic's own: in a
    store without a CUS Desk revision, they belong to another application."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
    return sorted(n for n in names if n != "alembic_version")


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
