"""A process killed in the middle of a write (a real arrears import of
many rows) leaves the database intact, holding all of the import or none:
a SQLite file, or a PostgreSQL server whose client dies mid-transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from cus_desk.store.db import check_sqlite_file, open_database, sqlite_url
from cus_desk.store.models.core import Household, Lease, Tenant
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ROWS = 12_000
HEADERS = ["N° contrat", "Nom", "Prénom", "Date de naissance", "Agence", "Commune", "Adresse",
           "Date d'entrée", "Solde débiteur", "Nb mois impayés"]

IMPORT_SCRIPT = r"""
import sys
from datetime import date
from cus_desk.services.auth import authenticate
from cus_desk.services.seniors import SeniorsService
from cus_desk.store.db import open_database, sqlite_url

db = open_database(sys.argv[1] if "://" in sys.argv[1] else sqlite_url(sys.argv[1]))
actor = authenticate(db, "recouvrement.metz", sys.argv[3])

def progress(done, total):
    print(f"progress {done} {total}", flush=True)

SeniorsService(db, actor).import_arrears(sys.argv[2], date(2026, 10, 31), progress=progress)
print("committed", flush=True)
"""


def _write_extract(path: Path) -> Path:
    lines = [";".join(HEADERS)]
    for i in range(ROWS):
        lines.append(";".join([f"57-{i:06d}", f"NOM{i}", "Prénom", "12/03/1950", "Metz", "Metz",
                               f"{i} rue des Tilleuls", "01/02/1990", "123,45", "2"]))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _counts(db_path):
    if "://" in str(db_path):  # a server (the PostgreSQL run): nothing to check on disk
        db = open_database(str(db_path))
    else:
        check_sqlite_file(db_path)  # quick_check: raises if the file is damaged
        db = open_database(sqlite_url(db_path))
    try:
        from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

        with db.read_session() as s:
            return tuple(s.scalar(select(func.count()).select_from(m))
                         for m in (ArrearsExtract, ArrearsLine, Lease, Household, Tenant))
    finally:
        db.dispose()


def _start(db_path, csv):
    return subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT, str(db_path), str(csv), TEST_PASSWORD],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_during_import_leaves_all_or_nothing(db, actors, db_path, tmp_path):
    csv = _write_extract(tmp_path / "impayes_2026-10-31.csv")
    db.dispose()
    before = _counts(db_path)
    proc = _start(db_path, csv)
    killed_at = None
    for line in proc.stdout:
        if line.startswith("progress"):
            done, total = map(int, line.split()[1:])
            if done >= total * 0.6:  # well inside the write transaction (second half)
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = (done, total)
                break
    proc.wait(timeout=120)
    assert killed_at is not None, proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL
    assert _counts(db_path) == before  # intact, and none of the import
    # The same import, left to finish, stores all of it.
    proc = _start(db_path, csv)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    extracts, lines, leases, households, tenants = _counts(db_path)
    assert (extracts, lines) == (before[0] + 1, before[1] + ROWS)
    assert leases == before[2] + ROWS


def test_kill_at_random_points_is_always_all_or_nothing(db, actors, db_path, tmp_path):
    """Kill after various delays (parsing, writing, committing): each time the
    file is intact and holds the whole extract or nothing of it."""
    csv = _write_extract(tmp_path / "impayes_2026-10-31.csv")
    db.dispose()
    before = _counts(db_path)
    for fraction in (0.2, 0.5, 0.8, 0.95, 1.0):
        proc = _start(db_path, csv)
        reached = False
        for line in proc.stdout:
            if line.startswith("progress"):
                done, total = map(int, line.split()[1:])
                if done >= total * fraction:
                    reached = True
                    break
            elif line.startswith("committed"):
                reached = True
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
        assert reached, proc.stderr.read()  # killed while importing, not failed on its own
        counts = _counts(db_path)
        if counts[0] == before[0]:
            assert counts == before
        else:
            assert counts[:2] == (before[0] + 1, before[1] + ROWS)
            before = counts  # all of it; later kills replace the same extract or leave it
