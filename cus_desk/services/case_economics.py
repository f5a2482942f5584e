"""The case file's budget and eviction procedure (« Budget et procédure »),
and the one answer to « how much does this household owe, as of when? ».

- ``CaseEconomicsService.get`` / ``save``: the budget around the rent
  (loyer, charges, APL/AL, ressources, autres charges), the taux d'effort
  and reste à vivre computed by ``domain.case_economics``, the dates of
  the procedure and the CCAPEX warning. Visibility: ``access`` (a SUMMARY
  never shows the household's resources nor what is drawn from them).
- ``debt_of(session, case)``: the debt shown everywhere (case window,
  mode séance, fiche dossier): the latest of the lease's line in the last
  arrears extract and the amount typed in the case, with its date and
  origin, and the other figure named beside it when they differ."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cus_desk.domain import case_economics as rules
from cus_desk.domain.case_economics import Budget, BudgetFigures, Stage
from cus_desk.domain.errors import NotFoundError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.services import access, audit
from cus_desk.services.access import CaseAccess, Permission
from cus_desk.services.base import Service, check_version
from cus_desk.store.models.case_economics import CaseEconomics
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import Lease

ENTITY = "case_economics"
BUDGET_FIELDS = ("rent_cents", "charges_cents", "housing_aid_cents", "housing_aid_kind",
                 "resources_cents", "other_charges_cents")
#: What a SUMMARY may not see (access.shows_household_budget).
HOUSEHOLD_FIELDS = ("housing_aid_cents", "housing_aid_kind", "resources_cents", "other_charges_cents")
STAGE_FIELDS = tuple(s.value + "_on" for s in Stage)


@dataclass(frozen=True)
class EconomicsInput:
    rent_cents: int | None = None
    charges_cents: int | None = None
    housing_aid_cents: int | None = None
    housing_aid_kind: str | None = None
    resources_cents: int | None = None
    other_charges_cents: int | None = None
    commandement_payer_on: date | None = None
    assignation_on: date | None = None
    audience_on: date | None = None
    jugement_on: date | None = None
    commandement_quitter_on: date | None = None
    concours_force_publique_on: date | None = None
    ccapex_referred_on: date | None = None

    def budget(self) -> Budget:
        return Budget(**{f: getattr(self, f) for f in BUDGET_FIELDS})

    def stages(self) -> dict[Stage, date | None]:
        return {s: getattr(self, s.value + "_on") for s in Stage}


@dataclass(frozen=True)
class DebtView:
    """The debt, from one source, with its date. ``amount_cents`` None: no
    source knows it. ``other``: the other source's figure when it differs
    (shown small, so nobody wonders where it went)."""

    amount_cents: int | None
    as_of: date | None
    origin: str  # "extrait" | "dossier" | ""
    origin_label: str
    months: int | None = None
    last_payment_on: date | None = None
    other: str = ""

    @property
    def text(self) -> str:
        if self.amount_cents is None:
            return "Dette non renseignée (ni extrait d'impayés ni montant saisi au dossier)."
        return f"{format_cents(self.amount_cents)} — {self.origin_label}"


@dataclass(frozen=True)
class StageView:
    stage: str
    label: str
    on: date | None
    planned: bool


@dataclass(frozen=True)
class EconomicsView:
    case_id: int
    version: int  # 0: nothing saved yet
    access: str  # "full" | "summary"
    input: EconomicsInput  # household fields None at summary level
    figures: BudgetFigures | None  # None at summary level
    occupants: int
    stages: tuple[StageView, ...]
    current_stage: str  # « Assignation le 12/03/2027 (prévue) » or « Aucune étape »
    ccapex_warning: str | None
    debt: DebtView
    editable: bool = False
    lines: tuple[str, ...] = field(default=())  # the figures, as the summary prints them


def note_typed_arrears(session: Session, case_id: int, on: date) -> None:
    """The amount typed in the case changed today: remember the day (the
    debt panel weighs it against the extracts). Called inside the case
    save's transaction; does not bump the economics version."""
    if session.get(CaseEconomics, case_id) is None:
        session.add(CaseEconomics(case_id=case_id, arrears_noted_on=on))
        session.flush()
    else:  # a bulk UPDATE: a derived date, the form's version stays valid
        session.execute(update(CaseEconomics).where(CaseEconomics.case_id == case_id)
                        .values(arrears_noted_on=on), execution_options={"synchronize_session": "fetch"})


def _version(row: CaseEconomics | None) -> int:
    """The version a form shows: 0 while nothing was typed in the budget
    and procedure (a row may exist only for ``arrears_noted_on``)."""
    if row is None or all(getattr(row, f) is None for f in (*BUDGET_FIELDS, *STAGE_FIELDS,
                                                             "ccapex_referred_on")):
        return 0
    return row.version


def _lease_id(session: Session, case: Case) -> int | None:
    if case.lease_id is not None:
        return case.lease_id
    return session.scalar(
        select(Lease.id).where(Lease.household_id == case.household_id)
        .order_by(Lease.end_date.is_not(None), Lease.start_date.desc(), Lease.id.desc()).limit(1))


def debt_of(session: Session, case: Case) -> DebtView:
    """The latest of (the lease's line in the newest extract that lists it,
    the amount typed in the case with the day it was typed). A typed amount
    whose day is unknown (typed before this was recorded) counts as of the
    case's opening. Same day: the typed amount (the adviser saw the extract)."""
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

    lease_id = _lease_id(session, case)
    line = None
    if lease_id is not None:
        line = session.execute(
            select(ArrearsLine, ArrearsExtract.extract_date)
            .join(ArrearsExtract, ArrearsExtract.id == ArrearsLine.extract_id)
            .where(ArrearsLine.lease_id == lease_id)
            .order_by(ArrearsExtract.extract_date.desc()).limit(1)
        ).first()
    typed = None
    if case.arrears_cents is not None:
        noted = session.scalar(select(CaseEconomics.arrears_noted_on).where(CaseEconomics.case_id == case.id))
        typed = (case.arrears_cents, noted or case.opened_on, noted is not None)
    extract = None
    if line is not None:
        arrears_line, extract_date = line
        extract = (arrears_line.balance_cents, extract_date, arrears_line)

    def typed_label(t) -> str:
        return (f"saisie au dossier le {format_date(t[1])}" if t[2]
                else f"saisie au dossier (date de saisie non connue, dossier ouvert le {format_date(t[1])})")

    if extract is not None and (typed is None or extract[1] > typed[1]):
        cents, on, row = extract
        other = ""
        if typed is not None and typed[0] != cents:
            when = f" le {format_date(typed[1])}" if typed[2] else " (date de saisie non connue)"
            other = f"Montant saisi au dossier{when} : {format_cents(typed[0])}, plus ancien."
        return DebtView(cents, on, "extrait", f"extrait d'impayés du {format_date(on)}",
                        row.months_unpaid, row.last_payment_on, other)
    if typed is not None:
        other = ""
        if extract is not None and extract[0] != typed[0]:
            other = f"Extrait d'impayés du {format_date(extract[1])} : {format_cents(extract[0])}, plus ancien."
        return DebtView(typed[0], typed[1], "dossier", typed_label(typed), case.arrears_months,
                        case.last_payment_on, other)
    return DebtView(None, None, "", "non renseignée", case.arrears_months, case.last_payment_on)


def economics_of(session: Session, case: Case, level: CaseAccess, today: date) -> EconomicsView:
    """What ``level`` may see of the case's budget and procedure."""
    full = access.shows_household_budget(level)
    # A summary never reads the household's money columns (on a secured
    # server they are not granted to a CAS member: store.pg_rights).
    fields = [f for f in (*BUDGET_FIELDS, *STAGE_FIELDS, "ccapex_referred_on")
              if full or f not in HOUSEHOLD_FIELDS]
    row = session.execute(select(CaseEconomics.version, *(getattr(CaseEconomics, f) for f in fields))
                          .where(CaseEconomics.case_id == case.id)).first()
    values: dict[str, Any] = {f: getattr(row, f) for f in fields} if row else {}
    # As _version: 0 while nothing was typed (a row may hold only arrears_noted_on).
    version = row.version if row is not None and any(v is not None for v in values.values()) else 0
    data = EconomicsInput(**values)
    occupants = len(case.household.members) if case.household is not None else 0
    figures = rules.compute(data.budget(), occupants) if full else None
    dates = data.stages()
    stages = tuple(StageView(s.value, s.label, dates[s], dates[s] is not None and dates[s] > today)
                   for s in Stage)
    current = rules.current_stage(dates, today)
    current_text = "Aucune étape de procédure enregistrée"
    if current is not None:
        stage, on, planned = current
        current_text = f"{stage.label} le {format_date(on)}" + (" (prévue)" if planned else "")
    warning = rules.ccapex_warning(data.assignation_on, data.ccapex_referred_on)
    return EconomicsView(
        case_id=case.id, version=version,
        access="full" if level is CaseAccess.FULL else "summary", input=data, figures=figures,
        occupants=occupants, stages=stages, current_stage=current_text, ccapex_warning=warning,
        debt=debt_of(session, case), lines=_lines(data, figures, occupants),
    )


def _lines(data: EconomicsInput, figures: BudgetFigures | None, occupants: int) -> tuple[str, ...]:
    """The budget as short French lines (fiche dossier, mode séance)."""
    out = []
    if data.rent_cents is not None:
        charges = f" + {format_cents(data.charges_cents)} de charges" if data.charges_cents else ""
        out.append(f"Loyer : {format_cents(data.rent_cents)} hors charges{charges}")
    if figures is None:
        return tuple(out)
    if data.housing_aid_cents:
        kind = rules.HousingAid(data.housing_aid_kind).label if data.housing_aid_kind else "APL / AL"
        out.append(f"{kind} : {format_cents(data.housing_aid_cents)}")
    if data.resources_cents is not None:
        out.append(f"Ressources (hors aide au logement) : {format_cents(data.resources_cents)}")
    if data.other_charges_cents:
        out.append(f"Autres charges fixes : {format_cents(data.other_charges_cents)}")
    if figures.effort_rate_percent is not None:
        out.append(f"Taux d'effort net : {format_percent(figures.effort_rate_percent)}")
    if figures.remaining_cents is not None:
        rav = f"Reste à vivre : {format_cents(figures.remaining_cents)} par mois"
        if figures.remaining_per_person_day_cents is not None:
            rav += (f", soit {format_cents(figures.remaining_per_person_day_cents)} par personne et par jour"
                    f" ({occupants} pers.)")
        out.append(rav)
    return tuple(out)


def format_percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").replace("-", "−") + " %"


class CaseEconomicsService(Service):
    """``CaseEconomicsService(db, actor)``."""

    def get(self, case_id: int) -> EconomicsView:
        with self._read() as session:
            case = _case(session, case_id)
            level = access.require_case(session, self.actor, case.id, case.agency_id, CaseAccess.SUMMARY)
            view = economics_of(session, case, level, self.clock.today())
            editable = level is CaseAccess.FULL and access.has(self.actor, Permission.CASE_EDIT)
            return _replace(view, editable=editable)

    def save(self, case_id: int, data: EconomicsInput, expected_version: int) -> EconomicsView:
        """Store the budget and procedure (all or nothing); ``expected_version``
        is the version shown (0: nothing saved yet). A stale version raises
        ConflictError; a bad amount or date a ValidationError naming its field."""
        access.require(self.actor, Permission.CASE_EDIT)
        today = self.clock.today()
        budget = data.budget()
        rules.check_budget(budget)
        rules.check_procedure(data.stages(), data.ccapex_referred_on, today)
        with self._write() as session:
            case = _case(session, case_id)
            access.require_case(session, self.actor, case.id, case.agency_id, CaseAccess.FULL)
            row = session.get(CaseEconomics, case.id)
            check_version(expected_version, _version(row))
            names = (*BUDGET_FIELDS, *STAGE_FIELDS, "ccapex_referred_on")
            before = {f: getattr(row, f) for f in names} if row else {}
            after = {f: getattr(data, f) for f in names}
            changes = audit.diff_fields(before, after, confidential=set(HOUSEHOLD_FIELDS))
            if changes:
                if row is None:
                    row = CaseEconomics(case_id=case.id)
                    session.add(row)
                for f in names:
                    setattr(row, f, after[f])
                session.flush()
                audit.record(session, self.actor,
                             audit.Action.UPDATE if before else audit.Action.CREATE,
                             ENTITY, case.id, case_id=case.id, details=changes)
            view = economics_of(session, case, CaseAccess.FULL, today)
            return _replace(view, editable=True)


def _replace(view: EconomicsView, **kw) -> EconomicsView:
    from dataclasses import replace

    return replace(view, **kw)


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("Ce dossier n'existe pas (ou plus). Actualisez la liste des dossiers.")
    return case
