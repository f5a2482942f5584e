"""The one visibility rule beyond the matrix: no write through attendance,
no inference through a filter, the lease lookup, and the trace of reads and
refusals (issue 11, items 1, 4 and 7)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services import access
from cus_desk.services.audit import Action
from cus_desk.services.cases import CaseFilter, CaseInput, CaseService
from cus_desk.store.models.core import AuditEvent
from tests.security.test_visibility_matrix import (  # noqa: F401  (fixture)
    FIRST_NAME,
    world,
)


def _events(db, action: str, entity_type: str | None = None) -> list[AuditEvent]:
    with db.read_session() as s:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        if entity_type:
            query = query.where(AuditEvent.entity_type == entity_type)
        events = list(s.scalars(query))
        s.expunge_all()
        return events


def test_attendance_never_gives_write_access(world):
    """Item 1: an adviser present at the session could change or close
    another agency's case."""
    svc = CaseService(world.db, world.actors["adviser_present"])
    detail = svc.get(world.case_id)
    with pytest.raises(AccessDeniedError, match="lecture seule"):
        svc.change_status(world.case_id, "clos", detail.version, closure_reason="Test")
    with pytest.raises(AccessDeniedError):
        svc.update_case(world.case_id, CaseInput(problems=["impaye_loyer"]), detail.version)
    with pytest.raises(AccessDeniedError):
        svc.add_journal_entry(world.case_id, "note", date(2026, 11, 19), "Écrit par une autre agence")


def test_a_sensitive_problem_filter_reveals_nothing_about_summary_cases(world):
    """Item 4: filtering the list on « Santé mentale » would tell a summary
    reader which of her cases carry it."""
    member = CaseService(world.db, world.actors["cas_present"])
    assert [r.id for r in member.list_cases()] == [world.case_id]
    assert member.list_cases(CaseFilter(problem="sante_mentale")) == []
    assert member.count_cases(CaseFilter(problem="violences_intrafamiliales")) == 0
    assert [r.id for r in member.list_cases(CaseFilter(problem="impaye_loyer"))] == [world.case_id]
    own = CaseService(world.db, world.actors["adviser_own"])
    assert {r.id for r in own.list_cases(CaseFilter(problem="sante_mentale"))} == {
        world.case_id, world.off_agenda_id}


def test_lease_lookup_of_another_agency_gives_no_name(world):
    """Item 7: a DT 54 (here Forbach) adviser typing a Metz contract number got
    the holder's name and the open case reference."""
    other = CaseService(world.db, world.actors["adviser_other"])
    with pytest.raises(AccessDeniedError, match="relève de l'agence Metz") as refused:
        other.lookup_lease(world.contract)
    assert FIRST_NAME not in str(refused.value) and world.reference not in str(refused.value)
    denied = _events(world.db, Action.ACCESS_DENIED, "lease")
    assert [e.user_login for e in denied] == ["cs.forbach"]
    found = CaseService(world.db, world.actors["adviser_own"]).lookup_lease(world.contract)
    assert FIRST_NAME in found.holder_name and found.open_case_reference == world.reference


def test_list_and_search_reads_are_traced_once_per_query(world):
    svc = CaseService(world.db, world.actors["cas_present"])
    svc.list_cases()
    svc.list_cases()  # the same query again (a refresh): no second event
    svc.list_cases(CaseFilter(search="Dupont"))
    events = _events(world.db, Action.READ, "case_list")
    assert len(events) == 2
    first, search = (json.loads(e.details_json) for e in events)
    assert first["vue"] == "liste" and first["dossiers"] == [world.case_id]
    assert search["vue"] == "recherche" and search["recherche_longueur"] == 6
    assert "Dupont" not in events[1].details_json  # who was looked for: by the ids shown


def test_agenda_and_seniors_reads_are_traced(world):
    from cus_desk.services.meetings import MeetingService
    from cus_desk.services.seniors import SeniorsService

    MeetingService(world.db, world.actors["cas_present"]).get_meeting(world.meeting_id)
    agenda = _events(world.db, Action.READ, "meeting")
    assert len(agenda) == 1 and json.loads(agenda[0].details_json)["dossiers"] == [world.case_id]
    SeniorsService(world.db, world.actors["recovery"]).detail(world.lease_id)
    seniors = _events(world.db, Action.READ, "senior")
    assert [(e.user_login, e.entity_id) for e in seniors] == [("recouvrement.metz", str(world.lease_id))]


@pytest.mark.parametrize("attempt", ["case", "releve", "senior", "summary", "list", "decisions",
                                     "follow_up"])
def test_refused_attempts_are_traced(world, attempt):
    from cus_desk.services.meetings import MeetingService
    from cus_desk.services.seniors import SeniorsService

    who = {"case": "cas_never", "releve": "recovery", "senior": "adviser_other",
           "summary": "adviser_excused", "list": "admin", "decisions": "cas_absent",
           "follow_up": "cas_never"}[attempt]
    actor = world.actors[who]
    call = {
        "case": lambda: CaseService(world.db, actor).get(world.case_id),
        "releve": lambda: MeetingService(world.db, actor).releve(world.meeting_id),
        "senior": lambda: SeniorsService(world.db, actor).detail(world.lease_id),
        "summary": lambda: MeetingService(world.db, actor).commission_summary(world.meeting_id,
                                                                              world.case_id),
        "list": lambda: CaseService(world.db, actor).list_cases(),
        "decisions": lambda: MeetingService(world.db, actor).decisions_for_case(world.case_id),
        "follow_up": lambda: MeetingService(world.db, actor).set_follow_up(
            _decision_id(world), "en_cours", "Relance"),
    }[attempt]
    with pytest.raises(AccessDeniedError):
        call()
    denied = _events(world.db, Action.ACCESS_DENIED)
    assert len(denied) == 1, attempt
    event = denied[0]
    assert event.user_login == actor.login and json.loads(event.details_json)["motif"]
    assert event.occurred_at is not None


def _decision_id(world) -> int:
    from cus_desk.store.models.meetings import Decision

    with world.db.read_session() as s:
        return s.scalar(select(Decision.id).where(Decision.case_id == world.case_id))


def test_function_and_sql_forms_agree(world):
    """``case_access`` (one case) and ``visible_cases``/``access_level`` (lists)
    are the same expression: compare them for every role of the matrix."""
    from cus_desk.store.models.cases import Case

    for who, actor in world.actors.items():
        with world.db.read_session() as s:
            window = access.attendance_window(s)
            one = access.case_access(s, actor, world.case_id)
            listed = s.scalar(select(Case.id).where(access.visible_cases(actor, window),
                                                    Case.id == world.case_id))
            level = s.scalar(select(access.access_level(actor, window)).where(Case.id == world.case_id))
        assert (listed is not None) is (one is not access.CaseAccess.NONE), who
        assert level == one.value, who


def test_dashboard_counts_only_what_the_actor_may_follow(world):
    from cus_desk.services.dashboard import DashboardService

    assert DashboardService(world.db, world.actors["cas_never"]).summary().open_decisions == 0
    assert DashboardService(world.db, world.actors["cas_present"]).summary().open_decisions == 1
    assert DashboardService(world.db, world.actors["adviser_other"]).summary().open_decisions == 0
    assert DashboardService(world.db, world.actors["adviser_own"]).summary().open_decisions == 1


def test_a_partners_referrals_name_only_the_cases_the_reader_may_see(world):
    """A case reference next to a partner says the household went there."""
    from cus_desk.services.partners import PartnerService
    from cus_desk.store.models.core import Partner

    with world.db.read_session() as s:
        partner_id = s.scalar(select(Partner.id).where(Partner.seed_key == "amli"))
    for who, shown in (("adviser_own", True), ("social_head", True), ("cas_never", False),
                       ("recovery", False), ("admin", False), ("adviser_other", False)):
        refs = [r.case_reference for r in PartnerService(world.db, world.actors[who]).get(partner_id).referrals]
        assert (world.reference in refs) is shown, who
        assert len(refs) == 1, who  # the referral itself still counts


def test_search_finds_a_summary_case_only_by_what_the_summary_shows(world):
    """The search index holds every member's names and the contract numbers:
    a summary reader must not confirm a first name or a contract by searching."""
    member = CaseService(world.db, world.actors["cas_present"])

    def found(text):
        return [r.id for r in member.list_cases(CaseFilter(search=text))]

    assert found("Dupont") == [world.case_id]
    assert found(world.reference) == [world.case_id]
    assert found(FIRST_NAME) == []
    assert found("Dupont Jean") == []
    assert found(world.contract) == []
    own = CaseService(world.db, world.actors["adviser_own"])
    assert [r.id for r in own.list_cases(CaseFilter(search=FIRST_NAME))] == [world.case_id]
    assert [r.id for r in own.list_cases(CaseFilter(search=world.contract))] == [world.case_id]


def test_only_members_present_or_the_file_holder_record_a_decision(world):
    """An adviser of another agency, absent from the session, recorded CAS
    decisions on its cases (nothing but MEETING_MANAGE was checked)."""
    from cus_desk.services.meetings import MeetingService
    from cus_desk.store.models.meetings import Attendee, Meeting

    with world.db.write_session() as s:
        m = s.get(Meeting, world.meeting_id)
        m.status, m.closed_at = "en_cours", None
        # The quorum (3 voting members present, issue 14): a third member without an account.
        s.add(Attendee(meeting_id=m.id, name="Présidente", function="president", present=True,
                       presence="present"))
    with pytest.raises(AccessDeniedError, match="membres présents"):
        MeetingService(world.db, world.actors["adviser_other"]).add_decision(
            world.meeting_id, world.case_id, "visite_domicile", "Visite", "Pôle social")
    with pytest.raises(AccessDeniedError):
        MeetingService(world.db, world.actors["adviser_excused"]).add_decision(
            world.meeting_id, world.case_id, "visite_domicile", "Visite", "Pôle social")
    assert [e.user_login for e in _events(world.db, Action.ACCESS_DENIED)] == ["cs.forbach", "cs.woippy"]
    made = MeetingService(world.db, world.actors["adviser_present"]).add_decision(
        world.meeting_id, world.case_id, "visite_domicile", "Visite à domicile", "Pôle social")
    MeetingService(world.db, world.actors["adviser_own"]).update_decision(
        made.id, "visite_domicile", "Visite à domicile sous 15 jours", "Pôle social", None, None)
    with pytest.raises(AccessDeniedError):
        MeetingService(world.db, world.actors["adviser_other"]).delete_decision(made.id)


def test_attendance_ends_with_the_sixtieth_paris_day_after_closing(world, clock):
    """Closed at 23:30 in Paris on 1 October (21:30 UTC): the summary stays
    readable through 30 November (60 days later), not on 1 December."""
    from datetime import UTC, datetime

    from cus_desk.store.models.meetings import Meeting

    with world.db.write_session() as s:
        m = s.get(Meeting, world.meeting_id)
        m.held_on, m.closed_at = date(2026, 10, 1), datetime(2026, 10, 1, 21, 30, tzinfo=UTC)
    member = CaseService(world.db, world.actors["cas_present"])
    clock.set(datetime(2026, 11, 30, 22, 59, tzinfo=UTC))  # 23:59 in Paris, day 60
    assert member.get(world.case_id).access == "summary"
    clock.set(datetime(2026, 11, 30, 23, 1, tzinfo=UTC))  # 00:01 on 1 December in Paris
    with pytest.raises(AccessDeniedError):
        CaseService(world.db, world.actors["cas_present"]).get(world.case_id)


def test_a_summary_does_not_name_a_health_partner(world):
    """A referral to a psychiatric centre tells the diagnosis: a summary
    reader sees « Structure partenaire » and the referral's status only."""
    from cus_desk.store.models.core import Partner, Referral

    with world.db.write_session() as s:
        partner = Partner(name="Centre psychothérapique de Jury", category="sante_mentale", version=1)
        s.add(partner)
        s.flush()
        s.add(Referral(kind="orientation", case_id=world.case_id, partner_id=partner.id,
                       sent_on=date(2026, 10, 1), reason="Suivi psychiatrique", status="acceptee"))
    summary = CaseService(world.db, world.actors["cas_present"]).get(world.case_id)
    text = repr(summary) + json.dumps(summary.to_public_dict(), ensure_ascii=False, default=str)
    assert "Jury" not in text and "psychiatrique" not in text
    assert "Structure partenaire" in {r.partner_name for r in summary.referrals}
    with world.db.read_session() as s:
        amli = s.scalar(select(Partner.name).where(Partner.seed_key == "amli"))
    assert amli in {r.partner_name for r in summary.referrals}  # an ordinary partner stays named
    full = CaseService(world.db, world.actors["adviser_own"]).get(world.case_id)
    assert "Centre psychothérapique de Jury" in {r.partner_name for r in full.referrals}
