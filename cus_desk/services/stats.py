"""Statistics export (activity report of the social pole): counts only,
by agency — never a name, a contract number nor a case reference, and
never a count small enough to point at a family: cells under the
``STATS_MIN_CELL`` setting (5) are shown « < 5 », and the cells that would
let one recover them by subtraction « secret »
(domain.statistical_secrecy)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from cus_desk.domain import statistical_secrecy
from cus_desk.domain.errors import ValidationError
from cus_desk.domain.settings import STATS_MIN_CELL
from cus_desk.services import access, audit
from cus_desk.services.base import Service
from cus_desk.services.settings import read_setting
from cus_desk.store.models.core import Agency, Lease, Partner, Referral

HEADERS = ["Indicateur", "Détail", "Agence", "Nombre"]


SECONDARY = "secret"
# Counts of sessions, not of people: not subject to the secrecy rule.
NOT_ABOUT_PEOPLE = {"Séances de CAS"}


@dataclass(frozen=True)
class StatRow:
    indicator: str
    detail: str
    agency: str
    value: int | None  # None: hidden (statistical secrecy)
    shown: str = ""  # what the export shows: the count, « < 5 » or « secret »

    @property
    def cell(self) -> int | str:
        """The exported cell: the count as a number, or the secrecy mark."""
        return self.value if self.value is not None else self.shown


def apply_secrecy(rows: list[StatRow], threshold: int) -> list[StatRow]:
    """Hide small cells and the cells that would give them away, per indicator."""
    by_indicator: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.indicator not in NOT_ABOUT_PEOPLE:
            by_indicator.setdefault(row.indicator, []).append(i)
    out = [StatRow(r.indicator, r.detail, r.agency, r.value, str(r.value)) for r in rows]
    for indexes in by_indicator.values():
        cells = {(rows[i].agency, rows[i].detail): rows[i].value for i in indexes}
        first, second = statistical_secrecy.suppress(cells, threshold)
        for i in indexes:
            key = (rows[i].agency, rows[i].detail)
            if key in first:
                out[i] = StatRow(rows[i].indicator, rows[i].detail, rows[i].agency, None, f"< {threshold}")
            elif key in second:
                out[i] = StatRow(rows[i].indicator, rows[i].detail, rows[i].agency, None, SECONDARY)
    return out


def _label_of(module: str, name: str, code: str) -> str:
    """Label of a code from a domain enum (``.label``) or dict, else the code."""
    try:
        mod = __import__(module, fromlist=[name])
        table = getattr(mod, name)
        if isinstance(table, dict):
            return table.get(code, code)
        return table(code).label
    except (ImportError, AttributeError, ValueError, TypeError):
        return code


def compute(session: Session, year: int) -> list[StatRow]:
    from cus_desk.store.models.cases import Case, CaseProblem
    from cus_desk.store.models.meetings import Decision, Meeting

    start, end = date(year, 1, 1), date(year, 12, 31)
    agencies = dict(session.execute(select(Agency.id, Agency.name)).all())
    rows: list[StatRow] = []

    def add(indicator: str, detail: str, agency_id, value) -> None:
        rows.append(StatRow(indicator, detail, agencies.get(agency_id, "Toutes"), int(value or 0)))

    for agency_id, n in session.execute(select(Case.agency_id, func.count()).where(
            Case.opened_on.between(start, end)).group_by(Case.agency_id)):
        add("Dossiers ouverts", "", agency_id, n)
    for agency_id, n in session.execute(select(Case.agency_id, func.count()).where(
            Case.closed_on.between(start, end)).group_by(Case.agency_id)):
        add("Dossiers clos", "", agency_id, n)
    for agency_id, status, n in session.execute(
            select(Case.agency_id, Case.status, func.count()).where(Case.opened_on <= end)
            .group_by(Case.agency_id, Case.status).order_by(Case.agency_id, Case.status)):
        add("Dossiers par statut (fin d'année)", _label_of("cus_desk.domain.cases", "CaseStatus", status),
            agency_id, n)
    for agency_id, code, n in session.execute(
            select(Case.agency_id, CaseProblem.code, func.count())
            .join(CaseProblem, CaseProblem.case_id == Case.id)
            .where(Case.opened_on.between(start, end))
            .group_by(Case.agency_id, CaseProblem.code).order_by(Case.agency_id, CaseProblem.code)):
        add("Problématiques des dossiers ouverts", _label_of("cus_desk.domain.cases", "PROBLEMS", code),
            agency_id, n)
    for n, in session.execute(select(func.count()).select_from(Meeting).where(
            Meeting.held_on.between(start, end))):
        add("Séances de CAS", "", None, n)
    for agency_id, kind, n in session.execute(
            select(Case.agency_id, Decision.type, func.count())
            .join(Meeting, Meeting.id == Decision.meeting_id).join(Case, Case.id == Decision.case_id)
            .where(Meeting.held_on.between(start, end))
            .group_by(Case.agency_id, Decision.type).order_by(Case.agency_id, Decision.type)):
        add("Décisions de la CAS", _label_of("cus_desk.domain.meetings", "DecisionType", kind),
            agency_id, n)
    from cus_desk.domain.reference import PARTNER_CATEGORIES as categories

    for agency_id, category, result, n in session.execute(
            select(Case.agency_id, Partner.category, Referral.result, func.count())
            .join(Case, Case.id == Referral.case_id).join(Partner, Partner.id == Referral.partner_id)
            .where(Referral.kind == "orientation", Referral.sent_on.between(start, end))
            .group_by(Case.agency_id, Partner.category, Referral.result)):
        detail = f"{categories.get(category, category)} — {result or 'en cours'}"
        add("Orientations vers les partenaires", detail, agency_id, n)
    for agency_id, category, status, n in session.execute(
            select(Lease.agency_id, Partner.category, Referral.status, func.count())
            .join(Lease, Lease.id == Referral.lease_id).join(Partner, Partner.id == Referral.partner_id)
            .where(and_(Referral.kind == "senior_alert", Referral.sent_on.between(start, end)))
            .group_by(Lease.agency_id, Partner.category, Referral.status)):
        add("Signalements seniors", f"{categories.get(category, category)} — {status}", agency_id, n)
    return apply_secrecy(rows, int(read_setting(session, STATS_MIN_CELL)))


class StatsService(Service):
    def compute(self, year: int) -> list[StatRow]:
        access.require(self.actor, access.Permission.STATS_EXPORT)
        if not 2000 <= int(year) <= 2100:
            raise ValidationError("Année invalide : indiquez une année comme 2026.", "year")
        with self._read() as session:
            return compute(session, int(year))

    def export(self, year: int, path: Path | str) -> list[StatRow]:
        """CSV (``;``, for French spreadsheets) or XLSX, by the file's extension."""
        path = Path(path)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError("Choisissez un fichier .csv ou .xlsx pour l'export statistique.")
        rows = self.compute(year)
        tmp = path.with_name(f".{path.name}.part")
        if path.suffix.lower() == ".csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh, delimiter=";")
                writer.writerow(HEADERS)
                writer.writerows([r.indicator, r.detail, r.agency, r.cell] for r in rows)
        else:
            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            sheet.title = f"Statistiques {year}"
            sheet.append(HEADERS)
            for r in rows:
                sheet.append([r.indicator, r.detail, r.agency, r.cell])
            for col, width in zip("ABCD", (42, 48, 14, 10), strict=True):
                sheet.column_dimensions[col].width = width
            book.save(tmp)
        tmp.replace(path)
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.EXPORT, "statistiques", year,
                         details={"fichier": path.name, "lignes": len(rows)})
        return rows
