"""Direct ORM builders for the security tests (cases, meetings, seniors rows
with the data each retention rule and each role test needs)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

from sqlalchemy import select

from cus_desk.store.models.core import Agency, Household, Lease, Partner, Referral, Tenant

_seq = count(1)


def agency(session, code):
    return session.scalar(select(Agency).where(Agency.code == code))


def household(session, code, last_name, first_name="Jeanne", with_lease=True, birth=date(1980, 5, 1)):
    ag = agency(session, code)
    hh = Household(agency_id=ag.id, phone="06 39 98 00 00")
    hh.members = [Tenant(last_name=last_name, first_name=first_name, birth_date=birth,
                         relationship_kind="titulaire", position=0)]
    session.add(hh)
    session.flush()
    lease = None
    if with_lease:
        lease = Lease(contract_number=f"C-{next(_seq):06d}-{last_name[:3]}", household_id=hh.id,
                      agency_id=ag.id, commune="Metz", address="1 rue des Tilleuls",
                      start_date=date(2010, 1, 1))
        session.add(lease)
        session.flush()
    return hh, lease


def case(session, hh, *, status="ouvert", opened_on=date(2022, 1, 10), closed_on=None,
         last_activity_on=None, summary="Synthèse sociale détaillée", secret="Note santé secrète"):
    from cus_desk.store.models.cases import (
        Case,
        CaseProblem,
        ConfidentialNote,
        JournalEntry,
        RepaymentPlan,
    )

    n = next(_seq)
    c = Case(reference=f"CAS-{opened_on.year}-{n:04d}", year=opened_on.year, sequence=n,
             household_id=hh.id, agency_id=hh.agency_id, status=status, opened_on=opened_on,
             closed_on=closed_on, last_activity_on=last_activity_on or closed_on or opened_on,
             summary=summary, caf_number="CAF123456", arrears_cents=123456, arrears_months=4,
             closure_reason="Relogée" if closed_on else None)
    session.add(c)
    session.flush()
    session.add(CaseProblem(case_id=c.id, code="impayes"))
    session.add(ConfidentialNote(case_id=c.id, category="sante", text=secret))
    session.add(JournalEntry(case_id=c.id, kind="entretien", occurred_on=opened_on,
                             text="Entretien au domicile avec Mme"))
    session.add(RepaymentPlan(case_id=c.id, agreed_on=opened_on, monthly_cents=5000, months=12,
                              note="plan négocié"))
    session.flush()
    return c


def meeting_with(session, case_obj, attendee_user_ids=(), held_on=date(2022, 3, 1),
                 proposal="Proposition : FSL", decision_text="Accord FSL pour Mme"):
    from cus_desk.store.models.meetings import (
        AgendaItem,
        Attendee,
        Decision,
        DecisionFollowUp,
        Meeting,
    )

    n = next(_seq)
    m = Meeting(year=held_on.year, number=n, held_on=held_on, place="Metz", status="cloturee",
                closed_at=datetime(held_on.year, held_on.month, held_on.day, 12, tzinfo=UTC))
    session.add(m)
    session.flush()
    for uid in attendee_user_ids:
        session.add(Attendee(meeting_id=m.id, user_id=uid, name=f"u{uid}", function="autre"))
    session.add(AgendaItem(meeting_id=m.id, case_id=case_obj.id, position=1, proposal=proposal))
    d = Decision(meeting_id=m.id, case_id=case_obj.id, type="fsl", text=decision_text,
                 responsible="Mme la conseillère")
    session.add(d)
    session.flush()
    session.add(DecisionFollowUp(decision_id=d.id, on=held_on, comment="Dossier FSL déposé pour Mme"))
    session.flush()
    return m


def orientation(session, case_obj, reason="Orientation pour violences conjugales"):
    partner = session.scalars(select(Partner).order_by(Partner.id)).first()
    r = Referral(kind="orientation", case_id=case_obj.id, partner_id=partner.id,
                 sent_on=case_obj.opened_on, reason=reason, status="envoyee")
    session.add(r)
    session.flush()
    return r


def signalement(session, lease, *, status="clos", sent_on=date(2022, 6, 1), closed_on=None):
    from cus_desk.store.models.seniors import FieldObservation, SeniorAlertEvent

    partner = session.scalars(select(Partner).where(Partner.category == "ccas")).first() or \
        session.scalars(select(Partner)).first()
    obs = FieldObservation(lease_id=lease.id, kind="changement_attitude", observed_on=sent_on,
                           observer="Chargé de recouvrement", note="Ne répond plus")
    session.add(obs)
    r = Referral(kind="senior_alert", lease_id=lease.id, partner_id=partner.id, sent_on=sent_on,
                 reason="Faits observés", status=status, closed_on=closed_on,
                 status_changed_on=closed_on or sent_on)
    session.add(r)
    session.flush()
    session.add(SeniorAlertEvent(referral_id=r.id, status="envoye", on_date=sent_on))
    if closed_on:
        session.add(SeniorAlertEvent(referral_id=r.id, status="clos", on_date=closed_on))
    session.flush()
    return r


def extract(session, extract_date, leases):
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

    e = ArrearsExtract(extract_date=extract_date, source_name=f"impayes-{extract_date}.csv",
                       lines_read=len(leases), lines_imported=len(leases))
    session.add(e)
    session.flush()
    for lease in leases:
        session.add(ArrearsLine(extract_id=e.id, lease_id=lease.id, balance_cents=45000,
                                months_unpaid=3, holder_birth_date=date(1950, 1, 1)))
    session.flush()
    return e
