"""Issue 11, items 5 and 8: what the audit trail keeps of a sign-in and how
it is printed; temporary passwords, password resets, lockout messages and
restoring a backup over a damaged database."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from cus_desk.cli import main
from cus_desk.domain.errors import AccessDeniedError, SessionRevokedError
from cus_desk.domain.roles import Role
from cus_desk.services import audit, auth, backup
from cus_desk.services.audit_admin import AuditAdminService
from cus_desk.services.cases import CaseService
from cus_desk.services.settings import SettingsService
from cus_desk.services.users import UsersService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import AuditEvent, User
from tests.conftest import TEST_PASSWORD

# --- item 5: what a failed sign-in leaves, and how the trail is printed --------------


def _all_audit_text(db) -> str:
    with db.read_session() as s:
        return " ".join(f"{e.user_login} {e.entity_id} {e.details_json}"
                        for e in s.scalars(select(AuditEvent)))


def test_a_password_typed_in_the_login_field_is_never_stored(db, actors):
    typed = "Mon-Secret-Passe-2026"
    with pytest.raises(AccessDeniedError):
        auth.sign_in(db, typed, "")
    with pytest.raises(AccessDeniedError):
        auth.sign_in(db, f"  {typed}  ", "autre")
    trail = _all_audit_text(db)
    assert "Secret" not in trail and "2026" not in trail.replace("2026-", "")
    with db.read_session() as s:
        logins = [e.user_login for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed"))]
    # a keyed hash: the same typing gives the same pseudonym (attempts can be counted)
    assert len(logins) == 2 and logins[0] == logins[1] and logins[0].startswith("inconnu#")
    with db.read_session() as s:
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM settings")) for v in row)
    assert typed not in dump


def test_audit_list_and_viewer_rows_escape_control_characters(db, actors, monkeypatch, capsys, db_path):
    forged = "x\n 999999  01/01/2026 00:00  admin  Suppression\x1b[2J\x1b[31m\u202e"
    with db.write_session() as s:
        audit.record(s, None, audit.Action.LOGIN_FAILED, "user", None, login=forged,
                     details={"motif\n": forged})
    rows = AuditAdminService(db, actors["admin"]).query(limit=5)
    row = next(r for r in rows if r.action == "login_failed")
    for shown in (row.user_login, row.details_text, json.dumps(row.as_dict(), ensure_ascii=False)):
        assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
    assert "\\n" in row.user_login and "\\x1b" in row.user_login
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    capsys.readouterr()
    assert main(["--db", str(db_path), "audit", "list", "--limit", "50"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    with db.read_session() as s:
        count = len(s.scalars(select(AuditEvent.id)).all())
    assert len(out.splitlines()) == count  # one line per event: no forged line


# --- item 8: temporary passwords -----------------------------------------------------


def test_temporary_password_expires_after_the_setting(db, actors, clock):
    from cus_desk.domain.settings import TEMPORARY_PASSWORD_HOURS

    admin = UsersService(db, actors["admin"])
    _, temporary = admin.add("cs.woippy", "Wanda W.", Role.SOCIAL_ADVISER, actors["adviser_metz"].agency_id)
    clock.advance(timedelta(hours=72) - timedelta(seconds=1))
    assert auth.sign_in(db, "cs.woippy", temporary).must_change_password
    clock.advance(timedelta(seconds=1))
    with pytest.raises(AccessDeniedError, match="provisoire a expiré"):
        auth.sign_in(db, "cs.woippy", temporary)
    # a new one, under a shorter setting
    SettingsService(db, actors["admin"]).set(TEMPORARY_PASSWORD_HOURS, 24)
    temporary = admin.reset_password(admin.by_login("cs.woippy").id)
    clock.advance(timedelta(hours=24))
    with pytest.raises(AccessDeniedError, match="24 heures"):
        auth.sign_in(db, "cs.woippy", temporary)
    failed = [json.loads(e) for e in _details(db, "login_failed")]
    assert [f["motif"] for f in failed] == ["mot de passe provisoire expiré"] * 2


def _details(db, action):
    with db.read_session() as s:
        return [e.details_json for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                                  .order_by(AuditEvent.id))]


def test_temporary_password_opens_only_its_change(db, actors):
    admin = UsersService(db, actors["admin"])
    temporary = admin.reset_password(actors["adviser_metz"].user_id)
    signed = auth.sign_in(db, "cs.metz", temporary)
    assert signed.must_change_password
    with pytest.raises(AccessDeniedError, match="provisoire"):
        CaseService(db, signed.actor).list_cases()
    auth.change_password(db, signed.actor, temporary, "Nouveau-Metz-2026")
    assert CaseService(db, signed.actor).list_cases() is not None
    with db.read_session() as s:
        assert s.scalar(select(User).where(User.login == "cs.metz")).temporary_password_expires_at is None


def test_password_reset_ends_the_open_sessions(db, actors):
    actor = auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    CaseService(db, actor).list_cases()
    temporary = UsersService(db, actors["admin"]).reset_password(actor.user_id)
    with pytest.raises(SessionRevokedError, match="réinitialisé"):
        CaseService(db, actor).list_cases()
    # the idle-lock unlock of the old session cannot revive it, even with the new password
    with pytest.raises(SessionRevokedError):
        auth.reauthenticate(db, actor, temporary)
    with pytest.raises(SessionRevokedError):
        auth.change_password(db, actor, temporary, "Nouveau-Metz-2026")
    fresh = auth.sign_in(db, "cs.metz", temporary).actor
    auth.change_password(db, fresh, temporary, "Nouveau-Metz-2026")
    assert CaseService(db, fresh).list_cases() is not None
    # other accounts' sessions are untouched
    CaseService(db, actors["adviser_forbach"]).list_cases()


# --- item 8: no account enumeration through the lockout -----------------------------


def _attempt(db, login):
    with pytest.raises(AccessDeniedError) as exc:
        auth.sign_in(db, login, "mauvais-mot-de-passe")
    return type(exc.value), exc.value.message


def test_lockout_reads_the_same_for_known_and_unknown_logins(db, actors, clock):
    known = [_attempt(db, "cs.metz") for _ in range(6)]
    unknown = [_attempt(db, "personne.inconnue") for _ in range(6)]
    assert known == unknown
    assert known[3] == (AccessDeniedError, auth.BAD_CREDENTIALS)
    assert known[4][0] is auth.AccountLockedError and known[5][0] is auth.AccountLockedError
    clock.advance(timedelta(minutes=15))
    assert _attempt(db, "cs.metz") == _attempt(db, "personne.inconnue") == (AccessDeniedError,
                                                                             auth.BAD_CREDENTIALS)


# --- item 8: restoring over a damaged database ----------------------------------------


def _backup_with_extra_admin(db, actors, tmp_path):
    """A good backup holding an administrator « intrus » that the current
    base does not have."""
    UsersService(db, actors["admin"]).add("intrus", "Intrus", Role.ADMIN, password="Porte-Derobee-2026")
    copy = backup.BackupService(db, actors["admin"]).backup(tmp_path / "copie.sqlite3").path
    with db.write_session() as s:
        s.execute(text("DELETE FROM users WHERE login = 'intrus'"))
    return copy


def _damage(path, *, accounts_readable: bool):
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'audit_events'").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    if accounts_readable:  # one table's pages broken, the accounts intact
        start = (root - 1) * page_size
        data[start:start + page_size] = b"\xff" * page_size
    else:  # the schema page broken: nothing can be read
        data[100:page_size] = b"\xff" * (page_size - 100)
    path.write_bytes(bytes(data))
    for ext in ("-wal", "-shm"):
        path.with_name(path.name + ext).unlink(missing_ok=True)


def _restore_events(path):
    reopened = open_database(sqlite_url(path))
    try:
        with reopened.read_session() as s:
            return [(e.user_login, json.loads(e.details_json))
                    for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "restore"))]
    finally:
        reopened.dispose()


def _cli_restore(monkeypatch, db_path, copy, login, password):
    monkeypatch.setenv("CUS_DESK_USER", login)
    monkeypatch.setenv("CUS_DESK_PASSWORD", password)
    return main(["--db", str(db_path), "restore", str(copy)])


@pytest.mark.sqlite_only(reason="a damaged SQLite file restored from a backup file")
def test_damaged_base_restore_needs_an_administrator_of_the_current_base(db, actors, db_path, tmp_path,
                                                                        monkeypatch, capsys):
    copy = _backup_with_extra_admin(db, actors, tmp_path)
    db.dispose()
    _damage(db_path, accounts_readable=True)
    before = db_path.read_bytes()
    # an administrator who exists only inside the supplied backup
    assert _cli_restore(monkeypatch, db_path, copy, "intrus", "Porte-Derobee-2026") == 2
    assert "administrateur de la base actuelle" in capsys.readouterr().err
    assert db_path.read_bytes() == before
    with pytest.raises(AccessDeniedError):
        backup.restore_damaged(sqlite_url(db_path), copy, "cs.metz", TEST_PASSWORD, db.clock)
    assert db_path.read_bytes() == before
    # the current base's administrator, checked in it read-only
    assert _cli_restore(monkeypatch, db_path, copy, "admin", TEST_PASSWORD) == 0
    [(login, details)] = _restore_events(db_path)
    assert login == "admin" and details["autorisation"] == backup.BY_CURRENT_ADMIN


@pytest.mark.sqlite_only(reason="a damaged SQLite file restored from a backup file")
def test_unreadable_base_recovery_is_unlocked_by_a_backup_administrator_and_audited(
        db, actors, db_path, tmp_path, monkeypatch, capsys):
    copy = _backup_with_extra_admin(db, actors, tmp_path)
    db.dispose()
    _damage(db_path, accounts_readable=False)
    assert not backup.current_accounts_readable(db_path)
    before = db_path.read_bytes()
    assert _cli_restore(monkeypatch, db_path, copy, "cs.metz", TEST_PASSWORD) == 2  # not an admin
    assert _cli_restore(monkeypatch, db_path, copy, "intrus", "faux") == 2
    assert "illisible" in capsys.readouterr().err
    assert db_path.read_bytes() == before
    assert _cli_restore(monkeypatch, db_path, copy, "intrus", "Porte-Derobee-2026") == 0
    [(login, details)] = _restore_events(db_path)
    assert login == "intrus" and details["autorisation"] == backup.BY_BACKUP_ADMIN


@pytest.mark.sqlite_only(reason="a damaged SQLite file restored from a backup file")
@pytest.mark.gui
def test_gui_restore_over_a_damaged_base_refuses_a_backup_only_administrator(qtbot, db, actors, db_path,
                                                                              tmp_path):
    from cus_desk.ui.login import RestoreSignInDialog

    copy = _backup_with_extra_admin(db, actors, tmp_path)
    db.dispose()
    _damage(db_path, accounts_readable=True)
    before = db_path.read_bytes()
    dialog = RestoreSignInDialog(sqlite_url(db_path), copy, db.clock)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.recovery
    dialog.login.setText("intrus")
    dialog.password.setText("Porte-Derobee-2026")
    dialog.ok.click()
    assert "Rien n'a été remplacé" in dialog.message.text() and dialog.result_restore is None
    assert db_path.read_bytes() == before
    dialog.login.setText("admin")
    dialog.password.setText(TEST_PASSWORD)
    dialog.ok.click()
    assert dialog.result_restore is not None
    assert _restore_events(db_path)[0][1]["autorisation"] == backup.BY_CURRENT_ADMIN
