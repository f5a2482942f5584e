"""The audit chain head on the PostgreSQL server (issue 15): a trigger owned
by the schema owner (SECURITY DEFINER) advances ``audit_chain_head`` on
every audit insert, even for a client role that may only INSERT/SELECT the
journal and SELECT the head; deleting the last events afterwards (even by
the owner) is seen by ``audit verify``. Tried with psql as a client role."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from cus_desk.services import audit
from cus_desk.services.audit_admin import verify_chain
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditChainHead

pytestmark = pytest.mark.postgresql_only(reason="the head trigger and roles of the server")

PSQL = "/usr/lib/postgresql/15/bin/psql"


def _fill(db, actors, n=6):
    with db.write_session() as s:
        for i in range(n):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i, case_id=i)


def _head(db):
    with db.read_session() as s:
        row = s.get(AuditChainHead, 1)
        last = s.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).one()
        count = s.scalar(select(func.count(AuditEvent.id)))
        return (row.last_id, row.last_hash, row.total), (last.id, last.hash, count)


def test_trigger_advances_the_head_on_insert(db, actors):
    _fill(db, actors)
    (last_id, last_hash, total), (max_id, max_hash, count) = _head(db)
    assert (last_id, last_hash) == (max_id, max_hash) and total == count
    _fill(db, actors, n=2)
    assert _head(db)[0][2] == total + 2


def test_a_rolled_back_insert_does_not_move_the_head(db, actors):
    _fill(db, actors)
    before = _head(db)[0]
    with pytest.raises(RuntimeError):
        with db.write_session() as s:
            audit.record(s, actors["admin"], audit.Action.ADMIN, "x", None)
            raise RuntimeError("abandon")
    assert _head(db)[0] == before


def test_tail_deleted_by_the_owner_is_detected(db, actors):
    _fill(db, actors, n=8)
    assert verify_chain(db).ok
    with db.write_session() as s:
        top = s.scalar(select(func.max(AuditEvent.id)))
        s.execute(text("DELETE FROM audit_events WHERE id > :t"), {"t": top - 3})
    report = verify_chain(db)
    assert not report.ok
    assert "Les 3 dernier(s) événement(s) manquent : la tête de chaîne de la base" in report.message


def test_everything_deleted_by_the_owner_is_detected(db, actors):
    _fill(db, actors)
    with db.write_session() as s:
        s.execute(text("DELETE FROM audit_events"))
    report = verify_chain(db)
    assert not report.ok and "Tous les événements du journal ont été supprimés" in report.message


@pytest.fixture
def client_role(db, db_path, pg_cluster):
    """A throw-away login role with what a client role gets on the journal
    (the per-person roles and their grants belong to issue 15's server
    part): INSERT and SELECT on audit_events, SELECT on audit_chain_head."""
    name = f"{pg_cluster.prefix}audit_client"
    database = make_url(db_path).database
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{name}"')
    pg_cluster.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD 'client-secret'")
    for sql in (f'GRANT SELECT, INSERT ON audit_events TO "{name}"',
                f'GRANT USAGE ON SEQUENCE audit_events_id_seq TO "{name}"',
                f'GRANT SELECT ON audit_chain_head TO "{name}"'):
        pg_cluster.execute(sql, database)
    yield name, database
    db.dispose()
    pg_cluster.execute(f'DROP OWNED BY "{name}"', database)
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{name}"')


def _psql(role: str, database: str, sql: str) -> subprocess.CompletedProcess:
    url = make_url(os.environ.get("CUS_DESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:51591/postgres"))
    env = dict(os.environ, PGPASSWORD="client-secret")
    return subprocess.run([PSQL, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", role,
                           "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")
def test_a_client_role_advances_the_head_but_cannot_rewrite_it(db, actors, client_role):
    role, database = client_role
    _fill(db, actors, n=2)
    (last_id, _h, total), _ = _head(db)
    insert = _psql(role, database,
                   "INSERT INTO audit_events (occurred_at, user_id, user_login, action, entity_type, entity_id, "
                   "case_id, details_json, prev_hash, hash) VALUES (now(), NULL, 'psql', 'read', 'case', '1', "
                   f"1, '{{}}', 'p', '{'f' * 64}') RETURNING id")
    assert insert.returncode == 0, insert.stderr
    new_id = int(insert.stdout.split()[0])
    (head_id, head_hash, head_total), _ = _head(db)
    assert (head_id, head_hash, head_total) == (new_id, "f" * 64, total + 1)  # advanced by the trigger
    rewrite = _psql(role, database, f"UPDATE audit_chain_head SET last_id = {last_id}, total = {total}")
    assert rewrite.returncode != 0 and "permission denied" in rewrite.stderr
    assert _psql(role, database, "DELETE FROM audit_events").returncode != 0
    # ... and the event it forged without the key is reported by verify.
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == new_id
