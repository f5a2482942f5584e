"""The Séances CAS screen, meeting mode and follow-up view, driven with
pytest-qt on real widgets and a real SQLite file."""

from __future__ import annotations

import json
from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from cus_desk.services.meetings import MeetingService
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.meetings import AgendaItem, Decision, MeetingArchive
from cus_desk.ui.context import AppContext
from tests.meetings.conftest import HEALTH_SECRET, SUMMARY_SECRET, prepared_meeting

pytestmark = pytest.mark.gui


def _screen(qtbot, world, who="adviser_metz"):
    from cus_desk.ui.meetings.screen import MeetingsScreen

    ctx = AppContext(world.db, world.actors[who])
    widget = MeetingsScreen(ctx)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    return widget


def test_models_pass_the_model_tester(qtbot, qtmodeltester, world, messages):
    prepared_meeting(world, "dupont", "martin")
    screen = _screen(qtbot, world)
    qtmodeltester.check(screen.meetings_model)
    qtmodeltester.check(screen.agenda_model)
    qtmodeltester.check(screen.attendees_model)


def test_reorder_agenda_by_keyboard_and_save_proposal(qtbot, world, messages):
    detail = prepared_meeting(world, "dupont", "martin", "nguyen")
    screen = _screen(qtbot, world)
    assert screen.detail.id == detail.id
    assert screen.agenda_model.rowCount() == 3
    screen.agenda_view.setFocus()
    screen.agenda_view.selectRow(0)
    qtbot.keyClick(screen.agenda_view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    expected = [world.cases["martin"], world.cases["dupont"], world.cases["nguyen"]]
    with world.db.read_session() as s:
        stored = list(s.scalars(select(AgendaItem.case_id).where(AgendaItem.meeting_id == detail.id)
                                .order_by(AgendaItem.position)))
    assert stored == expected
    assert screen._current_item().case_id == world.cases["dupont"]  # the moved row stays selected
    # the proposal of the selected case, saved with Ctrl+S (save_current)
    screen.proposal_edit.clear()
    qtbot.keyClicks(screen.proposal_edit, "Proposer un bilan global puis une saisine FSL")
    screen.save_current()
    with world.db.read_session() as s:
        item = s.scalar(select(AgendaItem).where(AgendaItem.case_id == world.cases["dupont"]))
        assert item.proposal == "Proposer un bilan global puis une saisine FSL"
    # drag and drop goes through the same path
    assert screen.agenda_model.move_row(2, 0)
    assert [a.case_id for a in screen.detail.agenda][0] == world.cases["nguyen"]
    assert messages == []


def test_meeting_mode_navigate_reveal_and_enter_a_decision(qtbot, world, messages, monkeypatch):
    detail = prepared_meeting(world, "martin", "dupont")
    screen = _screen(qtbot, world)
    screen.toggle_meeting_mode()  # asks to open the session: yes
    mode = screen.mode_window
    assert mode is not None and mode.isFullScreen()
    qtbot.waitExposed(mode)
    assert MeetingService(world.db, world.actors["admin" if False else "adviser_metz"]).get_meeting(
        detail.id).status == "en_cours"
    assert "Dossier 1 / 2" in mode.progress.text()
    mode.setFocus()
    qtbot.keyClick(mode, Qt.Key.Key_PageDown)
    assert "Dossier 2 / 2" in mode.progress.text()
    assert "DUPONT J.-P." in mode.title.text()
    qtbot.keyClick(mode, Qt.Key.Key_PageDown)  # already the last one
    assert "Dossier 2 / 2" in mode.progress.text()
    qtbot.keyClick(mode, Qt.Key.Key_Left)
    assert "Dossier 1 / 2" in mode.progress.text()
    qtbot.keyClick(mode, Qt.Key.Key_Right)

    # hidden by default
    shown = " ".join(w.text() for w in mode.findChildren(type(mode.title)))
    assert SUMMARY_SECRET not in shown and HEALTH_SECRET not in shown and "Santé mentale" not in shown
    [button] = mode.reveal_buttons()
    assert button.isEnabled()
    import cus_desk.ui.meetings.meeting_mode as mode_module

    labels: list[list[str]] = []
    mode_module_choose = lambda _p, _q, items, *a, **k: labels.append(items) or next(  # noqa: E731
        i for i, label in enumerate(items) if label.startswith("Note réservée"))
    monkeypatch.setattr(mode_module, "choose_item", mode_module_choose)
    monkeypatch.setattr(mode_module, "confirm", lambda _p, q, *a, **k: messages.append(q) or True)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "Cet écran est projeté" in messages.pop()
    shown = " ".join(w.text() for w in mode.findChildren(type(mode.title)))
    assert HEALTH_SECRET in shown and SUMMARY_SECRET not in shown  # only that one item
    with world.db.read_session() as s:
        reveal = s.scalar(select(AuditEvent).where(AuditEvent.action == "reveal"))
    assert reveal.case_id == world.cases["dupont"] and HEALTH_SECRET not in reveal.details_json
    assert json.loads(reveal.details_json)["element"].startswith("note:")

    # a decision typed from the keyboard
    mode.activateWindow()
    mode.type_combo.setFocus()
    qtbot.waitUntil(mode.type_combo.hasFocus)
    qtbot.keyClicks(mode.type_combo, "Saisine")  # type-ahead, as on any list
    assert mode.type_combo.currentData() == "saisine_fsl"
    qtbot.keyClick(mode.type_combo, Qt.Key.Key_Tab)
    assert mode.text_edit.hasFocus()
    qtbot.keyClicks(mode.text_edit, "Dossier FSL maintien")
    mode.text_edit.insertPlainText(" à monter avec le ménage")  # QTest types ASCII only
    qtbot.keyClick(mode.text_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(mode.responsible_edit, "Service contentieux de l'agence")  # from the list
    qtbot.keyClick(mode.responsible_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(mode.due_edit, "31/13/2026")  # bad date: nothing stored
    qtbot.keyClick(mode.due_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "jj/mm/aaaa" in mode.form_error.text()
    with world.db.read_session() as s:
        assert s.scalar(select(Decision.id)) is None
    mode.due_edit.clear()
    qtbot.keyClicks(mode.due_edit, "15/12/2026")
    qtbot.keyClick(mode.due_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert mode.form_error.text() == ""
    with world.db.read_session() as s:
        d = s.scalar(select(Decision))
    assert (d.type, d.responsible, d.due_on, d.case_id) == (
        "saisine_fsl", "Service contentieux de l'agence", date(2026, 12, 15), world.cases["dupont"])
    assert d.text == "Dossier FSL maintien à monter avec le ménage"
    assert "Saisine du FSL" in mode.current.text()
    assert mode.type_combo.currentIndex() == -1 and mode.type_combo.hasFocus()
    # Escape leaves meeting mode
    qtbot.keyClick(mode, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: screen.mode_window is None)
    assert messages == [messages[0]] and "Ouvrir la séance" in messages[0]


def test_cas_member_cannot_reveal(qtbot, world, messages, monkeypatch):
    detail = prepared_meeting(world, "dupont")
    svc = world.service()
    svc.start_meeting(detail.id)
    screen = _screen(qtbot, world, "cas_member")
    assert not screen.new_button.isEnabled() and not screen.close_button.isEnabled()
    screen.toggle_meeting_mode()
    mode = screen.mode_window
    assert not mode.reveal_buttons() and mode.summary.hidden == ()
    assert not mode.save_button.isEnabled()
    import cus_desk.ui.meetings.meeting_mode as mode_module

    monkeypatch.setattr(mode_module, "confirm", lambda *a, **k: True)
    mode.reveal("situation")  # even forced, the service refuses
    assert messages and "ne permet pas" in messages[-1]
    with world.db.read_session() as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "reveal")) is None
    mode.close()


def test_close_preview_save_and_addendum(qtbot, world, messages, tmp_path):
    detail = prepared_meeting(world, "martin", held_on=date(2026, 11, 12))
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["martin"], "plan_apurement", "150 € par mois", "Service recouvrement de l'agence")
    screen = _screen(qtbot, world)
    screen.close_meeting(ask=False)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.status == "cloturee", timeout=15000)
    assert not screen.close_button.isEnabled() and screen.addendum_button.isEnabled()
    assert not screen.add_case_button.isEnabled() and screen.proposal_edit.isReadOnly()
    screen.inner.setCurrentWidget(screen.preview)
    qtbot.waitUntil(lambda: screen.preview.page_count() > 0, timeout=15000)
    assert "archivé" in screen.preview.caption.text()
    target = tmp_path / "releve"
    saved = screen.preview.save(str(target))
    assert saved == tmp_path / "releve.pdf" and screen.preview.saved_path == saved
    with world.db.read_session() as s:
        archived = s.scalar(select(MeetingArchive.pdf))
    assert (tmp_path / "releve.pdf").read_bytes() == archived
    # saving into a folder that does not exist: a French message, nothing written
    assert screen.preview.save(str(tmp_path / "absent" / "x.pdf")) is None
    assert "Impossible d'enregistrer le relevé de décisions" in messages[-1]
    assert not (tmp_path / "absent").exists()


def test_follow_up_view(qtbot, world, messages):
    detail = prepared_meeting(world, "dupont", "martin", held_on=date(2026, 10, 22))
    svc = world.service()
    svc.start_meeting(detail.id)
    late = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Cellule sécurité",
                            date(2026, 11, 1))
    svc.add_decision(detail.id, world.cases["dupont"], "saisine_fsl", "", "Pôle social", date(2026, 12, 1))
    svc.close_meeting(detail.id)
    screen = _screen(qtbot, world)
    screen.tabs.setCurrentWidget(screen.follow_up)
    view = screen.follow_up
    assert view.model.rowCount() == 2
    assert view.model.row_at(0).id == late.id and view.model.row_at(0).overdue
    assert "dont 1 en retard" in view.count_label.text()
    view.table.selectRow(0)
    view.status_combo.setCurrentIndex(view.status_combo.findData("abandonnee"))
    view.save()
    assert "abandonnée" in view.error.text()  # a reason is required
    view.status_combo.setCurrentIndex(view.status_combo.findData("realisee"))
    qtbot.keyClicks(view.comment_edit, "Visite faite le 18/11")
    qtbot.keyClicks(view.date_edit, "18/11/2026")
    view.save()
    assert view.error.text() == ""
    with world.db.read_session() as s:
        d = s.get(Decision, late.id)
        assert (d.status, d.status_changed_on) == ("realisee", date(2026, 11, 18))
    assert view.model.rowCount() == 1
    view.closed_check.setChecked(True)
    assert view.model.rowCount() == 2
    view.order_combo.setCurrentIndex(1)
    assert [r.responsible for r in view.model.rows()] == ["Cellule sécurité", "Pôle social"]
    view.responsible_combo.setCurrentIndex(view.responsible_combo.findData("Pôle social"))
    assert [r.responsible for r in view.model.rows()] == ["Pôle social"]
    assert messages == []


def test_new_meeting_dialog_and_bad_input(qtbot, world, messages, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from cus_desk.ui.meetings import dialogs

    screen = _screen(qtbot, world)
    attempts = iter(["x" * 0, "Salle B — Forbach"])
    seen_errors = []

    def fake_exec(dialog):
        if dialog.error.text():
            seen_errors.append(dialog.error.text())
            return QDialog.DialogCode.Rejected
        dialog.place_edit.setText(next(attempts))
        dialog.place_edit.setMaxLength(10_000)
        dialog.place_edit.setText("y" * 300)  # too long: refused inside the dialog
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.MeetingDialog, "exec", fake_exec)
    screen.new_item()
    assert seen_errors and "trop long" in seen_errors[0]
    assert screen.meetings_model.rowCount() == 0

    def good_exec(dialog):
        dialog.place_edit.setText("Agence de Forbach")
        dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData(world.forbach))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.MeetingDialog, "exec", good_exec)
    screen.new_item()
    assert screen.meetings_model.rowCount() == 1
    assert screen.detail.meeting.scope_agency_id == world.forbach
    assert screen.detail.meeting.place == "Agence de Forbach"


def test_print_goes_through_qprinter(qtbot, world, messages, tmp_path, monkeypatch):
    """The relevé printed through QPrinter (here to a PDF file, as a
    printer driver would) has every page of the preview."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    from cus_desk.ui import pdf_preview as preview_module

    if not preview_module.HAVE_QTPDF:
        pytest.skip("QtPdf absent: the preview falls back to the system PDF reader")
    svc, detail = world.service(), prepared_meeting(world, "dupont", "martin", "nguyen")
    svc.start_meeting(detail.id)
    for i in range(30):
        svc.add_decision(detail.id, world.cases[("dupont", "martin", "nguyen")[i % 3]], "autre",
                         "Décision détaillée " * 12, "Pôle social")
    screen = _screen(qtbot, world)
    target = tmp_path / "imprime.pdf"

    def fake_exec(dialog):
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        return QPrintDialog.DialogCode.Accepted

    monkeypatch.setattr(QPrintDialog, "exec", fake_exec)
    screen.print_current()  # Ctrl+P
    qtbot.waitUntil(lambda: target.exists() and target.stat().st_size > 0, timeout=20000)
    from pypdf import PdfReader

    pages = screen.preview.page_count()
    assert pages >= 2 and len(PdfReader(str(target)).pages) == pages
    assert "Projet" in screen.preview.caption.text()
    assert messages == []


def test_main_window_f11_and_ctrl_n_reach_the_meetings_screen(qtbot, world, messages, monkeypatch):
    from cus_desk.ui.main_window import MainWindow

    prepared_meeting(world, "martin")
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=world.db, actor=world.actors["adviser_metz"]))
    win.show()
    win.actions_by_name["meeting_mode"].trigger()  # F11 from any screen
    assert win.current_key() == "meetings"
    screen = win.stack.currentWidget()
    assert screen.mode_window is not None and screen.mode_window.isFullScreen()
    win.actions_by_name["meeting_mode"].trigger()  # F11 again leaves it
    qtbot.waitUntil(lambda: screen.mode_window is None)
    assert win.actions_by_name["new"].isEnabled() and win.actions_by_name["print"].isEnabled()


def test_edit_decision_before_closing_and_drop_reorders(qtbot, world, messages, monkeypatch):
    from PySide6.QtCore import QModelIndex
    from PySide6.QtWidgets import QDialog

    from cus_desk.ui.meetings import dialogs

    detail = prepared_meeting(world, "dupont", "martin", "nguyen")
    svc = world.service()
    svc.start_meeting(detail.id)
    d = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "Visite", "Pôle social")
    screen = _screen(qtbot, world)
    # drag and drop: the first case dropped after the last one
    model = screen.agenda_model
    mime = model.mimeData([model.index(0, 1)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    assert [a.case_id for a in screen.detail.agenda] == [
        world.cases["martin"], world.cases["nguyen"], world.cases["dupont"]]

    screen.inner.setCurrentIndex(1)
    screen.decisions_view.selectRow(0)
    answers = iter(["32/12/2026", "31/12/2026"])

    def fake_exec(dialog):
        if dialog.error.text() and "jj/mm/aaaa" not in dialog.error.text():
            return QDialog.DialogCode.Rejected
        dialog.due_edit.setText(next(answers))
        dialog.responsible_combo.setCurrentIndex(dialog.responsible_combo.findData("service:cellule_securite"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.DecisionDialog, "exec", fake_exec)
    screen.edit_decision()  # first a bad date (message in the dialog), then a good one
    stored = svc.get_meeting(detail.id).decisions[0]
    assert (stored.responsible, stored.due_on, stored.version) == ("Cellule sécurité", date(2026, 12, 31),
                                                                   d.version + 1)
    svc.close_meeting(detail.id)
    screen.refresh()
    assert not screen.edit_decision_button.isEnabled()
    assert messages == []


@pytest.mark.parametrize("who", ["admin", "recovery_metz", "cas_member", "social_head"])
def test_screen_for_every_profile(qtbot, world, messages, who):
    prepared_meeting(world, "dupont")
    screen = _screen(qtbot, world, who)
    if who == "admin":  # no access to sessions at all
        assert screen.meetings_model.rowCount() == 0
        assert "ne donne pas accès" in screen.header.text()
        assert not screen.follow_up.save_button.isEnabled()
    else:
        assert screen.meetings_model.rowCount() == 1
    assert screen.new_button.isEnabled() == (who == "social_head")
    screen.tabs.setCurrentWidget(screen.follow_up)
    assert messages == []


def test_addendum_from_the_screen(qtbot, world, messages, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from cus_desk.ui.meetings import dialogs

    detail = prepared_meeting(world, "martin", held_on=date(2026, 11, 12))
    svc = world.service()
    svc.start_meeting(detail.id)
    d = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")
    svc.close_meeting(detail.id)
    screen = _screen(qtbot, world)
    texts = iter(["   ", "Le responsable est la cellule sécurité."])

    def fake_exec(dialog):
        if dialog.error.text() and "obligatoire" not in dialog.error.text():
            return QDialog.DialogCode.Rejected
        dialog.text_edit.setPlainText(next(texts))
        dialog.decision_combo.setCurrentIndex(dialog.decision_combo.findData(d.id))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.AddendumDialog, "exec", fake_exec)
    screen.add_addendum()
    qtbot.waitUntil(lambda: screen.detail is not None and len(screen.detail.addenda) == 1, timeout=15000)
    assert screen.detail.addenda[0].decision_id == d.id
    assert len(screen.detail.archives) == 2
    assert messages == []


def test_preview_shows_any_archived_version(qtbot, world, messages):
    """After a rectificatif the preview offers every archived version; the
    signed one (version 1) is shown byte for byte and says it was rectified."""
    detail = prepared_meeting(world, "martin", held_on=date(2026, 11, 12))
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")
    svc.close_meeting(detail.id)
    screen = _screen(qtbot, world)
    screen.inner.setCurrentWidget(screen.preview)
    qtbot.waitUntil(lambda: screen.preview.page_count() > 0, timeout=15000)
    assert screen.version_combo.isHidden()  # one version only: nothing to choose
    assert "version 1 —" in screen.preview.caption.text()
    svc.add_addendum(detail.id, "Le responsable est la cellule sécurité.")
    screen.refresh()
    qtbot.waitUntil(lambda: screen.detail is not None and len(screen.detail.archives) == 2,
                    timeout=15000)
    qtbot.waitUntil(lambda: "version 2" in screen.preview.caption.text(), timeout=15000)
    assert not screen.version_combo.isHidden() and screen.version_combo.count() == 2
    assert screen.version_combo.itemText(0).endswith("(clôture, signée)")
    assert screen.version_combo.currentData() == 2
    screen.version_combo.setCurrentIndex(0)
    qtbot.waitUntil(lambda: "version 1 (rectifiée depuis)" in screen.preview.caption.text(),
                    timeout=15000)
    with world.db.read_session() as s:
        first = s.scalars(select(MeetingArchive).order_by(MeetingArchive.id)).first()
    assert screen.preview.pdf == first.pdf
    assert screen.preview.file_name == "releve-CAS-2026-01-v1.pdf"
