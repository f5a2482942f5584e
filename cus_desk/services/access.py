"""Who may see and do what. Every service calls these before touching data,
so that neither the UI nor the CLI can bypass them."""

from __future__ import annotations

from enum import Enum, StrEnum

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

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


def attends_meeting_with_case(session: Session, user_id: int, case_id: int) -> bool:
    """The user is an attendee of a session whose agenda holds this case."""
    from cus_desk.store.models.meetings import AgendaItem, Attendee

    return bool(
        session.scalar(
            select(
                exists()
                .where(AgendaItem.case_id == case_id)
                .where(Attendee.meeting_id == AgendaItem.meeting_id)
                .where(Attendee.user_id == user_id)
            )
        )
    )


def case_access(session: Session, actor, case_id: int, case_agency_id: int) -> CaseAccess:
    role = Role(actor.role)
    if role is Role.SOCIAL_HEAD:
        return CaseAccess.FULL
    if role is Role.SOCIAL_ADVISER:
        if actor.agency_id == case_agency_id:
            return CaseAccess.FULL
        return (
            CaseAccess.FULL
            if attends_meeting_with_case(session, actor.user_id, case_id)
            else CaseAccess.NONE
        )
    if role is Role.CAS_MEMBER:
        return (
            CaseAccess.SUMMARY
            if attends_meeting_with_case(session, actor.user_id, case_id)
            else CaseAccess.NONE
        )
    return CaseAccess.NONE


CASE_DENIED = (
    "Vous n'avez pas accès à ce dossier. Une conseillère sociale voit les dossiers de son agence "
    "et ceux inscrits à l'ordre du jour d'une séance de CAS à laquelle elle participe."
)


CASE_LIST_DENIED = (
    "Votre profil ({role}) ne donne pas accès aux dossiers CAS : ils contiennent des "
    "informations sociales réservées aux conseillères sociales, au pôle social et, pour la "
    "synthèse des dossiers inscrits à l'ordre du jour d'une séance, aux membres de la CAS."
)


def require_case_list(actor) -> None:
    if not has(actor, Permission.CASE_LIST):
        raise AccessDeniedError(CASE_LIST_DENIED.format(role=Role(actor.role).label))


def require_case(session: Session, actor, case_id: int, case_agency_id: int,
                 level: CaseAccess = CaseAccess.FULL) -> CaseAccess:
    granted = case_access(session, actor, case_id, case_agency_id)
    if granted.value < level.value:
        raise AccessDeniedError(CASE_DENIED)
    return granted
