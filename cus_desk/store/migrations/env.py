"""Alembic environment: runs against the engine handed over by
cus_desk.store.migrate (or the URL in the config for the alembic CLI)."""

from __future__ import annotations

from alembic import context

from cus_desk.store.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, _parents) -> bool:
    """Tables and indexes that are not ORM models: the FTS5 index of the case
    list (SQLite), its trigram index (PostgreSQL)."""
    from cus_desk.store.models.cases import is_case_search_table
    from cus_desk.store.pg_search import is_search_index

    if type_ == "index":
        return not is_search_index(name)
    return not (type_ == "table" and is_case_search_table(name))


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from cus_desk.store.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things in place
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            # Two administrators upgrading at once, or clients writing
            # meanwhile, wait for the upgrade to end (the store's write lock).
            from cus_desk.store import dialect

            dialect.of(connection).lock_for_migration(connection)
            context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

