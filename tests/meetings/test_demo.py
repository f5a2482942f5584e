"""The demo CAS sessions, on a copy of the real demo database."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import select

from cus_desk.services.auth import actor_for_login
from cus_desk.services.meetings import MeetingService
from cus_desk.store.models.cases import ConfidentialNote
from cus_desk.store.models.meetings import MeetingArchive


def test_demo_sessions(demo_db):
    svc = MeetingService(demo_db, actor_for_login(demo_db, "pole.social"))
    rows = svc.list_meetings()
    assert [(r.label, r.status) for r in rows] == [
        ("CAS n° 11/2026", "preparee"), ("CAS n° 10/2026", "cloturee"), ("CAS n° 9/2026", "cloturee")]
    upcoming, october, september = rows
    assert upcoming.agenda_count >= 3 and upcoming.decision_count == 0
    assert october.decision_count >= 5 and september.decision_count >= 5
    detail = svc.get_meeting(upcoming.id)
    assert all(item.proposal for item in detail.agenda)
    assert sum(a.present for a in detail.attendees) >= 5
    # Copied from October, presence to record at the meeting; the members who vote are
    # linked to accounts (access to cases), the CCAS partner sits with a consultative voice.
    assert {a.presence for a in detail.attendees} == {None}
    assert all(a.user_id for a in detail.attendees if a.voting)
    assert any(a.function == "partenaire_ccas_cms" and not a.voting for a in detail.attendees)

    with demo_db.read_session() as s:
        archives = s.scalars(select(MeetingArchive)).all()
        secrets = [n.text for n in s.scalars(select(ConfidentialNote))]
    assert {a.meeting_id for a in archives} == {october.id, september.id}
    for archive in archives:
        assert hashlib.sha256(archive.pdf).hexdigest() == archive.sha256
        assert svc.releve(archive.meeting_id).pdf == archive.pdf
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.pdf)).pages)
        assert "Commission d'Action Sociale" in text
        assert "Présidence de séance : Paule Démo" in text and "Secrétaire de séance : Claire Démo" in text
        assert "Version 1" in text and "Le/La président·e de séance" in text
        for secret in secrets:
            assert secret not in text
    # the October relevé follows up September's decisions
    october_text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(svc.releve(october.id).pdf)).pages)
    assert "CAS n° 9/2026" in october_text.split("Suivi des décisions antérieures", 1)[1]

    follow_up = svc.follow_up_list()
    assert follow_up and follow_up[0].overdue
    assert {d.status for d in svc.follow_up_list(include_closed=True)} >= {"a_faire", "en_cours", "realisee"}
    # the prepared session's agenda is what the builder proposes
    assert svc.propose_agenda(upcoming.id) == [] or all(
        p.case_id not in {a.case_id for a in detail.agenda} for p in svc.propose_agenda(upcoming.id))


def test_demo_shows_the_commission_at_work(demo_db):
    """Issue 14 in the demo: the case adjourned in October heads November's
    agenda, decided cases moved on, decisions created what they imply, and
    each person has decisions to follow."""
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import Decision, Meeting

    head = MeetingService(demo_db, actor_for_login(demo_db, "pole.social"))
    upcoming, october, september = head.list_meetings()
    with demo_db.read_session() as s:
        adjourned = s.scalar(select(Decision).where(Decision.type == "ajournement"))
        reference = s.get(Case, adjourned.case_id).reference
        decided = {d.case_id: s.get(Case, d.case_id).status for d in s.scalars(
            select(Decision).join(Meeting, Meeting.id == Decision.meeting_id)
            .where(Meeting.id == september.id))}
        effects = s.scalars(select(Decision).where(Decision.meeting_id == september.id)).all()
    agenda = head.get_meeting(upcoming.id).agenda
    assert agenda[0].case_reference == reference and adjourned.status == "a_faire"
    assert set(decided.values()) <= {"action_definie", "preconisation", "en_suivi", "clos"}
    assert any(d.referral_id for d in effects) and any(d.repayment_plan_id for d in effects)
    october_detail = head.get_meeting(october.id)
    assert october_detail.quorum.reached
    assert {a.presence_label for a in october_detail.attendees} >= {"Présent(e)", "Excusé(e)"}
    assert MeetingService(demo_db, actor_for_login(demo_db, "recouvrement.metz")).my_decisions() or \
        MeetingService(demo_db, actor_for_login(demo_db, "recouvrement.forbach")).my_decisions()
    assert head.my_decisions()
