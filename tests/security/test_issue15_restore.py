"""Issue #15, "Restores and backups lose data" — restores: a restore takes
the store alone, and no write ever goes to a file that is no longer the
store. A real second OS process writes journal entries during the restore;
every entry it reported saved is afterwards in the store (or, written
before the restore, in the copy kept aside), or it got an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import WorkflowError
from cus_desk.services import backup
from cus_desk.services.cases import CaseService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.cases import JournalEntry
from tests.cases.conftest import new_case_input
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys, time
from cus_desk.services.auth import authenticate
from cus_desk.services.cases import CaseService
from cus_desk.store.db import open_database, sqlite_url

url, case_id, password, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
db = open_database(url if "://" in url else sqlite_url(url))
if mode == "unannounced":
    # A client that does not announce itself (an older CUS Desk, another
    # tool with the file open): the restore cannot see it.
    if getattr(db, "_presence", None) is not None:
        db._presence.release()
        db._presence = None
actor = authenticate(db, "cs.metz", password)
svc = CaseService(db, actor)
print("ready", flush=True)
for i in range(count):
    if i == 20:
        sys.stdin.readline()  # the test says when to go on (after the restore started)
    try:
        svc.add_journal_entry(case_id, "entretien", db.clock.today(), f"entree-{i}")
        print(f"saved {i}", flush=True)
    except Exception as exc:  # the app's errors: reported, never silent
        print(f"error {i} {type(exc).__name__}", flush=True)
    time.sleep(0.002)
print("done", flush=True)
"""


def _texts(url) -> set[str]:
    db = open_database(url)
    try:
        with db.read_session() as s:
            return set(s.scalars(select(JournalEntry.text).where(JournalEntry.text.like("entree-%"))))
    finally:
        db.dispose()


def _start_writer(db_path, case_id, count, mode):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), str(case_id), TEST_PASSWORD,
                             str(count), mode], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(proc, wanted: str, lines: list[str]) -> None:
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith(wanted):
            return
    raise AssertionError(f"writer ended early: {lines[-3:]} {proc.stderr.read()}")


@pytest.fixture
def case_and_copy(db, actors, tmp_path, db_backend):
    case_id = CaseService(db, actors["adviser_metz"]).create_case(new_case_input(db))
    copy = backup.BackupService(db, actors["admin"]).backup(
        None if db_backend == "postgresql" else tmp_path / "copie.sqlite3")
    return case_id, copy.path


def test_restore_is_refused_while_another_process_has_the_store_open(db, actors, db_path, case_and_copy):
    """SQLite: the other process is registered (store.presence); PostgreSQL:
    it is another connection (pg_stat_activity). Refused, French, nothing
    replaced, and every entry the writer saved is in the store."""
    case_id, copy = case_and_copy
    url = db.url
    proc = _start_writer(db_path, case_id, 60, "registered")
    lines: list[str] = []
    try:
        _read_until(proc, "saved 19", lines)
        with pytest.raises(WorkflowError) as refused:
            backup.BackupService(db, actors["admin"]).restore(copy)
        assert "fermez CUS Desk" in refused.value.message
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += out.splitlines()
    assert proc.returncode == 0, err
    saved = {f"entree-{line.split()[1]}" for line in lines if line.startswith("saved")}
    errors = [line for line in lines if line.startswith("error")]
    assert len(saved) + len(errors) == 60
    assert saved <= _texts(url)  # none lost
    # The refused restore left this window's store usable (its presence back).
    CaseService(db, actors["adviser_metz"]).add_journal_entry(case_id, "entretien", db.clock.today(), "apres")


@pytest.mark.sqlite_only(reason="the SQLite file itself: no write may go to a replaced file")
def test_a_client_the_restore_cannot_see_never_writes_to_an_orphan_file(db, actors, db_path, case_and_copy):
    """Even a client that did not announce itself keeps writing into THE
    store: the restore copies into the live file (SQLite backup API) instead
    of replacing it. On main, the file was replaced (os.replace) and such a
    client went on writing into the old, unlinked file: entries lost."""
    case_id, copy = case_and_copy
    url = db.url
    proc = _start_writer(db_path, case_id, 120, "unannounced")
    lines: list[str] = []
    try:
        _read_until(proc, "saved 19", lines)
        result = backup.BackupService(db, actors["admin"]).restore(copy)
        proc.stdin.write("go\n")  # the writer goes on only once the restore is done
        proc.stdin.flush()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += out.splitlines()
    assert proc.returncode == 0, err
    saved_after = {f"entree-{line.split()[1]}" for line in out.splitlines() if line.startswith("saved")}
    saved_before = {f"entree-{line.split()[1]}" for line in lines[:21] if line.startswith("saved")}
    assert len(saved_after) >= 90, out[-500:]  # the writer really wrote after the restore
    in_store = _texts(url)
    assert saved_after <= in_store, f"{len(saved_after - in_store)} saved entries lost"
    # Written before the restore: gone from the restored store (it is the
    # backup's content), kept in the copy set aside.
    assert not (saved_before & in_store)
    assert saved_before <= _texts(sqlite_url(result.kept_aside))


@pytest.mark.sqlite_only(reason="the presence files of a SQLite store")
def test_a_killed_client_does_not_block_restores_forever(db, actors, db_path, case_and_copy):
    """A process killed with the store open leaves its presence file, but
    not its OS lock: the next restore removes the file and proceeds."""
    case_id, copy = case_and_copy
    proc = _start_writer(db_path, case_id, 60, "registered")
    lines: list[str] = []
    try:
        _read_until(proc, "saved 19", lines)
    finally:
        proc.kill()
        proc.wait()
    folder = db_path.with_name(f".{db_path.name}.postes")
    assert len(list(folder.glob("*.lock"))) == 2  # this test's and the killed process's
    result = backup.BackupService(db, actors["admin"]).restore(copy)
    assert result.kept_aside is not None
    assert list(folder.glob("*.lock")) == []  # both gone: ours released, the dead one's removed


@pytest.mark.sqlite_only(reason="the copies kept next to a SQLite store")
def test_copies_kept_before_restores_are_rotated(db, actors, db_path, case_and_copy, clock):
    from datetime import timedelta

    _, copy = case_and_copy
    url = db.url
    db.dispose()
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        reopened = open_database(url, clock=clock)
        backup.BackupService(reopened, actors["admin"]).restore(copy)
    kept = sorted(db_path.parent.glob(f"{db_path.stem}.avant-restauration-*"))
    assert len(kept) == backup.ASIDE_KEEP == 3


def test_pre_restore_checks_run_before_anything_is_touched(db, actors, case_and_copy):
    """The hook other checks (a broken audit chain…) plug into: a refusal
    there leaves the store as it was."""
    from cus_desk.domain.errors import ValidationError

    case_id, copy = case_and_copy
    CaseService(db, actors["adviser_metz"]).add_journal_entry(case_id, "entretien", db.clock.today(), "entree-x")
    seen = []

    def refuse(source, check):
        seen.append((Path(source).name, check.revision))
        raise ValidationError("Sauvegarde refusée par un contrôle.")

    backup.add_pre_restore_check(refuse)
    try:
        with pytest.raises(ValidationError):
            backup.BackupService(db, actors["admin"]).restore(copy)
    finally:
        backup._PRE_RESTORE_CHECKS.remove(refuse)
    assert seen and seen[0][0] == Path(copy).name
    assert "entree-x" in _texts(db.url)


HOLDS_OPEN = r"""
import sys
from cus_desk.store.db import open_database, sqlite_url
db = open_database(sqlite_url(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
db.dispose()
"""


@pytest.mark.sqlite_only(reason="a damaged SQLite file restored from a backup file")
@pytest.mark.gui
def test_gui_restore_dialog_refuses_while_another_window_has_the_store(qtbot, db, actors, db_path,
                                                                       case_and_copy, tmp_path):
    """The restore dialog (damaged store) says in French that another
    window has the store open; nothing replaced; once it closed, it works."""
    from cus_desk.ui.login import RestoreSignInDialog
    from tests.security.test_issue11_accounts import _damage

    _, copy = case_and_copy
    db.dispose()
    other = subprocess.Popen([sys.executable, "-c", HOLDS_OPEN, str(db_path)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "ready", other.stderr.read()
        _damage(db_path, accounts_readable=True)  # damaged while the other window has it open
        before = db_path.read_bytes()
        dialog = RestoreSignInDialog(sqlite_url(db_path), copy, db.clock)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.login.setText("admin")
        dialog.password.setText(TEST_PASSWORD)
        dialog.ok.click()
        assert dialog.message.text().startswith("Une autre fenêtre ou un autre poste de CUS Desk a "
                                                "cette base ouverte : fermez CUS Desk partout ailleurs")
        assert dialog.result_restore is None and db_path.read_bytes() == before
        dialog.grab().save(str(tmp_path / "restauration-refusee.png"))
        other.communicate("fin\n", timeout=60)
        dialog.password.setText(TEST_PASSWORD)
        dialog.ok.click()
        assert dialog.result_restore is not None
    finally:
        if other.poll() is None:
            other.kill()


@pytest.mark.sqlite_only(reason="a writer holding the SQLite file during a restore")
def test_a_restore_blocked_by_an_unseen_writer_is_refused_not_forced(db, actors, db_path, case_and_copy,
                                                                     monkeypatch):
    """A client the restore cannot see holds the writer's lock: the restore
    waits (bounded), then refuses in French — it never falls back to
    replacing the file."""
    case_id, copy = case_and_copy
    CaseService(db, actors["adviser_metz"]).add_journal_entry(case_id, "entretien", db.clock.today(), "entree-y")
    monkeypatch.setattr(backup, "RESTORE_BUSY_WAIT_S", 1.0)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; con = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "con.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(120)"), str(db_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        inode = db_path.stat().st_ino
        with pytest.raises(WorkflowError) as refused:
            backup.BackupService(db, actors["admin"]).restore(copy)
        assert "Rien n'a été remplacé" in refused.value.message
        assert db_path.stat().st_ino == inode  # the same file, never replaced
    finally:
        holder.kill()
        holder.wait()
    assert "entree-y" in _texts(db.url)
