"""Small helpers shared by the CAS session services (services.meetings and
the use-case modules beside it): loading a session or a case with a French
error, names and labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import NotFoundError
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import Agency, Household, Tenant, User
from cus_desk.store.models.meetings import Decision, DecisionFollowUp, Meeting

MEETING_NOT_FOUND = "Cette séance de CAS n'existe pas (ou plus). Actualisez la liste des séances."
DECISION_NOT_FOUND = "Cette décision n'existe pas (ou plus). Actualisez l'écran."
CASE_NOT_FOUND = "Ce dossier n'existe pas (ou plus). Vérifiez sa référence."


def _holder(household: Household | None) -> Tenant | None:
    if household is None or not household.members:
        return None
    for member in household.members:
        if member.relationship_kind == "titulaire":
            return member
    return household.members[0]


def household_name(household: Household | None, full: bool = False) -> str:
    holder = _holder(household)
    if holder is None:
        return "Ménage sans titulaire"
    if full:
        return rules.full_name(holder.last_name, holder.first_name)
    return rules.short_name(holder.last_name, holder.first_name)


def _meeting_label(m: Meeting) -> str:
    return rules.meeting_label(m.year, m.number)


def _scope_label(session: Session, m: Meeting) -> str:
    if m.scope_agency_id is None:
        return "Séance centrale (toutes agences)"
    agency = session.get(Agency, m.scope_agency_id)
    return agency.label if agency else "Agence inconnue"


def _user_name(session: Session, user_id: int | None, cache: dict[int, str] | None = None) -> str:
    if user_id is None:
        return ""
    if cache is not None and user_id in cache:
        return cache[user_id]
    user = session.get(User, user_id)
    name = user.display_name if user else "Compte supprimé"
    if cache is not None:
        cache[user_id] = name
    return name


def _get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(MEETING_NOT_FOUND)
    return meeting


def _get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(CASE_NOT_FOUND)
    return case


def _case_load_options():
    """Load a case's household, members and agency with it (no lazy load
    per case when a list or a relevé is built), without its text."""
    return (selectinload(Case.household).selectinload(Household.members), selectinload(Case.agency),
            *_case_text_deferred())


def _case_text_deferred():
    """The case's text is not loaded with agendas and decisions (read on
    demand where a commission summary shows it): recovery staff follow the
    decisions but may not read it (on a secured server the database refuses
    them these columns: store.pg_rights.CASE_TEXT_COLUMNS)."""
    return tuple(defer(column) for column in (
        Case.summary, Case.closure_reason, Case.caf_number, Case.fsl_number, Case.ccapex_number,
        Case.external_worker_ref, Case.search_doc, Case.recommendation, Case.judicial_requested_on))


@dataclass(frozen=True)
class FollowUpView:
    on: date
    author: str
    status: str | None
    status_label: str
    comment: str


@dataclass(frozen=True)
class DecisionView:
    id: int
    meeting_id: int
    meeting_label: str
    held_on: date
    case_id: int
    case_reference: str
    household: str
    type: str
    type_label: str
    text: str
    responsible: str
    due_on: date | None
    status: str
    status_label: str
    status_changed_on: date | None
    overdue: bool
    locked: bool  # the session is closed: content no longer editable
    version: int
    follow_ups: tuple[FollowUpView, ...] = ()
    responsible_user_id: int | None = None
    responsible_service: str | None = None
    referral_id: int | None = None  # the orientation / saisine it created
    repayment_plan_id: int | None = None  # the plan d'apurement it created
    judicial_used_on: date | None = None  # grounds a demande de résiliation since


def _decision_view(session: Session, d: Decision, meeting: Meeting, case: Case,
                   today: date, full_names: bool = False, with_follow_ups: bool = False,
                   users: dict[int, str] | None = None) -> DecisionView:
    follow_ups: tuple[FollowUpView, ...] = ()
    if with_follow_ups:
        rows = session.scalars(
            select(DecisionFollowUp)
            .where(DecisionFollowUp.decision_id == d.id)
            .order_by(DecisionFollowUp.on.desc(), DecisionFollowUp.id.desc())
        )
        follow_ups = tuple(
            FollowUpView(
                on=f.on,
                author=_user_name(session, f.author_id, users),
                status=f.status,
                status_label=rules.FollowUpStatus(f.status).label if f.status else "",
                comment=f.comment,
            )
            for f in rows
        )
    dtype = rules.DecisionType(d.type) if d.type in rules.DecisionType.__members__.values() else None
    return DecisionView(
        id=d.id,
        meeting_id=meeting.id,
        meeting_label=_meeting_label(meeting),
        held_on=meeting.held_on,
        case_id=case.id,
        case_reference=case.reference,
        household=household_name(case.household, full_names),
        type=d.type,
        type_label=dtype.label if dtype else d.type,
        text=d.text,
        responsible=d.responsible,
        due_on=d.due_on,
        status=d.status,
        status_label=rules.FollowUpStatus(d.status).label,
        status_changed_on=d.status_changed_on,
        overdue=rules.is_overdue(d.due_on, d.status, today),
        locked=meeting.status == rules.MeetingStatus.CLOTUREE,
        version=d.version,
        follow_ups=follow_ups,
        responsible_user_id=d.responsible_user_id,
        responsible_service=d.responsible_service,
        referral_id=d.referral_id,
        repayment_plan_id=d.repayment_plan_id,
        judicial_used_on=d.judicial_used_on,
    )
