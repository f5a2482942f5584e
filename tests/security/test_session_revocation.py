"""An account deactivated, or given another role or agency, while its user
is signed in loses the old rights at the next read or write — not at the
next login — and nothing is half written."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow

from cus_desk.domain.errors import SessionRevokedError
from cus_desk.domain.roles import Role
from cus_desk.services.cases import CaseService
from cus_desk.services.users import UsersService
from cus_desk.ui.context import AppContext
from tests.conftest import TEST_PASSWORD, agency_id
from tests.security.test_roles import world  # noqa: F401 - fixture


def _journal_size(db, actors, case_id):
    return len(CaseService(db, actors["social_head"]).get(case_id, audit_read=False).journal)


def test_deactivated_mid_session_reads_and_writes_nothing(db, actors, world):  # noqa: F811
    adviser = CaseService(db, actors["adviser_metz"])  # signed in before the deactivation
    case_id = world["off_agenda"]
    assert adviser.get(case_id).reference
    before = _journal_size(db, actors, case_id)

    UsersService(db, actors["admin"]).update(actors["adviser_metz"].user_id, active=False)

    with pytest.raises(SessionRevokedError, match="compte a été désactivé"):
        adviser.get(case_id)
    with pytest.raises(SessionRevokedError, match="compte a été désactivé"):
        adviser.list_cases()
    with pytest.raises(SessionRevokedError):
        adviser.add_journal_entry(case_id, "note", None, "écrit après la désactivation")
    assert _journal_size(db, actors, case_id) == before


@pytest.mark.parametrize("change", ["role", "agency"])
def test_role_or_agency_changed_mid_session(db, actors, world, change):  # noqa: F811
    adviser = CaseService(db, actors["adviser_metz"])
    new = {"role": Role.CAS_MEMBER} if change == "role" else {"agency_id": agency_id(db, "forbach")}
    UsersService(db, actors["admin"]).update(actors["adviser_metz"].user_id, **new)
    with pytest.raises(SessionRevokedError, match="profil .* a été modifié"):
        adviser.get(world["off_agenda"])


def test_reactivated_account_works_again(db, actors, world):  # noqa: F811
    users = UsersService(db, actors["admin"])
    adviser = CaseService(db, actors["adviser_metz"])
    users.update(actors["adviser_metz"].user_id, active=False)
    with pytest.raises(SessionRevokedError):
        adviser.get(world["off_agenda"])
    users.update(actors["adviser_metz"].user_id, active=True)
    assert adviser.get(world["off_agenda"]).reference


def test_revoked_session_locks_the_window_and_cannot_be_unlocked(qtbot, db, actors, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from cus_desk.ui import common
    from cus_desk.ui.login import IdleLock

    window = QMainWindow()
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    ctx = AppContext(db=db, actor=actors["adviser_metz"])
    window.idle_lock = IdleLock(window, ctx, minutes=10)
    UsersService(db, actors["admin"]).update(actors["adviser_metz"].user_id, active=False)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: seen.append(self.text()) or 0)
    seen: list[str] = []
    try:
        CaseService(db, ctx.actor).list_cases()
    except SessionRevokedError as exc:
        common.show_error(window, exc)
    assert seen and "désactivé" in seen[0]
    lock = window.idle_lock
    assert lock.locked and "désactivé" in lock.overlay.message.text()
    qtbot.keyClicks(lock.overlay.password, TEST_PASSWORD)
    qtbot.keyClick(lock.overlay.password, Qt.Key.Key_Return)
    assert lock.locked  # the right password does not reopen a deactivated account
    assert lock.overlay.message.text()
