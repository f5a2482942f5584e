"""The store: every core model round-trips through a real SQLite file, every
connection gets the same PRAGMAs, optimistic locking refuses stale saves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from cus_desk.domain.errors import ConflictError
from cus_desk.services.base import Service
from cus_desk.store.models.cases import (
    Case,
    CaseProblem,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
)
from cus_desk.store.models.core import (
    Agency,
    AuditEvent,
    Household,
    Lease,
    Partner,
    Referral,
    Setting,
    Tenant,
    User,
)
from cus_desk.store.models.meetings import (
    AgendaItem,
    Attendee,
    Decision,
    DecisionFollowUp,
    Meeting,
    MeetingAddendum,
    MeetingArchive,
)


def _agency(session, code="metz"):
    return session.scalar(select(Agency).where(Agency.code == code))


@pytest.mark.sqlite_only(reason="SQLite PRAGMAs (foreign keys, WAL, busy timeout) of every connection")
def test_pragmas_on_every_connection(db):
    for _ in range(3):  # several pooled connections, each configured
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000


def test_every_model_round_trips(db):
    with db.write_session() as s:
        metz = _agency(s)
        user = User(login="u1", display_name="Ulysse", role="conseillere_sociale", agency_id=metz.id)
        hh = Household(agency_id=metz.id, phone="03 87 00 00 00", referent=user)
        hh.members = [Tenant(last_name="ÉLOÏSE-ŒUVRE", first_name="Zoë", birth_date=date(1950, 2, 28)),
                      Tenant(last_name="Nguyễn", first_name="Thị", relationship_kind="cotitulaire", position=1)]
        lease = Lease(contract_number="57-000001-01", household=hh, agency_id=metz.id, commune="Metz",
                      start_date=date(1990, 1, 1), kind="bail_glissant", monthly_rent_cents=45_050)
        partner = Partner(name="CCAS de Metz", category="ccas", agencies=[metz])
        case = Case(reference="CAS-2026-0001", year=2026, sequence=1, household=hh, agency_id=metz.id,
                    status="ouvert", opened_on=date(2026, 1, 5), arrears_cents=123_456)
        case.problems = [CaseProblem(code="impaye_loyer"), CaseProblem(code="isolement")]
        s.add_all([user, hh, lease, partner, case])
        s.flush()
        s.add_all([
            ConfidentialNote(case_id=case.id, category="sante", text="secret", consent_on=date(2026, 1, 5),
                             consent_method="écrit"),
            JournalEntry(case_id=case.id, kind="entretien", occurred_on=date(2026, 1, 6), text="RDV"),
            RepaymentPlan(case_id=case.id, agreed_on=date(2026, 2, 1), monthly_cents=5_000, months=12),
            Referral(kind="orientation", case_id=case.id, partner_id=partner.id, sent_on=date(2026, 1, 7),
                     status="envoyee"),
            Setting(key="x", value_json="1"),
            AuditEvent(action="read", prev_hash="0" * 64, hash="f" * 64),
        ])
        meeting = Meeting(year=2026, number=1, held_on=date(2026, 2, 1), status="preparee")
        meeting.attendees = [Attendee(name="Serge", function="responsable_cellule_securite")]
        meeting.agenda_items = [AgendaItem(case_id=case.id, position=0, proposal="Bilan global")]
        s.add(meeting)
        s.flush()
        decision = Decision(meeting_id=meeting.id, case_id=case.id, type="intervention_sociale",
                            due_on=date(2026, 3, 1))
        s.add(decision)
        s.flush()
        s.add_all([DecisionFollowUp(decision_id=decision.id, on=date(2026, 2, 15), comment="RDV pris"),
                   MeetingAddendum(meeting_id=meeting.id, text="Correction"),
                   MeetingArchive(meeting_id=meeting.id, generated_at=db.clock.now(), sha256="a" * 64, pdf=b"%PDF")])

    with db.read_session() as s:
        case = s.scalar(select(Case))
        assert case.household.members[0].last_name == "ÉLOÏSE-ŒUVRE"
        assert case.household.members[1].first_name == "Thị"
        assert sorted(p.code for p in case.problems) == ["impaye_loyer", "isolement"]
        assert case.arrears_cents == 123_456 and isinstance(case.arrears_cents, int)
        assert s.scalar(select(Lease)).monthly_rent_cents == 45_050
        assert [a.code for a in s.scalar(select(Partner).where(Partner.name == "CCAS de Metz")).agencies] == ["metz"]
        assert s.scalar(select(Meeting)).agenda_items[0].proposal == "Bilan global"
        assert s.scalar(select(MeetingArchive)).pdf == b"%PDF"
        assert s.scalar(select(Decision)).status == "a_faire"
        assert s.scalar(select(User).where(User.login == "u1")).created_at.tzinfo is not None


def test_contract_number_is_unique(db):
    with pytest.raises(IntegrityError):
        with db.write_session() as s:
            metz = _agency(s)
            s.add(Lease(contract_number="X-1", agency_id=metz.id, commune="Metz"))
            s.add(Lease(contract_number="X-1", agency_id=metz.id, commune="Metz"))
    with db.read_session() as s:  # nothing half written
        assert s.scalar(select(Lease).where(Lease.contract_number == "X-1")) is None


def test_foreign_keys_are_enforced(db):
    with pytest.raises(IntegrityError):
        with db.write_session() as s:
            s.add(Lease(contract_number="X-2", agency_id=9999, commune="Nulle part"))


def test_two_sessions_same_file_second_save_conflicts(db, actors):
    with db.write_session() as s:
        hh = Household(agency_id=_agency(s).id, phone="1")
        s.add(hh)
    svc = Service(db, actors["adviser_metz"])
    with db.read_session() as s1:
        first = s1.get(Household, hh.id)
    with db.read_session() as s2:
        second = s2.get(Household, hh.id)
    # Two advisers edit the same household from stale copies.
    with svc._write() as s:
        s.merge(first).phone = "first"
    with pytest.raises(ConflictError) as err:
        with svc._write() as s:
            s.merge(second).phone = "second"
    assert "modifiée par quelqu'un d'autre" in err.value.message
    with db.read_session() as s:
        stored = s.get(Household, hh.id)
        assert stored.phone == "first" and stored.version == 2
