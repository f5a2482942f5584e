"""PDF preview (QtPdf), printing through the system dialog, and
"Enregistrer en PDF". The bytes come from a service; nothing is generated
here.

QtPdf ships with the full PySide6 add-ons; where it is missing (some
minimal installs), the preview says so and offers to open the document in
the PDF reader of the machine (which prints it) and to save it."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPainter
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cus_desk.ui.common import set_accessible, show_error, show_info

try:  # QtPdf is part of the PySide6 add-ons, absent from some installs
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

    HAVE_QTPDF = True
except ImportError:  # pragma: no cover - depends on the installed wheels
    QPdfDocument = QPdfView = None
    HAVE_QTPDF = False

NO_QTPDF = (
    "L'aperçu intégré n'est pas disponible sur ce poste (module QtPdf absent). "
    "Le relevé est prêt : ouvrez-le dans votre lecteur PDF pour le lire ou l'imprimer, "
    "ou enregistrez-le."
)


def save_pdf_bytes(parent: QWidget | None, pdf: bytes, suggested_name: str,
                   path: str | None = None) -> str | None:
    """Ask where to save (unless ``path`` is given) and write the file whole
    (temporary file then rename: never a half-written PDF)."""
    if path is None:
        path, _ = QFileDialog.getSaveFileName(parent, "Enregistrer en PDF", suggested_name,
                                              "Documents PDF (*.pdf)")
        if not path:
            return None
    target = Path(path)
    if target.suffix.lower() != ".pdf":
        target = target.with_suffix(target.suffix + ".pdf") if target.suffix else target.with_suffix(".pdf")
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_bytes(pdf)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        show_error(parent, f"Le fichier « {target} » n'a pas pu être enregistré ({exc.strerror}). "
                           "Choisissez un autre dossier.")
        return None
    return str(target)


def print_document(document, printer) -> None:
    """Paint every page of ``document`` on ``printer`` (a QPrinter), scaled
    to the printable area."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("imprimante indisponible")
    try:
        dpi = printer.resolution()
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            size_pt = document.pagePointSize(page)
            target = QSize(int(size_pt.width() / 72 * dpi), int(size_pt.height() / 72 * dpi))
            image = document.render(page, target)
            area = painter.viewport()
            scaled = target.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(area.x(), area.y(), image.scaled(scaled, Qt.AspectRatioMode.KeepAspectRatio,
                                                               Qt.TransformationMode.SmoothTransformation))
    finally:
        painter.end()


class PdfPreview(QWidget):
    """A QPdfView with "Imprimer…" and "Enregistrer en PDF…" buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdf: bytes = b""
        self.file_name = "releve.pdf"
        self._buffer: QBuffer | None = None
        self._pages = 0
        if HAVE_QTPDF:
            self.document = QPdfDocument(self)
            self.view = QPdfView(self)
            self.view.setDocument(self.document)
            self.view.setPageMode(QPdfView.PageMode.MultiPage)
            self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        else:
            self.document = None
            self.view = QLabel(NO_QTPDF)
            self.view.setWordWrap(True)
            self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_accessible(self.view, "Aperçu du relevé de décisions")
        self.caption = QLabel("Aucun document.")
        self.caption.setWordWrap(True)
        self.open_button = QPushButton("&Ouvrir dans le lecteur PDF")
        set_accessible(self.open_button, "Ouvrir le relevé dans le lecteur PDF")
        self.open_button.clicked.connect(self.open_external)
        self.open_button.setVisible(not HAVE_QTPDF)
        self.print_button = QPushButton("&Imprimer…")
        self.save_button = QPushButton("Enregistrer en &PDF…")
        set_accessible(self.print_button, "Imprimer le relevé")
        set_accessible(self.save_button, "Enregistrer le relevé en PDF")
        self.print_button.clicked.connect(self.print_dialog)
        self.save_button.clicked.connect(lambda: self.save())
        buttons = QHBoxLayout()
        buttons.addWidget(self.caption, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.print_button.setEnabled(on)
        self.save_button.setEnabled(on)
        self.open_button.setEnabled(on)

    def set_pdf(self, pdf: bytes, file_name: str, caption: str) -> None:
        self.pdf, self.file_name = pdf, file_name
        if self.document is not None:
            self.document.close()
            self._buffer = QBuffer(self)
            self._buffer.setData(QByteArray(pdf))
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.document.load(self._buffer)
            self._pages = self.document.pageCount()
        else:
            self._pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        if self.document is None:
            self.view.setText(f"{NO_QTPDF}\n\nRelevé prêt : {self._pages} page(s), {len(pdf) // 1024 + 1} Ko.")
        self.caption.setText(caption)
        self._enable(bool(pdf))

    def clear(self, caption: str = "Aucun document.") -> None:
        if self.document is not None:
            self.document.close()
        self.pdf = b""
        self._pages = 0
        self.caption.setText(caption)
        self._enable(False)

    def page_count(self) -> int:
        return self._pages

    def open_external(self) -> bool:
        """Write the PDF to a temporary file and open it with the reader of
        the machine."""
        if not self.pdf:
            return False
        folder = Path(tempfile.gettempdir()) / "cus-desk"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.file_name
        try:
            target.write_bytes(self.pdf)
        except OSError as exc:
            show_error(self, f"Le relevé n'a pas pu être préparé pour le lecteur PDF ({exc.strerror}). "
                             "Enregistrez-le plutôt avec « Enregistrer en PDF ».")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def save(self, path: str | None = None) -> str | None:
        if not self.pdf:
            return None
        return save_pdf_bytes(self, self.pdf, self.file_name, path)

    def print_dialog(self) -> None:
        if not self.pdf:
            return
        if self.document is None:
            if self.open_external():
                show_info(self, "Le relevé est ouvert dans votre lecteur PDF : imprimez-le depuis "
                                "celui-ci (Ctrl+P).")
            else:
                show_error(self, "Aucun lecteur PDF n'a pu être ouvert : enregistrez le relevé en PDF "
                                 "puis imprimez le fichier.")
            return
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.file_name)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Imprimer le relevé de décisions")
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        try:
            print_document(self.document, printer)
        except OSError:
            show_error(self, "L'impression n'a pas pu démarrer : vérifiez l'imprimante choisie, "
                             "ou enregistrez le relevé en PDF pour l'imprimer plus tard.")
