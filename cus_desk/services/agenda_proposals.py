"""« Proposer… »: the cases to put on a session's agenda — adjourned cases
to present again, cases « à présenter en CAS », decisions falling due
(for an adviser: her agency's cases and the cases she presented before) —
each with an estimated duration, and the total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.roles import Role
from cus_desk.domain.settings import (
    CAS_MINUTES_ADJOURNED,
    CAS_MINUTES_FOLLOW_UP,
    CAS_MINUTES_NEW_CASE,
)
from cus_desk.services import access
from cus_desk.services.access import Permission
from cus_desk.services.meeting_common import _case_load_options, _get_meeting, household_name
from cus_desk.services.settings import read_setting
from cus_desk.store.models.cases import Case
from cus_desk.store.models.meetings import Decision, Meeting


@dataclass(frozen=True)
class AgendaProposal:
    case_id: int
    case_reference: str
    household: str
    agency: str
    reasons: tuple[str, ...]
    minutes: int = 0  # estimated time at the commission
    kinds: tuple[str, ...] = ()


def total_minutes(proposals: list[AgendaProposal]) -> int:
    return sum(p.minutes for p in proposals)


def duration_summary(proposals: list[AgendaProposal]) -> str:
    n = len(proposals)
    return (f"{n} dossier{'s' if n > 1 else ''} — durée estimée "
            f"{commission.format_duration(total_minutes(proposals))}")


class AgendaProposals:
    """Mixed into ``MeetingService`` (same actor, clock and sessions)."""

    def propose_agenda(self, meeting_id: int) -> list[AgendaProposal]:
        """Adjourned cases to present again, cases marked "à présenter en
        CAS" and cases with an open decision due on or before the session
        date, not yet on the agenda, among the cases the actor may put on
        it: for an adviser, her agency's cases and those she presented
        before (or follows) that have an open decision."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._read() as session:
            meeting = _get_meeting(session, meeting_id)
            due: dict[int, list[date]] = {}
            for case_id, due_on in session.execute(
                select(Decision.case_id, Decision.due_on).where(
                    Decision.status.in_(rules.OPEN_FOLLOW_UP),
                    Decision.due_on.is_not(None),
                    Decision.due_on <= meeting.held_on,
                )
            ).all():
                due.setdefault(case_id, []).append(due_on)
            adjourned: dict[int, list[date]] = {}
            for case_id, held_on in session.execute(
                select(Decision.case_id, Meeting.held_on).join(Meeting, Meeting.id == Decision.meeting_id)
                .where(Decision.type == rules.DecisionType.AJOURNEMENT.value,
                       Decision.status.in_(rules.OPEN_FOLLOW_UP),
                       Meeting.held_on < meeting.held_on, Meeting.id != meeting.id)
            ).all():
                adjourned.setdefault(case_id, []).append(held_on)
            query = select(Case.id, Case.status, Case.agency_id).where(
                or_(Case.status == rules.CASE_TO_PRESENT, Case.id.in_(list(due)),
                    Case.id.in_(list(adjourned)))
            )
            if Role(self.actor.role) is Role.SOCIAL_ADVISER:
                followed = Case.id.in_(access.presented_cases(self.actor)) & (
                    Case.id.in_(list(due)) | Case.id.in_(list(adjourned)))
                query = query.where(or_(Case.agency_id == self.actor.agency_id, followed))
            candidates = [
                rules.AgendaCandidate(cid, status, agency_id, tuple(due.get(cid, ())),
                                      tuple(adjourned.get(cid, ())))
                for cid, status, agency_id in session.execute(query).all()
            ]
            already = {i.case_id for i in meeting.agenda_items}
            rules_out = rules.propose_agenda(candidates, meeting.held_on, meeting.scope_agency_id, already)
            minutes = {
                commission.ProposalKind.NEW.value: int(read_setting(session, CAS_MINUTES_NEW_CASE)),
                commission.ProposalKind.ADJOURNED.value: int(read_setting(session, CAS_MINUTES_ADJOURNED)),
                commission.ProposalKind.FOLLOW_UP.value: int(read_setting(session, CAS_MINUTES_FOLLOW_UP)),
            }
            loaded = {c.id: c for c in session.scalars(
                select(Case).where(Case.id.in_([p.case_id for p in rules_out])).options(*_case_load_options())
            )}
            return [
                AgendaProposal(p.case_id, loaded[p.case_id].reference, household_name(loaded[p.case_id].household),
                               loaded[p.case_id].agency.label if loaded[p.case_id].agency else "", p.reasons,
                               commission.estimated_minutes(set(p.kinds), minutes), p.kinds)
                for p in rules_out
            ]
