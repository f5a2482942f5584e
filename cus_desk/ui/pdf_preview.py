"""The one PDF preview of the application: the relevé de décisions (an
embedded panel of the Séances screen), the fiche de signalement and the
partner lists (a dialog). The PDF bytes come from a service; nothing is
generated here.

- ``PdfPreview``: QPdfView (all pages, fit to width), a caption, « Imprimer… »
  (system print dialog with a page range; to a PDF file, the PDF's own
  pages are copied with their text; to a printer, each page is rendered at
  the printer's resolution and scaled to the printable area) and
  « Enregistrer en PDF… » (whole file or nothing).
- ``PdfPreviewDialog``: one ``PdfPreview`` in a window, with « Fermer »,
  Ctrl+P and Ctrl+S.

QtPdf ships with the full PySide6 add-ons; where it is missing (some
minimal installs), the panel says so and offers « Ouvrir dans le lecteur
PDF » (the machine's reader, which prints) and « Enregistrer en PDF… ».

Messages name the document through a French noun with its article
(« le relevé de décisions », « la fiche de signalement », « le document »)
and are worded so that they read right whatever its gender."""

from __future__ import annotations

import errno
import io
import re
import tempfile
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.ui.common import set_accessible, show_error, show_info

try:  # QtPdf is part of the PySide6 add-ons, absent from some installs
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView

    HAVE_QTPDF = True
except ImportError:  # pragma: no cover - depends on the installed wheels
    QPdfDocument = QPdfView = None
    HAVE_QTPDF = False

#: Pages are rasterised for a physical printer at its resolution, but no
#: finer than this: an A4 page at 1200 dpi would be a 550 MB image. (A PDF
#: file is never rasterised: see write_pdf_pages.)
MAX_PRINT_DPI = 300

NO_QTPDF = ("L'aperçu intégré n'est pas disponible sur ce poste (module QtPdf absent). "
            "Pour lire ou imprimer {noun}, utilisez « Ouvrir dans le lecteur PDF » ; "
            "pour en garder une copie, « Enregistrer en PDF… ».")

_REASONS = {
    errno.ENOENT: "le dossier n'existe pas",
    errno.EACCES: "accès refusé",
    errno.EPERM: "accès refusé",
    errno.ENOSPC: "le disque est plein",
    errno.EROFS: "le support est en lecture seule",
    errno.EISDIR: "c'est un dossier",
}


def of(noun: str) -> str:
    """« de » + the noun, contracted as French wants: « du relevé »,
    « de la fiche », « des listes », « de l'annexe »."""
    if noun.startswith("le "):
        return "du " + noun[3:]
    if noun.startswith("les "):
        return "des " + noun[4:]
    return "de " + noun


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno) or exc.strerror or str(exc)


def with_pdf_suffix(path: str | Path) -> Path:
    """``path`` ending in ``.pdf`` (« releve » → « releve.pdf », « v1.2 » →
    « v1.2.pdf »), unchanged when it already does."""
    target = Path(path)
    return target if target.suffix.lower() == ".pdf" else target.with_name(target.name + ".pdf")


def save_pdf_bytes(pdf: bytes, path: str | Path, noun: str = "le document") -> Path:
    """Write ``pdf`` to ``path`` (``.pdf`` added when missing) whole: a
    ``.part`` file first, then a rename, so a failure never leaves a
    half-written PDF. Returns the path written; raises ``ValidationError``
    with a French message naming the document otherwise."""
    target = with_pdf_suffix(path)
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_bytes(pdf)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ValidationError(f"Impossible d'enregistrer {noun} dans « {target} » ({_reason(exc)}). "
                              "Choisissez un autre dossier.", "path") from exc
    return target


def selected_pages(printer, page_count: int) -> list[int]:
    """The pages (0-based, in order, each once) that the print dialog asked
    for: every page, or the range typed (« 2-3,5 »), within the document."""
    from PySide6.QtPrintSupport import QPrinter

    if printer.printRange() != QPrinter.PrintRange.PageRange:
        return list(range(page_count))
    ranges = printer.pageRanges()
    spans = [(r.from_, r.to) for r in ranges.toRangeList()] if not ranges.isEmpty() else \
        [(printer.fromPage(), printer.toPage())]
    pages: list[int] = []
    for first, last in spans:
        if first <= 0:  # 0 means "no range given"
            return list(range(page_count))
        for number in range(first, min(last, page_count) + 1):
            if number - 1 not in pages:
                pages.append(number - 1)
    return pages


def prints_to_pdf_file(printer) -> bool:
    """The printer writes a PDF file (« Imprimer dans un fichier », or a
    PDF printer set up so): the PDF itself is copied, text and all."""
    from PySide6.QtPrintSupport import QPrinter

    return printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and bool(printer.outputFileName())


def write_pdf_pages(pdf: bytes, pages: list[int], path: str | Path) -> None:
    """Write ``pages`` (0-based) of ``pdf`` to ``path``, unchanged (vector
    text and fonts kept): the whole file as it is when every page is asked,
    else a copy of those pages (pypdf). A ``.part`` file first, then a
    rename. Raises OSError when it cannot be written."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    if pages == list(range(len(reader.pages))):
        data = pdf
    else:
        writer = PdfWriter()
        for page in pages:
            writer.add_page(reader.pages[page])
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def print_pages(document, printer, pages: list[int] | None = None) -> None:
    """Paint ``pages`` (0-based; default every page) of ``document`` (a
    loaded QPdfDocument) on ``printer`` (a physical QPrinter), one sheet a
    page, each scaled to the printable area with its proportions kept and
    rendered at the printer's resolution (no finer than MAX_PRINT_DPI).
    Raises OSError when the printer cannot be opened."""
    if pages is None:
        pages = list(range(document.pageCount()))
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("imprimante indisponible")
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = painter.viewport()
        raster = min(1.0, MAX_PRINT_DPI / max(printer.resolution(), 1))
        for n, page in enumerate(pages):
            if n and not printer.newPage():
                raise OSError("page suivante refusée par l'imprimante")
            fitted = document.pagePointSize(page).scaled(QSizeF(area.size()), Qt.AspectRatioMode.KeepAspectRatio)
            image = document.render(page, QSize(max(1, round(fitted.width() * raster)),
                                                max(1, round(fitted.height() * raster))))
            painter.drawImage(QRectF(area.x(), area.y(), fitted.width(), fitted.height()), image)
    finally:
        painter.end()


class PdfPreview(QWidget):
    """A PDF shown from bytes, with « Imprimer… » and « Enregistrer en
    PDF… ». ``noun`` names the document in messages and accessible names.
    ``saved`` is emitted with the path of each PDF written."""

    saved = Signal(object)

    def __init__(self, noun: str = "le document", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.noun = noun
        self.pdf = b""
        self.file_name = "document.pdf"
        self.saved_path: Path | None = None
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
            self.view = QLabel(NO_QTPDF.format(noun=noun))
            self.view.setWordWrap(True)
            self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_accessible(self.view, f"Aperçu {of(noun)}")
        self.caption = QLabel("Aucun document.")
        self.caption.setWordWrap(True)
        self.open_button = self._button("&Ouvrir dans le lecteur PDF", f"Ouvrir {noun} dans le lecteur PDF",
                                        self.open_external)
        self.open_button.setVisible(not HAVE_QTPDF)
        self.print_button = self._button("&Imprimer…", f"Imprimer {noun}", self.print_dialog)
        self.save_button = self._button("Enregistrer en &PDF…", f"Enregistrer {noun} en PDF", lambda: self.save())
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.caption, 1)
        for button in (self.open_button, self.print_button, self.save_button):
            self.buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.buttons)
        layout.addWidget(self.view, 1)
        self._enable(False)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        set_accessible(button, name)
        button.clicked.connect(slot)
        return button

    def _enable(self, on: bool) -> None:
        for button in (self.print_button, self.save_button, self.open_button):
            button.setEnabled(on)

    def _unload(self) -> None:
        if self.document is not None:
            self.document.close()
        if self._buffer is not None:
            self._buffer.close()
            self._buffer.deleteLater()
            self._buffer = None

    # --- content -----------------------------------------------------------------

    def set_pdf(self, pdf: bytes, file_name: str, caption: str) -> None:
        """Show ``pdf``; ``file_name`` is proposed when saving."""
        self._unload()
        self.pdf, self.file_name = pdf, file_name
        if self.document is not None:
            self._buffer = QBuffer(self)
            self._buffer.setData(QByteArray(pdf))
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.document.load(self._buffer)
            self._pages = self.document.pageCount()
            unreadable = self.document.status() == QPdfDocument.Status.Error or not self._pages
            # The built-in viewer could not read it: the machine's reader may.
            self.open_button.setVisible(bool(pdf) and unreadable)
            self.print_button.setVisible(not unreadable)
            if pdf and unreadable:
                caption = (f"{caption}\nL'aperçu intégré ne peut pas afficher {self.noun} : ouvrez ce "
                           "document dans le lecteur PDF, ou enregistrez-le.")
        else:
            self._pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
            self.view.setText(f"{NO_QTPDF.format(noun=self.noun)}\n\n"
                              f"{self._pages} page(s), {len(pdf) // 1024 + 1} Ko.")
        self.caption.setText(caption)
        self._enable(bool(pdf))

    def clear(self, caption: str = "Aucun document.") -> None:
        self._unload()
        self.pdf = b""
        self._pages = 0
        if self.document is None:
            self.view.setText(NO_QTPDF.format(noun=self.noun))
        self.caption.setText(caption)
        self._enable(False)

    def page_count(self) -> int:
        return self._pages

    # --- actions -----------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the PDF to ``path``, or where the user says. Returns the
        path written (also kept in ``saved_path``), None when cancelled or
        when it could not be written (the user is told why)."""
        if not self.pdf:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Enregistrer {self.noun} en PDF", self.file_name,
                                                  "Documents PDF (*.pdf)")
            if not path:
                return None
        try:
            target = save_pdf_bytes(self.pdf, path, self.noun)
        except CusDeskError as exc:
            show_error(self, exc)
            return None
        self.saved_path = target
        self.saved.emit(target)
        return target

    def print_dialog(self) -> None:
        """« Imprimer… »: the system print dialog, then every page; without
        QtPdf, the machine's PDF reader prints instead."""
        if not self.pdf:
            return
        if self.document is None:
            if self.open_external():
                show_info(self, f"Le lecteur PDF du poste affiche {self.noun} : imprimez depuis celui-ci "
                                "(Ctrl+P).")
            return
        from PySide6.QtPrintSupport import QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.file_name)
        dialog = self.make_print_dialog(printer)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def make_print_dialog(self, printer):
        """The system print dialog for ``printer``: a page range from 1 to
        the last page (not « 1 à 1 »), printing to a file allowed."""
        from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog

        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Imprimer {self.noun}")
        option = QAbstractPrintDialog.PrintDialogOption
        dialog.setOptions(option.PrintPageRange | option.PrintToFile | option.PrintShowPageSize
                          | option.PrintCollateCopies)
        last = max(1, self._pages)
        dialog.setMinMax(1, last)
        printer.setFromTo(1, last)
        return dialog

    def print_to(self, printer) -> bool:
        """Print the pages asked in the dialog on ``printer`` (a configured
        QPrinter). To a PDF file: the PDF itself, those pages copied with
        their text. To a printer: each page rendered at the printer's
        resolution."""
        if not self.pdf or not self._pages:
            return False
        pages = selected_pages(printer, self._pages)
        if not pages:
            show_error(self, f"Aucune page à imprimer : {self.noun} compte {self._pages} page(s). "
                             "Choisissez des pages entre 1 et la dernière.")
            return False
        if prints_to_pdf_file(printer):
            try:
                write_pdf_pages(self.pdf, pages, printer.outputFileName())
            except OSError as exc:
                show_error(self, f"Impossible d'imprimer {self.noun} dans « {printer.outputFileName()} » "
                                 f"({_reason(exc)}). Choisissez un autre dossier.")
                return False
            return True
        if self.document is None:
            return False
        try:
            print_pages(self.document, printer, pages)
        except OSError:
            show_error(self, f"L'impression n'a pas pu démarrer : vérifiez l'imprimante choisie, ou "
                             f"enregistrez {self.noun} en PDF pour l'imprimer plus tard.")
            return False
        return True

    def open_external(self) -> bool:
        """Open a copy of the PDF (in the temporary folder) with the
        machine's PDF reader."""
        if not self.pdf:
            return False
        folder = Path(tempfile.gettempdir()) / "cus-desk"
        target = folder / with_pdf_suffix(Path(self.file_name).name or "document")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.pdf)
        except OSError as exc:
            show_error(self, f"Impossible de préparer {self.noun} pour le lecteur PDF ({_reason(exc)}). "
                             "Utilisez plutôt « Enregistrer en PDF… ».")
            return False
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
            show_error(self, f"Aucun lecteur PDF n'a pu être ouvert sur ce poste : enregistrez {self.noun} "
                             "en PDF, puis ouvrez le fichier depuis son dossier.")
            return False
        return True


class PdfPreviewDialog(QDialog):
    """A window around one ``PdfPreview``: « Fermer », Ctrl+P prints,
    Ctrl+S saves. ``saved`` is emitted with the path of each PDF written."""

    saved = Signal(object)

    def __init__(self, pdf: bytes, file_name: str, title: str, caption: str = "",
                 noun: str = "le document", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.preview = PdfPreview(noun, self)
        self.preview.set_pdf(pdf, file_name, caption or title)
        self.preview.saved.connect(self.saved)
        close = QPushButton("&Fermer")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addLayout(bottom)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.preview.print_dialog)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=lambda: self.preview.save())
        self._size_to_screen()

    def _size_to_screen(self) -> None:
        """A page's width readable, within the screen's free area."""
        wanted = QSize(860, 940) if HAVE_QTPDF else QSize(620, 260)
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry().size() * 0.9
            wanted = wanted.boundedTo(room)
        self.resize(wanted)
