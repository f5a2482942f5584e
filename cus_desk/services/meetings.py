"""Séances de CAS: preparing a session (attendees, agenda, proposals),
running it (commission summary, reveal with audit, decisions), closing it
(lock + archived relevé de décisions), addenda, and the follow-up of
decisions. Access rules and the audit trail live here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import AccessDeniedError, NotFoundError, ValidationError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.domain.reference import (
    CAS_FUNCTIONS,
    RELATIONSHIP_KINDS,
    is_sensitive_partner_category,
)
from cus_desk.domain.roles import Role
from cus_desk.domain.settings import ORGANISATION_NAME, RELEVE_FULL_NAMES
from cus_desk.services import access, audit, judicial
from cus_desk.services.access import CaseAccess, Permission
from cus_desk.services.agenda_proposals import AgendaProposal, AgendaProposals  # noqa: F401
from cus_desk.services.base import Service, check_version, traces_refusals
from cus_desk.services.case_economics import DebtView, economics_of
from cus_desk.services.decision_effects import EffectRequest, apply_case_statuses  # noqa: F401
from cus_desk.services.meeting_common import (  # noqa: F401 - re-exported names
    CASE_NOT_FOUND,
    DECISION_NOT_FOUND,
    MEETING_NOT_FOUND,
    DecisionView,
    FollowUpView,
    _case_load_options,
    _case_text_deferred,
    _decision_view,
    _get_case,
    _get_meeting,
    _holder,
    _meeting_label,
    _scope_label,
    _user_name,
    household_name,
)
from cus_desk.services.meeting_decisions import MeetingDecisions, ResponsibleOption  # noqa: F401
from cus_desk.services.meeting_members import (  # noqa: F401 - re-exported names
    AttendeeCandidate,
    AttendeeView,
    MeetingMembers,
    attendee_view,
    copy_members,
    meeting_quorum,
    require_quorum,
)
from cus_desk.services.settings import read_setting
from cus_desk.store.db import session_clock
from cus_desk.store.models.cases import (
    Case,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
)
from cus_desk.store.models.core import (
    Agency,
    AuditEvent,
    Partner,
    Referral,
)
from cus_desk.store.models.meetings import (
    AgendaItem,
    Decision,
    DecisionFollowUp,
    Meeting,
    MeetingAddendum,
    MeetingArchive,
)

# ----------------------------------------------------------------------------- labels
# The case-files feature owns these lists; fall back to the code when its
# module is not there.


def _case_labels() -> tuple[dict, dict, dict, dict, dict]:
    try:
        from cus_desk.domain import cases as c

        return (
            {s.value: s.label for s in c.CaseStatus},
            dict(c.PROBLEMS),
            dict(c.JOURNAL_KINDS),
            dict(c.REFERRAL_STATUSES),
            dict(c.CONFIDENTIAL_CATEGORIES),
        )
    except (ImportError, AttributeError):  # pragma: no cover - cases feature absent
        return {}, {}, {}, {}, {}


PLAN_STATUS_LABELS = {
    "en_cours": "En cours",
    "respecte": "Respecté",
    "non_respecte": "Non respecté",
    "solde": "Soldé",
}


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class AgendaEntry:
    id: int
    position: int
    case_id: int
    case_reference: str
    household: str
    agency: str
    case_status: str
    case_status_label: str
    proposal: str
    decisions: tuple[DecisionView, ...] = ()


@dataclass(frozen=True)
class AddendumView:
    id: int
    written_at: datetime
    author: str
    text: str
    decision_id: int | None


@dataclass(frozen=True)
class ArchiveView:
    id: int
    generated_at: datetime
    sha256: str
    size: int


@dataclass(frozen=True)
class MeetingRow:
    id: int
    year: int
    number: int
    label: str
    held_on: date
    place: str
    scope_agency_id: int | None
    scope_label: str
    status: str
    status_label: str
    agenda_count: int
    decision_count: int
    version: int


@dataclass(frozen=True)
class MeetingDetail:
    meeting: MeetingRow
    attendees: tuple[AttendeeView, ...]
    agenda: tuple[AgendaEntry, ...]
    addenda: tuple[AddendumView, ...]
    archives: tuple[ArchiveView, ...]
    quorum: commission.Quorum | None = None

    @property
    def id(self) -> int:
        return self.meeting.id

    @property
    def status(self) -> str:
        return self.meeting.status

    @property
    def decisions(self) -> list[DecisionView]:
        return [d for item in self.agenda for d in item.decisions]


@dataclass(frozen=True)
class HiddenItem:
    key: str
    label: str


@dataclass(frozen=True)
class RevealedItem:
    key: str
    label: str
    text: str


@dataclass(frozen=True)
class CommissionSummary:
    """What the projector shows for one case: only what the commission
    strictly needs (art. L.121-6-2 CASF). Sensitive items are listed by
    label in ``hidden`` and shown one at a time through ``reveal``."""

    meeting_id: int
    case_id: int
    position: int  # 1-based position on the agenda
    total: int
    case_reference: str
    household_brief: str
    agency: str
    adviser: str
    case_status_label: str
    problems: tuple[str, ...]  # non-sensitive problématiques
    arrears_cents: int | None
    arrears_months: int | None
    last_payment_on: date | None
    trend_label: str
    trend_points: tuple[tuple[date, int], ...]
    repayment_plans: tuple[str, ...]
    referrals: tuple[str, ...]
    journal: tuple[str, ...]  # date + kind + author (texts are hidden)
    proposal: str
    previous_decisions: tuple[DecisionView, ...]
    current_decisions: tuple[DecisionView, ...]
    hidden: tuple[HiddenItem, ...]
    can_reveal: bool
    # The one debt (case_economics.debt_of: latest of extract and typed
    # amount, dated), the budget lines the level may see, the stage of the
    # eviction procedure and the CCAPEX warning (#14).
    debt: DebtView | None = None
    budget_lines: tuple[str, ...] = ()
    procedure_stage: str = ""
    ccapex_warning: str | None = None


@dataclass(frozen=True)
class ReleveFile:
    meeting_id: int
    file_name: str
    pdf: bytes
    sha256: str
    archived: bool  # True: the archived file of a closed session
    version: int | None = None  # archived version (1 = the one closed and signed)
    latest: bool = True  # False: an earlier archived version, since rectified


# ----------------------------------------------------------------------------- helpers


def _row(session: Session, m: Meeting, counts: dict[int, tuple[int, int]] | None = None) -> MeetingRow:
    if counts is not None:
        agenda_count, decision_count = counts.get(m.id, (0, 0))
    else:
        agenda_count = len(m.agenda_items)
        decision_count = session.scalar(
            select(func.count(Decision.id)).where(Decision.meeting_id == m.id)
        ) or 0
    status = rules.MeetingStatus(m.status)
    return MeetingRow(
        id=m.id,
        year=m.year,
        number=m.number,
        label=_meeting_label(m),
        held_on=m.held_on,
        place=m.place,
        scope_agency_id=m.scope_agency_id,
        scope_label=_scope_label(session, m),
        status=m.status,
        status_label=status.label,
        agenda_count=agenda_count,
        decision_count=decision_count,
        version=m.version,
    )


REVEAL_DENIED = (
    "Seule la conseillère sociale qui suit ce dossier (ou le pôle social) peut afficher un "
    "élément réservé à l'écran de la séance."
)


def may_reveal(actor, case: Case, level: CaseAccess) -> bool:
    """Who may put a reserved item of a case on the projected screen: the
    case's own adviser (when the case has none, an adviser of its agency)
    or the pôle social, and only with full access to the file."""
    if level is not CaseAccess.FULL or not access.has(actor, Permission.CONFIDENTIAL_READ):
        return False
    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return True
    if role is not Role.SOCIAL_ADVISER:
        return False
    if case.adviser_id is not None:
        return case.adviser_id == actor.user_id
    return actor.agency_id is not None and actor.agency_id == case.agency_id


# ----------------------------------------------------------------------------- service


class MeetingService(MeetingMembers, MeetingDecisions, AgendaProposals, Service):
    """``MeetingService(db, actor)``; every method opens its own short
    session, so it can run on a worker thread."""

    @property
    def today(self) -> date:
        return self.clock.today()

    # ------------------------------------------------------------------ listing

    def list_meetings(self, year: int | None = None, status: str | None = None) -> list[MeetingRow]:
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._read() as session:
            query = select(Meeting).order_by(Meeting.held_on.desc(), Meeting.id.desc())
            if year is not None:
                query = query.where(Meeting.year == year)
            if status is not None:
                if status not in {m.value for m in rules.MeetingStatus}:
                    raise ValidationError(
                        f"Statut de séance inconnu : « {status} » (preparee, en_cours, cloturee).", "status")
                query = query.where(Meeting.status == status)
            meetings = list(session.scalars(query))
            agenda = dict(session.execute(
                select(AgendaItem.meeting_id, func.count(AgendaItem.id)).group_by(AgendaItem.meeting_id)
            ).all())
            decisions = dict(session.execute(
                select(Decision.meeting_id, func.count(Decision.id)).group_by(Decision.meeting_id)
            ).all())
            counts = {m.id: (agenda.get(m.id, 0), decisions.get(m.id, 0)) for m in meetings}
            return [_row(session, m, counts) for m in meetings]

    def find_meeting(self, ref: str) -> MeetingRow:
        """By id (``12``) or number/year (``3/2026``, ``2026-3``)."""
        access.require(self.actor, Permission.MEETING_VIEW)
        meeting_id, number, year = rules.parse_meeting_ref(ref)
        with self._read() as session:
            if meeting_id is not None:
                meeting = session.get(Meeting, meeting_id)
            else:
                meeting = session.scalar(
                    select(Meeting).where(Meeting.year == year, Meeting.number == number)
                )
            if meeting is None:
                raise NotFoundError(
                    f"Aucune séance de CAS ne correspond à « {ref} ». "
                    "La commande « cus-desk meetings list » donne les séances existantes."
                )
            return _row(session, meeting)

    def get_meeting(self, meeting_id: int) -> MeetingDetail:
        """A session with the part of its agenda the actor may see (the one
        case visibility rule: members of the session see every case on it,
        an adviser the cases of her agency, the pôle social all). Viewing an
        agenda is traced, once per session and content for this service."""
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._read() as session:
            detail = self._detail(session, _get_meeting(session, meeting_id))
        key = (meeting_id, tuple(e.case_id for e in detail.agenda))
        traced = self.__dict__.setdefault("_traced_agendas", set())
        if key not in traced:
            traced.add(key)
            with self._write() as session:
                audit.record(session, self.actor, audit.Action.READ, "meeting", meeting_id,
                             details={"vue": "ordre_du_jour", "dossiers": list(key[1])})
        return detail

    def _visible_agenda(self, session: Session, case_ids: list[int]) -> set[int]:
        """Of these agenda cases, those the actor may see (summary or more)."""
        if not case_ids:
            return set()
        window = access.attendance_window(session, self.clock)
        return set(session.scalars(
            select(Case.id).where(Case.id.in_(case_ids), access.visible_cases(self.actor, window))
        ))

    def _follow_up_condition(self, session: Session):
        return access.follow_up_cases(self.actor, access.attendance_window(session, self.clock))

    def _require_meeting(self, session: Session, meeting: Meeting, what: str) -> None:
        if not access.may_read_meeting(session, self.actor, meeting.id,
                                       access.attendance_window(session, self.clock)):
            self._denied = ("meeting", meeting.id, what, None)
            raise AccessDeniedError(access.MEETING_DENIED)

    def _require_decide(self, session: Session, meeting_id: int, case_id: int) -> None:
        if not access.may_decide(session, self.actor, meeting_id, case_id,
                                 access.attendance_window(session, self.clock)):
            self._denied = ("case", case_id, "décision de CAS", case_id)
            raise AccessDeniedError(access.DECISION_DENIED)

    def _detail(self, session: Session, m: Meeting) -> MeetingDetail:
        case_labels = _case_labels()[0]
        visible = self._visible_agenda(session, [i.case_id for i in m.agenda_items])
        users: dict[int, str] = {}
        decisions_by_case: dict[int, list[Decision]] = {}
        for d in session.scalars(
            select(Decision).where(Decision.meeting_id == m.id).order_by(Decision.id)
        ):
            decisions_by_case.setdefault(d.case_id, []).append(d)
        agenda = []
        loaded = {c.id: c for c in session.scalars(
            select(Case).where(Case.id.in_([i.case_id for i in m.agenda_items]))
            .options(*_case_load_options())
        )}
        for item in m.agenda_items:
            if item.case_id not in visible:
                continue
            case = loaded[item.case_id]
            agenda.append(AgendaEntry(
                id=item.id,
                position=item.position,
                case_id=case.id,
                case_reference=case.reference,
                household=household_name(case.household),
                agency=case.agency.label if case.agency else "",
                case_status=case.status,
                case_status_label=case_labels.get(case.status, case.status),
                proposal=item.proposal,
                decisions=tuple(
                    _decision_view(session, d, m, case, self.today, users=users)
                    for d in decisions_by_case.get(case.id, [])
                ),
            ))
        attendees = tuple(attendee_view(a) for a in m.attendees)
        addenda = tuple(
            AddendumView(a.id, a.created_at, _user_name(session, a.author_id, users), a.text,
                         a.decision_id)
            for a in session.scalars(
                select(MeetingAddendum).where(MeetingAddendum.meeting_id == m.id)
                .order_by(MeetingAddendum.id)
            )
        )
        archives = tuple(
            ArchiveView(a.id, a.generated_at, a.sha256, size)
            for a, size in session.execute(
                select(MeetingArchive, func.length(MeetingArchive.pdf))
                .where(MeetingArchive.meeting_id == m.id).order_by(MeetingArchive.id)
            ).all()
        )
        return MeetingDetail(_row(session, m), attendees, tuple(agenda), addenda, archives,
                             meeting_quorum(session, m))

    # ------------------------------------------------------------------ session lifecycle

    def create_meeting(self, held_on: date | None, place: str = "",
                       scope_agency_id: int | None = None, copy_previous_members: bool = True) -> MeetingDetail:
        """A session in preparation; its members are those of the previous
        session (same scope first), presence not recorded."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        if not isinstance(held_on, date):
            raise ValidationError("Indiquez la date de la séance (jj/mm/aaaa).", "held_on")
        place = rules.clean_text(place, label="Lieu", field="place", maximum=rules.MAX_PLACE)
        with self._write() as session:
            if scope_agency_id is not None and session.get(Agency, scope_agency_id) is None:
                raise ValidationError("L'agence choisie n'existe pas : choisissez-en une dans la liste.",
                                      "scope")
            numbers = list(session.scalars(select(Meeting.number).where(Meeting.year == held_on.year)))
            meeting = Meeting(
                year=held_on.year,
                number=rules.next_number(numbers),
                held_on=held_on,
                place=place,
                scope_agency_id=scope_agency_id,
                status=rules.MeetingStatus.PREPAREE.value,
            )
            session.add(meeting)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "meeting", meeting.id,
                         details={"seance": _meeting_label(meeting), "date": held_on.isoformat()})
            if copy_previous_members:
                copy_members(session, self.actor, meeting)
            return self._detail(session, meeting)

    def update_meeting(self, meeting_id: int, held_on: date | None, place: str,
                       scope_agency_id: int | None, expected_version: int | None) -> MeetingDetail:
        access.require(self.actor, Permission.MEETING_MANAGE)
        if not isinstance(held_on, date):
            raise ValidationError("Indiquez la date de la séance (jj/mm/aaaa).", "held_on")
        place = rules.clean_text(place, label="Lieu", field="place", maximum=rules.MAX_PLACE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            check_version(expected_version, meeting.version)
            rules.check_editable(meeting.status)
            if scope_agency_id is not None and session.get(Agency, scope_agency_id) is None:
                raise ValidationError("L'agence choisie n'existe pas : choisissez-en une dans la liste.",
                                      "scope")
            before = {"date": meeting.held_on.isoformat(), "lieu": meeting.place,
                      "agence": meeting.scope_agency_id}
            if held_on.year != meeting.year:
                numbers = list(session.scalars(select(Meeting.number).where(Meeting.year == held_on.year)))
                meeting.year, meeting.number = held_on.year, rules.next_number(numbers)
            meeting.held_on, meeting.place, meeting.scope_agency_id = held_on, place, scope_agency_id
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         details=audit.diff_fields(before, {"date": held_on.isoformat(), "lieu": place,
                                                            "agence": scope_agency_id}))
            return self._detail(session, meeting)

    def delete_meeting(self, meeting_id: int) -> None:
        """Only a session still in preparation, with no decision."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            if meeting.status != rules.MeetingStatus.PREPAREE:
                raise rules.WorkflowError(
                    "Seule une séance encore en préparation peut être supprimée."
                )
            label = _meeting_label(meeting)
            session.delete(meeting)
            audit.record(session, self.actor, audit.Action.DELETE, "meeting", meeting_id,
                         details={"seance": label})

    def start_meeting(self, meeting_id: int, expected_version: int | None = None) -> MeetingDetail:
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            check_version(expected_version, meeting.version)
            rules.check_start(meeting.status)
            meeting.status = rules.MeetingStatus.EN_COURS.value
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         details={"statut": ["preparee", "en_cours"]})
            return self._detail(session, meeting)

    def close_meeting(self, meeting_id: int, expected_version: int | None = None) -> MeetingDetail:
        """Lock the session and archive its relevé de décisions (SHA-256), in
        one transaction: either both happen or neither."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            check_version(expected_version, meeting.version)
            present = sum(1 for a in meeting.attendees if a.presence == commission.Presence.PRESENT)
            rules.check_close(meeting.status, present)
            commission.check_presence_recorded([a.name for a in meeting.attendees if a.presence is None])
            require_quorum(session, meeting, "clôture de la séance")
            meeting.status = rules.MeetingStatus.CLOTUREE.value
            meeting.closed_at = self.clock.now()
            meeting.closed_by_id = self.actor.user_id
            session.flush()
            apply_case_statuses(session, self.actor, meeting)
            archive = self._archive(session, meeting)
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         details={"statut": ["en_cours", "cloturee"], "releve_sha256": archive.sha256})
            return self._detail(session, meeting)

    # ------------------------------------------------------------------ agenda

    def find_case(self, reference: str) -> AgendaProposal:
        """A case by its reference (``CAS-2026-0042``, case-insensitive), to
        add to an agenda by hand."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        ref = (reference or "").strip().upper()
        if not ref:
            raise ValidationError("Tapez la référence du dossier (ex. CAS-2026-0042).", "case")
        with self._read() as session:
            case = session.scalar(select(Case).where(func.upper(Case.reference) == ref))
            if case is None:
                raise NotFoundError(
                    f"Aucun dossier ne porte la référence « {reference.strip()} ». "
                    "Vérifiez-la dans l'écran Dossiers."
                )
            access.require_case(session, self.actor, case.id, case.agency_id)
            return AgendaProposal(case.id, case.reference, household_name(case.household),
                                  case.agency.label if case.agency else "", ())

    def add_to_agenda(self, meeting_id: int, case_id: int, proposal: str = "") -> MeetingDetail:
        access.require(self.actor, Permission.MEETING_MANAGE)
        proposal = rules.clean_text(proposal, label="Proposition à la commission", field="proposal")
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "l'ordre du jour")
            case = _get_case(session, case_id)
            if not access.may_present_follow_up(session, self.actor, case.id):
                access.require_case(session, self.actor, case.id, case.agency_id)
            if meeting.scope_agency_id is not None and case.agency_id != meeting.scope_agency_id:
                raise ValidationError(
                    f"Le dossier {case.reference} relève d'une autre agence que celle de la séance : "
                    "inscrivez-le à une séance centrale ou de son agence.",
                    "case",
                )
            if any(i.case_id == case.id for i in meeting.agenda_items):
                raise ValidationError(f"Le dossier {case.reference} est déjà à l'ordre du jour.", "case")
            if case.status == rules.CASE_CLOSED:
                raise ValidationError(
                    f"Le dossier {case.reference} est clos : rouvrez-le dans l'écran Dossiers "
                    "avant de l'inscrire à une séance.", "case")
            position = max((i.position for i in meeting.agenda_items), default=0) + 1
            meeting.agenda_items.append(
                AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position, proposal=proposal,
                           presented_by_id=self.actor.user_id)
            )
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         case_id=case.id, details={"ordre_du_jour": ["", case.reference]})
            return self._detail(session, meeting)

    def remove_from_agenda(self, meeting_id: int, case_id: int) -> MeetingDetail:
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "l'ordre du jour")
            item = next((i for i in meeting.agenda_items if i.case_id == case_id), None)
            if item is None:
                raise NotFoundError("Ce dossier n'est plus à l'ordre du jour. Actualisez l'écran.")
            has_decision = session.scalar(
                select(func.count(Decision.id)).where(Decision.meeting_id == meeting.id,
                                                      Decision.case_id == case_id)
            )
            if has_decision:
                raise rules.WorkflowError(
                    "Des décisions ont déjà été prises sur ce dossier pendant la séance : "
                    "supprimez-les d'abord pour le retirer de l'ordre du jour."
                )
            meeting.agenda_items.remove(item)
            for position, other in enumerate(meeting.agenda_items, start=1):
                other.position = position
            case = session.get(Case, case_id)
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         case_id=case_id, details={"ordre_du_jour": [case.reference if case else case_id, ""]})
            return self._detail(session, meeting)

    def reorder_agenda(self, meeting_id: int, case_ids: list[int]) -> MeetingDetail:
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "l'ordre du jour")
            items = {i.case_id: i for i in meeting.agenda_items}
            if sorted(items) != sorted(case_ids) or len(set(case_ids)) != len(case_ids):
                raise ValidationError(
                    "L'ordre du jour a changé entre-temps (dossier ajouté ou retiré) : "
                    "actualisez l'écran puis recommencez.",
                    "agenda",
                )
            # Two steps: positions are not unique in the schema, but keep them tidy.
            for position, cid in enumerate(case_ids, start=1):
                items[cid].position = position
            meeting.agenda_items.sort(key=lambda i: i.position)
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "meeting", meeting.id,
                         details={"ordre_du_jour": "réordonné"})
            return self._detail(session, meeting)

    def set_proposal(self, meeting_id: int, case_id: int, proposal: str) -> None:
        """The adviser's proposal for the commission, written while preparing."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        proposal = rules.clean_text(proposal, label="Proposition à la commission", field="proposal")
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "la proposition")
            item = next((i for i in meeting.agenda_items if i.case_id == case_id), None)
            if item is None:
                raise NotFoundError("Ce dossier n'est plus à l'ordre du jour. Actualisez l'écran.")
            case = session.get(Case, case_id)
            access.require_case(session, self.actor, case.id, case.agency_id)
            if item.proposal != proposal:
                item.proposal = proposal
                audit.record(session, self.actor, audit.Action.UPDATE, "agenda_item", item.id,
                             case_id=case_id, details={"proposition": "modifiée"})

    # ------------------------------------------------------------------ commission summary

    @traces_refusals
    def commission_summary(self, meeting_id: int, case_id: int) -> CommissionSummary:
        access.require(self.actor, Permission.MEETING_VIEW)
        case_status_labels, problem_labels, journal_labels, referral_labels, _ = _case_labels()
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            items = list(meeting.agenda_items)
            index = next((n for n, i in enumerate(items) if i.case_id == case_id), None)
            if index is None:
                raise NotFoundError("Ce dossier n'est pas à l'ordre du jour de cette séance.")
            case = _get_case(session, case_id)
            self._denied = ("case", case.id, "synthèse de commission (mode séance)", case.id)
            level = access.require_case(session, self.actor, case.id, case.agency_id,
                                        CaseAccess.SUMMARY)
            self.__dict__.pop("_denied", None)
            users: dict[int, str] = {}
            household = case.household
            holder = _holder(household)
            occupants = len(household.members) if household else 0
            brief = household_name(household)
            if occupants > 1:
                brief += f" — ménage de {occupants} personnes"
            codes = sorted(p.code for p in case.problems)
            visible = tuple(problem_labels.get(c, c) for c in codes if not rules.is_sensitive_problem(c))
            sensitive = [c for c in codes if rules.is_sensitive_problem(c)]

            economics = economics_of(session, case, level, self.today)
            points = self._balance_history(session, case, economics.debt)
            plans = tuple(
                f"{format_cents(p.monthly_cents)} par mois sur {p.months} mois, accordé le "
                f"{format_date(p.agreed_on)} — {PLAN_STATUS_LABELS.get(p.status, p.status)}"
                for p in session.scalars(
                    select(RepaymentPlan).where(RepaymentPlan.case_id == case.id)
                    .order_by(RepaymentPlan.agreed_on.desc())
                )
            )
            referral_rows = self._referral_lines(session, case, referral_labels)
            # A partner's name can reveal health or family matters (a
            # psychiatric hospital, child protection): those stay reserved.
            referrals = tuple(line for line, sensitive in referral_rows if not sensitive)
            reserved_referrals = any(sensitive for _, sensitive in referral_rows)
            journal_rows = list(session.scalars(
                select(JournalEntry).where(JournalEntry.case_id == case.id)
                .order_by(JournalEntry.occurred_on.desc(), JournalEntry.id.desc()).limit(5)
            ))
            journal = tuple(
                f"{format_date(j.occurred_on)} — {journal_labels.get(j.kind, j.kind)}"
                + (f" ({_user_name(session, j.author_id, users)})" if j.author_id else "")
                for j in journal_rows
            )
            previous = tuple(
                _decision_view(session, d, m, case, self.today, users=users, with_follow_ups=True)
                for d, m in session.execute(
                    select(Decision, Meeting).join(Meeting, Meeting.id == Decision.meeting_id)
                    .where(Decision.case_id == case.id, Decision.meeting_id != meeting.id,
                           Meeting.held_on <= meeting.held_on)
                    .order_by(Meeting.held_on.desc(), Decision.id)
                ).all()
            )
            current = tuple(
                _decision_view(session, d, meeting, case, self.today, users=users)
                for d in session.scalars(
                    select(Decision).where(Decision.case_id == case.id, Decision.meeting_id == meeting.id)
                    .order_by(Decision.id)
                )
            )
            can_reveal = may_reveal(self.actor, case, level)
            # What is reserved is listed only for whoever may reveal it (and
            # only in the chooser she opens deliberately): the projected
            # screen never announces that a health note or a violence exists.
            hidden: list[HiddenItem] = []
            if can_reveal:
                if sensitive:
                    hidden.append(HiddenItem("problematiques", "Problématiques réservées"))
                if reserved_referrals:
                    hidden.append(HiddenItem("orientations", "Orientations réservées"))
                if occupants > 1 or (holder and holder.birth_date):
                    hidden.append(HiddenItem("famille", "Composition familiale"))
                if case.summary.strip():
                    hidden.append(HiddenItem("situation", "Résumé de la situation"))
                if journal_rows:
                    hidden.append(HiddenItem("journal", "Contenu des dernières entrées du journal"))
                note_ids = session.scalars(
                    select(ConfidentialNote.id).where(ConfidentialNote.case_id == case.id)
                    .order_by(ConfidentialNote.created_at, ConfidentialNote.id)
                ).all()
                for n, note_id in enumerate(note_ids, start=1):
                    hidden.append(HiddenItem(f"note:{note_id}", f"Note réservée n° {n}"))
            audit.record(session, self.actor, audit.Action.READ, "case", case.id, case_id=case.id,
                         details={"vue": "synthese_commission", "seance": meeting.id})
            item = items[index]
            return CommissionSummary(
                meeting_id=meeting.id,
                case_id=case.id,
                position=index + 1,
                total=len(items),
                case_reference=case.reference,
                household_brief=brief,
                agency=case.agency.label if case.agency else "",
                adviser=_user_name(session, case.adviser_id, users),
                case_status_label=case_status_labels.get(case.status, case.status),
                problems=visible,
                arrears_cents=case.arrears_cents,
                arrears_months=case.arrears_months,
                last_payment_on=case.last_payment_on,
                trend_label=rules.arrears_trend(points),
                trend_points=tuple(points),
                repayment_plans=plans,
                referrals=referrals,
                journal=journal,
                proposal=item.proposal,
                previous_decisions=previous,
                current_decisions=current,
                hidden=tuple(hidden),
                can_reveal=can_reveal,
                debt=economics.debt,
                budget_lines=economics.lines,
                procedure_stage=economics.current_stage,
                ccapex_warning=economics.ccapex_warning,
            )

    @staticmethod
    def _referral_lines(session: Session, case: Case, referral_labels: dict) -> list[tuple[str, bool]]:
        """(line, reserved) for each orientation of the case, newest first;
        reserved: the partner's category reveals health or family matters."""
        return [
            (f"{partner.short_name or partner.name} — envoyée le {format_date(r.sent_on)} — "
             f"{referral_labels.get(r.status, r.status)}"
             + (f" ({'aboutie' if r.result == 'aboutie' else 'non aboutie'})" if r.result else ""),
             is_sensitive_partner_category(partner.category))
            for r, partner in session.execute(
                select(Referral, Partner).join(Partner, Partner.id == Referral.partner_id)
                .where(Referral.case_id == case.id).order_by(Referral.sent_on.desc())
            ).all()
        ]

    def _balance_history(self, session: Session, case: Case, debt: DebtView | None = None) -> list[tuple[date, int]]:
        """Dated balances of the case's lease: the seniors feature's extract
        history, then the amount typed in the case when it is the newer
        figure (``debt``: the one debt, dated, that the summary shows)."""
        lease_id = getattr(case, "lease_id", None)
        if lease_id is None and case.household is not None:
            leases = [lease for lease in case.household.leases if lease.end_date is None] or \
                list(case.household.leases)
            lease_id = leases[0].id if leases else None
        points: list[tuple[date, int]] = []
        if lease_id is not None:
            try:
                from cus_desk.services.seniors import lease_balance_history
            except ImportError:
                lease_balance_history = None
            if lease_balance_history is not None:
                try:
                    points = [(d, int(c)) for d, c in lease_balance_history(session, lease_id)]
                except Exception:  # noqa: BLE001 - the trend is a convenience, never a blocker
                    import logging

                    logging.getLogger(__name__).exception("lease balance history unavailable")
                    points = []
        if debt is not None and debt.origin == "dossier" and debt.as_of is not None:
            if not points or debt.as_of >= points[-1][0]:
                points = [p for p in points if p[0] != debt.as_of]
                points.append((debt.as_of, debt.amount_cents))
        elif debt is None and case.arrears_cents is not None:
            snapshot_on = case.last_activity_on or case.opened_on
            if not points or (snapshot_on and snapshot_on > points[-1][0]):
                points.append((snapshot_on or self.today, case.arrears_cents))
        return sorted(points)[-12:]

    def reveal(self, meeting_id: int, case_id: int, key: str) -> RevealedItem:
        """Show one reserved item of the commission summary on the projected
        screen: only the case's own adviser (or the pôle social) may, and the
        audit trail records that it was shown (which item, never what it says)."""
        access.require(self.actor, Permission.CONFIDENTIAL_READ)
        _, problem_labels, journal_labels, referral_labels, note_labels = _case_labels()
        with self._write() as session:
            meeting, case = self._reveal_scope(session, meeting_id, case_id)
            label, text = self._hidden_text(session, case, key, problem_labels, journal_labels, note_labels,
                                            referral_labels)
            audit.record(session, self.actor, audit.Action.REVEAL, "case", case.id, case_id=case.id,
                         details={"element": key, "operation": "affiché", "seance": meeting.id})
            return RevealedItem(key, label, text)

    def conceal(self, meeting_id: int, case_id: int, key: str) -> None:
        """« Masquer »: the revealed item left the projected screen (audited,
        so the trail tells how long it was shown)."""
        access.require(self.actor, Permission.CONFIDENTIAL_READ)
        with self._write() as session:
            meeting, case = self._reveal_scope(session, meeting_id, case_id)
            audit.record(session, self.actor, audit.Action.REVEAL, "case", case.id, case_id=case.id,
                         details={"element": key, "operation": "masqué", "seance": meeting.id})

    def _reveal_scope(self, session: Session, meeting_id: int, case_id: int) -> tuple[Meeting, Case]:
        meeting = _get_meeting(session, meeting_id)
        if not any(i.case_id == case_id for i in meeting.agenda_items):
            raise NotFoundError("Ce dossier n'est pas à l'ordre du jour de cette séance.")
        case = _get_case(session, case_id)
        level = access.case_access(session, self.actor, case.id, case.agency_id)
        if not may_reveal(self.actor, case, level):
            raise AccessDeniedError(REVEAL_DENIED)
        return meeting, case

    def _hidden_text(self, session, case, key, problem_labels, journal_labels, note_labels,
                     referral_labels=None):
        if key == "orientations":
            lines = [line for line, sensitive in self._referral_lines(session, case, referral_labels or {})
                     if sensitive]
            if lines:
                return "Orientations réservées", "\n".join(lines)
        elif key == "problematiques":
            codes = sorted(p.code for p in case.problems if rules.is_sensitive_problem(p.code))
            if codes:
                return "Problématiques sensibles", ", ".join(problem_labels.get(c, c) for c in codes)
        elif key == "famille":
            if case.household and case.household.members:
                lines = []
                for m in case.household.members:
                    age = ""
                    if m.birth_date:
                        from cus_desk.domain.formatting import age_on

                        age = f", {age_on(m.birth_date, self.today)} ans"
                    lines.append(f"{RELATIONSHIP_KINDS.get(m.relationship_kind, m.relationship_kind)} : "
                                 f"{rules.full_name(m.last_name, m.first_name)}{age}")
                return "Composition familiale", "\n".join(lines)
        elif key == "situation":
            if case.summary.strip():
                return "Résumé de la situation", case.summary
        elif key == "journal":
            rows = list(session.scalars(
                select(JournalEntry).where(JournalEntry.case_id == case.id)
                .order_by(JournalEntry.occurred_on.desc(), JournalEntry.id.desc()).limit(5)
            ))
            if rows:
                return "Dernières entrées du journal", "\n\n".join(
                    f"{format_date(j.occurred_on)} — {journal_labels.get(j.kind, j.kind)} : {j.text}"
                    for j in rows
                )
        elif key.startswith("note:") and key[5:].isdigit():
            note = session.get(ConfidentialNote, int(key[5:]))
            if note is not None and note.case_id == case.id:
                return (f"Note confidentielle ({note_labels.get(note.category, note.category)}) "
                        f"du {format_date(note.created_at.date())}", note.text)
        raise NotFoundError("Cette information n'existe pas (ou plus) dans le dossier.")

    # ------------------------------------------------------------------ addenda & relevé

    def add_addendum(self, meeting_id: int, text: str, decision_id: int | None = None) -> MeetingDetail:
        """A correction to a closed session; the relevé is archived again
        with it (the next print shows it)."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        text = rules.clean_text(text, label="Rectificatif", field="text", required=True)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_addendum(meeting.status)
            if decision_id is not None:
                decision = session.get(Decision, decision_id)
                if decision is None or decision.meeting_id != meeting.id:
                    raise ValidationError("Cette décision n'appartient pas à cette séance.", "decision")
            addendum = MeetingAddendum(meeting_id=meeting.id, decision_id=decision_id,
                                       author_id=self.actor.user_id, text=text)
            session.add(addendum)
            session.flush()
            if decision_id is not None:
                judicial.cancel_on_rectification(session, self.actor, session.get(Decision, decision_id),
                                                 meeting)
            archive = self._archive(session, meeting)
            audit.record(session, self.actor, audit.Action.CREATE, "meeting_addendum", addendum.id,
                         details={"seance": meeting.id, "releve_sha256": archive.sha256})
            return self._detail(session, meeting)

    @traces_refusals
    def releve(self, meeting_id: int, version: int | None = None) -> ReleveFile:
        """The relevé de décisions: for a closed session, the archived file
        byte for byte (the latest version, or ``version`` K: 1 is the one
        archived at closing, the one signed; each rectificatif adds one);
        before closing, a draft generated now."""
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            self._require_meeting(session, meeting, "impression du relevé de décisions")
            name = f"releve-CAS-{meeting.year}-{meeting.number:02d}.pdf"
            number, latest = None, True
            if meeting.status == rules.MeetingStatus.CLOTUREE:
                archives = list(session.scalars(
                    select(MeetingArchive).where(MeetingArchive.meeting_id == meeting.id)
                    .order_by(MeetingArchive.id)
                ))
                if not archives:  # closed before archiving existed: archive it now
                    archives = [self._archive(session, meeting)]
                if version is None:
                    number = len(archives)
                elif 1 <= version <= len(archives):
                    number = version
                else:
                    raise ValidationError(
                        f"La séance {_meeting_label(meeting)} n'a pas de version {version} de son "
                        f"relevé : versions archivées de 1 à {len(archives)}.", "version")
                archive, latest = archives[number - 1], number == len(archives)
                if len(archives) > 1:
                    name = name.replace(".pdf", f"-v{number}.pdf")
                pdf, digest, archived = archive.pdf, archive.sha256, True
                if hashlib.sha256(pdf).hexdigest() != digest:
                    raise rules.WorkflowError(
                        "Le relevé archivé de cette séance ne correspond plus à son empreinte "
                        "SHA-256 : il a été altéré. Prévenez l'administrateur (restauration "
                        "d'une sauvegarde)."
                    )
            else:
                if version is not None:
                    raise ValidationError(
                        f"La séance {_meeting_label(meeting)} n'est pas clôturée : son relevé n'a "
                        "pas encore de version archivée.", "version")
                pdf = self._render(session, meeting)
                digest, archived = hashlib.sha256(pdf).hexdigest(), False
                name = name.replace(".pdf", "-projet.pdf")
            details = {"document": "releve_decisions", "sha256": digest, "archive": archived}
            if number is not None:
                details["version"] = number
            audit.record(session, self.actor, audit.Action.PRINT, "meeting", meeting.id,
                         details=details)
            return ReleveFile(meeting.id, name, pdf, digest, archived, number, latest)

    def _archive(self, session: Session, meeting: Meeting) -> MeetingArchive:
        version = 1 + (session.scalar(
            select(func.count(MeetingArchive.id)).where(MeetingArchive.meeting_id == meeting.id)
        ) or 0)
        pdf = self._render(session, meeting, version)
        archive = MeetingArchive(meeting_id=meeting.id, generated_at=self.clock.now(),
                                 sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf)
        session.add(archive)
        session.flush()
        return archive

    def _render(self, session: Session, meeting: Meeting, version: int | None = None) -> bytes:
        from cus_desk.reports.decision_summary import build_releve_pdf

        return build_releve_pdf(self.releve_data(session, meeting, version=version))

    @staticmethod
    def _started_at(session: Session, meeting: Meeting) -> datetime | None:
        """When the session was opened (« Démarrer la séance »), read from the
        journal d'audit: the meeting has no column of its own for it."""
        import json

        started = None
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "meeting", AuditEvent.entity_id == str(meeting.id),
                AuditEvent.action == audit.Action.UPDATE,
            ).order_by(AuditEvent.id)
        ):
            try:
                statut = json.loads(event.details_json or "{}").get("statut")
            except ValueError:
                continue
            if statut == [rules.MeetingStatus.PREPAREE.value, rules.MeetingStatus.EN_COURS.value]:
                started = event.occurred_at  # the latest start wins
        return started

    @staticmethod
    def _next_meeting_label(session: Session, meeting: Meeting) -> str:
        """The next session of the same scope already prepared, if any."""
        scope = (Meeting.scope_agency_id.is_(None) if meeting.scope_agency_id is None
                 else Meeting.scope_agency_id == meeting.scope_agency_id)
        nxt = session.scalar(
            select(Meeting).where(
                Meeting.held_on > meeting.held_on, scope,
                Meeting.status.in_([rules.MeetingStatus.PREPAREE.value,
                                    rules.MeetingStatus.EN_COURS.value]),
            ).order_by(Meeting.held_on, Meeting.id).limit(1)
        )
        if nxt is None:
            return ""
        return (f"{_meeting_label(nxt)} — {format_date(nxt.held_on)}"
                + (f" — {nxt.place}" if nxt.place else ""))

    @staticmethod
    def releve_data(session: Session, meeting: Meeting, generated_at: datetime | None = None,
                    version: int | None = None):
        """Plain values for the relevé. Only what the relevé may show: no
        confidential note, problématique, summary or family detail is read."""
        from cus_desk.reports.decision_summary import (
            ReleveAddendum,
            ReleveAttendee,
            ReleveCase,
            ReleveData,
            ReleveDecision,
            ReleveFollowUp,
        )

        full = bool(read_setting(session, RELEVE_FULL_NAMES))
        organisation = str(read_setting(session, ORGANISATION_NAME))
        users: dict[int, str] = {}
        on_date = meeting.held_on
        decisions_by_case: dict[int, list[Decision]] = {}
        for d in session.scalars(
            select(Decision).where(Decision.meeting_id == meeting.id).order_by(Decision.id)
        ):
            decisions_by_case.setdefault(d.case_id, []).append(d)
        case_ids = [item.case_id for item in meeting.agenda_items]
        loaded = {c.id: c for c in session.scalars(
            select(Case).where(Case.id.in_(case_ids)).options(*_case_load_options())
        )}
        cases = []
        for item in meeting.agenda_items:
            case = loaded[item.case_id]
            cases.append(ReleveCase(
                reference=case.reference,
                household=household_name(case.household, full),
                agency=case.agency.label if case.agency else "",
                decisions=tuple(
                    ReleveDecision(rules.DecisionType(d.type).label, d.text, d.responsible, d.due_on)
                    for d in decisions_by_case.get(case.id, [])
                ),
                adjourned=bool(decisions_by_case.get(case.id)) and all(
                    d.type == rules.DecisionType.AJOURNEMENT.value
                    for d in decisions_by_case.get(case.id, [])
                ),
            ))
        previous_held_on = session.scalar(
            select(func.max(Meeting.held_on)).where(
                Meeting.held_on < meeting.held_on, Meeting.id != meeting.id,
                Meeting.status == rules.MeetingStatus.CLOTUREE.value,
            )
        )
        query = (
            select(Decision, Meeting, Case)
            .join(Meeting, Meeting.id == Decision.meeting_id)
            .join(Case, Case.id == Decision.case_id)
            .where(Meeting.held_on < meeting.held_on, Meeting.id != meeting.id)
            .where(or_(
                Decision.status.in_(rules.OPEN_FOLLOW_UP),
                and_(Decision.status_changed_on.is_not(None),
                     Decision.status_changed_on > (previous_held_on or date.min),
                     Decision.status_changed_on <= on_date),
            ))
        )
        if meeting.scope_agency_id is not None:
            query = query.where(Case.agency_id == meeting.scope_agency_id)
        follow_ups = []
        rows = session.execute(query.options(*_case_load_options())).all()
        last_comments: dict[int, DecisionFollowUp] = {}
        for f in session.scalars(
            select(DecisionFollowUp).where(DecisionFollowUp.decision_id.in_([r[0].id for r in rows]),
                                           DecisionFollowUp.comment != "")
            .order_by(DecisionFollowUp.on, DecisionFollowUp.id)
        ):
            last_comments[f.decision_id] = f  # the latest wins
        rows.sort(key=lambda r: rules.follow_up_sort_key(r[0].due_on, r[0].status, r[0].responsible, on_date))
        for d, m, case in rows:
            if not rules.earlier_decision_in_follow_up(d.status, d.status_changed_on, m.held_on,
                                                       on_date, previous_held_on):
                continue
            last = last_comments.get(d.id)
            follow_ups.append(ReleveFollowUp(
                case_reference=case.reference,
                household=household_name(case.household, full),
                meeting_label=_meeting_label(m),
                type_label=rules.DecisionType(d.type).label,
                text=d.text,
                responsible=d.responsible,
                due_on=d.due_on,
                status_label=rules.FollowUpStatus(d.status).label,
                overdue=rules.is_overdue(d.due_on, d.status, on_date),
                last_comment=f"{format_date(last.on)} : {last.comment}" if last else "",
            ))
        addenda = []
        for a in session.scalars(
            select(MeetingAddendum).where(MeetingAddendum.meeting_id == meeting.id)
            .order_by(MeetingAddendum.id)
        ):
            about = ""
            if a.decision_id is not None:
                d = session.get(Decision, a.decision_id)
                if d is not None:
                    case = session.get(Case, d.case_id)
                    about = f"Décision : {rules.DecisionType(d.type).label} — {case.reference}"
            addenda.append(ReleveAddendum(a.created_at, _user_name(session, a.author_id, users),
                                          a.text, about))
        final = meeting.status == rules.MeetingStatus.CLOTUREE
        version_label = ""
        if final and version is not None:
            if version == 1 and not addenda:
                version_label = "Version 1 — établie à la clôture de la séance (version à signer)"
            else:
                n = len(addenda)
                version_label = (f"Version {version} — intègre {n} rectificatif{'s' if n > 1 else ''} ; "
                                 "la version 1 est celle établie à la clôture")
        return ReleveData(
            organisation=organisation,
            meeting_label=_meeting_label(meeting),
            held_on=meeting.held_on,
            place=meeting.place,
            scope_label=_scope_label(session, meeting),
            final=final,
            generated_at=generated_at or session_clock(session).now(),
            attendees=tuple(
                ReleveAttendee(a.name, CAS_FUNCTIONS.get(a.function, a.function),
                               a.presence == commission.Presence.PRESENT, a.function,
                               commission.presence_label(a.presence))
                for a in meeting.attendees
            ),
            cases=tuple(cases),
            follow_ups=tuple(follow_ups),
            addenda=tuple(addenda),
            started_at=MeetingService._started_at(session, meeting),
            ended_at=meeting.closed_at if final else None,
            next_meeting=MeetingService._next_meeting_label(session, meeting),
            version=version if final else None,
            version_label=version_label,
        )

    # ------------------------------------------------------------------ follow-up

    @traces_refusals
    def set_follow_up(self, decision_id: int, status: str, comment: str = "",
                      on: date | None = None, expected_version: int | None = None) -> DecisionView:
        """Change a decision's follow-up status (or just add a dated comment
        when the status stays the same). Allowed after closing: following
        decisions up is the point."""
        access.require(self.actor, Permission.DECISION_FOLLOW_UP)
        new = rules.parse_follow_up_status(status)
        comment = rules.clean_text(comment, label="Commentaire", field="comment")
        on = on or self.today
        if on > self.today:
            raise ValidationError("La date du suivi ne peut pas être dans le futur.", "on")
        with self._write() as session:
            decision = session.get(Decision, decision_id)
            if decision is None:
                raise NotFoundError(DECISION_NOT_FOUND)
            case = session.get(Case, decision.case_id)
            self._require_follow_up_scope(session, case)
            check_version(expected_version, decision.version)
            rules.check_follow_up(decision.status, new, comment)
            if new.value == decision.status and not comment:
                raise ValidationError(
                    "Rien à enregistrer : changez le statut ou écrivez un commentaire.", "comment"
                )
            meeting = session.get(Meeting, decision.meeting_id)
            if on < meeting.held_on:
                raise ValidationError(
                    "La date du suivi précède la séance où la décision a été prise.", "on"
                )
            changed = new.value != decision.status
            old = decision.status
            if changed:
                decision.status = new.value
                decision.status_changed_on = on
            session.add(DecisionFollowUp(decision_id=decision.id, on=on, author_id=self.actor.user_id,
                                         status=new.value if changed else None, comment=comment))
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "decision", decision.id,
                         case_id=decision.case_id,
                         details={"suivi": [old, new.value]} if changed else {"suivi": "commentaire"})
            return _decision_view(session, decision, meeting, case, self.today, with_follow_ups=True)

    def _require_follow_up_scope(self, session: Session, case: Case) -> None:
        condition = self._follow_up_condition(session)
        ok = session.scalar(select(func.count(Case.id)).where(Case.id == case.id, condition))
        if not ok:
            self._denied = ("case", case.id, "suivi d'une décision de CAS", case.id)
            raise AccessDeniedError(access.CASE_DENIED)

    def follow_up_list(self, *, include_closed: bool = False, responsible: str | None = None,
                       by_responsible: bool = False, case_id: int | None = None) -> list[DecisionView]:
        """Decisions to follow up: open ones (optionally all), overdue first
        then by due date, or grouped by responsible."""
        access.require(self.actor, Permission.DECISION_FOLLOW_UP)
        with self._read() as session:
            query = (
                select(Decision, Meeting, Case)
                .join(Meeting, Meeting.id == Decision.meeting_id)
                .join(Case, Case.id == Decision.case_id)
            )
            if not include_closed:
                query = query.where(Decision.status.in_(rules.OPEN_FOLLOW_UP))
            if responsible:
                query = query.where(Decision.responsible == responsible)
            if case_id is not None:
                query = query.where(Decision.case_id == case_id)
            query = query.where(self._follow_up_condition(session)).options(*_case_text_deferred())
            users: dict[int, str] = {}
            views = [
                _decision_view(session, d, m, c, self.today, users=users, with_follow_ups=True)
                for d, m, c in session.execute(query).all()
            ]
        views.sort(key=lambda v: (*rules.follow_up_sort_key(v.due_on, v.status, v.responsible,
                                                            self.today, by_responsible), v.id))
        return views

    @traces_refusals
    def decisions_for_case(self, case_id: int) -> list[DecisionView]:
        """Every CAS decision on one case, newest session first, with its
        follow-up (for the case screen)."""
        with self._read() as session:
            case = _get_case(session, case_id)
            if not (access.has(self.actor, Permission.DECISION_FOLLOW_UP)
                    or access.has(self.actor, Permission.MEETING_VIEW)):
                raise AccessDeniedError(access.DENIED_MESSAGE.format(role=Role(self.actor.role).label))
            self._denied = ("case", case.id, "décisions de CAS du dossier", case.id)
            access.require_case(session, self.actor, case.id, case.agency_id, CaseAccess.SUMMARY)
            self.__dict__.pop("_denied", None)
            users: dict[int, str] = {}
            return [
                _decision_view(session, d, m, case, self.today, users=users, with_follow_ups=True)
                for d, m in session.execute(
                    select(Decision, Meeting).join(Meeting, Meeting.id == Decision.meeting_id)
                    .where(Decision.case_id == case.id)
                    .order_by(Meeting.held_on.desc(), Decision.id)
                ).all()
            ]
