"""Schema upgrades with several clients (issue #12): a server is never
migrated by opening it; an administrator runs ``cus-desk db upgrade``.
A client refuses an empty, older or newer schema with a French message
(exit 2 in the CLI); another application's database is refused and nothing
is written; a SQLite file (one PC) still upgrades itself on open."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from cus_desk.cli import main
from cus_desk.store import migrate
from cus_desk.store.db import SchemaError, make_engine, open_database, upgrade_database


def _tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def _set_revision(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


@pytest.mark.postgresql_only(reason="a server's schema is never created by opening it")
def test_empty_server_database_is_refused_until_db_upgrade(empty_db_url, capsys):
    with pytest.raises(SchemaError, match="est vide.*db upgrade"):
        open_database(empty_db_url)
    assert _tables(empty_db_url) == []  # nothing written
    assert main(["--db", empty_db_url, "cases", "list"]) == 2
    assert "db upgrade" in capsys.readouterr().err
    assert main(["--db", empty_db_url, "db", "status"]) == 2
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 0
    assert "Schéma de CUS Desk créé" in capsys.readouterr().out
    assert _revision(empty_db_url) == migrate.HEAD
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 0
    assert "déjà à jour" in capsys.readouterr().out
    assert main(["--db", empty_db_url, "db", "status", "--json"]) == 0
    open_database(empty_db_url).dispose()


def test_sqlite_file_still_creates_and_upgrades_itself(tmp_path):
    from cus_desk.store.db import sqlite_url

    url = sqlite_url(tmp_path / "poste.sqlite3")
    open_database(url).dispose()
    assert _revision(url) == migrate.HEAD


@pytest.mark.postgresql_only(reason="an older server schema waits for the administrator")
def test_older_server_schema_is_refused_and_left_alone(empty_db_url, capsys):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0006_security")
    engine.dispose()
    with pytest.raises(SchemaError) as exc:
        open_database(empty_db_url)
    assert "0006_security" in exc.value.message and "db upgrade" in exc.value.message
    assert _revision(empty_db_url) == "0006_security"
    assert main(["--db", empty_db_url, "cases", "list"]) == 2
    capsys.readouterr()
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 0
    assert "0006_security → " + migrate.HEAD in capsys.readouterr().out
    open_database(empty_db_url).dispose()


def test_newer_schema_is_refused_on_both_stores_with_the_version_to_install(db, capsys):
    """An older program on a store upgraded by a newer one: a French
    sentence naming the version to install, never "erreur inattendue"."""
    from cus_desk.store.db import APP_VERSION_KEY
    from cus_desk.store.models.core import Setting

    with db.write_session() as s:  # as the newer program's db upgrade records it
        s.merge(Setting(key=APP_VERSION_KEY, value_json='"9.1.0"'))
    url = db.url
    db.dispose()
    _set_revision(url, "0042_future")
    with pytest.raises(SchemaError) as exc:
        open_database(url)
    assert "plus récente" in exc.value.message and "CUS Desk 9.1.0" in exc.value.message
    with pytest.raises(SchemaError):
        upgrade_database(url)
    assert _revision(url) == "0042_future"  # untouched
    assert main(["--db", url, "db", "upgrade"]) == 2
    assert main(["--db", url, "cases", "list"]) == 2
    err = capsys.readouterr().err
    assert "plus récente" in err and "inattendue" not in err


def test_another_applications_database_is_refused_and_nothing_written(empty_db_url, capsys):
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE factures (id INTEGER PRIMARY KEY, montant INTEGER)"))
    engine.dispose()
    for attempt in (lambda: open_database(empty_db_url), lambda: upgrade_database(empty_db_url)):
        with pytest.raises(SchemaError, match="autre application.*factures"):
            attempt()
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 2
    assert "autre application" in capsys.readouterr().err
    assert _tables(empty_db_url) == ["factures"]


@pytest.mark.postgresql_only(reason="database accounts and grants of a server")
def test_an_account_without_rights_gets_a_french_message(db, pg_cluster, capsys):
    url = make_url(db.url)
    role = f"lecteur_{url.database}"[:60]
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')
    pg_cluster.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        other = url.set(username=role).render_as_string(hide_password=False)
        with pytest.raises(Exception) as exc:
            open_database(other)
        assert "n'a pas les droits" in getattr(exc.value, "message", ""), exc.value
        assert main(["--db", other, "cases", "list"]) == 2
        assert "n'a pas les droits" in capsys.readouterr().err
    finally:
        db.dispose()
        pg_cluster.execute(f'DROP OWNED BY "{role}"', database=url.database)
        pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgresql_only(reason="a server URL with a percent-escape (ConfigParser)")
def test_percent_in_the_url_does_not_break_the_upgrade(empty_db_url, pg_cluster):
    """A password holding '@' is written %40 in the URL; Alembic's
    ConfigParser used to read that '%' as an interpolation and crash."""
    url = make_url(empty_db_url)
    role = f"cus_pct_{url.database}"[:60]
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')
    pg_cluster.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'p@ss%w0rd'")
    pg_cluster.execute(f'ALTER DATABASE "{url.database}" OWNER TO "{role}"')
    pg_cluster.execute(f'GRANT ALL ON SCHEMA public TO "{role}"', database=url.database)
    try:
        with_password = url.set(username=role, password="p@ss%w0rd")
        rendered = with_password.render_as_string(hide_password=False)
        assert "%40" in rendered and "%25" in rendered
        upgrade_database(rendered).dispose()
        assert _revision(empty_db_url) == migrate.HEAD
    finally:
        pg_cluster.drop(url.database)
        pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_unknown_dialect_in_db_is_a_french_error(capsys):
    assert main(["--db", "oracle+nimportequoi://x@y/z", "cases", "list"]) == 2
    assert "n'est pas valide" in capsys.readouterr().err


def test_engine_of_bare_postgresql_url_uses_psycopg3():
    """SQLAlchemy alone would pick psycopg2 for postgresql://."""
    engine = make_engine("postgresql://someone@localhost:1/base")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


@pytest.mark.postgresql_only(reason="database accounts and grants of a server")
def test_upgrade_by_an_account_that_may_not_create_tables_is_refused_in_french(
        empty_db_url, pg_cluster, capsys):
    """PostgreSQL 15 no longer lets every account create tables in the
    public schema: the administrator is told what right is missing."""
    url = make_url(empty_db_url)
    role = f"poste_{url.database}"[:60]
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')
    pg_cluster.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        other = url.set(username=role).render_as_string(hide_password=False)
        assert main(["--db", other, "db", "upgrade"]) == 2
        err = capsys.readouterr().err
        assert "n'a pas les droits" in err and "créer des tables" in err
        assert _tables(empty_db_url) == []
    finally:
        pg_cluster.drop(url.database)
        pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_upgrading_an_existing_store_to_0007_makes_its_cases_searchable_the_new_way(
        empty_db_url, actors_free_clock):
    """Cases written before 0007 (SQLite: old folding triggers; PostgreSQL:
    no triggers yet) are found with the new folding after the upgrade."""

    from sqlalchemy import select, text

    from cus_desk.store.models.cases import Case


    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0006_security")
    # Rows written with the SQL of that schema (today's ORM classes have
    # columns it lacks): a store as the 0006 program left it.
    stamp = {"at": "2026-03-02 10:00:00"}

    def insert(conn, sql: str, table: str, **values) -> int:
        conn.execute(text(sql), {**stamp, **values})  # no explicit id: the server's sequences stay right
        return conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()

    with engine.begin() as conn:
        agency = insert(conn, "INSERT INTO agencies (code, name, label, department, town) "
                              "VALUES ('metz', 'Metz', 'Agence de Metz', '57', 'Metz')", "agencies")
        household = insert(conn, "INSERT INTO households (agency_id, version, created_at, updated_at) "
                                 "VALUES (:agency, 1, :at, :at)", "households", agency=agency)
        insert(conn, "INSERT INTO tenants (household_id, position, last_name, first_name, relationship_kind, "
                     "created_at, updated_at) VALUES (:hh, 0, 'ŞAHİN', 'Ece', 'titulaire', :at, :at)",
               "tenants", hh=household)
        insert(conn, "INSERT INTO leases (contract_number, household_id, agency_id, commune, kind, start_date, "
                     "version, created_at, updated_at) VALUES ('MZ-770001', :hh, :agency, 'Metz', 'ordinaire', "
                     "'2015-01-01', 1, :at, :at)", "leases", hh=household, agency=agency)
        insert(conn, "INSERT INTO cases (reference, year, sequence, household_id, agency_id, status, opened_on, "
                     "summary, version, created_at, updated_at) VALUES ('CAS-2026-0001', 2026, 1, :hh, :agency, "
                     "'ouvert', '2026-03-02', '', 1, :at, :at)", "cases", hh=household, agency=agency)
    engine.dispose()
    upgrade_database(empty_db_url, clock=actors_free_clock).dispose()
    db = open_database(empty_db_url, clock=actors_free_clock)
    try:
        with db.read_session() as s:
            case = s.scalar(select(Case))
            assert case.holder_name == "ŞAHİN Ece" and case.contract_number == "MZ-770001"
            assert "sahin" in case.search_doc.lower()
    finally:
        db.dispose()


@pytest.fixture
def actors_free_clock():
    from tests.frozen_time import frozen_clock

    return frozen_clock()
