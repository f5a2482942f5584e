"""Backups of a server store: pg_dump / pg_restore, checked before anything
is replaced, all or nothing, never while others are connected."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.roles import Role
from cus_desk.services import backup
from cus_desk.services.auth import create_user
from cus_desk.services.server_backup import check_dump
from cus_desk.store.models.core import Partner, User


@pytest.fixture
def admin(pg_db):
    return create_user(pg_db, "admin", "Alice Admin", Role.ADMIN, "Mot-de-passe-test-1", None)


def _partners(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count(Partner.id)))


def test_dump_then_restore_brings_back_what_was_there(pg_db, admin, tmp_path):
    service = backup.BackupService(pg_db, admin)
    before = _partners(pg_db)
    info = service.backup(tmp_path)
    assert info.path.suffix == ".dump" and info.size > 10_000
    assert not list(tmp_path.glob("*.part"))
    assert check_dump(info.path).revision
    with pg_db.write_session() as session:
        session.add(Partner(name="Ajouté après la sauvegarde", category="ccas", active=True))
    assert _partners(pg_db) == before + 1
    result = service.restore(info.path)
    assert result.kept_aside is None
    assert _partners(pg_db) == before
    from cus_desk.services.audit_admin import verify_chain

    assert verify_chain(pg_db).ok


def test_a_file_that_is_not_a_dump_is_refused(pg_db, admin, tmp_path):
    bogus = tmp_path / "pas-une-sauvegarde.dump"
    bogus.write_bytes(b"PGDMP? no" * 100)
    with pytest.raises(ValidationError, match="pas une sauvegarde PostgreSQL"):
        backup.BackupService(pg_db, admin).restore(bogus)
    assert _partners(pg_db) > 0


def test_no_restore_while_another_workstation_is_connected(pg_db, admin, tmp_path):
    service = backup.BackupService(pg_db, admin)
    info = service.backup(tmp_path)
    other = create_engine(pg_db.url)
    with other.connect():
        with pytest.raises(WorkflowError, match="autre\\(s\\) connexion"):
            service.restore(info.path)
    other.dispose()
    with pg_db.read_session() as session:
        assert session.scalar(select(func.count(User.id))) == 1
