"""A list of partner structures (CMS, CCAS, CLIC, pôles gérontologiques...)
from a CSV or XLSX file, read with the same header recognition as the
arrears extracts (title lines, merged title rows, accents and case
ignored). Pure: rows in, ``PartnerRow`` or a rejection out; the service
validates and stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cus_desk.domain.parsing import clean_text, normalize_header
from cus_desk.domain.reference import PARTNER_CATEGORIES
from cus_desk.importing.arrears import RejectedLine
from cus_desk.importing.tables import ImportRefused, RawTable

FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("nom", "structure", "nom de la structure", "raison sociale", "partenaire", "organisme",
             "denomination"),
    "category": ("type", "categorie", "type de structure", "nature", "type de partenaire"),
    "short_name": ("sigle", "nom court", "abreviation"),
    "address": ("adresse", "adresse postale"),
    "commune": ("commune", "ville"),
    "phone": ("telephone", "tel", "standard"),
    "email": ("courriel", "email", "e mail", "mail", "adresse electronique"),
    "communes": ("communes couvertes", "communes d intervention", "secteur", "communes"),
    "agencies": ("agences", "agence", "agences servies"),
}
_ALIAS = {alias: key for key, aliases in FIELDS.items() for alias in aliases}
_CATEGORY_BY_NAME = {normalize_header(label): code for code, label in PARTNER_CATEGORIES.items()}
_CATEGORY_BY_NAME.update({normalize_header(code): code for code in PARTNER_CATEGORIES})
_CATEGORY_BY_NAME.update({"pole gerontologique": "pole_gerontologique", "pole geronto": "pole_gerontologique",
                          "centre medico social": "cms", "centre communal d action sociale": "ccas",
                          "centre local d information et de coordination": "clic"})


def header_score(cells: list[str]) -> int:
    return len({_ALIAS[n] for n in map(normalize_header, cells) if n in _ALIAS})


def category_of(value: Any) -> str | None:
    """``CCAS``, ``Pôle gérontologique``, ``pole_gerontologique``,
    ``Centre communal d'action sociale`` → the stored code (None: unknown)."""
    norm = normalize_header(value)
    return _CATEGORY_BY_NAME.get(norm) or _CATEGORY_BY_NAME.get(norm.replace("_", " "))


@dataclass
class PartnerRow:
    line: int
    name: str
    category: str
    short_name: str | None = None
    address: str | None = None
    commune: str | None = None
    phone: str | None = None
    email: str | None = None
    communes: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)


def parse_partners(table: RawTable) -> tuple[list[PartnerRow], list[RejectedLine]]:
    columns: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        key = _ALIAS.get(normalize_header(header))
        if key is not None and key not in columns:
            columns[key] = index
    missing = [label for key, label in (("name", "« Nom »"), ("category", "« Type »")) if key not in columns]
    if missing:
        found = ", ".join(f"« {h} »" for h in table.headers if h) or "aucune"
        raise ImportRefused(
            f"Le fichier « {table.source_name} » n'a pas de colonne {' ni '.join(missing)} (colonnes trouvées : "
            f"{found}). Il faut au moins le nom de la structure et son type (CCAS, CMS, CLIC, pôle "
            "gérontologique...). Rien n'a été importé.")
    rows: list[PartnerRow] = []
    rejected: list[RejectedLine] = []

    def cell(cells: list[Any], key: str) -> str | None:
        index = columns.get(key)
        if index is None or index >= len(cells) or cells[index] is None:
            return None
        value = cells[index]
        text = clean_text(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
        return text or None

    for number, cells in table.rows:
        name = cell(cells, "name")
        raw_category = cell(cells, "category")
        if name is None:
            rejected.append(RejectedLine(number, "nom de la structure absent"))
            continue
        category = category_of(raw_category) if raw_category else None
        if category is None:
            known = ", ".join(sorted({PARTNER_CATEGORIES[c] for c in ("ccas", "cms", "clic", "pole_gerontologique")}))
            rejected.append(RejectedLine(number, f"type « {raw_category or ''} » inconnu (par exemple : {known})"))
            continue
        rows.append(PartnerRow(
            number, name, category, cell(cells, "short_name"), cell(cells, "address"), cell(cells, "commune"),
            cell(cells, "phone"), cell(cells, "email"),
            [c for c in (cell(cells, "communes") or "").replace(";", ",").split(",") if c.strip()],
            [a.strip() for a in (cell(cells, "agencies") or "").replace(";", ",").split(",") if a.strip()],
        ))
    return rows, rejected
