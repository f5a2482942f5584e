"""The demo case files: every status in every agency, consistent parts."""

from __future__ import annotations

from sqlalchemy import func, select

from cus_desk.domain.cases import CaseStatus
from cus_desk.services.auth import actor_for_login
from cus_desk.services.cases import CaseFilter, CaseService
from cus_desk.store.models.cases import (
    Case,
    CaseSequence,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
)
from cus_desk.store.models.core import Agency, Referral


def test_demo_cases(demo_db):
    with demo_db.read_session() as session:
        pairs = set(session.execute(select(Agency.code, Case.status).join(Agency, Agency.id == Case.agency_id)).all())
        agencies = set(session.scalars(select(Agency.code)))
        for code in agencies:
            for status in CaseStatus:
                assert (code, status.value) in pairs, (code, status)
        cases = list(session.scalars(select(Case)))
        assert len({c.reference for c in cases}) == len(cases) >= 100
        for year, last in session.execute(select(CaseSequence.year, CaseSequence.last_value)):
            assert last == session.scalar(select(func.max(Case.sequence)).where(Case.year == year))
        assert all(c.closure_reason and c.closed_on for c in cases if c.status == "clos")
        assert all(c.holder_name and c.contract_number and c.search_doc for c in cases)  # triggers ran
        assert session.scalar(select(func.count()).select_from(JournalEntry)) >= 2 * len(cases)
        refs = list(session.scalars(select(Referral).where(Referral.kind == "orientation")))
        assert {r.status for r in refs} >= {"envoyee", "acceptee", "refusee", "sans_reponse", "cloturee"}
        assert all(r.result for r in refs if r.status == "cloturee")
        notes = list(session.scalars(select(ConfidentialNote)))
        assert notes and all(n.consent_on and n.consent_method for n in notes if n.category == "sante")
        assert session.scalar(select(func.count()).select_from(RepaymentPlan)) >= 3


def test_demo_adviser_sees_her_agency(demo_db):
    actor = actor_for_login(demo_db, "cs.metz")
    service = CaseService(demo_db, actor)
    rows = service.list_cases(CaseFilter(), limit=1000)
    assert rows and {r.agency_name for r in rows} <= {"Metz"} | {r.agency_name for r in rows if r.id in _on_agenda(demo_db, actor)}
    own = next(r for r in rows if r.agency_name == "Metz")
    holder = own.holder_name.split()[0]
    assert any(r.id == own.id for r in service.list_cases(CaseFilter(search=holder), limit=1000))
    detail = service.get(own.id)
    assert detail.journal and detail.access == "full"
    # Another agency's case on a session she attends: the summary only.
    for other in (r for r in rows if r.agency_name != "Metz"):
        assert service.get(other.id).access == "summary"


def _on_agenda(db, actor) -> set[int]:
    from cus_desk.store.models.meetings import AgendaItem, Attendee

    with db.read_session() as session:
        return set(session.scalars(select(AgendaItem.case_id).join(Attendee, Attendee.meeting_id == AgendaItem.meeting_id)
                                   .where(Attendee.user_id == actor.user_id)))
