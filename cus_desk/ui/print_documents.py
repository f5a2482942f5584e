"""Open a printed document of the CAS in the PDF preview (#14): the fiche
dossier of a case (Dossiers › Fichier › Imprimer, Ctrl+P) and the
convocation / ordre du jour of a session (« Convocation… » on Séances CAS).
The PDF is made on a worker thread; the preview prints it (text kept) or
saves it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from cus_desk.services.case_printouts import CasePrintoutService, PrintedDocument
from cus_desk.ui.common import show_error
from cus_desk.ui.pdf_preview import PdfPreviewDialog
from cus_desk.ui.workers import run_in_background


def _show(parent: QWidget, document: PrintedDocument, noun: str, caption: str) -> PdfPreviewDialog:
    dialog = PdfPreviewDialog(document.pdf, document.file_name, document.title, caption, noun=noun,
                              parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    parent.print_dialog = dialog  # the last one opened (tests look at it)
    dialog.show()
    return dialog


def show_case_note(parent: QWidget, ctx, case_id: int):
    """The fiche dossier / note de synthèse of ``case_id`` in a preview."""
    service = CasePrintoutService(ctx.db, ctx.actor)
    return run_in_background(
        parent, lambda _progress: service.case_note(case_id),
        lambda doc: _show(parent, doc, "la fiche dossier",
                          f"{doc.title} — à l'usage de la conseillère qui présente le dossier"),
        lambda exc: show_error(parent, exc))


def show_convocation(parent: QWidget, ctx, meeting_id: int):
    """The convocation / ordre du jour of ``meeting_id`` in a preview."""
    service = CasePrintoutService(ctx.db, ctx.actor)
    return run_in_background(
        parent, lambda _progress: service.convocation(meeting_id),
        lambda doc: _show(parent, doc, "la convocation",
                          f"{doc.title} — dossiers désignés par leur référence et les initiales du ménage"),
        lambda exc: show_error(parent, exc))
