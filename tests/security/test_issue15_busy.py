"""Issue #15, "Restores and backups lose data" — a busy store: another real
process holds the writer's lock (SQLite ``BEGIN IMMEDIATE``, the PostgreSQL
writer's advisory lock) longer than the store's busy timeout, as a long
import does. A save waits and retries (bounded) instead of being lost; the
CLI's ``cases list`` signs in without the writer's lock (its audit event is
deferred, never skipped); a store still busy after the retries is a French
message, never "erreur inattendue"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import StoreBusyError
from cus_desk.services.cases import CaseService
from cus_desk.store.dialect import BUSY_TIMEOUT_MS
from cus_desk.store.models.cases import JournalEntry
from cus_desk.store.models.core import AuditEvent
from tests.cases.conftest import new_case_input
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# Longer than the busy timeout (10 s): on main, a save or a sign-in waiting
# for this writer failed ("erreur inattendue" for the CLI).
HOLD_S = BUSY_TIMEOUT_MS / 1000 + 5

HOLDER = r"""
import sys, time
url, seconds = sys.argv[1], float(sys.argv[2])
if "://" in url:
    from sqlalchemy import create_engine
    from cus_desk.store.dialect import WRITE_LOCK_KEY
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        print("held", flush=True)
        time.sleep(seconds)
else:
    import sqlite3
    con = sqlite3.connect(url, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("UPDATE settings SET key = key WHERE 0")
    print("held", flush=True)
    time.sleep(seconds)
    con.execute("COMMIT")
print("released", flush=True)
"""


def _hold(db_path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "held", proc.stderr.read()
    return proc


def _cli(db_path, *argv) -> subprocess.Popen:
    env = dict(os.environ, CUS_DESK_USER="cs.metz", CUS_DESK_PASSWORD=TEST_PASSWORD)
    return subprocess.Popen([sys.executable, "-m", "cus_desk", "--db", str(db_path), *argv], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _logins(db, login: str) -> list[dict]:
    with db.read_session() as s:
        rows = s.scalars(select(AuditEvent.details_json).where(
            AuditEvent.action == "login", AuditEvent.user_login == login)).all()
    return [json.loads(r or "{}") for r in rows]


def test_a_save_and_a_cli_sign_in_go_through_a_long_writer(db, actors, db_path):
    case_id = CaseService(db, actors["adviser_metz"]).create_case(new_case_input(db))
    logins_before = len(_logins(db, "cs.metz"))
    holder = _hold(db_path, HOLD_S)
    cli = None
    try:
        cli = _cli(db_path, "cases", "list", "--json")
        # A save from this window while the other process holds the lock.
        entry = CaseService(db, actors["adviser_metz"]).add_journal_entry(
            case_id, "entretien", db.clock.today(), "saisie pendant l'import")
        out, err = cli.communicate(timeout=120)
        holder.communicate(timeout=60)
    finally:
        for proc in (holder, cli):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert cli.returncode == 0, err
    assert "erreur inattendue" not in err
    assert [row["reference"] for row in json.loads(out)] == ["CAS-2026-0001"]
    with db.read_session() as s:
        assert s.get(JournalEntry, entry).text == "saisie pendant l'import"  # not lost
    # The CLI's sign-in was not skipped: deferred, it is written at the next
    # sign-in on this store (or the next write of the process that deferred it).
    from cus_desk.services import auth, deferred_audit

    auth.authenticate(db, "pole.social", TEST_PASSWORD)
    logins = _logins(db, "cs.metz")
    assert len(logins) == logins_before + 1
    assert logins[-1].get("différé") is True and logins[-1]["heure_de_connexion"]
    assert deferred_audit.flush(db) == 0  # written once, the spool is empty


def test_a_store_busy_past_the_retries_is_a_french_message(db, actors, db_path):
    """Bounded: past its attempts, a write says so in French and nothing of
    it is stored (the block never ran)."""
    case_id = CaseService(db, actors["adviser_metz"]).create_case(new_case_input(db))
    holder = _hold(db_path, 8)
    ran = []
    try:
        with pytest.raises(StoreBusyError) as busy:
            with db.write_session(wait_ms=300, attempts=2) as session:
                ran.append(True)
                session.add(JournalEntry(case_id=case_id, kind="entretien", text="jamais"))
        assert "rien n'a été enregistré" in busy.value.message
        assert ran == []
        # A failed sign-in is never deferred: the lockout counts it first,
        # so a busy store answers it with the French "occupée" message.
        from cus_desk.services import auth

        with pytest.raises(StoreBusyError):
            auth.authenticate(db, "cs.metz", "pas le bon mot de passe")
    finally:
        holder.kill()
        holder.wait()
