"""Tests that need a real PostgreSQL server (live refresh, lost connections,
several clients). They run in the suite's PostgreSQL run."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cus_desk.store.db import open_database


@pytest.fixture
def pg_url(request):
    admin = os.environ.get("CUS_DESK_TEST_PG_URL")
    if not admin:
        pytest.skip("needs a PostgreSQL server (the suite's PostgreSQL run)")
    url = make_url(admin).set(drivername="postgresql+psycopg")
    name = f"cus_srv_{os.getpid()}_{request.node.name[:30].lower()}".replace("[", "_").replace("]", "_")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def pg_db(pg_url, clock):
    database = open_database(pg_url, clock=clock)
    yield database
    database.dispose()
