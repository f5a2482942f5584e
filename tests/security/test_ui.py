"""Login, first start, idle lock and the administration dialogs, driven
as a user would (pytest-qt, offscreen)."""

from __future__ import annotations

import os
from datetime import date

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QVBoxLayout, QWidget

from cus_desk.domain.roles import Role
from cus_desk.services import audit, auth
from cus_desk.services.users import UsersService
from cus_desk.ui.context import AppContext
from tests.conftest import TEST_PASSWORD
from tests.security import builders as b

pytestmark = pytest.mark.gui
SHOTS = "/tmp/shots/security"


def shot(widget, name):
    os.makedirs(SHOTS, exist_ok=True)
    widget.grab().save(f"{SHOTS}/{name}.png")


def test_first_start_creates_administrator(qtbot, db):
    from cus_desk.ui.login import FirstAdminDialog

    dialog = FirstAdminDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "court")
    assert "10 caractères" in dialog.hint.text()
    dialog.submit()
    assert "10 caractères" in dialog.message.text() and dialog.actor is None
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "Premier-Chef-2026")
    qtbot.keyClicks(dialog.confirmation, "Premier-Chef-2027")
    dialog.submit()
    assert "différentes" in dialog.message.text()
    shot(dialog, "first_admin")
    dialog.confirmation.clear()
    qtbot.keyClicks(dialog.confirmation, "Premier-Chef-2026")
    assert dialog.hint.text() == "Mot de passe suffisamment solide."
    dialog.submit()
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.actor.role is Role.ADMIN
    assert not auth.needs_first_admin(db)


def test_login_dialog_messages_and_lockout(qtbot, db, actors):
    from cus_desk.ui.login import LoginDialog

    dialog = LoginDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.submit()
    assert dialog.message.text() == "Saisissez votre identifiant."
    qtbot.keyClicks(dialog.login, "cs.metz")
    for _ in range(5):
        qtbot.keyClicks(dialog.password, "mauvais")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert "verrouillé" in dialog.message.text()
    assert dialog.password.text() == ""  # cleared after each failure
    shot(dialog, "login_locked")
    assert dialog.result_sign_in is None


def _fill_active_modal(steps):
    """Drive modal dialogs opened by exec(): each step gets the active modal widget."""
    pending = list(steps)

    def tick():
        widget = QApplication.activeModalWidget()
        if widget is None or not pending:
            if pending:
                QTimer.singleShot(50, tick)
            return
        step = pending.pop(0)
        step(widget)
        if pending:
            QTimer.singleShot(50, tick)

    QTimer.singleShot(50, tick)


def test_obtain_actor_with_temporary_password(qtbot, db, actors):
    from cus_desk.ui.login import obtain_actor

    temporary = UsersService(db, actors["admin"]).reset_password(actors["adviser_metz"].user_id)

    def login_step(dialog):
        dialog.login.setText("cs.metz")
        dialog.password.setText(temporary)
        dialog.submit()

    def change_step(dialog):
        assert dialog.old.text() == temporary
        dialog.new.setText("Metz-Nouveau-2026")
        dialog.confirmation.setText("Metz-Nouveau-2026")
        dialog.submit()

    _fill_active_modal([login_step, change_step])
    actor = obtain_actor(None, db, demo=False)
    assert actor is not None and actor.login == "cs.metz"
    assert auth.authenticate(db, "cs.metz", "Metz-Nouveau-2026")


def test_obtain_actor_cancelled_returns_none(qtbot, db, actors):
    from cus_desk.ui.login import obtain_actor

    _fill_active_modal([lambda dialog: dialog.reject()])
    assert obtain_actor(None, db, demo=False) is None


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _window_with_form(qtbot):
    window = QMainWindow()
    central = QWidget()
    form = QLineEdit()
    form.setObjectName("unsaved")
    layout = QVBoxLayout(central)
    layout.addWidget(form)
    window.setCentralWidget(central)
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    return window, form


def test_idle_lock_keeps_unsaved_work(qtbot, db, actors):
    from cus_desk.ui.login import IdleLock

    window, form = _window_with_form(qtbot)
    qtbot.keyClicks(form, "brouillon non enregistre")
    clock = FakeClock()
    ctx = AppContext(db=db, actor=actors["adviser_metz"])
    lock = IdleLock(window, ctx, minutes=10, clock=clock)
    clock.now += 9 * 60
    lock.check()
    assert not lock.locked
    qtbot.keyClicks(form, "!")  # input resets the idle time
    clock.now += 9 * 60
    lock.check()
    assert not lock.locked
    clock.now += 60
    lock.check()
    assert lock.locked and lock.overlay.geometry() == window.rect()
    shot(window, "idle_lock")
    qtbot.keyClicks(form, "xyz")  # the form behind the cover receives nothing
    assert form.text() == "brouillon non enregistre!"
    qtbot.keyClicks(lock.overlay.password, "mauvais")
    qtbot.keyClick(lock.overlay.password, Qt.Key.Key_Return)
    assert lock.locked and "incorrect" in lock.overlay.message.text()
    qtbot.keyClicks(lock.overlay.password, TEST_PASSWORD)
    qtbot.keyClick(lock.overlay.password, Qt.Key.Key_Return)
    assert not lock.locked
    assert form.text() == "brouillon non enregistre!"  # nothing lost
    qtbot.keyClicks(form, "?")
    assert form.text().endswith("!?")
    logins = [e for e in _events(db) if e.action == audit.Action.LOGIN and e.user_login == "cs.metz"]
    assert '"déverrouillage": true' in logins[-1].details_json


def test_idle_lock_of_a_collected_window_stops_filtering(qtbot, db, actors):
    """The garbage collector may clear a lock's attributes while Qt still holds
    it as an application-wide filter (seen in CI): later input elsewhere must
    not raise in the event loop (pytest-qt fails the test if it does)."""
    import gc
    import weakref

    from cus_desk.ui.login import IdleLock

    ctx = AppContext(db=db, actor=actors["adviser_metz"])

    def open_and_close_a_locked_window():
        window = QMainWindow()
        window.show()
        window.idle_lock = IdleLock(window, ctx, minutes=10)
        window.close()
        return weakref.ref(window)

    gone = open_and_close_a_locked_window()
    gc.collect()
    assert gone() is None
    _, form = _window_with_form(qtbot)
    qtbot.keyClicks(form, "encore utilisable")
    assert form.text() == "encore utilisable"


def test_closing_the_main_window_disposes_its_idle_lock(qtbot, db, actors):
    from cus_desk.ui.login import install_idle_lock
    from cus_desk.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    ctx = AppContext(db=db, actor=actors["adviser_metz"])
    window.attach(ctx)
    lock = install_idle_lock(window, ctx)
    window.show()
    assert lock.timer.isActive()
    assert window.close()
    assert not lock.timer.isActive()
    before = lock.last_input = lock.clock() - 3600
    _, form = _window_with_form(qtbot)
    qtbot.keyClicks(form, "ailleurs")  # no longer watched by the closed window's lock
    assert lock.last_input == before


def _events(db):
    from sqlalchemy import select

    from cus_desk.store.models.core import AuditEvent

    with db.read_session() as s:
        return s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_install_idle_lock_reads_setting(qtbot, db, actors):
    from cus_desk.domain.settings import IDLE_LOCK_MINUTES
    from cus_desk.services.settings import SettingsService
    from cus_desk.ui.login import install_idle_lock

    SettingsService(db, actors["admin"]).set(IDLE_LOCK_MINUTES, 3)
    window, _ = _window_with_form(qtbot)
    ctx = AppContext(db=db, actor=actors["adviser_metz"])
    lock = install_idle_lock(window, ctx)
    assert lock.timeout_s == 180
    SettingsService(db, actors["admin"]).set(IDLE_LOCK_MINUTES, 7)
    ctx.bus.data_changed.emit("settings")
    assert lock.timeout_s == 420


def _menus(window):
    return {m.objectName(): [a.objectName() for a in m.actions()]
            for m in window.menuBar().findChildren(type(window.menuBar().addMenu("x")))}


@pytest.mark.parametrize("who, admin_menu, tools", [
    ("admin", True, ["action_stats_export"]),
    ("adviser_metz", False, ["action_person_export", "action_stats_export"]),
    ("cas_member", False, None),
    ("recovery_metz", False, None),
])
def test_menus_by_role(qtbot, db, actors, who, admin_menu, tools):
    from cus_desk.ui.admin import install_admin_menu

    window, _ = _window_with_form(qtbot)
    install_admin_menu(window, AppContext(db=db, actor=actors[who]))
    names = {a.objectName() for a in window.findChildren(type(window.menuBar().actions()[0]))} \
        if window.menuBar().actions() else set()
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Compte" in titles
    assert ("A&dministration" in titles) is admin_menu
    assert ("action_users" in names) is admin_menu
    if tools is None:
        assert "&Outils" not in titles
    else:
        assert all(t in names for t in tools)


def test_admin_purge_reminder(qtbot, db, actors):
    from cus_desk.ui.admin import install_admin_menu

    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "RAPPEL", with_lease=False)
        b.case(s, hh, status="clos", closed_on=date(2020, 1, 1))
    window, _ = _window_with_form(qtbot)
    install_admin_menu(window, AppContext(db=db, actor=actors["admin"]))
    assert "purge RGPD est due" in window.purge_reminder
    assert "purge RGPD est due" in window.statusBar().currentMessage()


def test_users_dialog(qtbot, db, actors, qtmodeltester):
    from cus_desk.ui.admin.users import UserEditDialog, UsersDialog

    ctx = AppContext(db=db, actor=actors["admin"])
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtmodeltester.check(dialog.model)
    logins = [u.login for u in dialog.model.rows]
    assert "cs.metz" in logins and len(logins) == 6
    edit = UserEditDialog(dialog.svc, dialog)
    qtbot.addWidget(edit)
    edit.login.setText("cs.nancy")
    edit.name.setText("Nadia N.")
    edit.role.setCurrentIndex(edit.role.findData(Role.SOCIAL_ADVISER.value))
    edit.submit()
    assert "agence" in edit.message.text()  # an adviser needs an agency
    edit.agency.setCurrentIndex(edit.agency.findText("Délégation territoriale 54", Qt.MatchFlag.MatchContains)
                                if edit.agency.findText("Délégation territoriale 54", Qt.MatchFlag.MatchContains) >= 0
                                else 1)
    edit.submit()
    assert edit.result_info is not None and edit.temporary
    dialog.reload(edit.result_info.id)
    assert dialog.selected().login == "cs.nancy"
    assert dialog.buttons["toggle"].text() == "&Désactiver"
    shot(dialog, "users")


def test_audit_viewer(qtbot, db, actors):
    from cus_desk.ui.admin.audit_view import PAGE, AuditDialog

    with db.write_session() as s:
        for i in range(PAGE + 30):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i % 5, case_id=i % 5)
        audit.record(s, actors["social_head"], audit.Action.UPDATE, "case", 9, case_id=9,
                     details={"status": ["ouvert", "clos"]})
    dialog = AuditDialog(AppContext(db=db, actor=actors["admin"]))
    qtbot.addWidget(dialog)
    model = dialog.model
    assert model.rowCount() == PAGE and model.canFetchMore()  # one page read from SQL
    assert model.total > PAGE
    dialog.show()
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == model.total
    assert len({r.id for r in model.rows}) == model.total  # pages neither overlap nor skip
    dialog.user.setCurrentText("pole.social")
    dialog.refresh()
    assert {r.user_login for r in model.rows} == {"pole.social"}
    dialog.user.setCurrentText("")
    dialog.case.setText("3")
    dialog.refresh()
    assert model.rows and {r.case_id for r in model.rows} == {3}
    dialog.case.setText("abc")
    dialog.refresh()
    assert "un nombre" in dialog.message.text()
    dialog.case.setText("")
    dialog.use_from.setChecked(True)
    dialog.use_to.setChecked(True)
    dialog.date_to.setDate(dialog.date_from.date().addDays(-1))
    dialog.refresh()
    assert "après la date de fin" in dialog.message.text()
    dialog.use_from.setChecked(False)
    dialog.use_to.setChecked(False)
    dialog.refresh()
    assert dialog.verify().ok and "intact" in dialog.message.text()
    shot(dialog, "audit")
    from sqlalchemy import text

    with db.write_session() as s:
        s.execute(text("UPDATE audit_events SET user_login = 'x' WHERE id = 20"))
    report = dialog.verify()
    assert not report.ok and "n° 20" in dialog.message.text()


def test_settings_editor(qtbot, db, actors):
    from cus_desk.domain.settings import IDLE_LOCK_MINUTES, ORGANISATION_NAME, SETTINGS
    from cus_desk.services.settings import SettingsService
    from cus_desk.ui.admin.settings_editor import SettingsDialog

    ctx = AppContext(db=db, actor=actors["admin"])
    topics = []
    ctx.bus.data_changed.connect(topics.append)
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert set(dialog.editors) == set(SETTINGS)
    shot(dialog, "settings")
    dialog.editors[IDLE_LOCK_MINUTES.key].setValue(5)
    dialog.editors[ORGANISATION_NAME.key].setText("   ")
    dialog.save()
    assert "ne peut pas être vide" in dialog.message.text()
    dialog.editors[ORGANISATION_NAME.key].setText("VIVEST Habitat")
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted and topics == ["settings"]
    svc = SettingsService(db, actors["admin"])
    assert svc.get(IDLE_LOCK_MINUTES) == 5 and svc.get(ORGANISATION_NAME) == "VIVEST Habitat"


@pytest.mark.sqlite_only(reason="backups are copies of the SQLite file (a server's backups: "
                                "pg_dump, not yet)")
def test_backups_dialog(qtbot, db, actors):
    from cus_desk.ui.admin.backups import BackupsDialog

    dialog = BackupsDialog(AppContext(db=db, actor=actors["admin"]))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.model.rowCount() == 0 and not dialog.restore_button.isEnabled()
    task = dialog.backup_now()
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=20000)
    assert task.error is None
    assert dialog.model.rowCount() == 1 and "manuelle" in dialog.model.data(dialog.model.index(0, 1))
    assert dialog.restore_button.isEnabled()
    shot(dialog, "backups")


def test_purge_dialog(qtbot, db, actors, monkeypatch):
    from cus_desk.ui.admin import purge as purge_ui

    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "PURGEUI", with_lease=False)
        b.case(s, hh, status="clos", closed_on=date(2020, 1, 1))
    ctx = AppContext(db=db, actor=actors["admin"])
    dialog = purge_ui.PurgeDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    assert "Dossiers clos anonymisés : 1" in dialog.summary.text()
    assert "PURGEUI" not in dialog.details.toPlainText()
    assert dialog.purge_button.isEnabled()
    shot(dialog, "purge")
    monkeypatch.setattr(purge_ui, "confirm", lambda *a, **k: True)
    task = dialog.run_purge()
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=20000)
    assert "Purge effectuée" in dialog.summary.text()


def test_person_export_dialog(qtbot, db, actors, tmp_path):
    from cus_desk.ui.admin.tools import PersonExportDialog

    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "DIALOGUE", "Denise")
        b.case(s, hh)
    dialog = PersonExportDialog(AppContext(db=db, actor=actors["adviser_metz"]))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.search, "d")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert "deux caractères" in dialog.message.text()
    qtbot.keyClicks(dialog.search, "ialogue")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert dialog.model.rowCount() == 1
    shot(dialog, "person_export")
    match = dialog.model.row(0)
    task = dialog.export_to(match.tenant_id, tmp_path / "p.pdf", "pdf")
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=20000)
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    assert "enregistrées" in dialog.message.text()


def _corrupt(path):
    data = bytearray(path.read_bytes())
    data[4096:4096 * 3] = b"\xff" * 8192
    path.write_bytes(bytes(data))


@pytest.mark.sqlite_only(reason="a damaged SQLite file and its file backups")
def test_damaged_database_offers_latest_good_backup(qtbot, db, actors, db_path):
    from cus_desk.domain.errors import DatabaseOpenError
    from cus_desk.services import backup
    from cus_desk.store.db import open_database, sqlite_url
    from cus_desk.ui.login import offer_restore

    backup.backup_at_exit(db)
    db.dispose()
    _corrupt(db_path)
    url = sqlite_url(db_path)
    with pytest.raises(DatabaseOpenError) as exc:
        open_database(url)
    seen = {}

    def click_restore(box):
        seen["text"] = box.text()
        shot(box, "damaged_base")
        restore = next(b for b in box.buttons() if b.text() == "Restaurer cette sauvegarde")
        restore.click()

    def wrong_admin(dialog):
        seen["intro"] = dialog.findChildren(type(dialog.message))[0].text()
        dialog.login.setText("cs.metz")  # an account of the base, not an administrator
        dialog.password.setText(TEST_PASSWORD)
        dialog.ok.click()
        seen["refused"] = dialog.message.text()

    def admin_signs_in(dialog):
        dialog.login.setText("admin")
        dialog.password.setText(TEST_PASSWORD)
        dialog.ok.click()

    _fill_active_modal([click_restore, wrong_admin, admin_signs_in])
    assert offer_restore(None, url, exc.value, db.clock) is True
    assert "n'a pas été ouverte en écriture" in seen["text"] and "dernière sauvegarde" in seen["text"]
    assert "administrateur de cette base" in seen["intro"] and "Rien n'a été remplacé" in seen["refused"]
    reopened = open_database(url)
    try:
        assert UsersService(reopened, actors["admin"]).by_login("cs.metz").active
    finally:
        reopened.dispose()
    assert list(db_path.parent.glob("*avant-restauration*"))  # the damaged file is kept aside



@pytest.mark.sqlite_only(reason="a damaged SQLite file and its file backups")
def test_damaged_database_without_backup(qtbot, db, actors, db_path):
    from cus_desk.domain.errors import DatabaseOpenError
    from cus_desk.store.db import open_database, sqlite_url
    from cus_desk.ui.login import offer_restore

    db.dispose()
    _corrupt(db_path)
    before = db_path.read_bytes()
    with pytest.raises(DatabaseOpenError) as exc:
        open_database(sqlite_url(db_path))
    seen = {}

    def read_and_close(box):
        seen["text"] = box.text()
        box.accept()

    _fill_active_modal([read_and_close])
    assert offer_restore(None, sqlite_url(db_path), exc.value, db.clock) is False
    assert "Aucune sauvegarde intacte" in seen["text"]
    assert db_path.read_bytes() == before


def test_session_features_on_the_real_main_window(qtbot, db, actors):
    """What ui.app does after login: idle lock, then menus, on the real window."""
    from cus_desk.ui.app import install_session_features
    from cus_desk.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    ctx = AppContext(db=db, actor=actors["admin"])
    window.attach(ctx)
    window.show()
    install_session_features(window, ctx)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Compte") < titles.index("A&dministration") < titles.index("Aid&e")
    lock_action = window.findChild(type(window.actions_by_name["quit"]), "action_lock_session")
    lock_action.trigger()
    assert window.idle_lock.locked
    shot(window, "main_window_locked")
    qtbot.keyClicks(window.idle_lock.overlay.password, TEST_PASSWORD)
    qtbot.keyClick(window.idle_lock.overlay.password, Qt.Key.Key_Return)
    assert not window.idle_lock.locked
    shot(window, "main_window_admin")


def test_password_reset_locks_the_open_window_for_good(qtbot, db, actors):
    """#11 item 8: a reset by the administrator ends the open session: the
    next service call locks the window, and even the new (temporary)
    password does not unlock that old session."""
    from cus_desk.domain.errors import SessionRevokedError
    from cus_desk.services.cases import CaseService
    from cus_desk.ui import common
    from cus_desk.ui.login import IdleLock

    window, _ = _window_with_form(qtbot)
    actor = auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    ctx = AppContext(db=db, actor=actor)
    lock = IdleLock(window, ctx, minutes=10, clock=FakeClock())
    window.idle_lock = lock
    temporary = UsersService(db, actors["admin"]).reset_password(actor.user_id)
    with pytest.raises(SessionRevokedError) as revoked:
        CaseService(db, actor).list_cases()
    common.lock_sessions(revoked.value.message)  # what show_error does after its message box
    assert lock.locked and "réinitialisé" in lock.overlay.message.text()
    qtbot.keyClicks(lock.overlay.password, temporary)
    qtbot.keyClick(lock.overlay.password, Qt.Key.Key_Return)
    assert lock.locked and "réinitialisé" in lock.overlay.message.text()
