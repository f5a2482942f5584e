"""The shared PDF preview (panel and dialog) on real PDFs made with
reportlab: what it shows, what it saves, what it prints."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from cus_desk.ui import pdf_preview
from cus_desk.ui.pdf_preview import PdfPreview, PdfPreviewDialog

pytestmark = pytest.mark.gui

PAGES = 3


def make_pdf(pages: int = PAGES) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(1, pages + 1):
        pdf.setFont("Helvetica", 24)
        pdf.drawString(72, 760, f"Relevé de test, page {page} sur {pages}")
        pdf.rect(72, 72, 451, 650)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


@pytest.fixture
def messages(monkeypatch):
    """Message boxes are recorded instead of blocking the test."""
    seen: list[str] = []
    monkeypatch.setattr(pdf_preview, "show_error", lambda _p, e, *a, **k: seen.append(getattr(e, "message", e)))
    monkeypatch.setattr(pdf_preview, "show_info", lambda _p, text, *a, **k: seen.append(text))
    return seen


@pytest.fixture
def panel(qtbot):
    widget = PdfPreview("le relevé de décisions")
    qtbot.addWidget(widget)
    widget.set_pdf(make_pdf(), "releve.pdf", "Projet de relevé")
    return widget


def test_shows_every_page_and_names_the_document(panel):
    assert panel.page_count() == PAGES
    assert panel.caption.text() == "Projet de relevé"
    assert panel.print_button.isEnabled() and panel.save_button.isEnabled()
    assert panel.view.accessibleName() == "Aperçu du relevé de décisions"
    assert panel.print_button.accessibleName() == "Imprimer le relevé de décisions"
    assert panel.save_button.accessibleName() == "Enregistrer le relevé de décisions en PDF"
    assert panel.open_button.isHidden() == pdf_preview.HAVE_QTPDF


def test_clear_disables_the_buttons(panel):
    panel.clear("Préparation du relevé…")
    assert panel.page_count() == 0 and panel.pdf == b""
    assert panel.caption.text() == "Préparation du relevé…"
    assert not panel.print_button.isEnabled()
    assert not panel.save_button.isEnabled()
    assert not panel.open_button.isEnabled()
    assert panel.save() is None  # nothing to save


def test_an_unreadable_pdf_is_said_and_offered_to_the_pdf_reader(panel):
    if not pdf_preview.HAVE_QTPDF:
        pytest.skip("without QtPdf every PDF goes to the machine's reader")
    panel.set_pdf(b"%PDF-1.4 tronque", "releve.pdf", "Relevé archivé")
    assert panel.page_count() == 0
    assert "ne peut pas afficher le relevé de décisions" in panel.caption.text()
    assert not panel.open_button.isHidden() and panel.open_button.isEnabled()
    assert panel.print_button.isHidden()
    assert panel.save_button.isEnabled()
    panel.set_pdf(make_pdf(), "releve.pdf", "Relevé archivé")  # a readable one again
    assert panel.page_count() == PAGES and panel.caption.text() == "Relevé archivé"
    assert panel.open_button.isHidden() and not panel.print_button.isHidden()


def test_save_writes_the_whole_pdf_and_adds_the_suffix(qtbot, panel, tmp_path, messages):
    with qtbot.waitSignal(panel.saved) as signal:
        saved = panel.save(tmp_path / "releve")
    assert saved == tmp_path / "releve.pdf" == panel.saved_path == signal.args[0]
    reader = PdfReader(str(saved))
    assert len(reader.pages) == PAGES
    assert "page 2 sur 3" in reader.pages[1].extract_text()
    assert panel.save(str(tmp_path / "v1.2")) == tmp_path / "v1.2.pdf"
    assert panel.save(tmp_path / "COPIE.PDF") == tmp_path / "COPIE.PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["COPIE.PDF", "releve.pdf", "v1.2.pdf"]
    assert messages == []


def test_save_asks_where_and_cancel_writes_nothing(panel, tmp_path, monkeypatch, messages):
    asked = []

    def answer(parent, title, suggested, filters):
        asked.append((title, suggested))
        return (str(tmp_path / "choisi"), filters) if len(asked) == 1 else ("", "")

    monkeypatch.setattr(pdf_preview.QFileDialog, "getSaveFileName", answer)
    panel.save_button.click()
    assert asked == [("Enregistrer le relevé de décisions en PDF", "releve.pdf")]
    assert panel.saved_path == tmp_path / "choisi.pdf" and (tmp_path / "choisi.pdf").read_bytes() == panel.pdf
    assert panel.save() is None  # cancelled
    assert [p.name for p in tmp_path.iterdir()] == ["choisi.pdf"]
    assert messages == []


def test_save_into_a_missing_folder_says_so_in_french_and_leaves_nothing(qtbot, tmp_path, messages):
    widget = PdfPreview("la fiche de signalement")
    qtbot.addWidget(widget)
    widget.set_pdf(make_pdf(2), "fiche.pdf", "Fiche de signalement")
    assert widget.save(tmp_path / "absent" / "fiche") is None
    assert messages == [f"Impossible d'enregistrer la fiche de signalement dans « {tmp_path / 'absent' / 'fiche.pdf'} » "
                        "(le dossier n'existe pas). Choisissez un autre dossier."]
    assert widget.saved_path is None
    assert not (tmp_path / "absent").exists() and list(tmp_path.iterdir()) == []


def test_save_over_a_folder_leaves_no_part_file(panel, tmp_path, messages):
    (tmp_path / "dossier.pdf").mkdir()
    assert panel.save(tmp_path / "dossier.pdf") is None
    assert len(messages) == 1 and messages[0].startswith("Impossible d'enregistrer le relevé de décisions")
    assert [p.name for p in tmp_path.iterdir()] == ["dossier.pdf"]


def _pdf_printer(path, mode=QPrinter.PrinterMode.HighResolution) -> QPrinter:
    printer = QPrinter(mode)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_printing_to_a_pdf_file_keeps_the_text_of_every_page(panel, tmp_path, messages):
    out = tmp_path / "imprime.pdf"
    assert panel.print_to(_pdf_printer(out))
    printed = PdfReader(str(out))
    assert [p.extract_text().strip() for p in printed.pages] == [
        f"Relevé de test, page {n} sur {PAGES}" for n in range(1, PAGES + 1)]
    assert all("/XObject" not in (p.get("/Resources") or {}) for p in printed.pages)  # no picture
    assert out.stat().st_size < 20_000  # a raster at 300 dpi was ~800 KB a page
    assert messages == []


def test_printing_to_a_pdf_file_honours_the_page_range(panel, tmp_path, messages):
    from PySide6.QtGui import QPageRanges

    out = tmp_path / "pages.pdf"
    printer = _pdf_printer(out)
    ranges = QPageRanges()
    ranges.addRange(2, 3)
    printer.setPageRanges(ranges)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    assert panel.print_to(printer)
    assert [p.extract_text().strip() for p in PdfReader(str(out)).pages] == [
        "Relevé de test, page 2 sur 3", "Relevé de test, page 3 sur 3"]
    # A range past the last page prints what exists, then nothing with a message.
    ranges = QPageRanges()
    ranges.addRange(3, 9)
    printer.setPageRanges(ranges)
    assert panel.print_to(printer)
    assert len(PdfReader(str(out)).pages) == 1
    ranges = QPageRanges()
    ranges.addRange(7, 9)
    printer.setPageRanges(ranges)
    assert not panel.print_to(printer)
    assert messages and messages[-1].startswith("Aucune page à imprimer")
    assert len(PdfReader(str(out)).pages) == 1  # the earlier file untouched


def test_print_dialog_offers_every_page_not_1_to_1(panel):
    from PySide6.QtPrintSupport import QAbstractPrintDialog

    printer = QPrinter()
    dialog = panel.make_print_dialog(printer)
    assert (dialog.minPage(), dialog.maxPage()) == (1, PAGES)
    assert (printer.fromPage(), printer.toPage()) == (1, PAGES)
    assert dialog.testOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange)
    assert dialog.windowTitle() == "Imprimer le relevé de décisions"
    dialog.deleteLater()


@pytest.mark.skipif(not pdf_preview.HAVE_QTPDF, reason="QtPdf absent: printing goes through the PDF reader")
def test_a_physical_printer_gets_the_chosen_pages_rendered_at_its_resolution(panel, tmp_path):
    # A PDF-format printer stands in for a physical one: print_pages is the
    # path a real printer takes (each page rendered at no more than 300 dpi).
    out = tmp_path / "raster.pdf"
    printer = _pdf_printer(out)
    assert printer.resolution() > pdf_preview.MAX_PRINT_DPI
    pdf_preview.print_pages(panel.document, printer, [1, 2])
    printed = PdfReader(str(out))
    assert len(printed.pages) == 2
    for page in printed.pages:
        images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
        image = next(i for i in images if i["/Subtype"] == "/Image")
        assert 150 * 8.27 * 0.8 < image["/Width"] <= 300 * 8.27 + 1
        assert abs(image["/Height"] / image["/Width"] - 297 / 210) < 0.01


@pytest.mark.skipif(not pdf_preview.HAVE_QTPDF, reason="QtPdf absent: printing goes through the PDF reader")
def test_a_pdf_file_that_cannot_be_written_is_reported(panel, tmp_path, messages):
    printer = _pdf_printer(tmp_path / "absent" / "imprime.pdf", QPrinter.PrinterMode.ScreenResolution)
    assert not panel.print_to(printer)
    assert messages and messages[0].startswith("Impossible d'imprimer le relevé de décisions dans")
    assert "le dossier n'existe pas" in messages[0]
    assert not (tmp_path / "absent").exists()


def test_without_qtpdf_the_panel_offers_the_pdf_reader(qtbot, monkeypatch, tmp_path, messages):
    monkeypatch.setattr(pdf_preview, "HAVE_QTPDF", False)
    widget = PdfPreview("le document")
    qtbot.addWidget(widget)
    widget.set_pdf(make_pdf(), "liste.pdf", "Partenaires")
    assert widget.document is None and not widget.open_button.isHidden()
    assert widget.open_button.isEnabled() and widget.open_button.accessibleName() == "Ouvrir le document dans le lecteur PDF"
    assert widget.page_count() == PAGES
    assert "module QtPdf absent" in widget.view.text() and f"{PAGES} page(s)" in widget.view.text()
    assert widget.print_to(QPrinter()) is False
    assert PdfReader(str(widget.save(tmp_path / "liste"))).pages[2] is not None
    assert messages == []


def test_dialog_saves_with_ctrl_s_and_closes(qtbot, tmp_path, monkeypatch, messages):
    dialog = PdfPreviewDialog(make_pdf(2), "partenaires.pdf", "Partenaires – Agence de Metz",
                              noun="la liste des partenaires")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Partenaires – Agence de Metz"
    assert dialog.preview.caption.text() == "Partenaires – Agence de Metz"
    assert dialog.preview.page_count() == 2
    assert 400 <= dialog.width() <= 860 and 300 <= dialog.height() <= 940
    monkeypatch.setattr(pdf_preview.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "liste"), ""))
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    with qtbot.waitSignal(dialog.saved) as signal:
        qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert signal.args == [tmp_path / "liste.pdf"]
    assert len(PdfReader(str(tmp_path / "liste.pdf")).pages) == 2
    close = next(b for b in dialog.findChildren(type(dialog.preview.save_button)) if b.text() == "&Fermer")
    close.click()
    assert dialog.result() == PdfPreviewDialog.DialogCode.Accepted and not dialog.isVisible()
    assert messages == []
