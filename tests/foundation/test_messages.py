"""The French message boxes every screen uses, driven through a real modal
exec: what they say, and what confirm() answers."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from cus_desk.domain.errors import ConflictError
from cus_desk.ui import common

pytestmark = pytest.mark.gui


def _answer_with(qtbot, text_of_button: str | None, seen: list[str]) -> None:
    """Click a button of the message box as soon as it shows (a real modal exec)."""

    def click() -> None:
        box = next(w for w in QCoreApplication.instance().topLevelWidgets()
                   if isinstance(w, QMessageBox) and w.isVisible())
        seen.append(box.text())
        buttons = box.buttons()
        target = next((b for b in buttons if b.text() == text_of_button), buttons[0])
        target.click()

    QTimer.singleShot(0, click)


def test_error_info_and_confirm(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    seen: list[str] = []
    _answer_with(qtbot, None, seen)
    common.show_error(window, ConflictError())
    _answer_with(qtbot, None, seen)
    common.show_info(window, "Relevé enregistré.")
    _answer_with(qtbot, "Oui", seen)
    assert common.confirm(window, "Supprimer ce brouillon ?") is True
    _answer_with(qtbot, "Non", seen)
    assert common.confirm(window, "Supprimer ce brouillon ?") is False
    assert "modifiée par quelqu'un d'autre" in seen[0]
    assert seen[1:] == ["Relevé enregistré.", "Supprimer ce brouillon ?", "Supprimer ce brouillon ?"]
