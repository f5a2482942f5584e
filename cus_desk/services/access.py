"""Who may see and do what. Every service calls these before touching data,
so that neither the UI nor the CLI can bypass them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum, StrEnum

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from cus_desk.domain.clock import PARIS
from cus_desk.domain.errors import AccessDeniedError
from cus_desk.domain.roles import Role


class Permission(StrEnum):
    CASE_LIST = "case_list"  # which cases, per case_access: own agency, all, or agenda only
    CASE_CREATE = "case_create"
    CASE_EDIT = "case_edit"  # within the case access level (see case_access)
    CONFIDENTIAL_READ = "confidential_read"
    MEETING_MANAGE = "meeting_manage"  # prepare, run, close sessions, enter decisions
    MEETING_VIEW = "meeting_view"
    DECISION_FOLLOW_UP = "decision_follow_up"
    ARREARS_READ = "arrears_read"
    ARREARS_IMPORT = "arrears_import"
    SENIORS_READ = "seniors_read"
    SENIORS_EDIT = "seniors_edit"  # observations, signalements
    PARTNER_READ = "partner_read"
    PARTNER_EDIT = "partner_edit"
    USER_ADMIN = "user_admin"
    AUDIT_READ = "audit_read"
    SETTINGS_EDIT = "settings_edit"
    BACKUP = "backup"
    PURGE = "purge"
    PERSON_EXPORT = "person_export"  # RGPD right of access
    STATS_EXPORT = "stats_export"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SOCIAL_ADVISER: frozenset({
        P.CASE_LIST, P.CASE_CREATE, P.CASE_EDIT, P.CONFIDENTIAL_READ, P.MEETING_MANAGE, P.MEETING_VIEW,
        P.DECISION_FOLLOW_UP, P.ARREARS_READ, P.SENIORS_READ, P.SENIORS_EDIT,
        P.PARTNER_READ, P.PARTNER_EDIT, P.PERSON_EXPORT, P.STATS_EXPORT,
    }),
    Role.SOCIAL_HEAD: frozenset({
        P.CASE_LIST, P.CASE_CREATE, P.CASE_EDIT, P.CONFIDENTIAL_READ, P.MEETING_MANAGE, P.MEETING_VIEW,
        P.DECISION_FOLLOW_UP, P.ARREARS_READ, P.SENIORS_READ, P.SENIORS_EDIT,
        P.PARTNER_READ, P.PARTNER_EDIT, P.PERSON_EXPORT, P.STATS_EXPORT,
    }),
    Role.CAS_MEMBER: frozenset({P.CASE_LIST, P.MEETING_VIEW, P.DECISION_FOLLOW_UP, P.PARTNER_READ}),
    Role.RECOVERY: frozenset({
        P.ARREARS_READ, P.ARREARS_IMPORT, P.SENIORS_READ, P.SENIORS_EDIT, P.PARTNER_READ,
        P.DECISION_FOLLOW_UP, P.MEETING_VIEW,
    }),
    Role.ADMIN: frozenset({
        P.USER_ADMIN, P.AUDIT_READ, P.SETTINGS_EDIT, P.BACKUP, P.PURGE, P.ARREARS_IMPORT,
        P.PARTNER_READ, P.STATS_EXPORT,
    }),
}

DENIED_MESSAGE = (
    "Votre profil ({role}) ne permet pas cette action. "
    "Adressez-vous à la responsable du pôle social ou à l'administrateur si vous en avez besoin."
)


def has(actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(Role(actor.role), frozenset())


def require(actor, permission: Permission) -> None:
    if not has(actor, permission):
        raise AccessDeniedError(DENIED_MESSAGE.format(role=Role(actor.role).label))


class CaseAccess(Enum):
    """How much of one case file an actor may see."""

    NONE = 0
    SUMMARY = 1  # commission summary: debt, plan, referrals' status, proposal, decisions
    FULL = 2  # whole file, confidential notes included


def shows_household_budget(level: CaseAccess) -> bool:
    """The household's resources, APL/AL, other charges and the figures
    drawn from them (taux d'effort, reste à vivre) are FULL-only: a SUMMARY
    shows the rent and charges, the debt and the stage of the procedure."""
    return level is CaseAccess.FULL


# --------------------------------------------------------------------------
# The one case visibility rule (DESIGN.md "One clock, one visibility rule").
#
#   FULL     the pôle social (every case); a social adviser for the cases of
#            her own agency. Only FULL allows writing: nobody writes into
#            another agency's case.
#   SUMMARY  a social adviser or a CAS member listed on a session as present
#            (before the session: invited and not excused), for the cases on
#            that session's agenda, from the agenda's publication
#            (AGENDA_PUBLICATION_DAYS before the session day) until
#            ATTENDANCE_ACCESS_DAYS after its closing (Paris days).
#   NONE     everyone else (recovery staff, administrator, excused members,
#            members of other sessions, after the window).
#
# The rule exists once, as SQL (SQLAlchemy Core, dialect-neutral):
# ``visible_cases`` for lists, counts and search, ``access_level`` for the
# level of each row; ``case_access`` evaluates that same expression for one
# case. Nothing else decides who sees a case.


@dataclass(frozen=True)
class AttendanceWindow:
    """Bounds of the attendance rule for "now", in plain values."""

    latest_held_on: date  # sessions held up to this day have a published agenda
    closed_since: datetime  # closed sessions count if closed at or after this instant (UTC)
    closed_since_day: date  # same bound for a session closed without a recorded instant


def attendance_window(session: Session, clock=None) -> AttendanceWindow:
    from cus_desk.domain.settings import AGENDA_PUBLICATION_DAYS, ATTENDANCE_ACCESS_DAYS
    from cus_desk.services.settings import read_setting
    from cus_desk.store.db import session_clock

    clock = clock or session_clock(session)
    return window_for(clock.today(), read_setting(session, AGENDA_PUBLICATION_DAYS),
                      read_setting(session, ATTENDANCE_ACCESS_DAYS))


def window_for(today: date, publication_days: int, after_days: int) -> AttendanceWindow:
    """Access ends at the end of the ``after_days``-th Paris day after closing."""
    first_day = today - timedelta(days=after_days)
    start = datetime.combine(first_day, time(0, 0), tzinfo=PARIS).astimezone(UTC)
    return AttendanceWindow(today + timedelta(days=publication_days), start, first_day)


def _cols(cases):
    """Columns of ``cases``: the mapped ``Case`` class (ORM queries) or a
    Table/alias of ``cases`` (raw list SQL)."""
    if cases is None:
        from cus_desk.store.models.cases import Case

        return Case
    return cases.c


def attended_case_ids(actor, window: AttendanceWindow):
    """SELECT of the ids of the cases the actor attends a session about,
    within the attendance window."""
    from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting

    return (
        select(AgendaItem.case_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Attendee, Attendee.meeting_id == AgendaItem.meeting_id)
        .where(_member_now(actor, window, Meeting, Attendee))
    )


def _member_now(actor, window: AttendanceWindow, Meeting, Attendee):  # noqa: N803 (mapped classes)
    """SQL: the actor is a member of the session (listed and not excused)
    and its attendance window is open now."""
    from cus_desk.domain.meetings import MeetingStatus

    return and_(
        Attendee.user_id == actor.user_id, Attendee.present.is_(True),
        Meeting.held_on <= window.latest_held_on,
        or_(
            Meeting.status != MeetingStatus.CLOTUREE.value,
            Meeting.closed_at >= window.closed_since,
            and_(Meeting.closed_at.is_(None), Meeting.held_on >= window.closed_since_day),
        ),
    )


def _full_clause(actor, cases=None):
    c = _cols(cases)
    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return true()
    if role is Role.SOCIAL_ADVISER and actor.agency_id is not None:
        return c.agency_id == actor.agency_id
    return false()


def _summary_clause(actor, window: AttendanceWindow, cases=None):
    c = _cols(cases)
    if Role(actor.role) in (Role.SOCIAL_ADVISER, Role.CAS_MEMBER):
        return c.id.in_(attended_case_ids(actor, window))
    return false()


def visible_cases(actor, window: AttendanceWindow, cases=None,
                  minimum: CaseAccess = CaseAccess.SUMMARY):
    """SQL condition: the case is visible to the actor at ``minimum`` or more."""
    full = _full_clause(actor, cases)
    if minimum is CaseAccess.FULL:
        return full
    if minimum is CaseAccess.NONE:
        return true()
    return or_(full, _summary_clause(actor, window, cases))


def access_level(actor, window: AttendanceWindow, cases=None):
    """SQL expression: the actor's CaseAccess value (0, 1, 2) on the row."""
    return sql_case(
        (_full_clause(actor, cases), CaseAccess.FULL.value),
        (_summary_clause(actor, window, cases), CaseAccess.SUMMARY.value),
        else_=CaseAccess.NONE.value,
    )


def case_access(session: Session, actor, case_id: int, case_agency_id: int | None = None,
                window: AttendanceWindow | None = None) -> CaseAccess:
    """The actor's access to one case now: the SQL rule above, on that row.
    (``case_agency_id`` is accepted for older callers and not needed.)"""
    from cus_desk.store.models.cases import Case

    window = window or attendance_window(session)
    value = session.scalar(select(access_level(actor, window)).where(Case.id == case_id))
    return CaseAccess(value or 0)


def follow_up_cases(actor, window: AttendanceWindow, cases=None):
    """SQL condition on cases whose CAS decisions the actor may follow up:
    the cases she sees (above), and for recovery staff the decisions on
    their agency's cases (plans d'apurement; they never see the case file)."""
    c = _cols(cases)
    if Role(actor.role) is Role.RECOVERY:
        return true() if actor.agency_id is None else c.agency_id == actor.agency_id
    return visible_cases(actor, window, cases)


def seniors_agency(actor) -> int | None:
    """The agency whose 65+ tenants in arrears the actor sees (None = all).
    Social advisers and recovery staff work for one agency and see its
    tenants only; the pôle social (and recovery staff attached to no agency,
    the head office) sees every agency. Raises when the actor has no scope."""
    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return None
    if role is Role.RECOVERY:
        return actor.agency_id
    if role is Role.SOCIAL_ADVISER and actor.agency_id is not None:
        return actor.agency_id
    raise AccessDeniedError(SENIORS_DENIED)


SENIORS_DENIED = (
    "Ce locataire relève d'une autre agence : seuls la conseillère et le service recouvrement "
    "de son agence, et le pôle social, peuvent consulter sa situation."
)


def may_read_meeting(session: Session, actor, meeting_id: int,
                     window: AttendanceWindow | None = None) -> bool:
    """Agenda and relevé de décisions of one session: the pôle social, the
    members of that session (present, or invited before it; within the
    attendance window) and the advisers of the agencies whose cases are on
    its agenda (the cases' own advisers)."""
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting

    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return True
    window = window or attendance_window(session)
    member = session.scalar(select(exists().where(
        Attendee.meeting_id == meeting_id, Meeting.id == Attendee.meeting_id,
        _member_now(actor, window, Meeting, Attendee),
    )))
    if member:
        return True
    if role is Role.SOCIAL_ADVISER and actor.agency_id is not None:
        return bool(session.scalar(select(exists().where(
            AgendaItem.meeting_id == meeting_id, Case.id == AgendaItem.case_id,
            _full_clause(actor),
        ))))
    return False


def may_decide(session: Session, actor, meeting_id: int, case_id: int,
               window: AttendanceWindow | None = None) -> bool:
    """Recording a CAS decision on a case of a session: the pôle social, a
    holder of the whole file (her agency's adviser), or a member present at
    that session (the commission decides, whatever the agency)."""
    from cus_desk.store.models.meetings import Attendee

    window = window or attendance_window(session)
    if case_access(session, actor, case_id, window=window) is CaseAccess.FULL:
        return True
    return Role(actor.role) in (Role.SOCIAL_ADVISER, Role.CAS_MEMBER) and bool(session.scalar(
        select(exists().where(Attendee.meeting_id == meeting_id, Attendee.user_id == actor.user_id,
                              Attendee.present.is_(True)))))


DECISION_DENIED = (
    "Vous ne pouvez pas enregistrer de décision sur ce dossier : seuls les membres présents à la "
    "séance, la conseillère de l'agence du dossier et le pôle social le peuvent."
)


MEETING_DENIED = (
    "Vous n'avez pas accès à l'ordre du jour ni au relevé de décisions de cette séance : ils sont "
    "réservés aux membres de la séance, au pôle social et aux conseillères dont un dossier y est "
    "inscrit."
)


def record_refusal(db, actor, entity_type: str, entity_id: int | None, reason: str,
                   case_id: int | None = None, **details) -> None:
    """Trace a refused attempt (who, what, when, why) in its own short
    transaction: the refused operation's own transaction is rolled back."""
    from cus_desk.services import audit

    with db.write_session() as session:
        audit.record(session, actor, audit.Action.ACCESS_DENIED, entity_type, entity_id,
                     case_id=case_id, details={"motif": reason, **details})


CASE_DENIED = (
    "Vous n'avez pas accès à ce dossier. Une conseillère sociale voit les dossiers de son agence ; "
    "les membres d'une séance de CAS (présents, ou invités avant la séance) voient la synthèse des "
    "dossiers inscrits à son ordre du jour, jusqu'à quelques semaines après sa clôture."
)
CASE_WRITE_DENIED = (
    "Vous ne pouvez pas modifier ce dossier : seules la conseillère sociale de son agence et le "
    "pôle social le peuvent. La participation à une séance de CAS donne accès à sa synthèse, "
    "en lecture seule."
)


CASE_LIST_DENIED = (
    "Votre profil ({role}) ne donne pas accès aux dossiers CAS : ils contiennent des "
    "informations sociales réservées aux conseillères sociales, au pôle social et, pour la "
    "synthèse des dossiers inscrits à l'ordre du jour d'une séance, aux membres de la CAS."
)


def require_case_list(actor) -> None:
    if not has(actor, Permission.CASE_LIST):
        raise AccessDeniedError(CASE_LIST_DENIED.format(role=Role(actor.role).label))


def require_case(session: Session, actor, case_id: int, case_agency_id: int | None = None,
                 level: CaseAccess = CaseAccess.FULL) -> CaseAccess:
    granted = case_access(session, actor, case_id)
    if granted.value < level.value:
        raise AccessDeniedError(CASE_WRITE_DENIED if granted is CaseAccess.SUMMARY else CASE_DENIED)
    return granted


def presented_cases(actor):
    """SELECT of the ids of the cases an adviser put on an earlier agenda, or
    follows as their adviser: she brings their open decisions back to the
    commission (« Proposer… »), whatever agency the case now belongs to."""
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import AgendaItem

    if Role(actor.role) is not Role.SOCIAL_ADVISER:
        return select(Case.id).where(false())
    return select(AgendaItem.case_id).where(AgendaItem.presented_by_id == actor.user_id).union(
        select(Case.id).where(Case.adviser_id == actor.user_id))


def may_present_follow_up(session: Session, actor, case_id: int) -> bool:
    """An adviser may put back on an agenda a case outside her agency that
    she presented before (or follows), while it has an open CAS decision:
    the follow-up of what the commission decided on her presentation. The
    agenda shows such a case at summary level only."""
    from cus_desk.domain.meetings import OPEN_FOLLOW_UP
    from cus_desk.store.models.meetings import Decision

    if Role(actor.role) is not Role.SOCIAL_ADVISER:
        return False
    return bool(session.scalar(select(exists().where(
        Decision.case_id == case_id, Decision.status.in_(OPEN_FOLLOW_UP),
        Decision.case_id.in_(presented_cases(actor))))))
