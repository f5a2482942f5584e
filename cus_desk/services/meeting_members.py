"""Members of a CAS session: who may sit on it, the list copied from the
last session, the presence recorded at the meeting (présent, excusé,
absent) and the quorum checked before decisions and closing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import NotFoundError, ValidationError
from cus_desk.domain.reference import CAS_FUNCTIONS
from cus_desk.domain.roles import Role
from cus_desk.domain.settings import CAS_QUORUM
from cus_desk.services import access, audit
from cus_desk.services.access import Permission
from cus_desk.services.meeting_common import _get_meeting, _meeting_label
from cus_desk.services.settings import read_setting
from cus_desk.store.models.core import User
from cus_desk.store.models.meetings import Attendee, Meeting


@dataclass(frozen=True)
class AttendeeView:
    id: int
    name: str
    function: str
    function_label: str
    present: bool  # invited and not excused nor absent
    user_id: int | None
    presence: str | None = None  # present | excuse | absent; None: not recorded yet
    presence_label: str = commission.NOT_RECORDED_LABEL
    voting: bool = True


@dataclass(frozen=True)
class AttendeeCandidate:
    user_id: int
    name: str
    role_label: str
    suggested_function: str


def attendee_view(a: Attendee) -> AttendeeView:
    return AttendeeView(a.id, a.name, a.function, CAS_FUNCTIONS.get(a.function, a.function),
                        a.present, a.user_id, a.presence, commission.presence_label(a.presence),
                        commission.is_voting(a.function))


def meeting_quorum(session: Session, meeting: Meeting) -> commission.Quorum:
    required = int(read_setting(session, CAS_QUORUM))
    return commission.quorum([(a.function, a.presence) for a in meeting.attendees], required)


def require_quorum(session: Session, meeting: Meeting, what: str) -> commission.Quorum:
    q = meeting_quorum(session, meeting)
    commission.check_quorum(q, what)
    return q


def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """The latest session before this one, of the same scope if there is
    one, else any scope."""
    base = select(Meeting).where(Meeting.id != meeting.id, Meeting.held_on <= meeting.held_on)
    order = (Meeting.held_on.desc(), Meeting.id.desc())
    scope = (Meeting.scope_agency_id.is_(None) if meeting.scope_agency_id is None
             else Meeting.scope_agency_id == meeting.scope_agency_id)
    return (session.scalar(base.where(scope).order_by(*order).limit(1))
            or session.scalar(base.order_by(*order).limit(1)))


def copy_members(session: Session, actor, meeting: Meeting) -> int:
    """Copy the members of the previous session (names, accounts,
    functions), presence not recorded: it is recorded at the meeting.
    Members whose account is deactivated are left out. Returns how many."""
    source = previous_meeting(session, meeting)
    if source is None:
        return 0
    taken = {a.user_id for a in meeting.attendees if a.user_id is not None}
    named = {(a.name.casefold(), a.function) for a in meeting.attendees if a.user_id is None}
    copied = 0
    for a in source.attendees:
        if a.user_id is not None:
            user = session.get(User, a.user_id)
            if user is None or not user.active or a.user_id in taken:
                continue
            taken.add(a.user_id)
        elif (a.name.casefold(), a.function) in named:
            continue
        meeting.attendees.append(Attendee(meeting_id=meeting.id, user_id=a.user_id, name=a.name,
                                          function=a.function, present=True, presence=None))
        copied += 1
    if copied:
        session.flush()
        audit.record(session, actor, audit.Action.UPDATE, "meeting", meeting.id,
                     details={"membres_copies_de": source.id, "membres": copied})
    return copied


def _presence_args(present: bool | None, presence: str | None) -> str | None:
    if presence is not None:
        parsed = commission.parse_presence(presence)
        return parsed.value if parsed else None
    if present is None:
        return None
    return commission.Presence.PRESENT.value if present else commission.Presence.EXCUSE.value


class MeetingMembers:
    """Mixed into ``MeetingService`` (same actor, clock and sessions)."""

    def attendee_candidates(self) -> list[AttendeeCandidate]:
        """Active accounts that may sit on the commission, with the CAS
        function their role suggests."""
        access.require(self.actor, Permission.MEETING_VIEW)
        suggestion = {
            Role.SOCIAL_HEAD: "responsable_pole_social",
            Role.SOCIAL_ADVISER: "conseillere_sociale",
            Role.RECOVERY: "responsable_recouvrement",
            Role.CAS_MEMBER: "autre",
        }
        with self._read() as session:
            users = session.scalars(
                select(User).where(User.active.is_(True), User.role != Role.ADMIN.value)
                .order_by(User.display_name)
            )
            return [
                AttendeeCandidate(u.id, u.display_name, Role(u.role).label,
                                  suggestion.get(Role(u.role), "autre"))
                for u in users
            ]

    def add_attendee(self, meeting_id: int, name: str, function: str, present: bool | None = None,
                     user_id: int | None = None, presence: str | None = None) -> AttendeeView:
        """A member of the session. Presence is recorded at the meeting:
        unless ``presence`` (or the older ``present``) is given, it stays
        « non indiquée »."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        if function not in CAS_FUNCTIONS:
            raise ValidationError("Choisissez la fonction du membre dans la liste.", "function")
        state = _presence_args(present, presence)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "la liste des membres")
            if user_id is not None:
                user = session.get(User, user_id)
                if user is None:
                    raise ValidationError("Ce compte n'existe pas : choisissez un membre dans la liste.",
                                          "user")
                if any(a.user_id == user_id for a in meeting.attendees):
                    raise ValidationError(f"{user.display_name} figure déjà parmi les membres de la séance.",
                                          "user")
                name = name.strip() or user.display_name
            name = rules.clean_text(name, label="Nom", field="name", maximum=120, required=True)
            attendee = Attendee(meeting_id=meeting.id, user_id=user_id, name=name, function=function,
                                present=commission.invited(state), presence=state)
            session.add(attendee)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "attendee", attendee.id,
                         details={"seance": meeting.id, "nom": name, "fonction": function,
                                  "presence": state})
            return attendee_view(attendee)

    def set_presence(self, attendee_id: int, presence: str | None) -> AttendeeView:
        """Présent(e), excusé(e), absent(e) — or back to « non indiquée »."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        parsed = commission.parse_presence(presence)
        state = parsed.value if parsed else None
        with self._write() as session:
            attendee = session.get(Attendee, attendee_id)
            if attendee is None:
                raise NotFoundError("Ce membre ne figure plus dans la séance. Actualisez l'écran.")
            meeting = _get_meeting(session, attendee.meeting_id)
            rules.check_editable(meeting.status, "la liste des membres")
            if attendee.presence != state:
                old = attendee.presence
                attendee.presence = state
                attendee.present = commission.invited(state)
                audit.record(session, self.actor, audit.Action.UPDATE, "attendee", attendee.id,
                             details={"presence": [old, state]})
            session.flush()
            return attendee_view(attendee)

    def set_attendee_present(self, attendee_id: int, present: bool) -> None:
        """Older form of ``set_presence``: present, or excused."""
        self.set_presence(attendee_id, commission.Presence.PRESENT.value if present
                          else commission.Presence.EXCUSE.value)

    def remove_attendee(self, attendee_id: int) -> None:
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            attendee = session.get(Attendee, attendee_id)
            if attendee is None:
                return
            meeting = _get_meeting(session, attendee.meeting_id)
            rules.check_editable(meeting.status, "la liste des membres")
            session.delete(attendee)
            audit.record(session, self.actor, audit.Action.DELETE, "attendee", attendee_id,
                         details={"seance": meeting.id, "nom": attendee.name})

    def copy_previous_members(self, meeting_id: int) -> int:
        """« Reprendre les membres de la séance précédente » (done at creation;
        again by hand when the list was emptied)."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_editable(meeting.status, "la liste des membres")
            copied = copy_members(session, self.actor, meeting)
            if not copied:
                source = previous_meeting(session, meeting)
                raise ValidationError(
                    "Aucune séance précédente dont reprendre les membres." if source is None else
                    f"Les membres de la séance {_meeting_label(source)} figurent déjà dans celle-ci.",
                    "members")
            return copied

    def quorum(self, meeting_id: int) -> commission.Quorum:
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._read() as session:
            meeting = _get_meeting(session, meeting_id)
            self._require_meeting(session, meeting, "quorum de la séance")
            return meeting_quorum(session, meeting)
