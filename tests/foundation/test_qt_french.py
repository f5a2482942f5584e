"""Qt's own texts (standard buttons, file and print dialogs) in French."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox


def _plain(text: str) -> str:
    return text.replace("&", "")


def test_standard_buttons_read_in_french(qtbot):
    from cus_desk.ui.app import make_application

    app = make_application()
    try:
        assert len(app.qt_translators) == 1
        assert make_application().qt_translators == app.qt_translators  # installed once
        box = QMessageBox(QMessageBox.Icon.Question, "Confirmer", "Supprimer la séance ?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                          | QMessageBox.StandardButton.Cancel)
        qtbot.addWidget(box)
        assert _plain(box.button(QMessageBox.StandardButton.Yes).text()) == "Oui"
        assert _plain(box.button(QMessageBox.StandardButton.No).text()) == "Non"
        assert _plain(box.button(QMessageBox.StandardButton.Cancel).text()) == "Annuler"
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Close)
        qtbot.addWidget(buttons)
        assert _plain(buttons.button(QDialogButtonBox.StandardButton.Save).text()) == "Enregistrer"
        assert _plain(buttons.button(QDialogButtonBox.StandardButton.Close).text()) == "Fermer"
    finally:  # other tests of this process keep Qt's default texts
        for translator in app.qt_translators:
            QApplication.removeTranslator(translator)
        del app.qt_translators
