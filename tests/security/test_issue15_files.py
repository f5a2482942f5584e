"""Issue #15, "Restores and backups lose data" — files on disk, through the
real CLI in a subprocess: the store, its journal files, backups, exports
and logs are the user's only (0600 / 0700) even under a umask of 022; a
0-byte file given as ``--db`` is refused unless ``--create`` asks for a new
store there."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Cheval-Batterie-Agrafe-9"
SQLITE_FILES = pytest.mark.sqlite_only(reason="files of a SQLite store")


def _cli(*argv, umask: str = "022", env_extra=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CUS_DESK_USER="admin", CUS_DESK_PASSWORD=PASSWORD, **(env_extra or {}))
    command = " ".join(["umask", umask, ";", "exec", sys.executable, "-m", "cus_desk",
                        *[f"'{a}'" for a in argv]])
    return subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@SQLITE_FILES
def test_store_backups_exports_and_logs_are_user_only(tmp_path):
    from cus_desk import paths

    store = tmp_path / "poste" / "cus-desk.sqlite3"
    store.parent.mkdir()
    done = _cli("--db", str(store), "init")
    assert done.returncode == 0, done.stderr
    done = _cli("--db", str(store), "backup")
    assert done.returncode == 0, done.stderr
    export = tmp_path / "stats-2026.csv"
    done = _cli("--db", str(store), "stats", "2026", str(export))
    assert done.returncode == 0, done.stderr
    exported = tmp_path / "copie-manuelle.sqlite3"
    done = _cli("--db", str(store), "backup", str(exported))
    assert done.returncode == 0, done.stderr

    files = [store, export, exported, *paths.backup_dir().glob("*.sqlite3")]
    files += [p for p in (Path(f"{store}-wal"), Path(f"{store}-shm")) if p.exists()]
    files += list(store.parent.glob(".cus-desk.sqlite3.*")) + list(paths.backup_dir().glob(".cus-desk*"))
    assert len(list(paths.backup_dir().glob("*.sqlite3"))) == 1
    for path in files:
        if path.is_file():
            assert _mode(path) == 0o600, f"{path}: {oct(_mode(path))}"
    for folder in (paths.data_dir(), paths.backup_dir(), store.with_name(f".{store.name}.postes")):
        assert _mode(folder) == 0o700, f"{folder}: {oct(_mode(folder))}"

    # The log file (written on an unexpected error, or by the window).
    script = ("import logging; from cus_desk.logging_setup import configure_logging, log_file_path; "
              "configure_logging(); logging.getLogger('t').warning('x'); print(log_file_path())")
    log = subprocess.run(["sh", "-c", f"umask 022; exec {sys.executable} -c \"{script}\""], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert log.returncode == 0, log.stderr
    log_file = Path(log.stdout.strip())
    assert _mode(log_file) == 0o600 and _mode(log_file.parent) == 0o700


@SQLITE_FILES
def test_an_empty_file_given_as_db_is_refused_unless_create(tmp_path):
    empty = tmp_path / "vide.sqlite3"
    empty.touch()
    for argv in (["cases", "list"], ["init"], ["db", "upgrade"], ["backup"]):
        done = _cli("--db", str(empty), *argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert "est vide (0 octet)" in done.stderr and "--create" in done.stderr
        assert "Traceback" not in done.stderr
        assert empty.stat().st_size == 0  # nothing written to it
    done = _cli("--db", str(empty), "--create", "init")
    assert done.returncode == 0, done.stderr
    assert empty.read_bytes()[:16] == b"SQLite format 3\x00"
    done = _cli("--db", str(empty), "backup")
    assert done.returncode == 0, done.stderr


@SQLITE_FILES
def test_a_missing_file_is_still_created_on_first_start(tmp_path):
    new = tmp_path / "nouvelle.sqlite3"
    done = _cli("--db", str(new), "init")
    assert done.returncode == 0, done.stderr
    assert new.read_bytes()[:16] == b"SQLite format 3\x00"
