"""Issue 14: the séance is held by keyboard on a projector.

* after a click in the summary (or on « Afficher… »), Page suivante and the
  arrows still move from case to case;
* after the responsible's completion list, Alt+C (Échéance) no longer sends
  the first digit of the date into « Responsable »;
* an amount is never split across two lines."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from cus_desk.store.models.meetings import Decision
from cus_desk.ui.context import AppContext
from tests.meetings.conftest import prepared_meeting

pytestmark = pytest.mark.gui


def _mode(qtbot, world, *keys: str, who: str = "adviser_metz"):
    from cus_desk.ui.meetings.meeting_mode import MeetingModeWindow

    detail = prepared_meeting(world, *keys)
    svc = world.service(who)
    svc.start_meeting(detail.id)
    window = MeetingModeWindow(AppContext(world.db, world.actors[who]), detail.id,
                               [world.cases[k] for k in keys])
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def _type(keys: str | Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """As the keyboard does: to the window that has the focus (a popup when
    one is open), through the window system, shortcuts included."""
    target = QApplication.focusWindow()
    assert target is not None
    for key in ([Qt.Key(ord(c.upper())) for c in keys] if isinstance(keys, str) else [keys]):
        QTest.keyClick(target, key, modifier)
    QApplication.processEvents()


def test_page_down_and_arrows_still_work_after_a_click_in_the_summary(qtbot, world):
    mode = _mode(qtbot, world, "martin", "dupont", "nguyen")
    assert "Dossier 1 / 3" in mode.progress.text()
    # a click in a card of the summary (its text is selectable)
    qtbot.mouseClick(mode.debt, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    _type(Qt.Key.Key_PageDown)
    assert "Dossier 2 / 3" in mode.progress.text()
    qtbot.mouseClick(mode.proposal, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    _type(Qt.Key.Key_Down)
    assert "Dossier 3 / 3" in mode.progress.text()
    # a click on the scrolling area itself
    qtbot.mouseClick(mode.summary_scroll.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    _type(Qt.Key.Key_PageUp)
    assert "Dossier 2 / 3" in mode.progress.text()
    _type(Qt.Key.Key_Up)
    assert "Dossier 1 / 3" in mode.progress.text()


def test_page_down_still_works_after_showing_a_reserved_item(qtbot, world, monkeypatch):
    import cus_desk.ui.meetings.meeting_mode as mode_module

    mode = _mode(qtbot, world, "dupont", "martin")
    monkeypatch.setattr(mode_module, "choose_item", lambda *_a, **_k: 0)
    monkeypatch.setattr(mode_module, "confirm", lambda *_a, **_k: True)
    [button] = mode.reveal_buttons()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert mode.hide_buttons()
    # then a click on what is displayed, as one points at it
    shown = next(w for w in mode.findChildren(type(mode.title)) if w.objectName() == "mmRevealed")
    qtbot.mouseClick(shown, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    _type(Qt.Key.Key_PageDown)
    assert "Dossier 2 / 2" in mode.progress.text()
    _type(Qt.Key.Key_Left)
    assert "Dossier 1 / 2" in mode.progress.text()


def test_arrows_stay_in_the_form_fields(qtbot, world):
    mode = _mode(qtbot, world, "martin", "dupont")
    mode.text_edit.setFocus()
    qtbot.waitUntil(mode.text_edit.hasFocus)
    _type("texte")  # QTest on a window types lower case
    _type(Qt.Key.Key_Left)
    _type(Qt.Key.Key_Down)
    assert "Dossier 1 / 2" in mode.progress.text()  # the caret moved, not the case
    assert mode.text_edit.toPlainText() == "texte"


def test_alt_c_after_the_completion_list_keeps_the_due_date_whole(qtbot, world):
    detail_world = world
    other = prepared_meeting(detail_world, "nguyen")
    svc = detail_world.service()
    svc.start_meeting(other.id)
    svc.add_decision(other.id, detail_world.cases["nguyen"], "visite_domicile", "Visite", "Camille Conseillère",
                     date(2026, 12, 1))
    mode = _mode(qtbot, world, "martin")
    mode.type_combo.setCurrentIndex(mode.type_combo.findData("saisine_fsl"))
    mode.responsible_edit.setFocus()
    qtbot.waitUntil(mode.responsible_edit.hasFocus)
    _type("cam")  # the list is case-insensitive: « Camille Conseillère » is proposed
    popup = mode.responsible_edit.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    _type("c", Qt.KeyboardModifier.AltModifier)  # É&chéance
    _type("31/01/2027")
    assert mode.due_edit.text() == "31/01/2027"
    assert mode.responsible_edit.text() == "cam"
    assert not popup.isVisible()
    # A responsible is chosen from the list (#14): the name completed, then saved.
    mode.responsible_edit.setText("Camille Conseillère")
    mode.due_edit.setFocus()
    _type(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    with world.db.read_session() as s:
        stored = s.scalar(select(Decision).where(Decision.case_id == world.cases["martin"]))
    assert (stored.responsible, stored.due_on) == ("Camille Conseillère", date(2027, 1, 31))


def test_an_amount_never_breaks_across_lines(qtbot, world):
    """Neither in a PDF (reportlab breaks at a narrow no-break space) nor on
    the projected screen (the amount is kept whole in its label)."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph

    from cus_desk.domain.formatting import format_cents

    text = format_cents(110_266)
    para = Paragraph(f"Au dossier : {text}", getSampleStyleSheet()["Normal"])
    para.wrap(75, 1000)  # a narrow column
    assert para.blPara.kind == 0  # plain words: (space left, words) per line
    lines = [words for _space, words in para.blPara.lines]
    assert ["102,66\u00a0€"] not in lines and ["1\u00a0102,66\u00a0€"] in lines, lines
    mode = _mode(qtbot, world, "martin")
    assert "white-space:nowrap" in mode.debt.text()
