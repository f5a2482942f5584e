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
    assert all(a.user_id for a in detail.attendees)  # linked to accounts (access to cases)

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
