"""Preview of the fiche de signalement (QtPdf), printing through the system
print dialog, and "Enregistrer en PDF". The PDF comes from the service."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cus_desk.ui.common import set_accessible

try:  # QtPdf is part of the PySide6 add-ons, absent from some minimal installs
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView
except ImportError:  # pragma: no cover - depends on the installed wheels
    QPdfDocument = QPdfView = None


class FichePreviewDialog(QDialog):
    def __init__(self, pdf: bytes, file_name: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fiche de signalement")
        self.resize(760, 900)
        self.pdf, self.file_name = pdf, file_name
        self.saved_path: Path | None = None
        self.error: str | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        top.addWidget(self.caption, 1)
        self.print_button = QPushButton("&Imprimer…")
        self.save_button = QPushButton("Enregistrer en &PDF…")
        close = QPushButton("&Fermer")
        set_accessible(self.print_button, "Imprimer la fiche de signalement")
        set_accessible(self.save_button, "Enregistrer la fiche de signalement en PDF")
        self.print_button.clicked.connect(self.print_dialog)
        self.save_button.clicked.connect(lambda: self.save())
        close.clicked.connect(self.accept)
        for b in (self.print_button, self.save_button, close):
            top.addWidget(b)
        layout.addLayout(top)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.print_dialog)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=lambda: self.save())
        self.document = None
        if QPdfDocument is not None:
            self.document = QPdfDocument(self)
            self._buffer = QBuffer(self)
            self._buffer.setData(QByteArray(pdf))
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.document.load(self._buffer)
            view = QPdfView(self)
            view.setDocument(self.document)
            view.setPageMode(QPdfView.PageMode.MultiPage)
            view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        else:  # pragma: no cover
            view = QLabel("L'aperçu n'est pas disponible sur ce poste : enregistrez la fiche en PDF "
                          "puis ouvrez-la dans votre lecteur pour l'imprimer.")
            view.setWordWrap(True)
            self.print_button.setEnabled(False)
        set_accessible(view, "Aperçu de la fiche de signalement")
        layout.addWidget(view, 1)

    def page_count(self) -> int:
        return self.document.pageCount() if self.document is not None else 0

    def _show_error(self, text: str) -> None:
        from cus_desk.ui.common import show_error

        self.error = text
        show_error(self, text)

    def save(self, path: str | None = None) -> Path | None:
        """Write the PDF whole (temporary file, then rename)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Enregistrer la fiche de signalement",
                                                  self.file_name, "Documents PDF (*.pdf)")
            if not path:
                return None
        target = Path(path)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        tmp = target.with_name(target.name + ".part")
        try:
            tmp.write_bytes(self.pdf)
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            self._show_error(f"La fiche n'a pas pu être enregistrée dans « {target} » "
                             f"({exc.strerror}). Choisissez un autre dossier.")
            return None
        self.saved_path = target
        return target

    def print_dialog(self) -> None:
        if self.document is None:
            return
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Imprimer la fiche de signalement")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer) -> None:
        painter = QPainter()
        if not painter.begin(printer):
            self._show_error("L'imprimante n'est pas disponible. Vérifiez-la, ou enregistrez la fiche "
                             "en PDF pour l'imprimer plus tard.")
            return
        try:
            dpi = printer.resolution()
            for page in range(self.document.pageCount()):
                if page:
                    printer.newPage()
                size = self.document.pagePointSize(page)
                target = QSize(int(size.width() / 72 * dpi), int(size.height() / 72 * dpi))
                image = self.document.render(page, target)
                area = painter.viewport()
                scaled = target.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.drawImage(area.x(), area.y(), image.scaled(
                    scaled, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        finally:
            painter.end()
