"""Several client processes write to one store at the same moment (issue
#12): 8 processes × 50 real service calls each (new cases, the same case
saved by everyone, CAS sessions), started together. Afterwards the audit
chain is one verified chain, every case reference and session number is
unique, and no write was lost. Runs on the store of the run: PostgreSQL
on the server run (the point), SQLite otherwise."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from cus_desk.services.audit_admin import verify_chain
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.meetings import Meeting
from tests.cases.conftest import new_case_input

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
ITERATIONS = 50
# Per client: i % 10 == 9 → a session; i % 10 in (0, 3, 6) → the shared case;
# the rest → new cases.
SESSIONS = sum(1 for i in range(ITERATIONS) if i % 10 == 9)
SHARED = sum(1 for i in range(ITERATIONS) if i % 10 != 9 and (i % 10) % 3 == 0)
NEW_CASES = ITERATIONS - SESSIONS - SHARED


def _start_clients(url: str, workdir: Path, shared_case: int, actors: dict) -> list[subprocess.Popen]:
    payload = json.dumps({k: {**dataclasses.asdict(a), "role": a.role.value} for k, a in actors.items()})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store.concurrent_client", url, str(workdir), str(i),
             str(ITERATIONS), str(shared_case), payload],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(CLIENTS)
    ]


def test_many_clients_one_chain_unique_numbers_nothing_lost(db, actors, tmp_path):
    from cus_desk.services.cases import CaseService

    shared = CaseService(db, actors["adviser_metz"]).create_case(new_case_input(db, contract="SH-1"))
    with db.read_session() as s:
        version_before = s.get(Case, shared).version
        cases_before = s.scalar(select(func.count(Case.id)))
        events_before = s.scalar(select(func.count(AuditEvent.id)))

    procs = _start_clients(db.url, tmp_path, shared, actors)
    try:
        # Everyone connected and ready, then a common start (no sleep-and-hope).
        while len(list(tmp_path.glob("ready-*"))) < CLIENTS:
            if any(p.poll() not in (None, 0) for p in procs):
                break
            try:
                procs[0].wait(0.02)
            except subprocess.TimeoutExpired:
                pass
        (tmp_path / "go").write_text("go")
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()

    created = [cid for r in results for cid in r["created"]]
    assert len(created) == CLIENTS * NEW_CASES
    assert sum(r["updates"] for r in results) == CLIENTS * SHARED
    conflicts = sum(r["conflicts"] for r in results)

    report = verify_chain(db)
    assert report.ok, report
    with db.read_session() as s:
        assert report.checked == s.scalar(select(func.count(AuditEvent.id)))
        # One chain: no two events claim the same predecessor.
        forks = s.execute(select(AuditEvent.prev_hash, func.count())
                          .group_by(AuditEvent.prev_hash).having(func.count() > 1)).all()
        assert forks == []
        refs = s.scalars(select(Case.reference)).all()
        assert len(refs) == cases_before + CLIENTS * NEW_CASES == len(set(refs))
        sequences = sorted(s.scalars(select(Case.sequence).where(Case.year == 2026)))
        assert sequences == list(range(1, len(sequences) + 1))  # no gap, no duplicate
        numbers = Counter(s.execute(select(Meeting.year, Meeting.number)).all())
        assert sum(numbers.values()) == CLIENTS * SESSIONS
        assert max(numbers.values()) == 1
        assert sorted(n for _y, n in numbers) == list(range(1, CLIENTS * SESSIONS + 1))
        # Every successful save of the shared case counted once: none lost.
        assert s.get(Case, shared).version == version_before + CLIENTS * SHARED
        creations = s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "create", AuditEvent.entity_type == "case",
            AuditEvent.id > 0))
        assert creations >= CLIENTS * NEW_CASES + 1
        events_after = s.scalar(select(func.count(AuditEvent.id)))
    print(f"\n[concurrency] {db.engine.dialect.name}: {CLIENTS} clients × {ITERATIONS} writes, "
          f"{events_after - events_before} audit events chained, chain verified "
          f"({report.checked} links), {conflicts} optimistic-lock conflicts retried, "
          f"duplicates 0")
