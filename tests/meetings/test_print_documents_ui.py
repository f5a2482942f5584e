"""Printing from the screens (#14): Fichier › Imprimer on Dossiers opens the
fiche dossier of the selected case; « Convocation… » on Séances CAS the
ordre du jour. Real widgets, real PDFs read back with pypdf; printing the
preview to a PDF file keeps the text."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from cus_desk.ui.context import AppContext
from tests.meetings.conftest import prepared_meeting

pytestmark = pytest.mark.gui


def test_print_action_is_enabled_on_dossiers_and_opens_the_fiche(qtbot, world, tmp_path):
    from cus_desk.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.attach(AppContext(world.db, world.actors["adviser_metz"]))
    window.show()
    window.show_screen("cases")
    screen = window.screen("cases")
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0, timeout=10000)
    assert window.actions_by_name["print"].isEnabled()
    screen.view.setCurrentIndex(screen.model.index(0, 0))
    window.actions_by_name["print"].trigger()
    qtbot.waitUntil(lambda: getattr(screen, "print_dialog", None) is not None, timeout=20000)
    preview = screen.print_dialog.preview
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(preview.pdf)).pages)
    assert "Fiche dossier — note de synthèse" in text
    out = tmp_path / "fiche.pdf"
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    assert preview.print_to(printer)
    assert "Fiche dossier" in PdfReader(str(out)).pages[0].extract_text()
    screen.print_dialog.close()


def test_convocation_button(qtbot, world):
    from cus_desk.ui.meetings.screen import MeetingsScreen

    detail = prepared_meeting(world, "dupont", "martin")
    screen = MeetingsScreen(AppContext(world.db, world.actors["adviser_metz"]))
    qtbot.addWidget(screen)
    screen.resize(1366, 768)
    screen.show()
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.id == detail.id, timeout=10000)
    assert screen.convocation_button.isEnabled()
    screen.convocation_button.click()
    qtbot.waitUntil(lambda: getattr(screen, "print_dialog", None) is not None, timeout=20000)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(screen.print_dialog.preview.pdf)).pages)
    assert "Convocation et ordre du jour" in text and "D. J.-P." in text and "Dupont" not in text
    screen.print_dialog.close()
