"""Backups (online API, rotation), restore checks, corrupt files refused."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from cus_desk import paths
from cus_desk.domain.clock import PARIS
from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.services import audit, backup
from cus_desk.services.users import UsersService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import User

# Backups here are online copies of the SQLite file; a server's backups
# (pg_dump/pg_restore) are another part of issue #12. Only the refusal for
# non-administrators is store-independent.
SQLITE_BACKUPS = pytest.mark.sqlite_only(reason="backups by copy of the SQLite file")


def _count_users(db):
    with db.read_session() as s:
        return s.scalar(select(func.count(User.id)))


@SQLITE_BACKUPS
def test_backup_restore_round_trip(db, actors, db_path, tmp_path):
    svc = backup.BackupService(db, actors["admin"])
    info = svc.backup(tmp_path / "copie.sqlite3")
    assert info.path.exists() and backup.check_backup_file(info.path).is_head
    UsersService(db, actors["admin"]).add("apres.sauvegarde", "Après", "recouvrement")
    assert _count_users(db) == 7
    result = svc.restore(info.path)
    assert result.kept_aside is not None and result.kept_aside.exists()
    reopened = open_database(sqlite_url(db_path))
    try:
        assert _count_users(reopened) == 6  # the account created after the copy is gone
        with reopened.read_session() as s:
            assert s.scalar(select(User.id).where(User.login == "apres.sauvegarde")) is None
        from cus_desk.services.audit_admin import verify_chain

        assert verify_chain(reopened).ok
    finally:
        reopened.dispose()
    aside = open_database(sqlite_url(result.kept_aside))
    try:
        assert _count_users(aside) == 7  # the replaced file is kept aside, whole
    finally:
        aside.dispose()


@SQLITE_BACKUPS
def test_backup_during_an_open_write_is_consistent(db, actors, tmp_path):
    """The online backup waits or copies a committed state, never half a transaction."""
    with db.write_session() as s:
        audit.record(s, actors["admin"], audit.Action.ADMIN, "x", 1)
    info = backup.BackupService(db, actors["admin"]).backup(tmp_path / "b.sqlite3")
    con = sqlite3.connect(info.path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


@pytest.mark.parametrize("who", ["adviser_metz", "social_head", "cas_member", "recovery_metz"])
def test_only_admin_backs_up_and_restores(db, actors, who, tmp_path):
    svc = backup.BackupService(db, actors[who])
    with pytest.raises(AccessDeniedError):
        svc.backup(tmp_path / "x.sqlite3")
    with pytest.raises(AccessDeniedError):
        svc.restore(tmp_path / "x.sqlite3")
    assert not (tmp_path / "x.sqlite3").exists()


def _corrupt_copy(src, dst):
    data = bytearray(src.read_bytes())
    data[4096:4096 * 3] = b"\xff" * (4096 * 2)
    dst.write_bytes(bytes(data))


@SQLITE_BACKUPS
def test_corrupt_or_foreign_files_are_refused_and_nothing_replaced(db, actors, db_path, tmp_path):
    svc = backup.BackupService(db, actors["admin"])
    good = svc.backup(tmp_path / "bonne.sqlite3").path
    corrupt = tmp_path / "abimee.sqlite3"
    _corrupt_copy(good, corrupt)
    text_file = tmp_path / "texte.sqlite3"
    text_file.write_text("bonjour", encoding="utf-8")
    foreign = tmp_path / "autre.sqlite3"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    newer = tmp_path / "future.sqlite3"
    svc.backup(newer)
    con = sqlite3.connect(newer)
    con.execute("UPDATE alembic_version SET version_num = '0099_futur'")
    con.commit()
    con.close()
    before = db_path.read_bytes()
    for bad, words in [(corrupt, "endommag"), (text_file, "pas une base SQLite"),
                       (foreign, "pas une base CUS Desk"), (newer, "plus récente"),
                       (tmp_path / "absent.sqlite3", "n'existe pas")]:
        with pytest.raises(ValidationError) as exc:
            svc.restore(bad)
        assert words in exc.value.message, exc.value.message
    assert db_path.read_bytes() == before
    assert not list(tmp_path.glob("*avant-restauration*"))
    assert not list(db_path.parent.glob("*avant-restauration*"))
    assert _count_users(db) == 6  # still usable


def _at_exit(db, clock, paris_time: datetime):
    """The automatic backup at closing, the program's clock at ``paris_time``."""
    clock.set(paris_time.replace(tzinfo=PARIS))
    return backup.backup_at_exit(db)


@SQLITE_BACKUPS
def test_automatic_backup_and_rotation(db, actors, db_path, clock):
    folder = paths.backup_dir()
    start = datetime(2026, 9, 1, 18, 0)  # Paris wall-clock time
    for d in range(40):  # 40 days of closings, two a day
        for h in (0, 2):
            _at_exit(db, clock, start + timedelta(days=d, hours=h))
    autos = backup.list_backups(db_path)
    assert 7 <= len(autos) <= 11
    days = {b.created_at.date() for b in autos}
    last = start.date() + timedelta(days=39)
    assert all(last - timedelta(days=k) in days for k in range(7))
    assert len({b.created_at.isocalendar()[:2] for b in autos}) == 4
    assert all(b.path.parent == folder for b in autos)
    newest = autos[0]
    assert newest.created_at == start + timedelta(days=39, hours=2)
    assert backup.check_backup_file(newest.path).is_head
    # manual copies are never rotated away
    backup.BackupService(db, actors["admin"]).backup()
    _at_exit(db, clock, start + timedelta(days=41))
    assert any(b.kind == "manuel" for b in backup.list_backups(db_path))


@SQLITE_BACKUPS
def test_latest_good_backup_skips_damaged(db, actors, db_path, clock):
    first = _at_exit(db, clock, datetime(2026, 11, 1, 18))
    second = _at_exit(db, clock, datetime(2026, 11, 2, 18))
    _corrupt_copy(first, second)
    assert backup.latest_good_backup(db_path).path == first


@SQLITE_BACKUPS
def test_restore_over_a_damaged_database(db, actors, db_path, tmp_path):
    good = backup.BackupService(db, actors["admin"]).backup(tmp_path / "bonne.sqlite3").path
    db.dispose()
    _corrupt_copy(db_path, db_path)
    from cus_desk.domain.errors import DatabaseOpenError

    with pytest.raises(DatabaseOpenError):
        open_database(sqlite_url(db_path))
    result = backup.restore_file(db_path, good, db.clock)
    assert result.kept_aside.exists()
    reopened = open_database(sqlite_url(db_path))
    try:
        assert _count_users(reopened) == 6
    finally:
        reopened.dispose()
