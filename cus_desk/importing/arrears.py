"""An arrears extract (extrait d'impayés) as ERPs really export it: which
column holds which field, and each row parsed. Pure: values in, values out.

- Columns are recognised by header (case, accents, punctuation ignored),
  under any title lines (``header_score`` lets ``tables`` find the header).
- The tenant's name comes as "Nom" / "Prénom" columns or as one "Nom
  Prénom" column (``MULLER Jeanne``).
- Co-tenants come as a second line with the same contract number, or as
  "Cotitulaire" / "Né(e) le cotitulaire" columns; both fill the household's
  co-tenant (the CUS rule is about the household: 65+ if the titulaire or a
  co-titulaire is).
- Contract numbers are matched ignoring leading zeros (``452009`` as an
  XLSX number is ``00452009``).
- A line is rejected only when its contract or balance cannot be read; an
  optional field that cannot be read (``00/00/0000``, ``1,5`` months, a
  placeholder birth date ``01/01/1900``, a 100,000-character name) is
  dropped with a warning on that line and the line is kept.
- Text is cleaned of control, ANSI and bidirectional-override characters."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.formatting import age_on, format_date
from cus_desk.domain.parsing import (
    UNSAFE_CHARACTERS,
    ParseError,
    clean_text,
    normalize_header,
    parse_amount_cents,
    parse_date,
    parse_int,
)
from cus_desk.domain.phones import normalize_phone
from cus_desk.importing.limits import DEFAULT_LIMITS, Limits, thousands
from cus_desk.importing.tables import ImportCancelled, ImportRefused, RawTable

_UNSAFE_SEARCH = UNSAFE_CHARACTERS.search
Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class MappingRequired(ImportRefused):
    """Required columns were not recognised: the user must say which column
    is which (mapping dialog), or fix the file."""

    def __init__(self, message: str, headers: list[str], mapping: dict[str, int],
                 missing: list[str]) -> None:
        super().__init__(message)
        self.headers = headers
        self.mapping = mapping
        self.missing = missing


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    recommended: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("contract", "N° contrat", ("n contrat", "numero de contrat", "contrat", "n de contrat",
                                         "no contrat", "num contrat", "numero contrat", "n du contrat",
                                         "n bail", "numero de bail", "n de bail", "contrat n", "n contrat bail",
                                         "numero du contrat", "code contrat"),
              required=True),
    FieldSpec("last_name", "Nom", ("nom", "nom du locataire", "nom locataire", "nom titulaire",
                                   "nom du titulaire", "nom de famille"), recommended=True),
    FieldSpec("first_name", "Prénom", ("prenom", "prenom du locataire", "prenom locataire",
                                       "prenom titulaire", "prenom du titulaire")),
    FieldSpec("full_name", "Nom Prénom", ("nom prenom", "nom et prenom", "nom prenom du locataire",
                                          "nom prenom locataire", "nom et prenom du locataire",
                                          "nom prenom titulaire", "nom et prenom du titulaire",
                                          "locataire", "titulaire", "identite", "nom prenom occupant",
                                          "occupant")),
    FieldSpec("role", "Qualité (titulaire / cotitulaire)", ("qualite", "qualite occupant", "type occupant",
                                                             "role", "lien", "lien avec le titulaire",
                                                             "type titulaire", "titulaire cotitulaire",
                                                             "type de locataire", "qualite du locataire")),
    FieldSpec("birth_date", "Date de naissance", ("date de naissance", "ne e le", "ne le", "nee le",
                                                  "date naissance", "date de naissance titulaire",
                                                  "date de naissance du titulaire", "ne e le titulaire",
                                                  "date naissance titulaire", "naissance"),
              recommended=True),
    FieldSpec("cotenant_name", "Cotitulaire (nom prénom)",
              ("cotitulaire", "nom cotitulaire", "nom du cotitulaire", "nom prenom cotitulaire",
               "nom et prenom du cotitulaire", "colocataire", "nom colocataire")),
    FieldSpec("cotenant_first_name", "Prénom cotitulaire", ("prenom cotitulaire", "prenom du cotitulaire")),
    FieldSpec("cotenant_birth_date", "Date de naissance cotitulaire",
              ("date de naissance cotitulaire", "date naissance cotitulaire",
               "date de naissance du cotitulaire", "ne e le cotitulaire", "nee le cotitulaire",
               "ne le cotitulaire", "naissance cotitulaire")),
    FieldSpec("agency", "Agence", ("agence", "agence de gestion", "agence gestionnaire", "libelle agence",
                                   "nom agence"), recommended=True),
    FieldSpec("commune", "Commune", ("commune", "ville", "commune du logement", "ville du logement")),
    FieldSpec("address", "Adresse", ("adresse", "adresse du logement", "adresse logement")),
    FieldSpec("lease_start", "Date d'entrée", ("date d entree", "date entree", "date d entree dans les lieux",
                                               "date entree dans les lieux", "date de debut du bail",
                                               "date debut bail", "date d effet du bail")),
    FieldSpec("balance", "Solde", ("solde", "solde debiteur", "montant impaye", "montant des impayes",
                                   "solde locataire", "solde du", "montant du", "dette locative"),
              required=True),
    FieldSpec("months_unpaid", "Nb mois impayés", ("nb mois impayes", "mois d impayes", "nombre de mois impayes",
                                                   "nb de mois impayes", "mois impayes", "nb mois d impayes",
                                                   "nombre de mois d impayes", "nb mois")),
    FieldSpec("last_payment", "Date dernier paiement", ("date dernier paiement", "date du dernier paiement",
                                                        "dernier paiement", "date dernier reglement",
                                                        "date du dernier reglement", "dernier reglement")),
    FieldSpec("rent", "Loyer + charges", ("loyer charges", "loyer charges comprises", "loyer et charges",
                                          "quittance", "montant quittance", "loyer")),
    FieldSpec("phone", "Téléphone", ("telephone", "tel", "telephone locataire", "tel domicile",
                                     "telephone 1", "tel portable", "portable")),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
_ALIAS_TO_FIELD = {alias: f.key for f in FIELDS for alias in f.aliases}
_LABELS = {f.key: f.label for f in FIELDS}

# Stored text: the longest value each field may hold (the columns' sizes).
TEXT_LIMITS = {"contract": 40, "last_name": 120, "first_name": 120, "cotenant_last_name": 120,
               "cotenant_first_name": 120, "agency": 120, "commune": 120, "address": 255, "phone": 40}


def field_of(header: object) -> str | None:
    """The field a header names, if any (``Né(e) le co-titulaire`` →
    ``cotenant_birth_date``)."""
    norm = normalize_header(header).replace("co titulaire", "cotitulaire").replace("co locataire", "colocataire")
    return _ALIAS_TO_FIELD.get(norm)


def header_score(cells: list[str]) -> int:
    """How many different known fields a row names: the header row is the
    early row that names the most (title lines name none)."""
    return len({key for key in map(field_of, cells) if key is not None})


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
    cotenant_last_name: str | None = None
    cotenant_first_name: str | None = None
    warnings: list[str] | None = None

    def warn(self, text: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append(text)


class _Warnings(list):
    """A line's warnings while it is parsed (``warn`` as on ParsedLine)."""

    __slots__ = ()

    def warn(self, text: str) -> None:
        self.append(text)


def header_signature(headers: Iterable[str]) -> str:
    """The shape of a file: its normalised headers, in order."""
    joined = "\x1f".join(normalize_header(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _missing_recommended(mapping: dict[str, int]) -> list[str]:
    missing = []
    for f in FIELDS:
        if not f.recommended or f.key in mapping:
            continue
        if f.key == "last_name" and "full_name" in mapping:
            continue  # the name comes from a "Nom Prénom" column
        missing.append(f.key)
    return missing


def analyse(headers: list[str], remembered: dict[str, str] | None = None) -> HeaderAnalysis:
    """Which column holds which field. ``remembered`` is a mapping {field:
    header} saved for files of this shape; it completes the recognised one."""
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        key = field_of(header)
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
        missing_recommended=_missing_recommended(mapping),
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
        where = f" (en-têtes cherchés jusqu'à la ligne {table.header_line})" if table.header_line > 1 else ""
        raise MappingRequired(
            f"Le fichier « {table.source_name} » n'a pas de colonne reconnue pour {labels} "
            f"(colonnes trouvées{where} : {found}). Indiquez quelle colonne correspond, ou renommez "
            "l'en-tête dans le fichier, puis recommencez. Rien n'a été importé.",
            table.headers, dict(mapping), missing,
        )


_PREAMBLE_DATE_RE = re.compile(r"\b(?:situation|arr[eê]t[ée]?|[ée]tat|extrait|impay[ée]s)\b[^0-9]{0,40}?"
                               r"\bau\s+(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b", re.IGNORECASE)


def date_in_preamble(lines: Iterable[str]) -> date | None:
    """The situation date an ERP writes in its title lines (« Situation au
    31/10/2026 - édité le 02/11/2026 par BATCH » → 31/10/2026)."""
    for text in lines:
        match = _PREAMBLE_DATE_RE.search(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                continue
    return None


# -------------------------------------------------------------------- values

def contract_key(contract: str) -> str:
    """What identifies a contract: ``00452009``, ``452009`` and ``452009.0``
    (an XLSX number) are one contract; spaces and case are ignored."""
    key = contract.replace(" ", "").upper()
    if key.isdigit():
        return key.lstrip("0") or "0"
    return key


def _contract_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_text(str(value))


_CIVILITY_RE = re.compile(r"^(?:m(?:\.|r\.?|me\.?|lle\.?)?|monsieur|madame|mademoiselle|mmes?|mrs?)"
                          r"(?:\s+(?:et|ou|&)\s+(?:m(?:\.|r\.?|me\.?)?|mme))?\s+", re.IGNORECASE)
_PARTICLES = {"DE", "DU", "DES", "LE", "LA", "VAN", "VON", "DER", "DEN", "TER", "TEN", "DI", "DA", "DEL", "EL", "AL", "BEN", "MC"}


def split_full_name(text: str) -> tuple[str, str]:
    """``MULLER Jeanne`` → (``MULLER``, ``Jeanne``); ``DE LA FONTAINE Jean``
    → (``DE LA FONTAINE``, ``Jean``); ``MULLER, Jeanne``; ``Mme MULLER
    Jeanne``. All in capitals: the first word (with its particles) is the
    name. Nothing is lost: the first name takes what the name does not."""
    text = text.strip()
    if text[:1] in "Mm":
        text = _CIVILITY_RE.sub("", text).strip()
    if "," in text:
        last, _, first = text.partition(",")
        return last.strip(), first.strip()
    words = text.split()
    if len(words) <= 1:
        return text, ""
    if len(words) == 2 and words[0].isupper() and not words[1].isupper():
        return words[0], words[1]  # "MULLER Jeanne", most names
    upper = 0
    while upper < len(words) and words[upper].upper() == words[upper] and any(c.isalpha() for c in words[upper]):
        upper += 1
    if 0 < upper < len(words):
        return " ".join(words[:upper]), " ".join(words[upper:])
    count = 1
    while count < len(words) - 1 and words[count - 1].upper().rstrip("'") in _PARTICLES:
        count += 1
    return " ".join(words[:count]), " ".join(words[count:])


def role_of(value: Any) -> str | None:
    """``Titulaire`` / ``T`` → titulaire; ``Cotitulaire``, ``Co-titulaire``,
    ``CO``, ``Conjoint`` → cotitulaire; anything else: not said."""
    if value is None:
        return None
    norm = normalize_header(value).replace(" ", "")
    if norm.startswith(("co", "conjoint")) or norm in ("c", "2"):
        return "cotitulaire"
    if norm.startswith("tit") or norm in ("t", "locataire", "principal", "signataire", "1"):
        return "titulaire"
    return None


def placeholder_birth(value: date, on: date) -> str | None:
    """Why a birth date is an ERP's "unknown" filler (``01/01/0001``,
    ``01/01/1900``) or impossible, or None when it is plausible."""
    if value > on:
        return f"postérieure à la date de l'extrait ({format_date(value)})"
    age = age_on(value, on)
    if value.year < 1900 or (value.month, value.day, value.year) == (1, 1, 1900) or age > 115:
        return f"fictive ({format_date(value) if value.year >= 1000 else value.isoformat()}, soit {age} ans)"
    return None


# -------------------------------------------------------------------- parsing

_ROW_FIELDS = ("contract", "balance", "last_name", "first_name", "birth_date", "cotenant_birth_date",
               "agency", "commune", "address", "lease_start", "months_unpaid", "last_payment", "rent",
               "phone", "full_name", "role", "cotenant_name", "cotenant_first_name")


def _clean(value: Any) -> Any:
    """A cell as None (empty), stripped text, or a typed XLSX value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    return value


def _lower_first(label: str) -> str:
    return label[0].lower() + label[1:]


def parse_rows(table: RawTable, mapping: dict[str, int], extract_date: date,
               progress: Progress | None = None, cancelled: Cancelled | None = None,
               progress_total: int | None = None, limits: Limits = DEFAULT_LIMITS,
               ) -> tuple[list[ParsedLine], list[RejectedLine]]:
    """Each household as one ParsedLine (its co-tenant lines merged into it,
    warnings on it), or a RejectedLine (line number, French reason)."""
    require_columns(table, mapping)
    total = progress_total or len(table.rows)
    parsed: list[ParsedLine] = []
    rejected: list[RejectedLine] = []
    seen: dict[str, ParsedLine] = {}
    role_cache: dict[Any, str | None] = {}
    phone_cache: dict[str, str | None] = {}
    roles: dict[str, str | None] = {}
    width = max(len(table.headers), max(mapping.values()) + 1)
    # A missing column reads from one past the end: always empty.
    indexes = [mapping.get(key, width) for key in _ROW_FIELDS]
    pick = itemgetter(*indexes)
    has_full_name = "full_name" in mapping and "last_name" not in mapping
    is_csv = table.kind == "csv"
    date_cache: dict[Any, date] = {}
    amount_cache: dict[Any, int] = {}
    deadline = limits.deadline()
    max_cell = limits.max_cell_chars

    def as_date(value: Any, key: str) -> date | None:
        if value is None:
            return None
        hit = date_cache.get(value)
        if hit is not None:
            return hit
        try:
            result = parse_date(value, reference=extract_date)
        except ParseError as exc:
            raise ParseError(f"{_lower_first(_LABELS[key])} : {exc}") from None
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

    def text(value: Any, key: str, line: _Warnings | ParsedLine) -> str | None:
        """Stored text, cleaned; too long: a warning, and dropped."""
        if value is None:
            return None
        if not isinstance(value, str):
            value = _contract_text(value) if key == "phone" else str(value)
        if len(value) > max_cell or len(value) > TEXT_LIMITS[key] * 4:
            line.warn(f"{_lower_first(_FIELD_NAMES[key])} trop long ({thousands(len(value))} caractères ; "
                      f"{TEXT_LIMITS[key]} au plus) : ignoré")
            return None
        value = clean_text(value)
        if len(value) > TEXT_LIMITS[key]:
            line.warn(f"{_lower_first(_FIELD_NAMES[key])} trop long ({thousands(len(value))} caractères ; "
                      f"{TEXT_LIMITS[key]} au plus) : ignoré")
            return None
        return value or None

    def optional(line: _Warnings | ParsedLine, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except ParseError as exc:
            line.warn(f"{exc} : {what}")
            return None

    birth_caches: dict[str, dict[Any, tuple[date | None, str | None]]] = {
        "birth_date": {}, "cotenant_birth_date": {}}

    def birth(line: _Warnings | ParsedLine, raw: Any, key: str) -> date | None:
        """A birth date, or None with a warning (unreadable or placeholder);
        cached by cell value (a 25,000-line extract has ~15,000 of them)."""
        if raw is None:
            return None
        cache = birth_caches[key]
        hit = cache.get(raw)
        if hit is None:
            warning = None
            try:
                value = as_date(raw, key)
            except ParseError as exc:
                value, warning = None, f"{exc} : ignorée, âge inconnu"
            if value is not None and not (plausible_from < value.year and value <= extract_date):
                why = placeholder_birth(value, extract_date)
                if why is not None:
                    value, warning = None, f"{_lower_first(_LABELS[key])} {why} : ignorée, âge inconnu"
            hit = cache[raw] = (value, warning)
        if hit[1] is not None:
            line.warn(hit[1])
        return hit[0]

    plausible_from = extract_date.year - 110  # born since then: no placeholder check needed

    limit_of = TEXT_LIMITS
    unsafe = _UNSAFE_SEARCH
    file_clean = is_csv and table.clean

    def names(line: _Warnings | ParsedLine, last: Any, first: Any, full: Any, clean: bool = False
              ) -> tuple[str | None, str | None]:
        if clean and not has_full_name:
            return (last if last is None or len(last) <= 120 else text(last, "last_name", line),
                    first if first is None or len(first) <= 120 else text(first, "first_name", line))
        if has_full_name and last is None and full is not None:
            full_text = full if clean and len(full) <= 120 else text(full, "last_name", line)
            if full_text is None:
                return None, None
            last_text, first_text = split_full_name(full_text)
            return last_text or None, first_text or None
        return text(last, "last_name", line), text(first, "first_name", line)

    for done, (number, cells) in enumerate(table.rows, start=1):
        if done % 1000 == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelled()
            if progress is not None:
                progress(done, total)
            if deadline.expired():
                from cus_desk.importing.tables import too_long

                raise too_long(table.source_name, limits)
        if len(cells) <= width:
            cells = list(cells) + [None] * (width + 1 - len(cells))
        if is_csv:
            values = [v.strip() or None if v else None for v in pick(cells)]
        else:
            values = [_clean(v) for v in pick(cells)]
        (contract, balance_raw, last_name, first_name, birth_raw, cobirth_raw, agency, commune,
         address, start_raw, months, lastpay_raw, rent, phone, full_name, role_raw, co_name,
         co_first) = values
        if contract is None:
            if not _is_total_line(cells):
                rejected.append(RejectedLine(number, "numéro de contrat absent"))
            continue
        if not is_csv:
            contract = _contract_text(contract)
        elif not (contract.isascii() and contract.isprintable()):
            contract = clean_text(contract)
        if not contract or len(contract) > TEXT_LIMITS["contract"]:
            rejected.append(RejectedLine(number, f"numéro de contrat illisible ({len(contract)} caractères ; "
                                                 f"{TEXT_LIMITS['contract']} au plus)"))
            continue
        key = contract if (contract[0] != "0" and " " not in contract and contract.upper() == contract) \
            else contract_key(contract)
        if role_raw is None:
            role = None
        else:
            role = role_cache.get(role_raw, "?")
            if role == "?":
                role = role_cache[role_raw] = role_of(role_raw)
        first = seen.get(key)
        if first is not None:
            reason = _merge_cotenant(first, roles.get(key), role, number, contract, balance_raw,
                                     as_cents, lambda line, a=last_name, b=first_name, c=full_name: names(line, a, b, c),
                                     lambda line, raw=birth_raw: birth(line, raw, "birth_date"))
            if reason is not None:
                rejected.append(RejectedLine(number, reason))
            elif role == "titulaire":
                roles[key] = "titulaire"
            continue
        balance = amount_cache.get(balance_raw)
        if balance is None:
            try:
                if balance_raw is None:
                    raise ParseError("solde absent")
                balance = as_cents(balance_raw, "solde")
            except ParseError as exc:
                rejected.append(RejectedLine(number, str(exc)))
                continue
        w = _Warnings()
        # A CSV file with no control characters at all (most) needs no per-cell cleaning.
        clean = is_csv and (file_clean or unsafe(" ".join([
            v for v in (last_name, first_name, full_name, agency, commune, address, phone, co_name, co_first)
            if v])) is None)
        last, given = names(w, last_name, first_name, full_name, clean)
        holder_birth = co_last = co_given = co_birth = None
        if role == "cotitulaire":
            # The co-tenant's line comes first: the titulaire's line will follow.
            co_last, co_given, last, given = last, given, None, None
            co_birth = birth(w, birth_raw, "cotenant_birth_date")
        else:
            holder_birth = birth(w, birth_raw, "birth_date")
        if cobirth_raw is not None:
            cobirth = birth(w, cobirth_raw, "cotenant_birth_date")
            if cobirth is not None and (co_birth is None or cobirth < co_birth):
                co_birth = cobirth
        if co_name is not None or co_first is not None:
            if co_first is None and "cotenant_first_name" not in mapping and co_name is not None:
                co_text = text(co_name, "cotenant_last_name", w)
                named_last, named_first = split_full_name(co_text) if co_text else (None, None)
            else:
                named_last = text(co_name, "cotenant_last_name", w)
                named_first = text(co_first, "cotenant_first_name", w)
            if named_last or named_first:
                co_last, co_given = named_last or "", named_first or ""
        if clean:
            if agency is not None and len(agency) > limit_of["agency"]:
                agency = text(agency, "agency", w)
            if commune is not None and len(commune) > limit_of["commune"]:
                commune = text(commune, "commune", w)
            if address is not None and len(address) > limit_of["address"]:
                address = text(address, "address", w)
            if phone is not None and len(phone) > limit_of["phone"]:
                phone = text(phone, "phone", w)
        else:
            agency = text(agency, "agency", w)
            commune = text(commune, "commune", w)
            address = text(address, "address", w)
            phone = text(phone, "phone", w)
        start = None
        if start_raw is not None:
            start = date_cache.get(start_raw) or optional(w, "ignorée", as_date, start_raw, "lease_start")
            if start is not None and (start > extract_date or start.year < 1900):
                w.warn(f"date d'entrée {format_date(start) if start.year >= 1000 else start.isoformat()} "
                       "impossible : ignorée")
                start = None
        count = None
        if months is not None:
            if type(months) is str and months.isdigit() and months.isascii():
                count = int(months)
            else:
                count = optional(w, "ignoré", parse_int, months, "nombre de mois impayés")
            if count is not None and count < 0:
                w.warn(f"nombre de mois impayés négatif ({count}) : ignoré")
                count = None
        paid = None
        if lastpay_raw is not None:
            paid = date_cache.get(lastpay_raw) or optional(w, "ignorée", as_date, lastpay_raw, "last_payment")
            if paid is not None and (paid > extract_date or paid.year < 1900):
                w.warn(f"date du dernier paiement {format_date(paid) if paid.year >= 1000 else paid.isoformat()} "
                       "impossible : ignorée")
                paid = None
        rent_cents = None
        if rent is not None:
            rent_cents = amount_cache.get(rent)
            if rent_cents is None:
                rent_cents = optional(w, "ignoré", as_cents, rent, "loyer + charges")
        if phone is not None:
            shown = phone_cache.get(phone, "?")
            if shown == "?":
                try:
                    shown = normalize_phone(phone)
                except ValidationError:
                    shown = None
                    w.warn(f"téléphone « {phone} » invalide : ignoré")
                if not w:
                    phone_cache[phone] = shown
            phone = shown
        line = ParsedLine(number, contract, balance, last, given, holder_birth, co_birth, agency, commune,
                          address, start, count, paid, rent_cents, phone, co_last, co_given, w or None)
        seen[key] = line
        roles[key] = role
        parsed.append(line)
    for line in parsed:
        if line.last_name is None and line.cotenant_last_name:
            # Only a co-tenant's line for this contract: that person is the one known.
            line.last_name, line.first_name = line.cotenant_last_name, line.cotenant_first_name or None
            line.cotenant_last_name = line.cotenant_first_name = None
            line.warn("seul le cotitulaire figure dans le fichier : il est enregistré comme titulaire")
    return parsed, rejected


def _is_total_line(cells: list[Any]) -> bool:
    """The ERP's footer (« Total : 1 234 lignes », « TOTAL GENERAL »): no
    contract, and a cell starting with "total"."""
    return any(isinstance(c, str) and normalize_header(c).startswith("total") for c in cells)


_FIELD_NAMES = {"contract": "Numéro de contrat", "last_name": "Nom", "first_name": "Prénom",
                "cotenant_last_name": "Nom du cotitulaire", "cotenant_first_name": "Prénom du cotitulaire",
                "agency": "Nom d'agence", "commune": "Nom de commune", "address": "Adresse",
                "phone": "Téléphone"}


def _merge_cotenant(first: ParsedLine, first_role: str | None, role: str | None, number: int, contract: str,
                    balance_raw: Any, as_cents, names, birth) -> str | None:
    """A further line with the contract of an earlier one: the household's
    co-tenant (or, when a role column says so, its titulaire). Returns a
    rejection reason when it cannot be one."""
    if role == "titulaire" and first_role != "cotitulaire":
        return f"contrat {contract} : deuxième titulaire (déjà ligne {first.line} du même fichier)"
    if balance_raw is not None and role is None:
        try:
            balance = as_cents(balance_raw, "solde")
        except ParseError:
            balance = None
        if balance != first.balance_cents:
            return (f"contrat {contract} déjà présent ligne {first.line} du même fichier, avec un autre "
                    "solde (ni cotitulaire, ni doublon exact)")
    holder = ParsedLine(number, contract, first.balance_cents)
    last, given = names(holder)
    if role is None and last == first.last_name and given == first.first_name:
        first.warn(f"ligne {number} : même contrat et même locataire que la ligne {first.line} "
                   "(ligne en double) : ignorée")
        return None
    if role == "titulaire":
        first.last_name, first.first_name = last, given
        first.birth_date = birth(holder)
    else:
        born = birth(holder)
        if first.cotenant_last_name is None and (last or given):
            first.cotenant_last_name, first.cotenant_first_name = last or "", given or ""
        if born is not None and (first.cotenant_birth_date is None or born < first.cotenant_birth_date):
            first.cotenant_birth_date = born
    for text in holder.warnings or ():
        first.warn(f"ligne {number} : {text}")
    return None
