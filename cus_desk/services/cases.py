"""Case files (dossiers CAS): the use cases the UI and the CLI call.

Access rules (services.access) and the audit trail (services.audit) are
applied here, so no caller can bypass them. Every method returns plain
dataclasses. The list query filters, sorts and pages in SQL (FTS5 trigram
index for the search box) so that 100,000 cases stay fluid."""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from cus_desk.domain import cases as rules
from cus_desk.domain.cases import CaseStatus
from cus_desk.domain.errors import AccessDeniedError, NotFoundError, ValidationError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.meetings import is_sensitive_problem
from cus_desk.domain.reference import LEASE_KINDS, RELATIONSHIP_KINDS, is_sensitive_partner_category
from cus_desk.domain.roles import Role
from cus_desk.domain.settings import REFERRAL_OVERDUE_DAYS
from cus_desk.services import access, audit, case_history
from cus_desk.services.access import CaseAccess, Permission
from cus_desk.services.base import Service, check_version
from cus_desk.services.case_signalements import CaseSignalementView, household_signalements
from cus_desk.services.settings import read_setting
from cus_desk.store import dialect
from cus_desk.store.models.cases import (
    CASE_SEARCH_TABLE,
    CASE_SEARCH_TRIGGERS,
    Case,
    CaseProblem,
    CaseSequence,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
    install_case_search,
)
from cus_desk.store.models.core import (
    Agency,
    Household,
    Lease,
    Partner,
    Referral,
    Tenant,
    User,
)

ENTITY = "case"
# A summary names a health, disability, child-protection or legal-protection
# partner only as this (domain.reference.SENSITIVE_PARTNER_CATEGORIES).
SUMMARY_PARTNER_NAME = "Structure partenaire"

# --------------------------------------------------------------------------
# Inputs


@dataclass
class MemberInput:
    last_name: str
    first_name: str = ""
    birth_date: date | None = None
    relationship_kind: str = "titulaire"


@dataclass
class HouseholdInput:
    members: list[MemberInput]
    phone: str | None = None


@dataclass
class LeaseInput:
    contract_number: str
    agency_id: int
    commune: str
    address: str | None = None
    start_date: date | None = None
    kind: str = "bail_classique"


@dataclass
class CaseInput:
    problems: list[str]
    summary: str = ""
    adviser_id: int | None = None
    caf_number: str | None = None
    fsl_number: str | None = None
    ccapex_number: str | None = None
    external_worker_ref: str | None = None
    arrears_cents: int | None = None
    arrears_months: int | None = None
    last_payment_on: date | None = None


@dataclass
class NewCase:
    """Either ``lease_id`` (an existing lease: its household is used) or a
    new ``household`` with its ``lease``."""

    case: CaseInput
    lease_id: int | None = None
    household: HouseholdInput | None = None
    lease: LeaseInput | None = None


@dataclass(frozen=True)
class CaseFilter:
    agency_id: int | None = None
    status: str | None = None
    problem: str | None = None
    adviser_id: int | None = None
    to_present: bool = False  # only "à présenter en CAS"
    overdue_only: bool = False  # only cases with an overdue referral
    include_closed: bool = True
    search: str = ""


SORT_KEYS = (
    "reference", "holder_name", "contract_number", "agency", "status", "adviser",
    "arrears_cents", "last_activity_on", "opened_on",
)

# --------------------------------------------------------------------------
# Outputs


@dataclass(slots=True)  # not frozen: built 200 at a time on every keystroke
class CaseRow:
    id: int
    reference: str
    holder_name: str
    contract_number: str
    commune: str
    agency_name: str
    status: str
    adviser_name: str
    arrears_cents: int | None
    last_activity_on: date | None
    opened_on: date
    problems: tuple[str, ...]
    overdue_referrals: int

    @property
    def status_label(self) -> str:
        return CaseStatus(self.status).label


@dataclass(frozen=True)
class MemberView:
    id: int
    last_name: str
    first_name: str
    birth_date: date | None
    relationship_kind: str

    @property
    def relationship_label(self) -> str:
        return RELATIONSHIP_KINDS.get(self.relationship_kind, self.relationship_kind)

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


@dataclass(frozen=True)
class HouseholdView:
    id: int
    version: int
    phone: str | None
    referent_name: str
    members: tuple[MemberView, ...]


@dataclass(frozen=True)
class LeaseView:
    id: int
    contract_number: str
    agency_name: str
    commune: str
    address: str | None
    start_date: date | None
    kind: str

    @property
    def kind_label(self) -> str:
        return LEASE_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class JournalView:
    id: int
    kind: str
    occurred_on: date
    author_name: str
    text: str
    created_at: datetime
    corrects_id: int | None
    corrected_by_id: int | None

    @property
    def kind_label(self) -> str:
        return rules.JOURNAL_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ReferralView:
    id: int
    version: int
    partner_id: int
    partner_name: str
    sent_on: date
    reason: str
    status: str
    status_changed_on: date | None
    result: str | None
    failure_reason: str | None
    outcome: str | None
    closed_on: date | None
    overdue: bool

    @property
    def status_label(self) -> str:
        return rules.REFERRAL_STATUSES.get(self.status, self.status)

    @property
    def result_label(self) -> str:
        if not self.result:
            return ""
        label = rules.REFERRAL_RESULTS.get(self.result, self.result)
        if self.failure_reason:
            label += f" ({rules.REFERRAL_FAILURE_REASONS.get(self.failure_reason, self.failure_reason).lower()})"
        return label


@dataclass(frozen=True)
class NoteView:
    id: int
    category: str
    text: str
    consent_on: date | None
    consent_method: str | None
    author_name: str
    created_at: datetime

    @property
    def category_label(self) -> str:
        return rules.CONFIDENTIAL_CATEGORIES.get(self.category, self.category)


@dataclass(frozen=True)
class PlanView:
    id: int
    agreed_on: date
    monthly_cents: int
    months: int
    status: str
    note: str
    version: int = 0

    @property
    def status_label(self) -> str:
        return rules.PLAN_STATUSES.get(self.status, self.status)


@dataclass(frozen=True)
class DecisionView:
    id: int
    meeting_label: str
    type: str
    text: str
    status: str
    due_on: date | None


@dataclass(frozen=True)
class HistoryView:
    occurred_at: datetime
    user_login: str
    action: str
    entity_type: str
    details: dict
    user_name: str = ""  # the person's name, as elsewhere (#14)
    text: str = ""  # the details in French (domain.history)

    @property
    def entity_label(self) -> str:
        from cus_desk.domain.history import entity_label

        return entity_label(self.entity_type)

    @property
    def action_label(self) -> str:
        return audit.ACTION_LABELS.get(self.action, self.action)


@dataclass(frozen=True)
class CaseDetail:
    id: int
    version: int
    reference: str
    access: str  # "full" | "summary"
    status: str
    agency_id: int
    agency_name: str
    opened_on: date
    opened_by_name: str
    adviser_id: int | None
    adviser_name: str
    problems: tuple[str, ...]
    summary: str
    recommendation: str | None
    closure_reason: str | None
    closed_on: date | None
    last_activity_on: date | None
    judicial_requested_on: date | None
    judicial_authorised: bool
    caf_number: str | None
    fsl_number: str | None
    ccapex_number: str | None
    external_worker_ref: str | None
    arrears_cents: int | None
    arrears_months: int | None
    last_payment_on: date | None
    household: HouseholdView
    lease: LeaseView | None
    journal: tuple[JournalView, ...] = ()
    referrals: tuple[ReferralView, ...] = ()
    confidential_notes: tuple[NoteView, ...] = ()
    plans: tuple[PlanView, ...] = ()
    decisions: tuple[DecisionView, ...] = ()
    history: tuple[HistoryView, ...] = ()
    signalements: tuple[CaseSignalementView, ...] = ()  # the household's (full access only)

    @property
    def status_label(self) -> str:
        return CaseStatus(self.status).label

    @property
    def holder_name(self) -> str:
        return self.household.members[0].full_name if self.household.members else ""

    @property
    def allowed_statuses(self) -> tuple[CaseStatus, ...]:
        return rules.allowed_targets(self.status)

    def as_case_input(self) -> CaseInput:
        return CaseInput(
            problems=list(self.problems), summary=self.summary, adviser_id=self.adviser_id,
            caf_number=self.caf_number, fsl_number=self.fsl_number,
            ccapex_number=self.ccapex_number, external_worker_ref=self.external_worker_ref,
            arrears_cents=self.arrears_cents, arrears_months=self.arrears_months,
            last_payment_on=self.last_payment_on,
        )

    def to_public_dict(self) -> dict[str, Any]:
        """JSON-ready view for scripts: never any confidential note."""
        out: dict[str, Any] = {
            "reference": self.reference,
            "statut": self.status,
            "statut_libelle": self.status_label,
            "agence": self.agency_name,
            "ouvert_le": _iso(self.opened_on),
            "ouvert_par": self.opened_by_name,
            "conseillere": self.adviser_name,
            "problematiques": list(self.problems),
            "preconisation": self.recommendation,
            "motif_cloture": self.closure_reason,
            "clos_le": _iso(self.closed_on),
            "derniere_activite": _iso(self.last_activity_on),
            "resiliation_judiciaire_demandee_le": _iso(self.judicial_requested_on),
            "impaye": {
                "solde_cents": self.arrears_cents,
                "mois": self.arrears_months,
                "dernier_paiement": _iso(self.last_payment_on),
            },
            "plans_apurement": [
                {"accord_le": _iso(p.agreed_on), "mensualite_cents": p.monthly_cents,
                 "mois": p.months, "statut": p.status}
                for p in self.plans
            ],
            "orientations": [
                {"partenaire": r.partner_name, "envoyee_le": _iso(r.sent_on), "statut": r.status,
                 "resultat": r.result, "motif_echec": r.failure_reason,
                 "en_retard": r.overdue}
                for r in self.referrals
            ],
            "decisions": [
                {"seance": d.meeting_label, "type": d.type, "texte": d.text, "statut": d.status,
                 "echeance": _iso(d.due_on)}
                for d in self.decisions
            ],
        }
        if self.access == "full":
            out["situation"] = self.summary
            out["numeros_externes"] = {
                "caf": self.caf_number, "fsl": self.fsl_number, "ccapex": self.ccapex_number,
                "travailleur_social": self.external_worker_ref,
            }
            out["menage"] = {
                "telephone": self.household.phone,
                "membres": [
                    {"nom": m.last_name, "prenom": m.first_name,
                     "naissance": _iso(m.birth_date), "lien": m.relationship_kind}
                    for m in self.household.members
                ],
            }
            if self.lease:
                out["bail"] = {
                    "contrat": self.lease.contract_number, "commune": self.lease.commune,
                    "adresse": self.lease.address, "debut": _iso(self.lease.start_date),
                    "type": self.lease.kind,
                }
            out["journal"] = [
                {"date": _iso(j.occurred_on), "type": j.kind, "auteur": j.author_name,
                 "texte": j.text, "corrige": j.corrects_id}
                for j in self.journal
            ]
        return out


@dataclass(frozen=True)
class LeaseLookup:
    lease_id: int
    contract_number: str
    agency_id: int
    agency_name: str
    commune: str
    holder_name: str
    open_case_reference: str | None


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    code: str | None = None


@dataclass(frozen=True)
class OverdueReferral:
    referral_id: int
    case_id: int
    case_reference: str
    holder_name: str
    partner_name: str
    sent_on: date
    days: int


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


# --------------------------------------------------------------------------


class CaseService(Service):
    """``CaseService(db, actor)``; "today" is the Paris day of ``db.clock``."""

    def __init__(self, db, actor) -> None:
        super().__init__(db, actor)
        _ensure_search_index(db)

    def today(self) -> date:
        return self.clock.today()

    # ------------------------------------------------------------ list

    _SETTING_TTL = 30.0  # seconds: the list re-reads the overdue threshold at most this often

    def _overdue_days(self, session: Session) -> int:
        now = time.monotonic()
        cached = getattr(self, "_overdue_cache", None)
        if cached is None or now - cached[0] > self._SETTING_TTL:
            cached = (now, read_setting(session, REFERRAL_OVERDUE_DAYS))
            self._overdue_cache = cached
        return cached[1]

    def _window(self, session: Session) -> access.AttendanceWindow:
        """The attendance window of the visibility rule, for today (its
        settings re-read at most every _SETTING_TTL seconds)."""
        now = time.monotonic()
        today = self.today()
        cached = getattr(self, "_window_cache", None)
        if cached is None or now - cached[0] > self._SETTING_TTL or cached[1] != today:
            cached = (now, today, access.attendance_window(session, self.clock))
            self._window_cache = cached
        return cached[2]

    def _compiled(self, session: Session, key: str, build) -> str:
        """A rule expression of services.access rendered once as SQL text for
        the hand-written list query (values are ids and dates computed here,
        rendered by SQLAlchemy for the session's dialect)."""
        window = self._window(session)
        dialect = session.get_bind().dialect
        cache_key = (key, dialect.name, window)
        cache = self.__dict__.setdefault("_sql_cache", {})
        if cache_key not in cache:
            expr = build(self.actor, window, _LIST_CASES)
            cache[cache_key] = str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        return cache[cache_key]

    def _list_scope(self, session: Session, minimum: CaseAccess = CaseAccess.SUMMARY) -> tuple[str, dict]:
        """SQL condition restricting the list to the cases the actor may see
        (services.access.visible_cases, the one rule)."""
        access.require_case_list(self.actor)
        sql = self._compiled(session, f"scope:{minimum.name}",
                             lambda a, w, c: access.visible_cases(a, w, c, minimum))
        return f"({sql})", {}

    def _level_sql(self, session: Session) -> str:
        return self._compiled(session, "level", access.access_level)

    def _where(self, session: Session, flt: CaseFilter) -> tuple[str, dict]:
        scope, params = self._list_scope(session)
        conds = [scope]
        if flt.agency_id is not None:
            conds.append("c.agency_id = :agency_id")
            params["agency_id"] = flt.agency_id
        if flt.to_present:
            conds.append("c.status = 'a_presenter'")
        elif flt.status:
            conds.append("c.status = :status")
            params["status"] = flt.status
        elif not flt.include_closed:
            conds.append("c.status <> 'clos'")
        if flt.problem:
            conds.append("c.id IN (SELECT p.case_id FROM case_problems p WHERE p.code = :problem)")
            params["problem"] = flt.problem
            if rules.is_sensitive_problem(flt.problem):
                # Filtering on a sensitive problématique would tell which
                # summary-only cases carry it: only fully visible cases match.
                conds.append(self._list_scope(session, CaseAccess.FULL)[0])
        if flt.adviser_id is not None:
            conds.append("c.adviser_id = :adviser_id")
            params["adviser_id"] = flt.adviser_id
        params["cutoff"] = rules.referral_overdue_cutoff(
            self.today(), self._overdue_days(session)
        ).isoformat()
        if flt.overdue_only:
            conds.append(
                "c.id IN (SELECT r.case_id FROM referrals r WHERE r.kind = 'orientation' "
                "AND r.status IN ('envoyee', 'sans_reponse') AND r.sent_on < :cutoff)"
            )
        plan = rules.plan_search(flt.search)
        if plan is not None:
            # FTS5 on SQLite, pg_trgm on a server (store.dialect).
            search = dialect.of(session).case_search(plan, rules.fold(flt.search).split())
            conds.extend(search.conditions)
            params.update(search.params)
            params["_from"] = (search.from_clause, search.id_order)
            if Role(self.actor.role) is not Role.SOCIAL_HEAD:
                # The search text indexes every member's names and the
                # contract numbers: a case seen as a summary only is found by
                # its reference or its holder's surname, never by what the
                # summary hides (a first name, a co-tenant, a contract).
                words = []
                for i, word in enumerate(flt.search.split()):
                    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                    params[f"sref{i}"], params[f"shold{i}"] = f"%{escaped}%", f"{escaped}%"
                    words.append(f"(lower(c.reference) LIKE lower(:sref{i}) ESCAPE '\\' "
                                 f"OR lower(c.holder_name) LIKE lower(:shold{i}) ESCAPE '\\')")
                if words:
                    full = self._list_scope(session, CaseAccess.FULL)[0]
                    conds.append(f"({full} OR ({' AND '.join(words)}))")
        return " AND ".join(conds), params

    def list_sql(self, session: Session, flt: CaseFilter, sort: str = "reference",
                 descending: bool = False, offset: int = 0, limit: int = 200) -> tuple[str, dict]:
        """The SQL of one page of the list (also used by the benchmark as
        the floor: the same query, run bare)."""
        if sort not in SORT_KEYS:
            raise ValidationError(f"Tri inconnu : « {sort} ».", "sort")
        where, params = self._where(session, flt)
        direction = "DESC" if descending else "ASC"
        from_clause, id_order = params.pop("_from", ("cases c", "c.id"))
        # References are allocated in creation order (CaseSequence), so the
        # "reference" order is the case id order: the primary key, or the
        # FTS rowid when searching (both walk an index and stop after a page).
        if sort == "reference":
            order = f"{id_order} {direction}"
        else:
            order = None
        order_col = {
            "reference": "c.year {d}, c.sequence {d}",
            "holder_name": "c.holder_name {d}",
            "contract_number": "c.contract_number {d}",
            "agency": "a.name {d}",
            "status": "c.status {d}",
            "adviser": "u.display_name {d}",
            "arrears_cents": "c.arrears_cents {d}",
            "last_activity_on": "c.last_activity_on {d}",
            "opened_on": "c.opened_on {d}",
        }[sort].format(d=direction + dialect.of(session).nulls_as_smallest(descending))
        problems = dialect.of(session).group_concat("p.code", "','")
        sql = (
            "SELECT c.id, c.reference, c.holder_name, c.contract_number, c.commune, a.name, "
            "c.status, u.display_name, c.arrears_cents, c.last_activity_on, c.opened_on, "
            f"(SELECT {problems} "
            "FROM case_problems p WHERE p.case_id = c.id), "
            "(SELECT count(*) FROM referrals r WHERE r.case_id = c.id AND r.kind = 'orientation' "
            " AND r.status IN ('envoyee', 'sans_reponse') AND r.sent_on < :cutoff), "
            f"{self._level_sql(session)} "
            f"FROM {from_clause} JOIN agencies a ON a.id = c.agency_id "
            "LEFT JOIN users u ON u.id = c.adviser_id "
            f"WHERE {where} ORDER BY {order or order_col + ', c.id ' + direction} "
            "LIMIT :limit OFFSET :offset"
        )
        params.update(limit=int(limit), offset=int(offset))
        return sql, params

    def list_cases(self, flt: CaseFilter = CaseFilter(), sort: str = "reference",
                   descending: bool = False, offset: int = 0, limit: int = 200) -> list[CaseRow]:
        """One page of the list. Rows the actor sees as a summary only show
        the holder with initials and no sensitive problématique."""
        if not access.has(self.actor, Permission.CASE_LIST):
            self._refused(AccessDeniedError(""), None, "liste des dossiers")
            access.require_case_list(self.actor)
        with self._read() as session:
            sql, params = self.list_sql(session, flt, sort, descending, offset, limit)
            # The SQL is already final: driver-level execution where the driver
            # takes :name parameters (store.dialect).
            rows = dialect.of(session).execute_final_sql(session, sql, params).fetchall()
            summary_ids = [r[0] for r in rows if r[13] < CaseAccess.FULL.value]
            initials = _summary_holders(session, summary_ids) if summary_ids else {}
        out = []
        for r in rows:
            problems = tuple(sorted((r[11] or "").split(","), key=_problem_order)) if r[11] else ()
            full = r[13] >= CaseAccess.FULL.value
            out.append(CaseRow(
                id=r[0], reference=r[1],
                holder_name=(r[2] or "") if full else initials.get(r[0], ""),
                contract_number=(r[3] or "") if full else "",
                commune=r[4] or "", agency_name=r[5], status=r[6], adviser_name=r[7] or "",
                arrears_cents=r[8], last_activity_on=_d(r[9]), opened_on=_d(r[10]),
                problems=problems if full else rules.summary_problems(problems),
                overdue_referrals=r[12],
            ))
        self._trace_list(flt, sort, descending, offset, out)
        return out

    _TRACED_MAX = 512

    def _trace_list(self, flt: CaseFilter, sort: str, descending: bool, offset: int,
                    rows: list[CaseRow]) -> None:
        """Trace a list or search read: one event per distinct query (filter
        and sort) of this service, on its first page; scrolling, re-sorting
        back or refreshing the same query adds nothing. The event names the
        filter (the search text by its length only) and the case ids shown."""
        if offset:
            return
        key = (flt, sort, descending, tuple(r.id for r in rows))
        traced = self.__dict__.setdefault("_traced", set())
        if key in traced:
            return
        if len(traced) >= self._TRACED_MAX:
            traced.clear()
        traced.add(key)
        details = {"vue": "recherche" if flt.search.strip() else "liste",
                   "filtre": {k: v for k, v in (("agence", flt.agency_id), ("statut", flt.status),
                                                 ("problematique", flt.problem),
                                                 ("conseillere", flt.adviser_id))
                              if v is not None},
                   "recherche_longueur": len(flt.search.strip()),
                   "dossiers": [r.id for r in rows]}
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.READ, "case_list", None, details=details)

    def count_cases(self, flt: CaseFilter = CaseFilter()) -> int:
        with self._read() as session:
            where, params = self._where(session, flt)
            from_clause = params.pop("_from", ("cases c",))[0]
            return session.execute(
                text(f"SELECT count(*) FROM {from_clause} WHERE {where}"), params
            ).scalar_one()

    # ------------------------------------------------------------ lookups

    def find_by_reference(self, reference: str) -> int:
        ref = reference.strip().upper()
        with self._read() as session:
            row = session.execute(select(Case.id, Case.agency_id).where(Case.reference == ref)).first()
            if row is None:
                raise NotFoundError(
                    f"Aucun dossier ne porte la référence « {reference.strip()} ». "
                    "Vérifiez-la (format CAS-2026-0042)."
                )
            try:
                access.require_case(session, self.actor, row.id, row.agency_id, CaseAccess.SUMMARY)
            except AccessDeniedError:
                refused = row.id
            else:
                return row.id
        self._refused(AccessDeniedError(access.CASE_DENIED), refused, "recherche par référence")
        raise AccessDeniedError(access.CASE_DENIED)

    def lookup_lease(self, contract_number: str) -> LeaseLookup | None:
        """An existing lease by its contract number (new-case form)."""
        access.require(self.actor, Permission.CASE_CREATE)
        number = contract_number.strip()
        if not number:
            return None
        with self._read() as session:
            lease = session.scalar(select(Lease).where(Lease.contract_number == number))
            if lease is None:
                return None
            agency_name = lease.agency.name
            if Role(self.actor.role) is not Role.SOCIAL_HEAD and lease.agency_id != self.actor.agency_id:
                refused = lease.id
            else:
                refused = None
                holder = ""
                if lease.household_id:
                    t = session.scalar(
                        select(Tenant).where(Tenant.household_id == lease.household_id)
                        .order_by(Tenant.position, Tenant.id).limit(1)
                    )
                    holder = f"{t.last_name} {t.first_name}".strip() if t else ""
                open_case = session.execute(
                    select(Case.id, Case.reference).where(Case.status != CaseStatus.CLOSED.value)
                    .where((Case.lease_id == lease.id) | (Case.household_id == lease.household_id))
                    .where(access.visible_cases(self.actor, self._window(session)))
                    .limit(1)
                ).first() if lease.household_id else None
                return LeaseLookup(lease.id, lease.contract_number, lease.agency_id,
                                   agency_name, lease.commune, holder,
                                   open_case.reference if open_case else None)
        message = (f"Le contrat n° {number} relève de l'agence {agency_name} : c'est la conseillère "
                   "de cette agence qui ouvre le dossier. Les informations de ce bail ne sont pas "
                   "affichées.")
        access.record_refusal(self.db, self.actor, "lease", refused, "recherche d'un bail d'une autre agence")
        raise AccessDeniedError(message)

    def agencies(self) -> list[Choice]:
        with self._read() as session:
            return [Choice(a.id, a.name, a.code)
                    for a in session.scalars(select(Agency).order_by(Agency.name))]

    def advisers(self) -> list[Choice]:
        with self._read() as session:
            users = session.scalars(
                select(User).where(User.role.in_([Role.SOCIAL_ADVISER.value, Role.SOCIAL_HEAD.value]))
                .where(User.active.is_(True)).order_by(User.display_name)
            )
            return [Choice(u.id, u.display_name) for u in users]

    def partners_for(self, agency_id: int | None = None) -> list[Choice]:
        """Active partner structures (those serving the agency first)."""
        with self._read() as session:
            partners = list(session.scalars(
                select(Partner).where(Partner.active.is_(True)).where(Partner.merged_into_id.is_(None))
                .options(selectinload(Partner.agencies)).order_by(Partner.name)
            ))
            def key(p):
                serves = agency_id is not None and any(a.id == agency_id for a in p.agencies)
                return (not serves, p.name.lower())
            partners.sort(key=key)
            return [Choice(p.id, p.name if not p.short_name else f"{p.name} ({p.short_name})")
                    for p in partners]

    # ------------------------------------------------------------ detail

    def get(self, case_id: int, *, audit_read: bool = True) -> CaseDetail:
        """The case file as the actor may see it. Opening it is audited
        (``audit_read=False`` only to refresh a case file already open), and
        so is a refused attempt."""
        try:
            if not audit_read:
                with self._read() as session:
                    case = self._load(session, case_id, eager=True)
                    level = access.require_case(session, self.actor, case.id, case.agency_id,
                                                CaseAccess.SUMMARY)
                    return self._detail(session, case, level)
            with self._write() as session:
                case = self._load(session, case_id, eager=True)
                level = access.require_case(session, self.actor, case.id, case.agency_id,
                                            CaseAccess.SUMMARY)
                audit.record(session, self.actor, audit.Action.READ, ENTITY, case.id, case_id=case.id,
                             details={"acces": "complet" if level is CaseAccess.FULL else "synthese"})
                return self._detail(session, case, level)
        except AccessDeniedError as exc:
            self._refused(exc, case_id, "consultation du dossier")
            raise

    def _refused(self, exc: AccessDeniedError, case_id: int | None, what: str) -> None:
        from cus_desk.domain.errors import SessionRevokedError

        if not isinstance(exc, SessionRevokedError):
            access.record_refusal(self.db, self.actor, ENTITY, case_id, what, case_id=case_id)

    def _load(self, session: Session, case_id: int, *, eager: bool = False) -> Case:
        options = [
            joinedload(Case.agency),
            joinedload(Case.household).selectinload(Household.members),
            selectinload(Case.problems),
        ] if eager else []
        case = session.get(Case, case_id, options=options)
        if case is None:
            raise NotFoundError("Ce dossier n'existe pas (ou plus). Actualisez la liste des dossiers.")
        return case

    def _detail(self, session: Session, case: Case, level: CaseAccess) -> CaseDetail:
        from cus_desk.store.models.meetings import Decision, Meeting

        full = level is CaseAccess.FULL
        names = dict(session.execute(select(User.id, User.display_name)).all())
        hh = case.household
        household = HouseholdView(
            id=hh.id, version=hh.version, phone=hh.phone if full else None,
            referent_name=names.get(hh.referent_id, "") if hh.referent_id else "",
            members=tuple(
                MemberView(m.id, m.last_name, m.first_name if full else _initials(m.first_name),
                           m.birth_date if full else None, m.relationship_kind)
                for m in (hh.members if full else hh.members[:1])
            ),
        )
        lease = session.get(Lease, case.lease_id, options=[joinedload(Lease.agency)]) if case.lease_id else session.scalar(
            select(Lease).where(Lease.household_id == hh.id)
            .order_by(Lease.start_date.desc(), Lease.id.desc()).limit(1)
        )
        # A summary identifies the household by reference and initials only:
        # no contract number, address or entry date.
        lease_view = LeaseView(
            lease.id, lease.contract_number if full else "", lease.agency.name, lease.commune,
            lease.address if full else None, lease.start_date if full else None, lease.kind,
        ) if lease else None
        overdue_days = read_setting(session, REFERRAL_OVERDUE_DAYS)
        today = self.today()
        referrals = tuple(
            ReferralView(
                r.id, r.version, r.partner_id,
                r.partner.name if full or not is_sensitive_partner_category(r.partner.category)
                else SUMMARY_PARTNER_NAME, r.sent_on,
                r.reason if full else "", r.status, r.status_changed_on, r.result,
                r.failure_reason, r.outcome if full else None, r.closed_on,
                rules.is_referral_overdue(r.status, r.sent_on, today, overdue_days),
            )
            for r in session.scalars(
                select(Referral).options(joinedload(Referral.partner)).where(Referral.case_id == case.id)
                .where(Referral.kind == "orientation")
                .order_by(Referral.sent_on.desc(), Referral.id.desc())
            )
        )
        journal: tuple[JournalView, ...] = ()
        notes: tuple[NoteView, ...] = ()
        history: tuple[HistoryView, ...] = ()
        if full:
            entries = list(session.scalars(
                select(JournalEntry).where(JournalEntry.case_id == case.id)
                .order_by(JournalEntry.occurred_on.desc(), JournalEntry.id.desc())
            ))
            corrected_by = {e.corrects_id: e.id for e in entries if e.corrects_id}
            journal = tuple(
                JournalView(e.id, e.kind, e.occurred_on, names.get(e.author_id, ""), e.text,
                            e.created_at, e.corrects_id, corrected_by.get(e.id))
                for e in entries
            )
            if access.has(self.actor, Permission.CONFIDENTIAL_READ):
                notes = tuple(
                    NoteView(n.id, n.category, n.text, n.consent_on, n.consent_method,
                             names.get(n.author_id, ""), n.created_at)
                    for n in session.scalars(
                        select(ConfidentialNote).where(ConfidentialNote.case_id == case.id)
                        .order_by(ConfidentialNote.created_at.desc(), ConfidentialNote.id.desc())
                    )
                )
            history = case_history.history(session, case.id)
        plans = tuple(
            PlanView(p.id, p.agreed_on, p.monthly_cents, p.months, p.status, p.note if full else "",
                     p.version)
            for p in session.scalars(
                select(RepaymentPlan).where(RepaymentPlan.case_id == case.id)
                .order_by(RepaymentPlan.agreed_on.desc())
            )
        )
        decisions = tuple(
            DecisionView(
                d.id, f"CAS n° {m.number}/{m.year} du {format_date(m.held_on)}", d.type, d.text,
                d.status, d.due_on,
            )
            for d, m in session.execute(
                select(Decision, Meeting).join(Meeting, Meeting.id == Decision.meeting_id)
                .where(Decision.case_id == case.id).order_by(Meeting.held_on.desc(), Decision.id)
            ).all()
        )
        from cus_desk.services import judicial

        authorised = judicial.is_authorised(session, case, self.today())
        return CaseDetail(
            id=case.id, version=case.version, reference=case.reference,
            access="full" if full else "summary", status=case.status,
            agency_id=case.agency_id, agency_name=case.agency.name, opened_on=case.opened_on,
            opened_by_name=names.get(case.opened_by_id, "") if case.opened_by_id else "",
            adviser_id=case.adviser_id,
            adviser_name=names.get(case.adviser_id, "") if case.adviser_id else "",
            # The commission summary leaves out health, violence and family
            # problématiques, and the free-text closure reason (art. L.121-6-2 CASF).
            problems=tuple(sorted((p.code for p in case.problems
                                   if full or not is_sensitive_problem(p.code)), key=_problem_order)),
            summary=case.summary if full else "",
            recommendation=case.recommendation,
            closure_reason=case.closure_reason if full else None, closed_on=case.closed_on,
            last_activity_on=case.last_activity_on,
            judicial_requested_on=case.judicial_requested_on, judicial_authorised=authorised,
            caf_number=case.caf_number if full else None,
            fsl_number=case.fsl_number if full else None,
            ccapex_number=case.ccapex_number if full else None,
            external_worker_ref=case.external_worker_ref if full else None,
            arrears_cents=case.arrears_cents, arrears_months=case.arrears_months,
            last_payment_on=case.last_payment_on,
            household=household, lease=lease_view, journal=journal, referrals=referrals,
            confidential_notes=notes, plans=plans, decisions=decisions, history=history,
            signalements=household_signalements(session, case.id, case.household_id) if full else (),
        )

    # ------------------------------------------------------------ writes

    def _editable(self, session: Session, case_id: int, expected_version: int | None = None) -> Case:
        access.require(self.actor, Permission.CASE_EDIT)
        case = self._load(session, case_id)
        access.require_case(session, self.actor, case.id, case.agency_id, CaseAccess.FULL)
        check_version(expected_version, case.version)
        return case

    def _touch(self, session: Session, case: Case, on: date) -> None:
        """Move the case's last activity date forward. A bulk UPDATE on
        purpose: a derived date, not an edit, so it does not bump the
        case's version (a case form open elsewhere stays valid when a
        journal entry or a referral is added)."""
        if case.last_activity_on is None or on > case.last_activity_on:
            session.execute(update(Case).where(Case.id == case.id).values(last_activity_on=on),
                            execution_options={"synchronize_session": "fetch"})

    def _clean_case_input(self, session: Session, data: CaseInput) -> dict[str, Any]:
        today = self.today()
        problems = rules.check_problems(list(data.problems))
        rules.check_arrears(data.arrears_cents, data.arrears_months)
        rules.check_past_date(data.last_payment_on, today, "Date du dernier paiement", "last_payment_on")
        if data.adviser_id is not None:
            user = session.get(User, data.adviser_id)
            if user is None or user.role not in (Role.SOCIAL_ADVISER.value, Role.SOCIAL_HEAD.value):
                raise ValidationError("La conseillère référente choisie n'existe pas.", "adviser_id")
        return {
            "problems": problems,
            "summary": rules.clean_text(data.summary, rules.MAX_SUMMARY, "Situation", "summary"),
            "adviser_id": data.adviser_id,
            "caf_number": rules.clean_optional(data.caf_number, rules.MAX_SHORT, "N° allocataire CAF", "caf_number"),
            "fsl_number": rules.clean_optional(data.fsl_number, rules.MAX_SHORT, "N° de dossier FSL", "fsl_number"),
            "ccapex_number": rules.clean_optional(data.ccapex_number, rules.MAX_SHORT, "N° de saisine CCAPEX", "ccapex_number"),
            "external_worker_ref": rules.clean_optional(
                data.external_worker_ref, 200, "Travailleur social extérieur", "external_worker_ref"),
            "arrears_cents": data.arrears_cents,
            "arrears_months": data.arrears_months,
            "last_payment_on": data.last_payment_on,
        }

    def _clean_household(self, data: HouseholdInput) -> tuple[list[dict], str | None]:
        today = self.today()
        if not data.members:
            raise ValidationError("Indiquez au moins le titulaire du bail.", "members")
        if len(data.members) > 30:
            raise ValidationError("Un ménage ne peut pas compter plus de 30 occupants.", "members")
        members = []
        for i, m in enumerate(data.members):
            prefix = f"members.{i}."
            last = rules.clean_name(m.last_name, "Nom", prefix + "last_name")
            first = rules.clean_name(m.first_name, "Prénom", prefix + "first_name", required=False)
            rules.check_birth_date(m.birth_date, today, prefix + "birth_date")
            if m.relationship_kind not in RELATIONSHIP_KINDS:
                raise ValidationError("Lien avec le titulaire inconnu.", prefix + "relationship_kind")
            members.append({"last_name": last, "first_name": first, "birth_date": m.birth_date,
                            "relationship_kind": m.relationship_kind})
        phone = rules.clean_optional(data.phone, rules.MAX_SHORT, "Téléphone", "phone")
        if phone and not all(ch.isdigit() or ch in " +.-()" for ch in phone):
            raise ValidationError("Le téléphone ne peut contenir que des chiffres, espaces, + . - ( ).", "phone")
        return members, phone

    def create_case(self, new: NewCase) -> int:
        """Open a case file (with a new household and lease, or on an
        existing lease). Returns the case id. All or nothing."""
        access.require(self.actor, Permission.CASE_CREATE)
        today = self.today()
        with self._write() as session:
            values = self._clean_case_input(session, new.case)
            if new.lease_id is not None:
                lease = session.get(Lease, new.lease_id)
                if lease is None or lease.household_id is None:
                    raise ValidationError("Ce bail n'existe pas ou n'a pas de ménage.", "contract_number")
                household = lease.household
            else:
                if new.household is None or new.lease is None:
                    raise ValidationError("Indiquez le ménage et son bail.", "members")
                members, phone = self._clean_household(new.household)
                lease_values = self._clean_lease(session, new.lease)
                household = Household(agency_id=lease_values["agency_id"], phone=phone,
                                      referent_id=values["adviser_id"])
                household.members = [Tenant(position=i, **m) for i, m in enumerate(members)]
                session.add(household)
                session.flush()
                lease = Lease(household_id=household.id, **lease_values)
                session.add(lease)
                session.flush()
                audit.record(session, self.actor, audit.Action.CREATE, "household", household.id,
                             details={"membres": len(members), "bail": lease.contract_number})
            if self.actor.role is Role.SOCIAL_ADVISER and lease.agency_id != self.actor.agency_id:
                raise AccessDeniedError(
                    "Ce bail relève d'une autre agence : c'est la conseillère de cette agence "
                    "qui ouvre le dossier."
                )
            case = self._new_case(session, household.id, lease, values, today)
            return case.id

    def _clean_lease(self, session: Session, data: LeaseInput) -> dict[str, Any]:
        number = rules.clean_text(data.contract_number, rules.MAX_SHORT, "N° de contrat", "contract_number",
                                  required=True)
        if session.scalar(select(Lease.id).where(Lease.contract_number == number)):
            raise ValidationError(
                f"Le contrat n° {number} existe déjà : utilisez le bail existant.", "contract_number"
            )
        if session.get(Agency, data.agency_id) is None:
            raise ValidationError("Choisissez l'agence du bail.", "agency_id")
        if data.kind not in LEASE_KINDS:
            raise ValidationError("Type de bail inconnu.", "kind")
        rules.check_past_date(data.start_date, self.today() + timedelta(days=366),
                              "Date d'entrée dans les lieux", "start_date")
        return {
            "contract_number": number,
            "agency_id": data.agency_id,
            "commune": rules.clean_text(data.commune, 120, "Commune", "commune", required=True),
            "address": rules.clean_optional(data.address, rules.MAX_ADDRESS, "Adresse", "address"),
            "start_date": data.start_date,
            "kind": data.kind,
        }

    def _new_case(self, session: Session, household_id: int, lease: Lease, values: dict,
                  today: date, status: str = CaseStatus.OPEN.value) -> Case:
        seq = session.get(CaseSequence, today.year)
        if seq is None:
            # Never below a number already used (cases created before the counter).
            used = session.scalar(select(func.max(Case.sequence)).where(Case.year == today.year)) or 0
            seq = CaseSequence(year=today.year, last_value=used)
            session.add(seq)
        seq.last_value += 1
        problems = values.pop("problems")
        case = Case(
            reference=rules.format_reference(today.year, seq.last_value), year=today.year,
            sequence=seq.last_value, household_id=household_id, lease_id=lease.id,
            agency_id=lease.agency_id, status=status, opened_on=today,
            opened_by_id=self.actor.user_id, last_activity_on=today, **values,
        )
        if case.adviser_id is None and self.actor.role is Role.SOCIAL_ADVISER:
            case.adviser_id = self.actor.user_id
        case.problems = [CaseProblem(code=c) for c in problems]
        session.add(case)
        session.flush()
        # Content (situation, problématiques, identifiers) is only marked as set.
        details = audit.diff_fields({}, {k: v for k, v in values.items() if v not in (None, "")})
        if problems:
            details["problems"] = audit.CONFIDENTIAL_MARK
        details["reference"] = [None, case.reference]
        details["status"] = [None, status]
        audit.record(session, self.actor, audit.Action.CREATE, ENTITY, case.id, case_id=case.id,
                     details=details)
        return case

    def find_or_create_for_lease(self, lease_id: int, problems: Sequence[str] = ("impaye_loyer",),
                                 summary: str = "", arrears_cents: int | None = None,
                                 arrears_months: int | None = None) -> int:
        """The open case of this lease (or its household), or a new one.
        Used by the seniors feature to open a case from a signalement."""
        access.require(self.actor, Permission.CASE_CREATE)
        with self._write() as session:
            lease = session.get(Lease, lease_id)
            if lease is None or lease.household_id is None:
                raise NotFoundError("Ce bail n'existe pas ou n'a pas de ménage : impossible d'ouvrir un dossier.")
            existing = session.scalar(
                select(Case).where(Case.status != CaseStatus.CLOSED.value)
                .where((Case.lease_id == lease.id) | (Case.household_id == lease.household_id))
                .order_by(Case.id.desc()).limit(1)
            )
            if existing is not None:
                access.require_case(session, self.actor, existing.id, existing.agency_id, CaseAccess.SUMMARY)
                return existing.id
            if self.actor.role is Role.SOCIAL_ADVISER and lease.agency_id != self.actor.agency_id:
                raise AccessDeniedError(
                    "Ce bail relève d'une autre agence : c'est la conseillère de cette agence "
                    "qui ouvre le dossier."
                )
            values = self._clean_case_input(session, CaseInput(
                problems=list(problems), summary=summary, arrears_cents=arrears_cents, arrears_months=arrears_months))
            return self._new_case(session, lease.household_id, lease, values, self.today()).id

    def update_case(self, case_id: int, data: CaseInput, expected_version: int) -> int:
        """Save the case form. Returns the new version."""
        with self._write() as session:
            case = self._editable(session, case_id, expected_version)
            return self._update_case_in(session, case, data)

    def update_household(self, case_id: int, data: HouseholdInput, expected_version: int) -> int:
        """Save the household of a case (members replaced as a whole).
        ``expected_version`` is the household's. Returns its new version."""
        with self._write() as session:
            case = self._editable(session, case_id)
            return self._update_household_in(session, case, data, expected_version)

    def save_case_file(self, case_id: int, data: CaseInput, case_version: int,
                       household: HouseholdInput | None = None,
                       household_version: int | None = None) -> tuple[int, int | None]:
        """The case form and its household form in one transaction: both
        saved, or (bad input, conflict) neither. Returns the new versions."""
        with self._write() as session:
            case = self._editable(session, case_id, case_version)
            new_case_version = self._update_case_in(session, case, data)
            new_hh_version = None
            if household is not None:
                new_hh_version = self._update_household_in(session, case, household, household_version)
            return new_case_version, new_hh_version

    def _update_case_in(self, session: Session, case: Case, data: CaseInput) -> int:
        values = self._clean_case_input(session, data)
        before = _case_values(case)
        problems = values.pop("problems")
        after = dict(values, problems=problems)
        changes = audit.diff_fields(before, after)
        if not changes:
            return case.version
        for key, value in values.items():
            setattr(case, key, value)
        if set(problems) != {p.code for p in case.problems}:
            keep = {p.code: p for p in case.problems}
            case.problems = [keep.get(c) or CaseProblem(code=c) for c in problems]
        case.updated_at = self.clock.now()  # the version moves even when only problems changed
        flag_modified(case, "updated_at")  # ...even at the same instant
        session.flush()
        self._touch(session, case, self.today())
        if "arrears_cents" in changes:
            from cus_desk.services.case_economics import note_typed_arrears

            note_typed_arrears(session, case.id, self.today())
        audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, case.id, case_id=case.id,
                     details=changes)
        return case.version

    def _update_household_in(self, session: Session, case: Case, data: HouseholdInput,
                             expected_version: int | None) -> int:
        household = case.household
        check_version(expected_version, household.version)
        members, phone = self._clean_household(data)
        before = {"phone": household.phone, "members": [list(_member_key(m)) for m in household.members]}
        after = {"phone": phone, "members": [
            [m["last_name"], m["first_name"], _iso(m["birth_date"]), m["relationship_kind"]] for m in members
        ]}
        if before == after:
            return household.version
        existing = list(household.members)
        # The trail gets counts and row ids, never names nor birth dates.
        details = audit.diff_fields({"phone": household.phone}, {"phone": phone}, confidential={"phone"})
        if before["members"] != after["members"]:
            details["members"] = audit.members_change(
                [(t.id, tuple(k)) for t, k in zip(existing, before["members"], strict=True)],
                [(existing[i].id if i < len(existing) else None, tuple(k))
                 for i, k in enumerate(after["members"])])
        household.phone = phone
        for i, m in enumerate(members):
            if i < len(existing):
                t = existing[i]
                t.position, t.last_name, t.first_name = i, m["last_name"], m["first_name"]
                t.birth_date, t.relationship_kind = m["birth_date"], m["relationship_kind"]
            else:
                household.members.append(Tenant(position=i, **m))
        for t in existing[len(members):]:
            household.members.remove(t)
        household.updated_at = self.clock.now()
        flag_modified(household, "updated_at")
        session.flush()
        self._touch(session, case, self.today())
        audit.record(session, self.actor, audit.Action.UPDATE, "household", household.id,
                     case_id=case.id, details=details)
        return household.version

    def change_status(self, case_id: int, target: str, expected_version: int, *,
                      closure_reason: str | None = None, recommendation: str | None = None) -> int:
        with self._write() as session:
            case = self._editable(session, case_id, expected_version)
            result = rules.transition(case.status, target, closure_reason=closure_reason,
                                      recommendation=recommendation)
            before = {"status": case.status, "closure_reason": case.closure_reason,
                      "recommendation": case.recommendation, "closed_on": _iso(case.closed_on)}
            case.status = result.status.value
            if result.recommendation:
                case.recommendation = result.recommendation
            if result.closed:
                case.closure_reason, case.closed_on = result.closure_reason, self.today()
            if result.reopened:
                case.closure_reason, case.closed_on = None, None
            self._touch(session, case, self.today())
            session.flush()
            after = {"status": case.status, "closure_reason": case.closure_reason,
                     "recommendation": case.recommendation, "closed_on": _iso(case.closed_on)}
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, case.id, case_id=case.id,
                         details=audit.diff_fields(before, after))
            return case.version

    def request_judicial_termination(self, case_id: int, expected_version: int) -> int:
        """Record the "demande de résiliation judiciaire du bail": refused
        unless a CAS decision on this case authorises it (seed §9.3)."""
        from cus_desk.services import judicial

        with self._write() as session:
            case = self._editable(session, case_id, expected_version)
            rules.check_judicial_request(case.status, True, case.judicial_requested_on is not None)
            today = self.today()
            # The collegial decision it rests on (services.judicial, issue 14).
            decision, meeting = judicial.find_ground(session, case, today)
            case.judicial_requested_on = today
            decision.judicial_used_on = today
            session.add(JournalEntry(
                case_id=case.id, kind="note", occurred_on=today, author_id=self.actor.user_id,
                text=judicial.journal_text(decision, meeting),
            ))
            self._touch(session, case, today)
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, case.id, case_id=case.id,
                         details={"judicial_requested_on": [None, today.isoformat()],
                                  "decision": decision.id})
            return case.version

    def add_journal_entry(self, case_id: int, kind: str, occurred_on: date | None, text_: str,
                          corrects_id: int | None = None, subject_tenant_id: int | None = None) -> int:
        """A new journal entry. A correction is a new entry pointing at the
        corrected one (the original stays, marked as corrected).
        ``subject_tenant_id``: the member it is about (None: the household)."""
        with self._write() as session:
            case = self._editable(session, case_id)
            self._check_subject(case, subject_tenant_id)
            if kind not in rules.JOURNAL_KINDS:
                raise ValidationError(f"Type d'entrée inconnu : « {kind} ».", "kind")
            if occurred_on is None:
                raise ValidationError("Indiquez la date de l'entrée du journal.", "occurred_on")
            rules.check_past_date(occurred_on, self.today(), "Date", "occurred_on")
            if occurred_on < case.opened_on.replace(year=case.opened_on.year - 5):
                raise ValidationError("Cette date précède de plus de 5 ans l'ouverture du dossier : vérifiez-la.",
                                      "occurred_on")
            body = rules.clean_text(text_, rules.MAX_TEXT, "Texte", "text", required=True)
            if corrects_id is not None:
                target = session.get(JournalEntry, corrects_id)
                if target is None or target.case_id != case.id:
                    raise ValidationError("L'entrée à corriger n'appartient pas à ce dossier.", "corrects_id")
            entry = JournalEntry(case_id=case.id, kind=kind, occurred_on=occurred_on,
                                 author_id=self.actor.user_id, text=body, corrects_id=corrects_id,
                                 subject_tenant_id=subject_tenant_id)
            session.add(entry)
            self._touch(session, case, occurred_on)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "journal_entry", entry.id,
                         case_id=case.id, details={"kind": kind, "occurred_on": occurred_on.isoformat(),
                                                   "corrects_id": corrects_id, "length": len(body)})
            return entry.id

    @staticmethod
    def _check_subject(case: Case, subject_tenant_id: int | None) -> None:
        if subject_tenant_id is None:
            return
        if case.household is None or subject_tenant_id not in {m.id for m in case.household.members}:
            raise ValidationError("La personne concernée doit être un membre du ménage de ce dossier.",
                                  "subject_tenant_id")

    def add_confidential_note(self, case_id: int, category: str, text_: str,
                              consent_on: date | None = None, consent_method: str | None = None,
                              subject_tenant_id: int | None = None) -> int:
        """``subject_tenant_id``: the member the note is about (the right of
        access gives each person the notes about them, never another's)."""
        access.require(self.actor, Permission.CONFIDENTIAL_READ)
        with self._write() as session:
            case = self._editable(session, case_id)
            self._check_subject(case, subject_tenant_id)
            body = rules.check_confidential_note(category, text_, consent_on, consent_method, self.today())
            note = ConfidentialNote(case_id=case.id, category=category, text=body, consent_on=consent_on,
                                    consent_method=consent_method, author_id=self.actor.user_id,
                                    subject_tenant_id=subject_tenant_id)
            session.add(note)
            self._touch(session, case, self.today())
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "confidential_note", note.id,
                         case_id=case.id,
                         details={"category": audit.CONFIDENTIAL_MARK, "text": audit.CONFIDENTIAL_MARK,
                                  "consent_on": audit.CONFIDENTIAL_MARK if consent_on else None})
            return note.id

    def add_referral(self, case_id: int, partner_id: int | None, sent_on: date | None, reason: str) -> int:
        with self._write() as session:
            case = self._editable(session, case_id)
            partner = session.get(Partner, partner_id) if partner_id is not None else None
            if partner is None:
                raise ValidationError("Choisissez la structure partenaire.", "partner_id")
            if not partner.active:
                raise ValidationError(f"La structure « {partner.name} » n'est plus active.", "partner_id")
            if sent_on is None:
                raise ValidationError("Indiquez la date d'envoi de l'orientation.", "sent_on")
            rules.check_past_date(sent_on, self.today(), "Date d'envoi", "sent_on")
            body = rules.clean_text(reason, rules.MAX_SUMMARY, "Motif", "reason", required=True)
            referral = Referral(kind="orientation", case_id=case.id, lease_id=case.lease_id,
                                partner_id=partner.id, sent_on=sent_on, reason=body, status="envoyee",
                                status_changed_on=sent_on, created_by_id=self.actor.user_id)
            session.add(referral)
            session.add(JournalEntry(case_id=case.id, kind="orientation", occurred_on=sent_on,
                                     author_id=self.actor.user_id,
                                     text=f"Orientation vers {partner.name} : {body}"))
            self._touch(session, case, sent_on)
            session.flush()
            # The partner by id only: its name can reveal health (a psychiatric hospital).
            audit.record(session, self.actor, audit.Action.CREATE, "referral", referral.id, case_id=case.id,
                         details={"partner_id": partner.id, "sent_on": sent_on.isoformat(),
                                  "status": "envoyee"})
            return referral.id

    def update_referral(self, referral_id: int, status: str, expected_version: int, *,
                        result: str | None = None, failure_reason: str | None = None,
                        outcome: str | None = None) -> int:
        with self._write() as session:
            referral = session.get(Referral, referral_id)
            if referral is None or referral.kind != "orientation" or referral.case_id is None:
                raise NotFoundError("Cette orientation n'existe pas (ou plus). Rechargez le dossier.")
            case = self._editable(session, referral.case_id)
            check_version(expected_version, referral.version)
            change = rules.referral_transition(referral.status, status, result, failure_reason)
            text_out = rules.clean_optional(outcome, rules.MAX_SUMMARY, "Suite donnée", "outcome")
            before = {"status": referral.status, "result": referral.result,
                      "failure_reason": referral.failure_reason, "outcome": referral.outcome}
            today = self.today()
            referral.status, referral.status_changed_on = change.status, today
            referral.result, referral.failure_reason = change.result, change.failure_reason
            if text_out is not None:
                referral.outcome = text_out
            if change.status == "cloturee":
                referral.closed_on = today
            self._touch(session, case, today)
            session.flush()
            after = {"status": referral.status, "result": referral.result,
                     "failure_reason": referral.failure_reason, "outcome": referral.outcome}
            audit.record(session, self.actor, audit.Action.UPDATE, "referral", referral.id,
                         case_id=case.id, details=audit.diff_fields(before, after))
            return referral.version

    def add_repayment_plan(self, case_id: int, agreed_on: date | None, monthly_cents: int | None,
                           months: int | None, note: str = "") -> int:
        with self._write() as session:
            case = self._editable(session, case_id)
            if agreed_on is None:
                raise ValidationError("Indiquez la date de l'accord.", "agreed_on")
            rules.check_past_date(agreed_on, self.today(), "Date de l'accord", "agreed_on")
            if monthly_cents is None or monthly_cents <= 0 or monthly_cents > rules.MAX_ARREARS_CENTS:
                raise ValidationError("La mensualité doit être un montant positif.", "monthly_cents")
            if months is None or not 1 <= months <= 120:
                raise ValidationError("La durée du plan doit être comprise entre 1 et 120 mois.", "months")
            plan = RepaymentPlan(case_id=case.id, agreed_on=agreed_on, monthly_cents=monthly_cents,
                                 months=months, status="en_cours",
                                 note=rules.clean_text(note, rules.MAX_SUMMARY, "Note", "note"))
            session.add(plan)
            self._touch(session, case, agreed_on)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "repayment_plan", plan.id,
                         case_id=case.id, details={"agreed_on": agreed_on.isoformat(),
                                                   "monthly_cents": monthly_cents, "months": months})
            return plan.id

    def update_repayment_plan(self, plan_id: int, status: str, expected_version: int) -> int:
        """Follow-up of a plan d'apurement (respecté, non respecté, soldé)."""
        if status not in rules.PLAN_STATUSES:
            raise ValidationError(f"Statut de plan inconnu : « {status} ».", "status")
        with self._write() as session:
            plan = session.get(RepaymentPlan, plan_id)
            if plan is None:
                raise NotFoundError("Ce plan d'apurement n'existe pas (ou plus). Rechargez le dossier.")
            case = self._editable(session, plan.case_id)
            check_version(expected_version, plan.version)
            if plan.status == status:
                return plan.version
            before = plan.status
            plan.status = status
            session.flush()
            self._touch(session, case, self.today())
            audit.record(session, self.actor, audit.Action.UPDATE, "repayment_plan", plan.id,
                         case_id=case.id, details={"status": [before, status]})
            return plan.version

    def overdue_referrals(self, agency_id: int | None = None) -> list[OverdueReferral]:
        """Orientations without an answer after REFERRAL_OVERDUE_DAYS, oldest first."""
        with self._read() as session:
            # Following referrals up is the work of those who hold the file.
            scope, params = self._list_scope(session, CaseAccess.FULL)
            days = read_setting(session, REFERRAL_OVERDUE_DAYS)
            cutoff = rules.referral_overdue_cutoff(self.today(), days)
            params.update(cutoff=cutoff.isoformat())
            sql = (
                "SELECT r.id, c.id, c.reference, c.holder_name, p.name, r.sent_on FROM referrals r "
                "JOIN cases c ON c.id = r.case_id JOIN partners p ON p.id = r.partner_id "
                "WHERE r.kind = 'orientation' AND r.status IN ('envoyee', 'sans_reponse') "
                f"AND r.sent_on < :cutoff AND {scope}"
            )
            if agency_id is not None:
                sql += " AND c.agency_id = :agency_id"
                params["agency_id"] = agency_id
            rows = session.execute(text(sql + " ORDER BY r.sent_on, r.id"), params).all()
        today = self.today()
        return [OverdueReferral(r[0], r[1], r[2], r[3] or "", r[4], _d(r[5]), (today - _d(r[5])).days)
                for r in rows]


_LIST_CASES = Case.__table__.alias("c")  # the alias of the hand-written list query


def _summary_holders(session: Session, case_ids: list[int]) -> dict[int, str]:
    """Holder of each case as a summary shows it: surname and initials."""
    from cus_desk.domain.meetings import short_name

    out: dict[int, str] = {}
    for case_id, last, first in session.execute(
        select(Case.id, Tenant.last_name, Tenant.first_name)
        .join(Tenant, Tenant.household_id == Case.household_id)
        .where(Case.id.in_(case_ids)).order_by(Case.id, Tenant.position, Tenant.id)
    ).all():
        out.setdefault(case_id, short_name(last, first))
    return out


_CHECKED_ENGINES: weakref.WeakSet = weakref.WeakSet()


def _ensure_search_index(db) -> None:
    """Once per open database: make sure the search index and its triggers
    exist (a later migration rebuilding ``tenants``, ``leases`` or ``cases``
    drops their triggers; seeding runs only when reference data changes)."""
    if db.engine in _CHECKED_ENGINES:
        return
    _CHECKED_ENGINES.add(db.engine)
    with db.read_session() as session:
        if not dialect.of(session).fts5_case_search:
            return  # a server: index and triggers come with the migrations
        present = set(session.execute(text(
            "SELECT name FROM sqlite_master WHERE substr(name, 1, 11) = 'case_search'"
        )).scalars())
    if not present >= {CASE_SEARCH_TABLE, *CASE_SEARCH_TRIGGERS}:
        with db.write_session() as session:
            install_case_search(session)


_PROBLEM_ORDER = {code: i for i, code in enumerate(rules.PROBLEMS)}


def _initials(first_name: str) -> str:
    """A first name reduced to its initials (``Jean-Pierre`` → ``J.-P.``)."""
    return " ".join("-".join(p[0].upper() + "." for p in part.split("-") if p)
                    for part in (first_name or "").split())


def _problem_order(code: str) -> int:
    return _PROBLEM_ORDER.get(code, len(_PROBLEM_ORDER))


def _member_key(m: Tenant) -> tuple:
    return (m.last_name, m.first_name, _iso(m.birth_date), m.relationship_kind)


def _case_values(case: Case) -> dict[str, Any]:
    return {
        "problems": sorted((p.code for p in case.problems), key=_problem_order),
        "summary": case.summary,
        "adviser_id": case.adviser_id,
        "caf_number": case.caf_number,
        "fsl_number": case.fsl_number,
        "ccapex_number": case.ccapex_number,
        "external_worker_ref": case.external_worker_ref,
        "arrears_cents": case.arrears_cents,
        "arrears_months": case.arrears_months,
        "last_payment_on": case.last_payment_on,
    }

