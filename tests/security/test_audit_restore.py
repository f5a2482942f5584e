"""Restoring a backup whose journal d'audit was tampered with warns and
needs an explicit confirmation (service ``force``, CLI ``--force``, a
second question in the restore dialog); an intact copy restores as before
and the signed chain head follows the restored store."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from cus_desk.cli import main
from cus_desk.services import audit, audit_restore, backup
from cus_desk.services.audit_admin import verify_chain
from cus_desk.services.users import UsersService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import User
from cus_desk.ui.context import AppContext
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.sqlite_only(reason="backups are copies of the SQLite file")


def _users(db) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count(User.id)))


@pytest.fixture
def copies(db, actors, tmp_path):
    """(intact copy, tampered copy) of the store, then a change after them."""
    with db.write_session() as s:
        for i in range(10):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i, case_id=i)
    intact = backup.BackupService(db, actors["admin"]).backup(tmp_path / "copie.sqlite3").path
    tampered = tmp_path / "copie-falsifiee.sqlite3"
    tampered.write_bytes(intact.read_bytes())
    con = sqlite3.connect(tampered)
    con.execute("UPDATE audit_events SET user_login = 'personne' WHERE id = "
                "(SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 5)")
    con.commit()
    con.close()
    assert backup.check_backup_file(tampered).is_head  # a sound file otherwise
    UsersService(db, actors["admin"]).add("apres.copie", "Après", "recouvrement")
    return intact, tampered


def test_backup_chain_report(copies):
    intact, tampered = copies
    assert audit_restore.backup_chain_report(intact).ok
    report = audit_restore.backup_chain_report(tampered)
    assert not report.ok and "a été modifié" in report.message


def test_service_refuses_a_tampered_copy_unless_forced(db, actors, db_path, copies):
    _intact, tampered = copies
    before = _users(db)
    with pytest.raises(audit_restore.BrokenAuditChainError) as exc:
        backup.BackupService(db, actors["admin"]).restore(tampered)
    assert "n'est pas intact" in exc.value.message and "--force" in exc.value.message
    assert _users(db) == before  # nothing replaced, the store still works
    backup.BackupService(db, actors["admin"]).restore(tampered, force=True)
    reopened = open_database(sqlite_url(db_path))
    try:
        assert _users(reopened) == before - 1
        report = verify_chain(reopened)
        # The copy's own alteration is reported; the head was reset to the
        # restored store, so no false "missing events".
        assert not report.ok and "a été modifié" in report.message and "manquent" not in report.message
        with reopened.read_session() as s:  # the confirmed restore is traced in the restored store
            from cus_desk.store.models.core import AuditEvent

            forced = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "audit",
                                                        AuditEvent.action == "restore")).one()
            assert forced.user_login == "admin" and '"journal_audit_altere": true' in forced.details_json
    finally:
        reopened.dispose()


def test_intact_copy_restores_and_the_head_follows(db, actors, db_path, copies):
    intact, _ = copies
    backup.BackupService(db, actors["admin"]).restore(intact)
    reopened = open_database(sqlite_url(db_path))
    try:
        report = verify_chain(reopened)
        assert report.ok, report.message
    finally:
        reopened.dispose()


def test_cli_restore_warns_and_needs_force(db, db_path, copies, monkeypatch, capsys):
    _intact, tampered = copies
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    db.dispose()
    before = db_path.read_bytes()
    assert main(["--db", str(db_path), "restore", str(tampered)]) == 2
    err = capsys.readouterr().err
    assert "attention" in err and "journal d'audit de la sauvegarde" in err and "--force" in err
    assert db_path.read_bytes() == before
    assert main(["--db", str(db_path), "restore", "--force", str(tampered)]) == 0
    captured = capsys.readouterr()
    assert "Base restaurée" in captured.out and "attention" in captured.err


def _answer_modals(steps, shots):
    pending = list(steps)

    def tick():
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(50, tick)
            return
        shots.append((widget.windowTitle(), widget.text() if isinstance(widget, QMessageBox) else "",
                      widget.grab()))
        pending.pop(0)(widget)
        if pending:
            QTimer.singleShot(50, tick)

    QTimer.singleShot(50, tick)


def _click(label):
    def step(box):
        next(b for b in box.buttons() if b.text() == label).click()
    return step


@pytest.mark.gui
def test_restore_dialog_warns_and_asks(qtbot, db, actors, copies, tmp_path):
    from cus_desk.ui.admin.backups import BackupsDialog

    _intact, tampered = copies
    dialog = BackupsDialog(AppContext(db=db, actor=actors["admin"]))
    qtbot.addWidget(dialog)
    dialog.show()
    shots: list = []
    _answer_modals([_click("Annuler")], shots)
    check = dialog.restore(tampered)  # the copy's journal is verified off the GUI thread
    qtbot.waitUntil(lambda: len(shots) == 1 and check.result is not None, timeout=30000)
    qtbot.wait(100)
    assert dialog.restore_task is None  # cancelled at the warning
    title, text, pixmap = shots[0]
    assert title == "Journal d'audit altéré"
    assert "n'est pas intact" in text and "Restaurer quand même" in text
    pixmap.save(str(tmp_path / "restore-warning.png"))
    assert not dialog.restored and _users(db) == 7
    # Confirmed: the warning, then the usual question, then the restore.
    _answer_modals([_click("Restaurer quand même"), _click("Oui"), lambda box: box.accept()], shots)
    dialog.restore(tampered)
    qtbot.waitUntil(lambda: dialog.restore_task is not None, timeout=30000)
    task = dialog.restore_task
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=30000)
    assert task.error is None, task.error
    qtbot.waitUntil(lambda: len(shots) == 4, timeout=30000)
    assert [t for t, _x, _p in shots[1:]] == ["Journal d'audit altéré", "Restaurer", "Restauration terminée"]
    assert dialog.restored


@pytest.mark.gui
def test_restore_dialog_intact_copy_asks_once(qtbot, db, actors, copies):
    from cus_desk.ui.admin.backups import BackupsDialog

    intact, _ = copies
    dialog = BackupsDialog(AppContext(db=db, actor=actors["admin"]))
    qtbot.addWidget(dialog)
    dialog.show()
    shots: list = []
    _answer_modals([_click("Non")], shots)
    dialog.restore(intact)
    qtbot.waitUntil(lambda: len(shots) == 1, timeout=30000)
    qtbot.wait(100)
    assert shots[0][0] == "Restaurer" and dialog.restore_task is None and _users(db) == 7
