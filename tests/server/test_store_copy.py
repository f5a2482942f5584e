"""A pilot's SQLite store moved to an empty PostgreSQL database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.services.audit_admin import verify_chain
from cus_desk.services.auth import actor_for_login
from cus_desk.services.store_copy import StoreCopyService
from cus_desk.store.db import open_database
from cus_desk.store.models.base import Base
from cus_desk.store.models.core import AuditEvent, Partner


def _counts(db) -> dict[str, int]:
    with db.read_session() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_the_demo_store_is_copied_whole_and_verified(sqlite_demo, pg_url, clock):
    admin = actor_for_login(sqlite_demo, "admin")
    report = StoreCopyService(sqlite_demo, admin).copy_to(pg_url)
    assert "terminée" in report.message and report.total > 5_000
    source = _counts(sqlite_demo)
    target = open_database(pg_url, clock=clock)
    try:
        assert _counts(target) == source  # the copy's own audit event included
        assert verify_chain(target).ok
        with target.read_session() as session:
            assert session.scalar(select(func.count(AuditEvent.id))) >= 1
        # Ids go on after the copied ones (sequences set).
        with target.write_session() as session:
            partner = Partner(name="Nouvelle structure après copie", category="ccas", active=True)
            session.add(partner)
            session.flush()
            assert partner.id > source["partners"]
    finally:
        target.dispose()


def test_a_target_that_is_not_empty_is_refused_and_left_untouched(sqlite_demo, pg_url, clock):
    admin = actor_for_login(sqlite_demo, "admin")
    from sqlalchemy import create_engine

    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE other_app (id int)"))
        conn.execute(text("INSERT INTO other_app VALUES (1)"))
    with pytest.raises(ValidationError, match="n'est pas vide"):
        StoreCopyService(sqlite_demo, admin).copy_to(pg_url)
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).scalars().all()
        assert tables == ["other_app"]
    engine.dispose()


def test_only_an_administrator_copies_the_store(sqlite_demo, pg_url):
    with pytest.raises(AccessDeniedError):
        StoreCopyService(sqlite_demo, actor_for_login(sqlite_demo, "cs.metz")).copy_to(pg_url)


def test_db_copy_from_the_command_line(_sqlite_demo_file, tmp_path, pg_url, monkeypatch, capsys):
    import shutil

    from cus_desk.cli import main

    pilot = tmp_path / "pilote.sqlite3"
    shutil.copy(_sqlite_demo_file, pilot)
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", "demo")
    assert main(["--db", str(pilot), "db", "copy", "--to", pg_url]) == 0
    assert "Copie terminée" in capsys.readouterr().out
    # A second copy into the now full target is refused, exit 2, in French.
    assert main(["--db", str(pilot), "db", "copy", "--to", pg_url]) == 2
    assert "n'est pas vide" in capsys.readouterr().err
