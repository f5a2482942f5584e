"""Attacks on the journal d'audit of a real SQLite store file, done with
sqlite3 by someone who has the file and the program but not the
installation's audit key (issue 15). Each attack is first shown to leave a
journal that verifies ("intact" before the attack), then verification must
say it was altered and how, in French.

The attacker's re-chaining uses the program's former algorithm (plain
SHA-256 of the event's fields, written out here): before the key, this
made every attack below verify as "intact" (the same tests, run against
the code of main, fail on the re-chained and tail/whole-deletion cases)."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from sqlalchemy import select

from cus_desk.services import audit
from cus_desk.services.audit_admin import verify_chain
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import AuditEvent

pytestmark = pytest.mark.sqlite_only(reason="attacks on the SQLite file with sqlite3")


def _sha(prev, occurred_at, user_id, user_login, action, entity_type, entity_id, case_id, details):
    """The chain digest as the program computed it before the key."""
    payload = json.dumps([prev, occurred_at.isoformat(timespec="microseconds"), user_id, user_login,
                          action, entity_type, entity_id, case_id, details],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _anchor_sha(prev, created_at, through, last_hash, count):
    payload = json.dumps([prev, created_at.isoformat(timespec="microseconds"), through, last_hash, count],
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@pytest.fixture
def store(db, actors, db_path):
    """A store with 30 events of ordinary use, closed; its path."""
    with db.write_session() as s:
        for i in range(15):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i % 4 + 1, case_id=i % 4 + 1)
            audit.record(s, actors["social_head"], audit.Action.UPDATE, "case", 7, case_id=7,
                         details={"status": ["ouvert", "suivi"]})
    for i in range(3):  # a few separate writes: the head moves with each one
        with db.write_session() as s:
            audit.record(s, actors["admin"], audit.Action.EXPORT, "partners", None, details={"n": i})
    before = verify_chain(db)
    assert before.ok and "intact" in before.message, before.message
    db.dispose()
    return db_path


def _verify(path):
    db = open_database(sqlite_url(path))
    try:
        return verify_chain(db)
    finally:
        db.dispose()


def _ids(path) -> list[int]:
    with sqlite3.connect(path) as con:
        return [r[0] for r in con.execute("SELECT id FROM audit_events ORDER BY id")]


def _rechain_sha256(path, from_id: int = 0) -> None:
    """Recompute prev_hash/hash of every event from ``from_id`` on with the
    former algorithm (what anyone with the program's source can do), and
    make the store's own head row agree."""
    db = open_database(sqlite_url(path))
    with db.read_session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    db.dispose()
    con = sqlite3.connect(path)
    prev = audit.GENESIS
    for e in rows:
        if e.id >= from_id:
            digest = _sha(prev, e.occurred_at, e.user_id, e.user_login, e.action, e.entity_type,
                          e.entity_id, e.case_id, e.details_json)
            con.execute("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, e.id))
            prev = digest
        else:
            prev = e.hash
    _fix_head_row(con)
    con.commit()
    con.close()


def _fix_head_row(con) -> None:
    """A careful attacker also rewrites the head row kept in the store."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "audit_chain_head" in tables:
        con.execute("UPDATE audit_chain_head SET last_id = (SELECT max(id) FROM audit_events), "
                    "last_hash = (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), "
                    "total = (SELECT count(*) FROM audit_events) "
                    "+ (SELECT coalesce(sum(purged_count), 0) FROM audit_anchors)")


def _sql(path, *statements) -> None:
    con = sqlite3.connect(path)
    for sql in statements:
        con.execute(sql)
    _fix_head_row(con)
    con.commit()
    con.close()


def test_edited_event(store):
    target = _ids(store)[10]
    _sql(store, f"UPDATE audit_events SET user_login = 'quelquun' WHERE id = {target}")
    report = _verify(store)
    assert not report.ok and report.broken_event_id == target
    assert f"L'événement n° {target} a été modifié" in report.message


def test_edited_event_rechained_with_the_old_algorithm(store):
    target = _ids(store)[10]
    _sql(store, f"UPDATE audit_events SET details_json = '{{\"status\": \"rien\"}}' WHERE id = {target}")
    _rechain_sha256(store, from_id=target)
    report = _verify(store)
    assert not report.ok, report.message
    assert f"L'événement n° {target} n'est pas signé par la clé" in report.message


def test_forged_event_inserted_at_the_end(store):
    con = sqlite3.connect(store)
    last_id, last_hash = con.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    db = open_database(sqlite_url(store))
    with db.read_session() as s:
        when = s.get(AuditEvent, last_id).occurred_at
    db.dispose()
    forged = _sha(last_hash, when, 1, "admin", "delete", "case", "9", 9, "{}")
    _sql(store, "INSERT INTO audit_events (occurred_at, user_id, user_login, action, entity_type, entity_id, "
                f"case_id, details_json, prev_hash, hash) SELECT occurred_at, 1, 'admin', 'delete', 'case', '9', 9, "
                f"'{{}}', '{last_hash}', '{forged}' FROM audit_events WHERE id = {last_id}")
    report = _verify(store)
    assert not report.ok, report.message
    assert f"L'événement n° {last_id + 1} n'est pas signé par la clé" in report.message


def test_forged_event_inserted_in_the_middle_and_rechained(store):
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id = {ids[5]}",  # room for the forged one
             f"INSERT INTO audit_events (id, occurred_at, user_id, user_login, action, entity_type, entity_id, "
             f"case_id, details_json, prev_hash, hash) SELECT {ids[5]}, occurred_at, 1, 'admin', 'read', 'case', "
             f"'2', 2, '{{}}', 'x', 'y{ids[5]}' FROM audit_events WHERE id = {ids[4]}")
    _rechain_sha256(store, from_id=ids[5])
    report = _verify(store)
    assert not report.ok and f"L'événement n° {ids[5]} n'est pas signé par la clé" in report.message


def test_deleted_middle_events(store):
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id IN ({ids[8]}, {ids[9]}, {ids[10]})")
    report = _verify(store)
    assert not report.ok and report.broken_event_id == ids[11]
    assert f"les événements n° {ids[8]} à {ids[10]} ont été supprimés" in report.message


def test_deleted_middle_events_rechained(store):
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id IN ({ids[8]}, {ids[9]})")
    _rechain_sha256(store, from_id=ids[10])
    report = _verify(store)
    assert not report.ok, report.message
    assert "n'est pas signé par la clé" in report.message


def test_deleted_tail(store):
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id > {ids[-4]}")
    report = _verify(store)
    assert not report.ok, report.message
    assert "Les 3 dernier(s) événement(s) manquent" in report.message
    assert f"au n° {ids[-1]}, la base au n° {ids[-4]}" in report.message


def test_deleted_tail_then_new_events_written(store, clock):
    """The program writes again after the deletion: the reused ids must not
    launder it (the previous head is kept in the head file)."""
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id > {ids[-4]}")
    db = open_database(sqlite_url(store), clock=clock)
    with db.write_session() as s:
        for _ in range(5):
            audit.record(s, None, audit.Action.ADMIN, "test", None)
    report = verify_chain(db)
    db.dispose()
    assert not report.ok, report.message
    assert f"L'événement n° {ids[-1]} ne correspond plus à la tête de chaîne signée" in report.message


def test_everything_deleted(store):
    _sql(store, "DELETE FROM audit_events")
    report = _verify(store)
    assert not report.ok, report.message
    assert "Tous les événements du journal ont été supprimés" in report.message


def test_forged_purge_anchor(store):
    """Delete the oldest events and cover them with a purge anchor computed
    with plain SHA-256, chained after the existing anchors."""
    ids = _ids(store)
    db = open_database(sqlite_url(store))
    with db.read_session() as s:
        from cus_desk.store.models.security import AuditAnchor

        last_anchor = s.scalars(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1)).first()
        victim = s.get(AuditEvent, ids[9])
        when = victim.occurred_at
        prev = last_anchor.hash if last_anchor else audit.GENESIS
        forged = _anchor_sha(prev, when, victim.id, victim.hash, 10)
        stamp = s.connection().exec_driver_sql(
            f"SELECT occurred_at FROM audit_events WHERE id = {victim.id}").scalar()
    db.dispose()
    _sql(store, f"DELETE FROM audit_events WHERE id <= {ids[9]}",
         "INSERT INTO audit_anchors (created_at, through_event_id, last_event_hash, purged_count, purged_by, "
         f"prev_hash, hash) VALUES ('{stamp}', {victim.id}, '{victim.hash}', 10, 'admin', '{prev}', '{forged}')")
    report = _verify(store)
    assert not report.ok, report.message
    assert "n'est pas signée par la clé de l'installation" in report.message


def test_whole_journal_rechained_with_the_old_algorithm(store):
    """Anchors (the seal) removed and every event re-hashed with SHA-256:
    what verified before the key."""
    target = _ids(store)[3]
    _sql(store, f"UPDATE audit_events SET user_login = 'personne' WHERE id = {target}", "DELETE FROM audit_anchors")
    _rechain_sha256(store)
    report = _verify(store)
    assert not report.ok, report.message
    assert "jamais été scellé par la clé" in report.message


def test_key_missing_or_wrong(store, monkeypatch, tmp_path):
    from cus_desk.services import audit_key

    monkeypatch.setenv(audit_key.ENV, str(tmp_path / "ailleurs" / "audit.key"))
    report = _verify(store)
    assert not report.ok and "La clé du journal d'audit est introuvable" in report.message
    audit_key.create_key()  # another installation's key
    report = _verify(store)
    assert not report.ok and "clé incorrecte" in report.message


def test_cli_verify_lists_each_problem(store, monkeypatch, capsys):
    from cus_desk.cli import main
    from tests.conftest import TEST_PASSWORD

    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id > {ids[-3]}")
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    assert main(["--db", str(store), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "Journal d'audit altéré" in err and "dernier(s) événement(s) manquent" in err


def test_heads_are_checked_at_open(store, monkeypatch, capsys):
    from cus_desk.cli import main
    from cus_desk.services.audit_verify import check_at_open
    from tests.conftest import TEST_PASSWORD

    db = open_database(sqlite_url(store))
    assert check_at_open(db) is None
    db.dispose()
    ids = _ids(store)
    _sql(store, f"DELETE FROM audit_events WHERE id > {ids[-3]}")
    db = open_database(sqlite_url(store))
    warning = check_at_open(db)
    db.dispose()
    assert warning and "Les 2 dernier(s) événement(s) manquent" in warning
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    assert main(["--db", str(store), "users", "list"]) == 0  # any command: warned on stderr
    assert "attention : Journal d'audit altéré" in capsys.readouterr().err


def test_the_gui_says_it_at_open(store):
    """The window's status bar shows ``db.notice`` (ui.main_window)."""
    from cus_desk.ui.app import open_app_database

    db = open_app_database(sqlite_url(store), demo=False)
    assert db.notice is None
    db.dispose()
    _sql(store, "DELETE FROM audit_events")
    db = open_app_database(sqlite_url(store), demo=False)
    db.dispose()
    assert db.notice and db.notice.startswith("Journal d'audit altéré") and len(db.notice) < 110


def test_a_removed_seal_is_not_silently_replaced(store, clock):
    """Re-chained with SHA-256 and the seal removed: the program, writing
    again, does not seal that forged history (the signed head exists)."""
    _sql(store, "DELETE FROM audit_anchors")
    _rechain_sha256(store)
    db = open_database(sqlite_url(store), clock=clock)
    with db.write_session() as s:
        audit.record(s, None, audit.Action.ADMIN, "test", None)
    report = verify_chain(db)
    db.dispose()
    assert not report.ok and "jamais été scellé" in report.message


def test_an_old_store_is_sealed_and_its_legacy_chain_verified(db, actors, db_path, clock):
    """A store written before the key (plain SHA-256 chain, no seal, no head
    file), opened by this version: the first write seals it; verify checks
    the legacy events as such and says so."""
    with db.write_session() as s:
        for i in range(6):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i, case_id=i)
    db.dispose()
    from cus_desk.services import audit_head

    audit_head.head_path(db_path).unlink()
    _sql(db_path, "DELETE FROM audit_anchors")
    _rechain_sha256(db_path)  # what the former version wrote
    legacy = len(_ids(db_path))
    audit.forget_sealed()  # a new program process (this one saw the store sealed)
    db = open_database(sqlite_url(db_path), clock=clock)
    with db.write_session() as s:
        audit.record(s, actors["admin"], audit.Action.LOGIN, "user", actors["admin"].user_id)
    report = verify_chain(db)
    db.dispose()
    assert report.ok, report.message
    assert f"Dont {legacy} événement(s) antérieur(s) à la clé, vérifié(s) comme chaîne SHA-256 héritée" \
        in report.message
    # Altering a legacy event afterwards is still seen.
    _sql(db_path, f"UPDATE audit_events SET user_login = 'x' WHERE id = {_ids(db_path)[2]}")
    report = _verify(db_path)
    assert not report.ok and "a été modifié" in report.message


def test_head_file_is_user_only_compacted_and_keeps_evidence(db, actors, db_path, clock):
    import os
    import stat

    from cus_desk.services import audit_head, audit_key

    for i in range(70):
        with db.write_session() as s:
            audit.record(s, actors["admin"], audit.Action.READ, "case", i, case_id=i)
    path = audit_head.head_path(db_path)
    lines = audit_head.read_heads(path)
    assert 1 <= len(lines) < audit_head.COMPACT_AT  # compacted once it reached the limit
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(audit_key.key_path()).st_mode) == 0o600
    db.dispose()
    ids = _ids(db_path)
    _sql(db_path, f"DELETE FROM audit_events WHERE id > {ids[-3]}")
    db = open_database(sqlite_url(db_path), clock=clock)
    for i in range(70):  # the program keeps writing: the evidence is never compacted away
        with db.write_session() as s:
            audit.record(s, actors["admin"], audit.Action.READ, "case", i, case_id=i)
    report = verify_chain(db)
    db.dispose()
    heads = audit_head.read_heads(path)
    assert len(heads) > audit_head.COMPACT_AT and any(h.alert for h in heads)
    assert not report.ok and f"L'événement n° {ids[-1]} ne correspond plus" in report.message
