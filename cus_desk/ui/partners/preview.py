"""Preview of a generated PDF (QPdfView) with « Imprimer… » (system print
dialog) and « Enregistrer en PDF… ». Where QtPdf is missing from the
installed add-ons, the dialog says so and offers to open the document in
the machine's PDF reader (which prints it) and to save it."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from cus_desk.ui.common import set_accessible, show_error

try:  # part of the PySide6 add-ons, absent from some installs
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

    HAVE_QTPDF = True
except ImportError:  # pragma: no cover - depends on the installed wheels
    QPdfDocument = QPdfView = None
    HAVE_QTPDF = False

NO_QTPDF = ("L'aperçu intégré n'est pas disponible sur ce poste (module QtPdf absent). "
            "Le document est prêt : ouvrez-le dans votre lecteur PDF pour le lire ou "
            "l'imprimer, ou enregistrez-le.")


class PdfPreviewDialog(QDialog):
    def __init__(self, pdf_path: Path, title: str, suggested_name: str, parent=None,
                 on_saved=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.resize(820, 900)
        self.pdf_path = Path(pdf_path)
        self.suggested_name = suggested_name
        self._on_saved = on_saved
        self.opened_externally = False
        layout = QVBoxLayout(self)
        buttons = QHBoxLayout()
        self.save_button = set_accessible(QPushButton("&Enregistrer en PDF…"),
                                          "Enregistrer le document en PDF")
        self.save_button.clicked.connect(self.save_as)
        if HAVE_QTPDF:
            self.document = QPdfDocument(self)
            self.document.load(str(self.pdf_path))
            self.view = QPdfView(self)
            self.view.setDocument(self.document)
            self.view.setPageMode(QPdfView.PageMode.MultiPage)
            self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
            set_accessible(self.view, "Aperçu du document")
            layout.addWidget(self.view, 1)
            self.print_button = set_accessible(QPushButton("&Imprimer…"), "Imprimer le document")
            self.print_button.clicked.connect(self.print_document)
        else:
            self.document = self.view = None
            self.resize(560, 180)
            notice = QLabel(NO_QTPDF)
            notice.setWordWrap(True)
            notice.setAccessibleName("Aperçu indisponible")
            layout.addWidget(notice, 1)
            self.print_button = set_accessible(QPushButton("&Ouvrir dans le lecteur PDF"),
                                               "Ouvrir le document dans le lecteur PDF")
            self.print_button.clicked.connect(self.open_externally)
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def open_externally(self) -> None:
        self.opened_externally = True
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.pdf_path))):
            show_error(self, "Aucun lecteur PDF n'a pu être ouvert sur ce poste. "
                             "Enregistrez le document et ouvrez-le depuis son dossier.")

    @property
    def page_count(self) -> int | None:
        return self.document.pageCount() if self.document is not None else None

    def save_to(self, target: Path) -> Path:
        target = Path(target)
        if target.suffix.lower() != ".pdf":
            target = target.with_suffix(".pdf")
        shutil.copyfile(self.pdf_path, target)
        if self._on_saved is not None:
            self._on_saved(target)
        return target

    def save_as(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Enregistrer en PDF", self.suggested_name,
                                              "Documents PDF (*.pdf)")
        if not name:
            return
        try:
            self.save_to(Path(name))
        except OSError as exc:
            show_error(self, f"Le fichier n'a pas pu être enregistré ({exc.strerror or exc}). "
                             "Choisissez un autre emplacement.")

    def print_document(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        painter = QPainter()
        if not painter.begin(printer):
            show_error(self, "L'imprimante n'a pas pu être ouverte. Vérifiez qu'elle est "
                             "disponible, ou enregistrez le document en PDF.")
            return
        try:
            rect = painter.viewport()
            for page in range(self.document.pageCount()):
                if page:
                    printer.newPage()
                size = self.document.pagePointSize(page).toSize()
                size.scale(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
                image = self.document.render(page, size)
                painter.drawImage(QPointF(0, 0), image)
        finally:
            painter.end()
