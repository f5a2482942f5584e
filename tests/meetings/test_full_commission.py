"""A whole commission as issue #14 asks it to run, through the real
widgets: prepared (members copied, the adjourned case back on the agenda),
held on a 1024×768 projector by keyboard, closed with the quorum, its
relevé printed ready to sign, rectified, and the signed version printed
again. Screenshots of the projector and PNG pages of the relevé are
written to build/screenshots/full-commission/."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from sqlalchemy import select

from cus_desk.store.models.cases import Case
from cus_desk.store.models.meetings import Decision
from tests.meetings.conftest import prepared_meeting

pytestmark = pytest.mark.gui

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "full-commission"


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def _type(keys: str | Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """As a keyboard does: to the window that has the focus."""
    target = QApplication.focusWindow()
    assert target is not None
    for key in ([Qt.Key(ord(c.upper())) if c.isalpha() else Qt.Key(ord(c)) for c in keys]
                if isinstance(keys, str) else [keys]):
        QTest.keyClick(target, key, modifier)
    QApplication.processEvents()


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_commission_prepared_held_by_keyboard_at_1024_closed_printed_rectified_reprinted(
        qtbot, world, messages, monkeypatch):
    from cus_desk.ui.context import AppContext
    from cus_desk.ui.meetings import decision_checks, dialogs
    from cus_desk.ui.meetings.screen import MeetingsScreen

    svc = world.service()
    # October: a président and a secrétaire de séance among the members;
    # Martin's case is adjourned (« à représenter »).
    with world.db.write_session() as s:
        s.get(Case, world.cases["martin"]).status = "ouvert"
    october = prepared_meeting(world, "martin", held_on=date(2026, 10, 22))
    svc.add_attendee(october.id, "Marc Président", "president", presence="present")
    svc.add_attendee(october.id, "Sophie Secrétaire", "secretaire_seance", presence="present")
    svc.start_meeting(october.id)
    svc.add_decision(october.id, world.cases["martin"], "ajournement", "Pièces manquantes", "")
    svc.close_meeting(october.id)

    screen = MeetingsScreen(AppContext(world.db, world.actors["adviser_metz"]))
    qtbot.addWidget(screen)
    screen.resize(1024, 768)
    screen.show()

    # --- prepare: members copied, the adjourned case proposed first --------------
    monkeypatch.setattr(dialogs.MeetingDialog, "exec", lambda d: (
        d.date_edit.setDate(QDate(2026, 11, 26)), d.place_edit.setText("Siège, salle du conseil — Metz"),
        QDialog.DialogCode.Accepted)[-1])
    screen.new_item()
    copied = [a.name for a in screen.detail.attendees]
    assert copied == [a.name for a in svc.get_meeting(october.id).attendees]
    assert {"Marc Président", "Sophie Secrétaire"} <= set(copied)

    def propose(dialog):
        assert "Ajourné le 22/10/2026 — à représenter" in dialog.list.item(0).text()
        for i in range(dialog.list.count()):
            text = dialog.list.item(i).text()
            keep = i == 0 or "DUPONT" in text.upper()
            dialog.list.item(i).setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.ProposalsDialog, "exec", propose)
    qtbot.mouseClick(screen.propose_button, Qt.MouseButton.LeftButton)
    agenda = [a.case_id for a in screen.detail.agenda]
    assert agenda[0] == world.cases["martin"] and len(agenda) >= 1
    if world.cases["dupont"] not in agenda:  # the adviser adds the second case herself
        svc.add_to_agenda(screen.detail.id, world.cases["dupont"], proposal="Plan d'apurement")
        screen.refresh()
    meeting_id = screen.detail.id

    # --- open, presence taken at the meeting --------------------------------------
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert screen.detail.status == "en_cours"
    rows = screen.attendees_model.rowCount()
    screen.attendees_view.selectRow(0)
    for _ in range(rows):
        qtbot.mouseClick(screen.present_button, Qt.MouseButton.LeftButton)
    assert "Quorum atteint" in screen.quorum_label.text()
    _shot(screen, "01-preparation-1024x768")

    # --- held on a 1024×768 projector, by keyboard ----------------------------------
    monkeypatch.setattr(decision_checks, "run_modal", lambda dialog: (
        dialog.alone_button.click() if hasattr(dialog, "alone_button") else dialog.reject(),
        dialog.result() == QDialog.DialogCode.Accepted)[-1])
    screen.toggle_meeting_mode()
    mode = screen.mode_window
    qtbot.waitExposed(mode)
    mode.showNormal()  # full screen on the offscreen platform's own 800×800 screen otherwise
    mode.resize(1024, 768)
    qtbot.waitUntil(lambda: (mode.width(), mode.height()) == (1024, 768))
    mode.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWindow() is not None)
    assert mode.minimumSizeHint().width() <= 1024
    assert "Dossier 1 / " in mode.progress.text()
    _shot(mode, "02-seance-dossier1-1024x768")

    def decide(type_code: str, text: str, due: str) -> None:
        mode.type_combo.setCurrentIndex(mode.type_combo.findData(type_code))
        mode.text_edit.setFocus()
        _type(text)
        mode.responsible_edit.setText("Pôle social")  # chosen from the list (#14)
        mode.due_edit.setFocus()
        mode.due_edit.selectAll()
        _type(due)
        _type(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Entrée: enregistrer

    decide("visite_domicile", "visite", "15/12/2026")
    assert messages == [], messages
    _type(Qt.Key.Key_PageDown)  # next case, whatever has the focus
    assert "Dossier 2 / " in mode.progress.text()
    decide("intervention_sociale", "suivi", "31/12/2026")
    _shot(mode, "03-seance-dossier2-1024x768")
    _type(Qt.Key.Key_PageUp)
    assert "Dossier 1 / " in mode.progress.text()
    mode.close()
    qtbot.waitUntil(lambda: screen.mode_window is None)
    with world.db.read_session() as s:
        decisions = s.scalars(select(Decision).where(Decision.meeting_id == meeting_id)).all()
    assert {d.due_on for d in decisions} == {date(2026, 12, 15), date(2026, 12, 31)}

    # --- closed with the quorum; the relevé ready to sign ----------------------------
    screen.close_meeting(ask=False)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.status == "cloturee", timeout=15000)
    signed = svc.releve(meeting_id)
    assert signed.archived and signed.version == 1
    text = _text(signed.pdf)
    for expected in ("Relevé de décisions", "Présent", "Marc Président", "Sophie Secrétaire",
                     "15/12/2026", "Pôle social"):
        assert expected in text, expected
    assert "Page 1 /" in text or "page 1 /" in text.lower()

    # --- rectified, then the signed version printed again ----------------------------
    svc.add_addendum(meeting_id, "Rectificatif : la visite est avancée au 10/12/2026.", decisions[0].id)
    latest = svc.releve(meeting_id)
    first = svc.releve(meeting_id, version=1)
    assert latest.version == 2 and first.version == 1 and not first.latest
    assert first.pdf == signed.pdf  # the signed act, byte for byte
    assert "avancée au 10/12/2026" in _text(latest.pdf)
    assert "avancée au 10/12/2026" not in _text(first.pdf)

    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, pdf in (("04-releve-signe-v1", first.pdf), ("05-releve-rectifie-v2", latest.pdf)):
        (SHOTS / f"{name}.pdf").write_bytes(pdf)
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(SHOTS / f"{name}.pdf"), str(SHOTS / name)],
                           check=True, timeout=60)
