"""A CSV or XLSX file read as text rows, the way management systems export
them: UTF-8 (with or without BOM), UTF-16 or Windows-1252; separator ``;``,
``,`` or tab; title lines, an edition line, empty lines or a merged title
row above the header row, which is found by ``score`` (how many known
columns a row names).

Every read is bounded (``limits.Limits``): file size, decompressed size of
a workbook, rows, columns, time; a sparse-sheet "bomb" declaring a million
rows by 16,384 columns is refused instead of being expanded. A file that
cannot be read as a whole raises ``ImportRefused``; nothing is stored by
this module."""

from __future__ import annotations

import csv
import io
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.importing.limits import DEFAULT_LIMITS, Limits, thousands

Cancelled = Callable[[], bool]
HeaderScore = Callable[[list[str]], int]


class ImportRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was changed."""


class ImportCancelled(CusDeskError):
    def __init__(self) -> None:
        super().__init__("Import annulé : la base de données n'a pas été modifiée.")


@dataclass
class RawTable:
    """A file read as text rows: ``rows`` are (line number in the file,
    cells), below the header row (``header_line``); ``preamble`` holds the
    text of the title lines above it."""

    source_name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    kind: str  # "csv" | "xlsx"
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    header_line: int = 1
    preamble: list[str] = field(default_factory=list)
    clean: bool = False  # no control, ANSI or bidi character anywhere (CSV): cells need no cleaning


UNREADABLE = (
    "Le fichier « {name} » ne peut pas être lu comme un extrait d'impayés ({why}). "
    "Exportez-le de nouveau au format CSV ou XLSX depuis le logiciel de gestion, puis recommencez."
)


def refuse(name: str, why: str) -> ImportRefused:
    return ImportRefused(UNREADABLE.format(name=name, why=why))


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} Mo" if n >= 1024 * 1024 else f"{n / 1024:.0f} Ko"


def too_big(name: str, size: int, limits: Limits) -> ImportRefused:
    return ImportRefused(
        f"Le fichier « {name} » est trop gros ({_megabytes(size)} ; au plus "
        f"{_megabytes(limits.max_bytes)}). Un extrait d'impayés en fait quelques mégaoctets : "
        "vérifiez qu'il s'agit du bon fichier, ou exportez seulement les locataires en impayé. "
        "Rien n'a été importé.")


def too_many_rows(name: str, limits: Limits) -> ImportRefused:
    return ImportRefused(
        f"Le fichier « {name} » a plus de {thousands(limits.max_rows)} lignes : ce n'est pas un "
        "extrait d'impayés tel que le logiciel de gestion le produit. Vérifiez qu'il s'agit du bon "
        "fichier (ou de la bonne feuille). Rien n'a été importé.")


def too_many_columns(name: str, count: int | None, line: int, limits: Limits) -> ImportRefused:
    shown = f"{thousands(count)} colonnes" if count else "trop de colonnes"
    return ImportRefused(
        f"La ligne {line} du fichier « {name} » a {shown} (au plus {limits.max_columns}) : ce "
        "n'est pas un extrait d'impayés. Vérifiez qu'il s'agit du bon fichier. Rien n'a été importé.")


def too_long(name: str, limits: Limits) -> ImportRefused:
    return ImportRefused(
        f"La lecture du fichier « {name} » a dépassé {limits.max_seconds:.0f} secondes : elle a été "
        "arrêtée. Vérifiez le fichier (un extrait se lit en quelques secondes). Rien n'a été importé.")


# ------------------------------------------------------------------ reading

def read_bytes(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, refused when it is missing, not an ordinary file
    (a device such as /dev/zero, a pipe, a folder) or too big."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImportRefused(f"Le fichier « {path} » est introuvable. Vérifiez son emplacement.") from None
    except OSError as exc:
        raise ImportRefused(f"Le fichier « {path.name} » ne peut pas être ouvert "
                            f"({exc.strerror or exc}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportRefused(
            f"« {path} » n'est pas un fichier ordinaire (dossier, périphérique ou tube) : choisissez "
            "le fichier CSV ou XLSX exporté par le logiciel de gestion.")
    if info.st_size > limits.max_bytes:
        raise too_big(path.name, info.st_size, limits)
    try:
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)  # bounded even if the file grows meanwhile
    except OSError as exc:
        raise ImportRefused(
            f"Le fichier « {path.name} » ne peut pas être ouvert ({exc.strerror or exc}). "
            "Fermez-le s'il est ouvert dans un autre logiciel, puis recommencez."
        ) from None
    if len(data) > limits.max_bytes:
        raise too_big(path.name, len(data), limits)
    return data


def is_xlsx(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def read_table(path: Path | str, sheet: str | None = None, cancelled: Cancelled | None = None, *,
               score: HeaderScore | None = None, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    path = Path(path)
    data = read_bytes(path, limits)
    if not data.strip():
        raise ImportRefused(f"Le fichier « {path.name} » est vide : il n'y a rien à importer.")
    if is_xlsx(data):
        return read_xlsx_bytes(data, path.name, sheet, cancelled, score=score, limits=limits)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse(path.name, "ancien format Excel .xls ; enregistrez-le en .xlsx ou en CSV")
    return read_csv_bytes(data, path.name, score=score, limits=limits, cancelled=cancelled)


def list_sheets(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Sheet names of an XLSX file (empty list for a CSV)."""
    path = Path(path)
    data = read_bytes(path, limits)
    if not is_xlsx(data):
        return []
    wb = _open_workbook(data, path.name, limits)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


# --------------------------------------------------------------- the header

def _texts(cells: Iterable[Any]) -> list[str]:
    return ["" if v is None else str(v).strip() for v in cells]


def _choose_header(candidates: list[tuple[int, list[Any]]], score: HeaderScore | None) -> int:
    """Index (in ``candidates``, the first non-empty rows) of the header row:
    the first row naming the most known columns (two at least); else the
    first of the widest rows (headers all unknown: the mapping dialog then
    offers them, not a title line)."""
    if not candidates:
        return 0
    if score is not None:
        scores = [score(_texts(cells)) for _line, cells in candidates]
        best = max(scores)
        if best >= 2:
            return scores.index(best)
    widths = [_width(cells) for _line, cells in candidates]
    return widths.index(max(widths))


def _width(cells: Iterable[Any]) -> int:
    return sum(1 for c in cells if c is not None and str(c).strip())


# ---------------------------------------------------------------------- CSV

# clean_text's characters, less the line breaks and tab a CSV is made of.
_UNSAFE_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                               "\u2060-\u2069\u061c\ufeff]")

def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data[:4096]:
        raise refuse(name, "fichier binaire, ni CSV ni XLSX")
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise refuse(name, "encodage illisible") from None
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise refuse(name, "encodage illisible") from None
    if "\x00" in text:
        raise refuse(name, "fichier binaire, ni CSV ni XLSX")
    return text.lstrip("\ufeff"), encoding


def _non_empty(records: Iterable[list[str]]) -> Iterator[list[str]]:
    for cells in records:
        if cells and "".join(cells).strip():
            yield cells


def _sniff(text: str, score: HeaderScore | None, limits: Limits) -> tuple[str, int]:
    """(separator, index of the header among the non-empty records): the
    separator under which some early row names the most known columns;
    without one, the separator the first line uses most."""
    head_lines = text[:65536].splitlines()[:limits.header_scan_rows * 3]
    best: tuple[int, int, str, int] | None = None  # (score, cells, sep, index)
    if score is not None:
        for sep in (";", "\t", ","):
            try:
                rows = list(_non_empty(csv.reader(head_lines, delimiter=sep)))[:limits.header_scan_rows]
            except csv.Error:
                continue
            for index, cells in enumerate(rows):
                value = score(_texts(cells))
                key = (value, len(cells), sep, index)
                if value >= 2 and (best is None or key[:2] > best[:2]):
                    best = key
    if best is not None:
        return best[2], best[3]
    # No row names known columns: the widest row under any title lines.
    widest: tuple[int, int, str, int] = (0, 0, ";", 0)  # (width, -priority, sep, index)
    for priority, sep in enumerate((";", "\t", ",")):
        try:
            rows = list(_non_empty(csv.reader(head_lines, delimiter=sep)))[:limits.header_scan_rows]
        except csv.Error:
            continue
        for index, cells in enumerate(rows):
            key = (_width(cells), -priority, sep, index)
            if key[:2] > widest[:2]:
                widest = key
    return widest[2], widest[3]


def read_csv_bytes(data: bytes, name: str, *, score: HeaderScore | None = None,
                   limits: Limits = DEFAULT_LIMITS, cancelled: Cancelled | None = None) -> RawTable:
    if len(data) > limits.max_bytes:
        raise too_big(name, len(data), limits)
    text, encoding = _decode(data, name)
    separator, header_index = _sniff(text, score, limits)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    deadline = limits.deadline()
    max_rows, max_columns = limits.max_rows, limits.max_columns
    headers: list[str] | None = None
    header_line = 0
    preamble: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    seen = 0
    try:
        for cells in reader:
            if not cells or not "".join(cells).strip():
                continue
            if len(cells) > max_columns:
                raise too_many_columns(name, len(cells), reader.line_num, limits)
            if headers is None:
                if seen == header_index:
                    headers, header_line = _texts(cells), reader.line_num
                else:
                    preamble.append(" ".join(c.strip() for c in cells if c.strip()))
                seen += 1
                continue
            rows.append((reader.line_num, cells))
            if len(rows) % 5000 == 0:
                if len(rows) > max_rows:
                    raise too_many_rows(name, limits)
                if deadline.expired():
                    raise too_long(name, limits)
                if cancelled is not None and cancelled():
                    raise ImportCancelled()
    except csv.Error as exc:
        raise refuse(name, f"structure CSV invalide ligne {reader.line_num} : {exc}") from None
    if len(rows) > max_rows:
        raise too_many_rows(name, limits)
    if headers is None:
        raise ImportRefused(f"Le fichier « {name} » est vide : il n'y a rien à importer.")
    return RawTable(name, headers, rows, "csv", encoding, separator, header_line=header_line,
                    preamble=preamble, clean=_UNSAFE_BUT_LINES.search(text) is None)


# --------------------------------------------------------------------- XLSX

def _open_workbook(data: bytes, name: str, limits: Limits):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(max(info.file_size, 0) for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise refuse(name, f"classeur Excel endommagé : {exc.__class__.__name__}") from exc
    if unzipped > limits.max_unzipped_bytes:
        raise ImportRefused(
            f"Le classeur « {name} » occupe {_megabytes(unzipped)} une fois décompressé (au plus "
            f"{_megabytes(limits.max_unzipped_bytes)}) : ce n'est pas un extrait d'impayés tel que "
            "le logiciel de gestion le produit. Rien n'a été importé.")
    try:
        # A file object: openpyxl would otherwise judge the file by its extension.
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise refuse(name, f"classeur Excel endommagé : {exc.__class__.__name__}") from exc


def read_xlsx_bytes(data: bytes, name: str, sheet: str | None = None, cancelled: Cancelled | None = None,
                    *, score: HeaderScore | None = None, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    wb = _open_workbook(data, name, limits)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportRefused(
                f"Le classeur « {name} » n'a pas de feuille « {sheet} ». "
                f"Feuilles présentes : {', '.join(wb.sheetnames)}."
            )
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        return _read_sheet(ws, name, cancelled, score, limits)
    except (ImportRefused, ImportCancelled):
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise refuse(name, f"classeur Excel illisible : {exc.__class__.__name__}") from exc
    finally:
        wb.close()


def _read_sheet(ws, name: str, cancelled: Cancelled | None, score: HeaderScore | None,
                limits: Limits) -> RawTable:
    # The declared size (<dimension>) is not trusted: a 2 KB "sparse" sheet may
    # declare A1:XFD1048576 and openpyxl would expand every row to 16,384
    # cells. Rows and columns are read up to the bounds only.
    physical_cap = limits.max_rows + limits.header_scan_rows + 1_000
    try:
        declared_columns = ws.max_column
    except Exception:  # noqa: BLE001 - an unreadable dimension: read up to the bound
        declared_columns = None
    width = limits.max_columns + 1
    if declared_columns is not None and 0 < declared_columns < width:
        width = declared_columns
    deadline = limits.deadline()
    candidates: list[tuple[int, list[Any]]] = []
    rows: list[tuple[int, list[Any]]] = []
    header_index: int | None = None
    number = 0
    for number, values in enumerate(ws.iter_rows(values_only=True, max_col=width, max_row=physical_cap),
                                    start=1):
        if number % 1000 == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelled()  # reading a big workbook takes a while
            if deadline.expired():
                raise too_long(name, limits)
        if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
            continue
        if len(values) > limits.max_columns and any(v is not None for v in values[limits.max_columns:]):
            raise too_many_columns(name, None, number, limits)
        if header_index is None:
            candidates.append((number, list(values)))
            if len(candidates) >= limits.header_scan_rows:
                header_index = _choose_header(candidates, score)
                rows.extend(candidates[header_index + 1:])
            continue
        rows.append((number, list(values)))
        if len(rows) > limits.max_rows:
            raise too_many_rows(name, limits)
    if number >= physical_cap:
        raise too_many_rows(name, limits)
    if header_index is None:
        if not candidates:
            raise ImportRefused(
                f"La feuille « {ws.title} » du classeur « {name} » est vide. "
                "Choisissez la feuille qui contient l'extrait.")
        header_index = _choose_header(candidates, score)
        rows.extend(candidates[header_index + 1:])
    header_number, header_cells = candidates[header_index]
    preamble = [" ".join(t for t in _texts(cells) if t) for _n, cells in candidates[:header_index]]
    headers = _texts(header_cells)
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise ImportRefused(
            f"La feuille « {ws.title} » du classeur « {name} » n'a pas de ligne d'en-têtes. "
            "Choisissez la feuille qui contient l'extrait.")
    return RawTable(name, headers, rows, "xlsx", sheet=ws.title, header_line=header_number,
                    preamble=preamble)
