"""Small UI helpers shared by every screen: French locale, error and
confirmation boxes (one place, so tests can drive them), accessibility."""

from __future__ import annotations

import logging

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cus_desk.domain.errors import ConflictError, CusDeskError, SessionRevokedError

log = logging.getLogger("cus_desk.ui")

UNEXPECTED = (
    "Une erreur inattendue s'est produite. Votre travail enregistré n'est pas perdu. "
    "Le détail a été noté dans le journal de l'application ({path}) ; "
    "transmettez-le au support si le problème se reproduit."
)


def french_locale() -> QLocale:
    return QLocale(QLocale.Language.French, QLocale.Country.France)


def error_text(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    if isinstance(error, CusDeskError):
        return error.message
    from cus_desk.logging_setup import log_file_path

    log.error("unexpected error", exc_info=(type(error), error, error.__traceback__))
    return UNEXPECTED.format(path=log_file_path())


def show_error(parent: QWidget | None, error: BaseException | str, title: str = "CUS Desk") -> None:
    """A French sentence for the user, never a traceback."""
    text = error_text(error)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if isinstance(error, (CusDeskError, str)) else QMessageBox.Icon.Critical)
    box.setWindowTitle("Conflit d'enregistrement" if isinstance(error, ConflictError) else title)
    box.setText(text)
    box.setAccessibleName("Message d'erreur")
    box.exec()
    if isinstance(error, SessionRevokedError):
        lock_sessions(text)


def lock_sessions(message: str) -> None:
    """Cover every window that has an idle lock: the account was deactivated
    or changed while signed in (unlocking asks for the password again, and a
    deactivated account cannot unlock)."""
    for widget in QApplication.topLevelWidgets():
        lock = getattr(widget, "idle_lock", None)
        if lock is not None:
            lock.lock_now(message)


def show_info(parent: QWidget | None, text: str, title: str = "CUS Desk") -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    box.exec()


def confirm(parent: QWidget | None, question: str, title: str = "Confirmer") -> bool:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    yes = box.addButton("Oui", QMessageBox.ButtonRole.YesRole)
    box.addButton("Non", QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(yes)
    box.exec()
    return box.clickedButton() is yes


def choose(parent: QWidget | None, question: str, choices: list[tuple[str, str]],
           default: str | None = None, escape: str | None = None, title: str = "CUS Desk") -> str:
    """A question with several named answers (``choices``: (key, button
    text)); returns the key of the button pressed. Escape, or closing the
    box, answers ``escape`` (else the last choice)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    buttons = {}
    for key, text in choices:
        button = box.addButton(text, QMessageBox.ButtonRole.ActionRole)
        buttons[button] = key
        if key == default:
            box.setDefaultButton(button)
        if key == escape:
            box.setEscapeButton(button)
    box.exec()
    fallback = escape if escape is not None else choices[-1][0]
    return buttons.get(box.clickedButton(), fallback)


def choose_item(parent: QWidget | None, question: str, items: list[str],
                title: str = "CUS Desk") -> int | None:
    """Pick one entry of ``items`` from a list; its index, or None if cancelled."""
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getItem(parent, title, question, items, 0, False)
    if not ok or text not in items:
        return None
    return items.index(text)


def set_accessible(widget: QWidget, name: str, description: str = "") -> QWidget:
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
    return widget
