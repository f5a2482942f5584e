"""Issue #15, "Restores and backups lose data" — copies: bounded (manual
copies by a setting, pre-migration and pre-restore copies by kind), refused
when the disk lacks room, and a killed copy's ``.part`` removed by the next
one; a killed migration leaves no half-written copy under its final name."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cus_desk import paths
from cus_desk.domain.errors import WorkflowError
from cus_desk.services import audit, backup
from cus_desk.services.settings import SettingsService
from cus_desk.store.db import backup_before_upgrade, open_database, sqlite_url
from cus_desk.store.models.core import AuditEvent
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SQLITE_COPIES = pytest.mark.sqlite_only(reason="copies of the SQLite file")

# Every sqlite3 connection of the child copies one page per step and, after
# a few pages, waits (to be killed): a real copy, stopped midway whatever the
# load of the machine (a copy merely slowed down could end before the test
# process, starved of CPU, got round to killing it).
SLOW_COPIES = r"""
import sqlite3, sys, time
_connect = sqlite3.connect
_copied = [0]
def _progress(*_args):
    _copied[0] += 1
    if _copied[0] >= 3:
        time.sleep(3600)  # part of the copy on disk, the rest never written
class SlowBackup(sqlite3.Connection):
    def backup(self, target, *, pages=-1, progress=None, name="main", sleep=0.25):
        return super().backup(target, pages=1, progress=_progress, name=name)
def connect(*args, **kwargs):
    kwargs.setdefault("factory", SlowBackup)
    return _connect(*args, **kwargs)
sqlite3.connect = connect
"""

BACKUP_CLI = SLOW_COPIES + r"""
from cus_desk.cli import main
sys.exit(main(["--db", sys.argv[1], "backup"]))
"""

MIGRATION_COPY = SLOW_COPIES + r"""
from pathlib import Path
from cus_desk.domain.clock import system_clock
from cus_desk.store.db import backup_before_upgrade
backup_before_upgrade(Path(sys.argv[1]), "0008_ancienne", system_clock())
print("done", flush=True)
"""


def _backups_recorded(db) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == audit.Action.BACKUP))


def _wait_for(pattern_dir: Path, pattern: str, proc, timeout_s: float = 120) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # The copy under way (SQLite writes its pages out when the copy ends or
        # its cache spills: the file may still be empty when the child stops).
        found = list(pattern_dir.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"the copy ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError("no partial copy appeared")


def _manual_copies(db) -> list[Path]:
    """Manual copies in the backup folder, newest first (SQLite files or
    PostgreSQL dumps: the stamp in the name sorts them)."""
    return sorted((p for p in paths.backup_dir().iterdir() if "-manuel-" in p.name and not p.name.startswith(".")),
                  reverse=True)


def test_manual_copies_are_bounded_by_a_setting(db, actors, clock):
    from cus_desk.domain.settings import BACKUPS_MANUAL_KEEP

    SettingsService(db, actors["admin"]).set(BACKUPS_MANUAL_KEEP, 2)
    svc = backup.BackupService(db, actors["admin"])
    made = []
    for _ in range(4):
        clock.advance(timedelta(minutes=1))
        made.append(svc.backup().path)
    assert _manual_copies(db) == [made[3], made[2]]  # the two newest; the oldest rotated out
    assert not made[0].exists() and not made[1].exists()


def test_a_copy_is_refused_when_the_disk_lacks_room(db, actors):
    """The real free space of the backup folder (shutil.disk_usage) against
    a margin set so high that it cannot be enough (size × margin > free for
    any size of at least one byte): refused in French, nothing written,
    nothing recorded as done."""
    from cus_desk.domain.settings import BACKUP_FREE_SPACE_PERCENT

    folder = paths.backup_dir()
    percent = (shutil.disk_usage(folder).free + 1) * 100
    SettingsService(db, actors["admin"]).set(BACKUP_FREE_SPACE_PERCENT, percent)
    before = _backups_recorded(db)
    with pytest.raises(WorkflowError) as refused:
        backup.BackupService(db, actors["admin"]).backup()
    assert "Espace disque insuffisant" in refused.value.message
    assert "Rien n'a été écrit" in refused.value.message
    assert _manual_copies(db) == [] and list(folder.glob(".*.part")) == []
    assert _backups_recorded(db) == before
    # With the default margin, the same copy goes through (and is recorded).
    SettingsService(db, actors["admin"]).set(BACKUP_FREE_SPACE_PERCENT, 200)
    assert backup.BackupService(db, actors["admin"]).backup().path.exists()
    assert _backups_recorded(db) == before + 1


@SQLITE_COPIES
def test_a_killed_backup_leaves_a_part_that_the_next_backup_removes(db, actors, db_path):
    db.dispose()
    env = dict(os.environ, CUS_DESK_USER="admin", CUS_DESK_PASSWORD=TEST_PASSWORD)
    proc = subprocess.Popen([sys.executable, "-c", BACKUP_CLI, str(db_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = paths.backup_dir()
    try:
        part = _wait_for(folder, ".*.part", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert part.exists()  # what a killed copy leaves
    assert backup.list_backups(db_path, folder) == []  # never under a final name
    again = open_database(sqlite_url(db_path))
    try:
        info = backup.BackupService(again, actors["admin"]).backup()
    finally:
        again.dispose()
    assert not part.exists()  # the next backup cleaned it
    assert [p.name for p in folder.glob(".*.part*")] == []
    assert backup.check_backup_file(info.path).is_head


@SQLITE_COPIES
def test_a_killed_migration_copy_is_never_half_written_and_is_cleaned(db, db_path):
    db.dispose()
    proc = subprocess.Popen([sys.executable, "-c", MIGRATION_COPY, str(db_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        part = _wait_for(db_path.parent, ".*avant-migration*.part", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # No copy under its final name (that one would look whole and be trusted).
    assert list(db_path.parent.glob(f"{db_path.stem}.avant-migration-*")) == []
    assert part.name.endswith(".part")
    open_database(sqlite_url(db_path)).dispose()  # the next opening cleans it
    assert not part.exists()
    assert list(db_path.parent.glob(".*.part*")) == []  # its journal too


@SQLITE_COPIES
def test_copies_before_migrations_are_bounded(db, db_path, clock):
    db.dispose()
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        backup_before_upgrade(db_path, "0008_ancienne", clock)
    kept = sorted(db_path.parent.glob(f"{db_path.stem}.avant-migration-*"))
    assert len(kept) == 3
