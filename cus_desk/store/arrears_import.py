"""Import of an arrears extract (extrait d'impayés) of the management system.

Three steps, each testable without Qt:

1. ``read_table(path, sheet)`` reads a CSV (UTF-8, UTF-8 with BOM, UTF-16 or
   Windows-1252; separator ``;``, ``,`` or tab, detected) or an XLSX sheet.
   A file that cannot be read as a whole raises ``ImportRefused``.
2. ``analyse(headers, remembered)`` recognises the columns by header (case,
   accents, punctuation ignored); ``parse_rows`` turns each line into a
   ``ParsedLine`` or a rejection (line number, header = line 1, French reason).
3. ``store_extract(session, ...)`` writes everything inside the caller's
   transaction: leases, households and tenants created or updated (matching
   on the contract number), one ``ArrearsLine`` per lease. An extract with
   the same date is replaced. ``cancelled()`` is checked as it goes; the
   caller's rollback then leaves the database as it was.

Writes go through SQLAlchemy Core ``executemany`` (25,000 lines in well
under the 3 s goal; see tests/perf/bench_import.py)."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from typing import Any

from sqlalchemy import Date, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.parsing import (
    ParseError,
    normalize_header,
    normalize_name,
    parse_amount_cents,
    parse_date,
    parse_int,
)
from cus_desk.store.db import session_clock
from cus_desk.store.models.base import UTCDateTime
from cus_desk.store.models.core import Agency, Household, Lease, Tenant
from cus_desk.store.models.seniors import ArrearsColumnMapping, ArrearsExtract, ArrearsLine

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class ImportRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was changed."""


class MappingRequired(ImportRefused):
    """Required columns were not recognised: the user must say which column
    is which (mapping dialog), or fix the file."""

    def __init__(self, message: str, headers: list[str], mapping: dict[str, int],
                 missing: list[str]) -> None:
        super().__init__(message)
        self.headers = headers
        self.mapping = mapping
        self.missing = missing


class ImportCancelled(CusDeskError):
    def __init__(self) -> None:
        super().__init__("Import annulé : la base de données n'a pas été modifiée.")


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    recommended: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("contract", "N° contrat", ("n contrat", "numero de contrat", "contrat", "n de contrat",
                                         "no contrat", "num contrat", "numero contrat", "n du contrat"),
              required=True),
    FieldSpec("last_name", "Nom", ("nom", "nom du locataire", "nom locataire"), recommended=True),
    FieldSpec("first_name", "Prénom", ("prenom", "prenom du locataire", "prenom locataire")),
    FieldSpec("birth_date", "Date de naissance", ("date de naissance", "ne e le", "ne le", "nee le",
                                                  "date naissance", "date de naissance titulaire"),
              recommended=True),
    FieldSpec("cotenant_birth_date", "Date de naissance cotitulaire",
              ("date de naissance cotitulaire", "date naissance cotitulaire",
               "date de naissance du cotitulaire")),
    FieldSpec("agency", "Agence", ("agence", "agence de gestion"), recommended=True),
    FieldSpec("commune", "Commune", ("commune", "ville")),
    FieldSpec("address", "Adresse", ("adresse", "adresse du logement")),
    FieldSpec("lease_start", "Date d'entrée", ("date d entree", "date entree", "date d entree dans les lieux")),
    FieldSpec("balance", "Solde", ("solde", "solde debiteur", "montant impaye", "montant des impayes"),
              required=True),
    FieldSpec("months_unpaid", "Nb mois impayés", ("nb mois impayes", "mois d impayes", "nombre de mois impayes",
                                                   "nb de mois impayes", "mois impayes")),
    FieldSpec("last_payment", "Date dernier paiement", ("date dernier paiement", "date du dernier paiement")),
    FieldSpec("rent", "Loyer + charges", ("loyer charges", "loyer charges comprises", "loyer et charges")),
    FieldSpec("phone", "Téléphone", ("telephone", "tel", "telephone locataire")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
_ALIAS_TO_FIELD = {alias: f.key for f in FIELDS for alias in f.aliases}


@dataclass
class RawTable:
    """A file read as text rows: ``rows`` are (line number, cells)."""

    source_name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    kind: str  # "csv" | "xlsx"
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str


@dataclass(frozen=True)
class HeaderAnalysis:
    headers: list[str]
    mapping: dict[str, int]  # field key -> column index
    unknown: list[str]  # headers matching no field
    missing_required: list[str]  # field keys
    missing_recommended: list[str]
    signature: str
    remembered: bool = False

    @property
    def needs_mapping(self) -> bool:
        """Worth asking the user: a required column is missing, or a
        recommended one is missing while some headers were not recognised."""
        return bool(self.missing_required) or bool(self.missing_recommended and self.unknown)


@dataclass(slots=True)
class ParsedLine:
    line: int
    contract: str
    balance_cents: int
    last_name: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    cotenant_birth_date: date | None = None
    agency: str | None = None
    commune: str | None = None
    address: str | None = None
    lease_start: date | None = None
    months_unpaid: int | None = None
    last_payment: date | None = None
    rent_cents: int | None = None
    phone: str | None = None


@dataclass
class ImportResult:
    extract_id: int
    extract_date: date
    source_name: str
    lines_read: int
    imported: int
    rejected: list[RejectedLine] = field(default_factory=list)
    replaced: bool = False
    leases_created: int = 0
    leases_updated: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "extract_date": self.extract_date.isoformat(),
            "lines_read": self.lines_read,
            "imported": self.imported,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector during a bulk load: the import
    allocates hundreds of thousands of small containers (none cyclic) and
    the collector would otherwise rescan them over and over (a third of the
    import time at 25,000 lines)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------- reading

UNREADABLE = (
    "Le fichier « {name} » ne peut pas être lu comme un extrait d'impayés ({why}). "
    "Exportez-le de nouveau au format CSV ou XLSX depuis le logiciel de gestion, puis recommencez."
)


def _refuse(name: str, why: str) -> ImportRefused:
    return ImportRefused(UNREADABLE.format(name=name, why=why))


def list_sheets(path: Path | str) -> list[str]:
    """Sheet names of an XLSX file (empty list for a CSV)."""
    path = Path(path)
    if not _is_xlsx(path):
        return []
    wb = _open_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _is_xlsx(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _open_workbook(path: Path):
    from openpyxl import load_workbook

    try:
        # A file object: openpyxl would otherwise judge the file by its extension.
        return load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except OSError as exc:
        raise ImportRefused(f"Le fichier « {path.name} » ne peut pas être ouvert ({exc}).") from exc
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise _refuse(path.name, f"classeur Excel endommagé : {exc.__class__.__name__}") from exc


def read_table(path: Path | str, sheet: str | None = None,
               cancelled: Cancelled | None = None) -> RawTable:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"Le fichier « {path} » est introuvable. Vérifiez son emplacement.") from None
    except OSError as exc:
        raise ImportRefused(
            f"Le fichier « {path.name} » ne peut pas être ouvert ({exc.strerror or exc}). "
            "Fermez-le s'il est ouvert dans un autre logiciel, puis recommencez."
        ) from None
    if not data.strip():
        raise ImportRefused(f"Le fichier « {path.name} » est vide : il n'y a rien à importer.")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, sheet, cancelled)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(path.name, "ancien format Excel .xls ; enregistrez-le en .xlsx ou en CSV")
    return read_csv_bytes(data, path.name)


def read_csv_bytes(data: bytes, name: str) -> RawTable:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data[:4096]:
        raise _refuse(name, "fichier binaire, ni CSV ni XLSX")
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise _refuse(name, "encodage illisible") from None
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise _refuse(name, "encodage illisible") from None
    if "\x00" in text:
        raise _refuse(name, "fichier binaire, ni CSV ni XLSX")
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    counts = {sep: first_line.count(sep) for sep in (";", "\t", ",")}
    separator = max(counts, key=lambda s: counts[s])
    if counts[separator] == 0:
        separator = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        headers = next(reader, None)
        if headers is None:
            raise ImportRefused(f"Le fichier « {name} » est vide : il n'y a rien à importer.")
        rows: list[tuple[int, list[Any]]] = []
        for cells in reader:
            if not cells or not "".join(cells).strip():
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise _refuse(name, f"structure CSV invalide ligne {reader.line_num} : {exc}") from None
    return RawTable(name, [h.strip() for h in headers], rows, "csv", encoding, separator)


def _read_xlsx(path: Path, sheet: str | None, cancelled: Cancelled | None = None) -> RawTable:
    wb = _open_workbook(path)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportRefused(
                f"Le classeur « {path.name} » n'a pas de feuille « {sheet} ». "
                f"Feuilles présentes : {', '.join(wb.sheetnames)}."
            )
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows: list[tuple[int, list[Any]]] = []
        headers: list[str] | None = None
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if number % 1000 == 0 and cancelled is not None and cancelled():
                raise ImportCancelled()  # reading a big workbook takes a while
            cells = list(values)
            if headers is None:
                if number == 1:
                    headers = ["" if v is None else str(v).strip() for v in cells]
                    continue
            if not any(v is not None and str(v).strip() for v in cells):
                continue
            rows.append((number, cells))
        if headers is None or not any(headers):
            raise ImportRefused(
                f"La feuille « {ws.title} » du classeur « {path.name} » est vide ou n'a pas "
                "d'en-têtes en première ligne. Choisissez la feuille qui contient l'extrait."
            )
        return RawTable(path.name, headers, rows, "xlsx", sheet=ws.title)
    except (ImportRefused, ImportCancelled):
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise _refuse(path.name, f"classeur Excel illisible : {exc.__class__.__name__}") from exc
    finally:
        wb.close()


# -------------------------------------------------------------------- headers

def header_signature(headers: Iterable[str]) -> str:
    """The shape of a file: its normalised headers, in order."""
    joined = "\x1f".join(normalize_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def analyse(headers: list[str], remembered: dict[str, str] | None = None) -> HeaderAnalysis:
    """Which column holds which field. ``remembered`` is a mapping {field:
    header} saved for files of this shape; it completes the recognised one."""
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        key = _ALIAS_TO_FIELD.get(normalize_header(header))
        if key is not None and key not in mapping:
            mapping[key] = index
        elif key is None and header.strip():
            unknown.append(header)
    used_remembered = False
    if remembered:
        by_norm = {normalize_header(h): i for i, h in enumerate(headers)}
        for key, header in remembered.items():
            index = by_norm.get(normalize_header(header))
            if key in FIELD_BY_KEY and index is not None and key not in mapping:
                mapping[key] = index
                used_remembered = True
                if headers[index] in unknown:
                    unknown.remove(headers[index])
    return HeaderAnalysis(
        headers=list(headers),
        mapping=mapping,
        unknown=unknown,
        missing_required=[f.key for f in FIELDS if f.required and f.key not in mapping],
        missing_recommended=[f.key for f in FIELDS if f.recommended and f.key not in mapping],
        signature=header_signature(headers),
        remembered=used_remembered,
    )


def mapping_from_headers(headers: list[str], chosen: dict[str, str]) -> dict[str, int]:
    """{field: header} (as chosen in the mapping dialog) → {field: index}."""
    index = {h: i for i, h in enumerate(headers)}
    result = {}
    for key, header in chosen.items():
        if key not in FIELD_BY_KEY:
            raise ValidationError(f"Champ inconnu : {key}.")
        if header not in index:
            raise ValidationError(f"La colonne « {header} » n'existe pas dans le fichier.")
        result[key] = index[header]
    return result


def require_columns(table: RawTable, mapping: dict[str, int]) -> None:
    missing = [f.key for f in FIELDS if f.required and f.key not in mapping]
    if missing:
        labels = ", ".join(f"« {FIELD_BY_KEY[k].label} »" for k in missing)
        found = ", ".join(f"« {h} »" for h in table.headers if h) or "aucune"
        raise MappingRequired(
            f"Le fichier « {table.source_name} » n'a pas de colonne reconnue pour {labels} "
            f"(colonnes trouvées : {found}). Indiquez quelle colonne correspond, ou renommez "
            "l'en-tête dans le fichier, puis recommencez. Rien n'a été importé.",
            table.headers, dict(mapping), missing,
        )


# -------------------------------------------------------------------- parsing

_LABELS = {f.key: f.label for f in FIELDS}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_ROW_FIELDS = ("contract", "balance", "last_name", "first_name", "birth_date", "cotenant_birth_date",
               "agency", "commune", "address", "lease_start", "months_unpaid", "last_payment", "rent",
               "phone")


def _clean(value: Any) -> Any:
    """A cell as None (empty), stripped text, or a typed XLSX value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return value  # kept as a number: amounts and counts read it as such
    return value


def parse_rows(table: RawTable, mapping: dict[str, int], extract_date: date,
               progress: Progress | None = None, cancelled: Cancelled | None = None,
               progress_total: int | None = None) -> tuple[list[ParsedLine], list[RejectedLine]]:
    """Each row as a ParsedLine, or a RejectedLine (line number, French reason)."""
    require_columns(table, mapping)
    total = progress_total or len(table.rows)
    parsed: list[ParsedLine] = []
    rejected: list[RejectedLine] = []
    seen: dict[str, int] = {}
    width = max(len(table.headers), max(mapping.values()) + 1)
    # A missing column reads from one past the end: always empty.
    indexes = [mapping.get(key, width) for key in _ROW_FIELDS]
    is_csv = table.kind == "csv"
    date_cache: dict[Any, date] = {}
    amount_cache: dict[Any, int] = {}

    def as_date(value: Any, key: str) -> date | None:
        if value is None:
            return None
        hit = date_cache.get(value)
        if hit is not None:
            return hit
        try:
            result = parse_date(value, reference=extract_date)
        except ParseError as exc:
            label = _LABELS[key]
            raise ParseError(f"{label[0].lower()}{label[1:]} : {exc}") from None
        date_cache[value] = result
        return result

    def as_cents(value: Any, label: str) -> int:
        hit = amount_cache.get(value)
        if hit is not None:
            return hit
        try:
            result = parse_amount_cents(value)
        except ParseError as exc:
            raise ParseError(f"{label} : {exc}") from None
        amount_cache[value] = result
        return result

    for done, (number, cells) in enumerate(table.rows, start=1):
        if done % 1000 == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelled()
            if progress is not None:
                progress(done, total)
        if len(cells) <= width:
            cells = list(cells) + [None] * (width + 1 - len(cells))
        if is_csv:
            values = [(cells[i] or "").strip() or None for i in indexes]
        else:
            values = [_clean(cells[i]) for i in indexes]
        (contract, balance_raw, last_name, first_name, birth_raw, cobirth_raw, agency, commune,
         address, start_raw, months, lastpay_raw, rent, phone) = values
        if contract is None:
            rejected.append(RejectedLine(number, "numéro de contrat absent"))
            continue
        if not is_csv:
            contract = _text(contract)
        first_seen = seen.get(contract)
        if first_seen is not None:
            rejected.append(RejectedLine(
                number, f"contrat {contract} déjà présent ligne {first_seen} du même fichier"))
            continue
        seen[contract] = number
        try:
            if balance_raw is None:
                raise ParseError("solde absent")
            balance = as_cents(balance_raw, "solde")
            birth = as_date(birth_raw, "birth_date")
            if birth is not None and birth > extract_date:
                raise ParseError(
                    f"date de naissance {format_date(birth)} postérieure à la date de l'extrait")
            cobirth = as_date(cobirth_raw, "cotenant_birth_date")
            if cobirth is not None and cobirth > extract_date:
                raise ParseError(
                    f"date de naissance du cotitulaire {format_date(cobirth)} postérieure à la "
                    "date de l'extrait")
            if months is not None:
                months = parse_int(months, "nombre de mois impayés")
                if months < 0:
                    raise ParseError(f"nombre de mois impayés négatif ({months})")
            if rent is not None:
                rent = as_cents(rent, "loyer + charges")
            if not is_csv:
                last_name, first_name, agency, commune, address, phone = (
                    _opt_text(v) for v in (last_name, first_name, agency, commune, address, phone))
            line = ParsedLine(
                number, contract, balance, last_name, first_name, birth, cobirth, agency, commune,
                address, as_date(start_raw, "lease_start"), months, as_date(lastpay_raw, "last_payment"),
                rent, phone,
            )
        except ParseError as exc:
            del seen[contract]
            rejected.append(RejectedLine(number, str(exc)))
            continue
        parsed.append(line)
    return parsed, rejected


def _opt_text(value: Any) -> str | None:
    text = _text(value)
    return text or None


# -------------------------------------------------------------------- storing

def _agency_key(text: str) -> str:
    norm = normalize_name(text)
    for prefix in ("agence de ", "agence d ", "agence du ", "agence "):
        if norm.startswith(prefix):
            norm = norm[len(prefix):]
            break
    return norm.replace(" ", "")


def agency_lookup(session: Session) -> dict[str, int]:
    """Lenient keys (case, accents, "Agence de ...", spaces) → agency id."""
    lookup: dict[str, int] = {}
    for agency in session.scalars(select(Agency)):
        for text in (agency.name, agency.code, agency.label, agency.town):
            if text:
                lookup.setdefault(_agency_key(text), agency.id)
    return lookup


def store_extract(session: Session, extract_date: date, lines: list[ParsedLine],
                  rejected: list[RejectedLine], *, source_name: str, lines_read: int,
                  actor_id: int | None = None, progress: Progress | None = None,
                  cancelled: Cancelled | None = None, progress_offset: int = 0,
                  progress_total: int | None = None) -> ImportResult:
    """Write one extract inside the caller's transaction (see module doc)."""
    total = progress_total or (progress_offset + len(lines))

    def checkpoint(done: int) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled()
        if progress is not None:
            progress(progress_offset + done, total)

    checkpoint(0)
    rejected = list(rejected)
    now = session_clock(session).now()
    replaced = False
    old_id = session.scalar(select(ArrearsExtract.id).where(ArrearsExtract.extract_date == extract_date))
    if old_id is not None:
        session.execute(delete(ArrearsLine).where(ArrearsLine.extract_id == old_id))
        session.execute(delete(ArrearsExtract).where(ArrearsExtract.id == old_id))
        replaced = True

    agencies = agency_lookup(session)
    agency_ids: dict[str, int | None] = {}
    lt, ht, tt = Lease.__table__, Household.__table__, Tenant.__table__
    # Plain tuples (index constants below): 25,000 leases are compared per import.
    L_ID, L_HOUSEHOLD, L_AGENCY, L_COMMUNE, L_ADDRESS, L_START, L_RENT, L_VERSION = 0, 2, 3, 4, 5, 6, 7, 8
    lease_rows, iso = _fetch(session, select(
        lt.c.id, lt.c.contract_number, lt.c.household_id, lt.c.agency_id, lt.c.commune,
        lt.c.address, lt.c.start_date, lt.c.monthly_rent_cents, lt.c.version))
    existing = {row[1]: row for row in lease_rows}

    def stored(value: date | None):
        """A parsed date as the raw rows hold it (ISO text on SQLite)."""
        return value.isoformat() if iso and value is not None else value

    def loaded(value):
        return date.fromisoformat(value) if iso and isinstance(value, str) else value

    H_ID, H_LAST, H_FIRST, H_BIRTH = 0, 2, 3, 4
    holders: dict[int, tuple] = {}
    holder_rank: dict[int, tuple[int, int]] = {}
    tenant_rows, _ = _fetch(session, select(
        tt.c.id, tt.c.household_id, tt.c.last_name, tt.c.first_name, tt.c.birth_date, tt.c.position)
        .where(tt.c.relationship_kind == "titulaire"))
    for row in tenant_rows:
        rank = (row[5] or 0, row[0])  # the first titulaire of a household (lowest position, then id)
        if row[1] not in holder_rank or rank < holder_rank[row[1]]:
            holder_rank[row[1]] = rank
            holders[row[1]] = row
    phones = {row[0]: row for row in _fetch(session, select(ht.c.id, ht.c.phone, ht.c.version))[0]}

    new_lines: list[ParsedLine] = []
    new_agencies: list[int] = []
    lease_updates: list[dict] = []
    tenant_updates: list[dict] = []
    tenant_inserts: list[dict] = []
    phone_updates: list[dict] = []
    orphan_leases: list[tuple[ParsedLine, int, int]] = []  # existing lease without household
    lease_ids: dict[str, int] = {}
    kept: list[ParsedLine] = []

    for index, line in enumerate(lines, start=1):
        if index % 2000 == 0:
            checkpoint(index // 2)
        agency_id = None
        if line.agency is not None:
            agency_id = agency_ids.get(line.agency, -1)
            if agency_id == -1:
                agency_id = agency_ids[line.agency] = agencies.get(_agency_key(line.agency))
            if agency_id is None:
                rejected.append(RejectedLine(line.line, f"agence « {line.agency} » inconnue"))
                continue
        row = existing.get(line.contract)
        if row is None:
            if agency_id is None:
                rejected.append(RejectedLine(line.line, "agence absente (bail inconnu de CUS Desk)"))
                continue
            if line.last_name is None:
                rejected.append(RejectedLine(line.line, "nom du locataire absent (bail inconnu de CUS Desk)"))
                continue
            new_lines.append(line)
            new_agencies.append(agency_id)
            kept.append(line)
            continue
        lease_ids[line.contract] = row[L_ID]
        kept.append(line)
        if ((agency_id is not None and agency_id != row[L_AGENCY])
                or (line.commune is not None and line.commune != row[L_COMMUNE])
                or (line.address is not None and line.address != row[L_ADDRESS])
                or (line.lease_start is not None and stored(line.lease_start) != row[L_START])
                or (line.rent_cents is not None and line.rent_cents != row[L_RENT])):
            lease_updates.append({
                "b_id": row[L_ID], "b_version": row[L_VERSION],
                "agency_id": agency_id if agency_id is not None else row[L_AGENCY],
                "commune": line.commune if line.commune is not None else row[L_COMMUNE],
                "address": line.address if line.address is not None else row[L_ADDRESS],
                "start_date": line.lease_start if line.lease_start is not None else loaded(row[L_START]),
                "monthly_rent_cents": line.rent_cents if line.rent_cents is not None else row[L_RENT],
            })
        household_id = row[L_HOUSEHOLD]
        if household_id is None:
            orphan_leases.append((line, row[L_ID], agency_id or row[L_AGENCY]))
            continue
        holder = holders.get(household_id)
        if holder is None:
            if line.last_name is not None:
                tenant_inserts.append(_tenant_row(household_id, line, now))
        else:
            new_last = line.last_name if line.last_name is not None else holder[H_LAST]
            new_first = line.first_name if line.first_name is not None else holder[H_FIRST]
            birth_changed = line.birth_date is not None and stored(line.birth_date) != holder[H_BIRTH]
            if birth_changed or new_last != holder[H_LAST] or new_first != holder[H_FIRST]:
                tenant_updates.append({
                    "b_id": holder[H_ID], "last_name": new_last, "first_name": new_first,
                    "birth_date": line.birth_date if line.birth_date is not None else loaded(holder[H_BIRTH])})
        if line.phone is not None:
            household = phones.get(household_id)
            if household is not None and household[1] != line.phone:
                phone_updates.append({"b_id": household[0], "b_version": household[2],
                                      "phone": line.phone})

    if not kept:
        raise no_valid_line(source_name, rejected)
    checkpoint(len(lines) // 2)
    # New households (one per new lease, plus existing leases that had none).
    household_rows = [
        [agency_id, line.phone, 1, now, now]
        for line, agency_id in zip(new_lines, new_agencies, strict=True)
    ] + [[agency_id, line.phone, 1, now, now] for line, _lease_id, agency_id in orphan_leases]
    household_ids = _bulk_insert(session, ht, _HOUSEHOLD_COLUMNS, household_rows, return_ids=True)
    new_household_ids = household_ids[:len(new_lines)]
    orphan_household_ids = household_ids[len(new_lines):]

    if new_lines:
        lease_rows = [
            [line.contract, hid, agency_id, line.commune or "", line.address, line.lease_start, None,
             "bail_classique", line.rent_cents, 1, now, now]
            for line, hid, agency_id in zip(new_lines, new_household_ids, new_agencies, strict=True)
        ]
        ids = _bulk_insert(session, lt, _LEASE_COLUMNS, lease_rows, return_ids=True)
        for line, lease_id in zip(new_lines, ids, strict=True):
            lease_ids[line.contract] = lease_id
        tenant_inserts.extend(_tenant_row(hid, line, now) for line, hid in zip(new_lines, new_household_ids, strict=True))
    for (line, orphan_id, _agency), hid in zip(orphan_leases, orphan_household_ids, strict=True):
        session.execute(update(lt).where(lt.c.id == orphan_id).values(household_id=hid, version=lt.c.version + 1))
        if line.last_name is not None:
            tenant_inserts.append(_tenant_row(hid, line, now))
    checkpoint(len(lines) * 3 // 4)

    if lease_updates:
        session.execute(
            update(lt).where(lt.c.id == bindparam("b_id")).where(lt.c.version == bindparam("b_version"))
            .values(agency_id=bindparam("agency_id"), commune=bindparam("commune"),
                    address=bindparam("address"), start_date=bindparam("start_date"),
                    monthly_rent_cents=bindparam("monthly_rent_cents"),
                    version=lt.c.version + 1, updated_at=now),
            lease_updates,
        )
    if tenant_updates:
        session.execute(
            update(tt).where(tt.c.id == bindparam("b_id")).values(
                last_name=bindparam("last_name"), first_name=bindparam("first_name"),
                birth_date=bindparam("birth_date"), updated_at=now),
            tenant_updates,
        )
    if phone_updates:
        session.execute(
            update(ht).where(ht.c.id == bindparam("b_id")).where(ht.c.version == bindparam("b_version"))
            .values(phone=bindparam("phone"), version=ht.c.version + 1, updated_at=now),
            phone_updates,
        )
    _bulk_insert(session, tt, _TENANT_COLUMNS, tenant_inserts)

    rejected.sort(key=lambda r: r.line)
    extract_id = session.scalar(
        insert(ArrearsExtract.__table__).returning(ArrearsExtract.__table__.c.id),
        {"extract_date": extract_date, "source_name": source_name[:255], "imported_at": now,
         "imported_by_id": actor_id, "lines_read": lines_read, "lines_imported": len(kept),
         "rejected_json": json.dumps([{"line": r.line, "reason": r.reason} for r in rejected],
                                     ensure_ascii=False)},
    )
    _bulk_insert(session, ArrearsLine.__table__, _LINE_COLUMNS, [
        [extract_id, lease_ids[line.contract], line.balance_cents, line.months_unpaid,
         line.last_payment, line.rent_cents, line.birth_date, line.cotenant_birth_date]
        for line in kept
    ])
    checkpoint(len(lines))
    session.expire_all()
    return ImportResult(
        extract_id=extract_id, extract_date=extract_date, source_name=source_name,
        lines_read=lines_read, imported=len(kept), rejected=rejected, replaced=replaced,
        leases_created=len(new_lines), leases_updated=len(lease_updates),
    )


def _fetch(session: Session, stmt) -> tuple[list, bool]:
    """Rows of a plain SELECT as tuples, and whether dates come back as ISO
    text. On SQLite the driver's tuples are read directly (no per-value
    result processing: 25,000 leases are compared on every import)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return [tuple(row) for row in session.execute(stmt)], False
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        return cursor.execute(sql).fetchall(), True
    finally:
        cursor.close()


def no_valid_line(source_name: str, rejected: list[RejectedLine]) -> ImportRefused:
    """Every line rejected: importing would only replace an extract by an
    empty one, so the file is refused as a whole."""
    if not rejected:
        return ImportRefused(f"Le fichier « {source_name} » ne contient aucune ligne de données "
                             "sous les en-têtes : il n'y a rien à importer.")
    first = "; ".join(f"ligne {r.line} : {r.reason}" for r in sorted(rejected, key=lambda r: r.line)[:3])
    return ImportRefused(
        f"Aucune ligne du fichier « {source_name} » n'a pu être lue ({len(rejected)} rejetée(s) ; "
        f"par exemple {first}). Vérifiez qu'il s'agit bien de l'extrait d'impayés et de ses "
        "colonnes, puis recommencez. Rien n'a été importé.")


def _sqlite_datetime(value):
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_date(value):
    return None if value is None else value.isoformat()


_HOUSEHOLD_COLUMNS = ("agency_id", "phone", "version", "created_at", "updated_at")
_LEASE_COLUMNS = ("contract_number", "household_id", "agency_id", "commune", "address", "start_date",
                  "end_date", "kind", "monthly_rent_cents", "version", "created_at", "updated_at")
_TENANT_COLUMNS = ("household_id", "position", "last_name", "first_name", "birth_date",
                   "relationship_kind", "created_at", "updated_at")
_LINE_COLUMNS = ("extract_id", "lease_id", "balance_cents", "months_unpaid", "last_payment_on",
                 "monthly_rent_cents", "holder_birth_date", "cotenant_birth_date")


def _bulk_insert(session: Session, table, columns: tuple[str, ...], rows: list[list],
                 return_ids: bool = False) -> list[int]:
    """Insert many rows (lists of values in ``columns`` order) in one
    ``executemany``; with ``return_ids``, the new primary keys in row order.

    On SQLite the rows go straight to the driver (SQLAlchemy's per-row type
    processing costs more than the insert itself at 25,000 rows), with ids
    taken after the current maximum: safe because write transactions hold
    the write lock from their BEGIN IMMEDIATE. Values are stored exactly as
    SQLAlchemy would store them (ISO dates, naive UTC timestamps). Other
    databases use the portable INSERT ... RETURNING path."""
    if not rows:
        return []
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        dicts = [dict(zip(columns, row, strict=True)) for row in rows]
        if return_ids:
            return list(session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), dicts))
        session.execute(insert(table), dicts)
        return []
    converters = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            converters.append((index, _sqlite_datetime))
        elif isinstance(column_type, Date):
            converters.append((index, _sqlite_date))
    if converters:
        cache: dict = {}
        for row in rows:
            for index, fn in converters:
                raw = row[index]
                if raw is not None:
                    hit = cache.get(raw)
                    if hit is None:
                        hit = cache[raw] = fn(raw)
                    row[index] = hit
    ids: list[int] = []
    names = list(columns)
    if return_ids:
        start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(start, start + len(rows)))
        names = ["id", *names]
        values = [(i, *row) for i, row in zip(ids, rows, strict=True)]
    else:
        values = [tuple(row) for row in rows]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, values)
    return ids


def _tenant_row(household_id: int, line: ParsedLine, now) -> list:
    return [household_id, 0, line.last_name or "", line.first_name or "", line.birth_date,
            "titulaire", now, now]


def remembered_mapping(session: Session, signature: str) -> dict[str, str] | None:
    row = session.scalar(select(ArrearsColumnMapping).where(ArrearsColumnMapping.signature == signature))
    return json.loads(row.mapping_json) if row else None


def remember_mapping(session: Session, headers: list[str], mapping: dict[str, int],
                     actor_id: int | None) -> None:
    signature = header_signature(headers)
    value = json.dumps({k: headers[i] for k, i in mapping.items()}, ensure_ascii=False, sort_keys=True)
    row = session.scalar(select(ArrearsColumnMapping).where(ArrearsColumnMapping.signature == signature))
    if row is None:
        session.add(ArrearsColumnMapping(signature=signature, mapping_json=value, created_by_id=actor_id))
    else:
        row.mapping_json = value
        row.created_by_id = actor_id
        row.created_at = session_clock(session).now()
    session.flush()


def rejected_to_csv(rejected: list[RejectedLine], path: Path | str) -> None:
    """The rejected-lines report, readable by Excel (UTF-8 with BOM, ``;``)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Ligne", "Motif du rejet"])
        for item in rejected:
            writer.writerow([item.line, item.reason])
