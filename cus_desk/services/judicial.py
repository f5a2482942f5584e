"""The demande de résiliation judiciaire du bail rests on one collegial
decision (seed §9.3): a decision of that type, taken by a session that was
really held — closed, not dated in the future, with its quorum — of the
case's own agency or a central session. The demand names that decision in
the case journal, and does not survive its rectification: a rectificatif
on the decision cancels the demand, with a journal line (the decision
itself can no longer be deleted once its session is closed).

Used by the case-files service (``CaseService.request_judicial_termination``)
and by the rectificatifs of a closed session."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import WorkflowError
from cus_desk.domain.formatting import format_date
from cus_desk.services import audit
from cus_desk.services.meeting_common import _meeting_label
from cus_desk.services.meeting_members import meeting_quorum
from cus_desk.store.models.cases import Case, JournalEntry
from cus_desk.store.models.meetings import Decision, Meeting


def _candidates(session: Session, case: Case) -> list[tuple[Decision, Meeting]]:
    return list(session.execute(
        select(Decision, Meeting).join(Meeting, Meeting.id == Decision.meeting_id)
        .where(Decision.case_id == case.id,
               Decision.type == rules.DecisionType.DEMANDE_RESILIATION_JUDICIAIRE.value,
               Decision.status != rules.FollowUpStatus.ABANDONNEE.value)
        .order_by(Meeting.held_on.desc(), Decision.id.desc())
    ).all())


def _ground(session: Session, meeting: Meeting) -> commission.JudicialGround:
    return commission.JudicialGround(meeting.status, meeting.held_on, meeting.scope_agency_id,
                                     meeting_quorum(session, meeting))


def find_ground(session: Session, case: Case, today: date) -> tuple[Decision, Meeting]:
    """The decision the demand rests on; raises a French WorkflowError
    saying why none may (the most recent candidate's reason)."""
    candidates = _candidates(session, case)
    if not candidates:
        from cus_desk.domain.cases import JUDICIAL_REFUSED

        raise WorkflowError(JUDICIAL_REFUSED)
    first_error: WorkflowError | None = None
    for decision, meeting in candidates:
        try:
            commission.check_judicial_ground(_ground(session, meeting), case.agency_id, today)
        except WorkflowError as exc:
            first_error = first_error or exc
            continue
        return decision, meeting
    raise first_error


def is_authorised(session: Session, case: Case, today: date) -> bool:
    try:
        find_ground(session, case, today)
    except WorkflowError:
        return False
    return True


def journal_text(decision: Decision, meeting: Meeting) -> str:
    return (f"Demande de résiliation judiciaire du bail, autorisée par la décision collégiale de la "
            f"{_meeting_label(meeting)} du {format_date(meeting.held_on)} (décision n° {decision.id}, "
            "séance clôturée avec quorum).")


def cancel_on_rectification(session: Session, actor, decision: Decision | None, meeting: Meeting) -> bool:
    """A rectificatif on the decision a demand rests on cancels the demand:
    what the commission decided is being corrected, the demand must be made
    again on a decision that stands. Returns True when a demand was cancelled."""
    if decision is None or decision.judicial_used_on is None:
        return False
    case = session.get(Case, decision.case_id)
    today = session_today(session)
    decision.judicial_used_on = None
    if case is not None and case.judicial_requested_on is not None:
        case.judicial_requested_on = None
        session.add(JournalEntry(
            case_id=case.id, kind="note", occurred_on=today, author_id=actor.user_id,
            text=(f"Demande de résiliation judiciaire du bail annulée : la décision de la "
                  f"{_meeting_label(meeting)} du {format_date(meeting.held_on)} qui la fondait a fait "
                  f"l'objet d'un rectificatif le {format_date(today)}. Une nouvelle demande devra "
                  "s'appuyer sur une décision de la CAS qui tient."),
        ))
        audit.record(session, actor, audit.Action.UPDATE, "case", case.id, case_id=case.id,
                     details={"judicial_requested_on": ["annulée", None], "decision": decision.id})
    session.flush()
    return True


def session_today(session: Session) -> date:
    from cus_desk.store.db import session_clock

    return session_clock(session).today()
