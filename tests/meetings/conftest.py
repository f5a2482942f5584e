"""Fixtures of the CAS sessions feature: case files written straight into a
real SQLite file (the case-files feature's own services are not what is
under test here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.services.meetings import MeetingService
from cus_desk.store.models.cases import (
    Case,
    CaseProblem,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
)
from cus_desk.store.models.core import Agency, Household, Lease, Partner, Referral, Tenant
from tests.frozen_time import TEST_TODAY

TODAY = TEST_TODAY
SESSION_DAY = date(2026, 11, 26)

HEALTH_SECRET = "Hospitalisation psychiatrique en octobre (diagnostic bipolaire)"
VIOLENCE_SECRET = "Plainte pour violences conjugales déposée le 3 novembre"
SUMMARY_SECRET = "Monsieur a perdu son emploi ; Madame suivie au CMP"
JOURNAL_SECRET = "Entretien : Madame évoque des coups de son conjoint"


@dataclass
class World:
    db: object
    actors: dict
    metz: int
    forbach: int
    cases: dict[str, int] = field(default_factory=dict)

    def service(self, who: str = "adviser_metz") -> MeetingService:
        return MeetingService(self.db, self.actors[who])


_seq = {"n": 0}


def make_case(db, agency_id: int, last: str, first: str, *, status: str = "a_presenter",
              problems=("impaye_loyer",), arrears_cents: int | None = 245_000,
              summary: str = "", members=(), notes=(), journal=(), adviser_id=None,
              plan: tuple[int, int] | None = None, referral_status: str | None = None) -> int:
    _seq["n"] += 1
    n = _seq["n"]
    with db.write_session() as s:
        household = Household(agency_id=agency_id, phone="03 87 00 00 00")
        household.members = [Tenant(last_name=last, first_name=first, position=0,
                                    birth_date=date(1970, 5, 4), relationship_kind="titulaire")]
        for i, (ml, mf, kind, born) in enumerate(members, start=1):
            household.members.append(Tenant(last_name=ml, first_name=mf, position=i,
                                            relationship_kind=kind, birth_date=born))
        s.add(household)
        s.flush()
        s.add(Lease(contract_number=f"T{n:06d}-{agency_id}-{last[:3]}", household_id=household.id,
                    agency_id=agency_id, commune="Metz", start_date=date(2015, 1, 1)))
        case = Case(reference=f"CAS-2026-{9000 + n:04d}", year=2026, sequence=9000 + n,
                    household_id=household.id, agency_id=agency_id, status=status,
                    opened_on=date(2026, 3, 2), summary=summary, arrears_cents=arrears_cents,
                    arrears_months=4, last_payment_on=date(2026, 7, 5), adviser_id=adviser_id,
                    last_activity_on=date(2026, 11, 2))
        s.add(case)
        s.flush()
        for code in problems:
            s.add(CaseProblem(case_id=case.id, code=code))
        for category, text in notes:
            s.add(ConfidentialNote(case_id=case.id, category=category, text=text,
                                   consent_on=date(2026, 4, 1), consent_method="ecrit_signe"))
        for day, kind, text in journal:
            s.add(JournalEntry(case_id=case.id, kind=kind, occurred_on=day, text=text))
        if plan:
            s.add(RepaymentPlan(case_id=case.id, agreed_on=date(2026, 6, 1), monthly_cents=plan[0],
                                months=plan[1], status="en_cours"))
        if referral_status:
            partner = s.scalar(select(Partner).where(Partner.seed_key == "amli"))
            s.add(Referral(kind="orientation", case_id=case.id, partner_id=partner.id,
                           sent_on=date(2026, 9, 1), reason="Accompagnement budgétaire (raison privée)",
                           status=referral_status))
        return case.id


@pytest.fixture
def world(db, actors) -> World:
    with db.read_session() as s:
        metz = s.scalar(select(Agency.id).where(Agency.code == "metz"))
        forbach = s.scalar(select(Agency.id).where(Agency.code == "forbach"))
    w = World(db=db, actors=actors, metz=metz, forbach=forbach)
    w.cases["dupont"] = make_case(
        db, metz, "Dupont", "Jean-Pierre",
        problems=("impaye_loyer", "sante_mentale", "violences_intrafamiliales"),
        summary=SUMMARY_SECRET,
        members=(("Dupont", "Léa", "enfant", date(2012, 2, 3)),
                 ("Moreau", "Sandrine", "conjoint", date(1975, 8, 9))),
        notes=(("sante", HEALTH_SECRET), ("violences", VIOLENCE_SECRET)),
        journal=((date(2026, 11, 2), "entretien", JOURNAL_SECRET),),
        plan=(15_000, 12), referral_status="acceptee",
        adviser_id=actors["adviser_metz"].user_id,
    )
    w.cases["martin"] = make_case(db, metz, "Martin", "Élodie", arrears_cents=98_050)
    w.cases["nguyen"] = make_case(db, metz, "Nguyễn", "Thị Hoa", status="en_suivi")
    w.cases["forbach"] = make_case(db, forbach, "Schmitt", "Paul")
    return w


def prepared_meeting(w: World, *case_keys: str, who: str = "adviser_metz", held_on=SESSION_DAY,
                     attendees: bool = True):
    svc = w.service(who)
    detail = svc.create_meeting(held_on, "Siège, salle du conseil — Metz", copy_previous_members=False)
    for key in case_keys:
        svc.add_to_agenda(detail.id, w.cases[key], proposal=f"Proposition pour {key}")
    if attendees:
        # Three voting members present: the default quorum (setting cas_quorum).
        svc.add_attendee(detail.id, "", "responsable_pole_social",
                         user_id=w.actors["social_head"].user_id, presence="present")
        svc.add_attendee(detail.id, "", "responsable_cellule_securite",
                         user_id=w.actors["cas_member"].user_id, presence="present")
        svc.add_attendee(detail.id, "Paul Recouvrement", "responsable_recouvrement", presence="present")
        svc.add_attendee(detail.id, "Claire Commerce", "responsable_commercialisation", presence="excuse")
    return svc.get_meeting(detail.id)


def decision_alone(dialog) -> bool:
    """The dialogs asked before recording a decision (issue 14), answered
    as a hurried secretary would: the decision alone, nothing created; a
    grave decision is not confirmed."""
    from cus_desk.ui.meetings.decision_checks import EffectDialog

    if isinstance(dialog, EffectDialog):
        dialog.alone_button.click()
        return dialog.result() == dialog.DialogCode.Accepted
    dialog.reject()
    return False


@pytest.fixture(autouse=True)
def _decision_dialogs(monkeypatch):
    """No modal dialog may block a test: the decision dialogs answer
    through their seam (a test that drives them replaces it)."""
    import cus_desk.ui.meetings.decision_checks as checks

    monkeypatch.setattr(checks, "run_modal", decision_alone)


@pytest.fixture
def messages(monkeypatch):
    """Message boxes are recorded instead of blocking the test."""
    seen: list[str] = []
    import cus_desk.ui.meetings.follow_up as follow_up
    import cus_desk.ui.meetings.meeting_mode as mode
    import cus_desk.ui.meetings.screen as screen
    import cus_desk.ui.pdf_preview as preview

    monkeypatch.setattr(preview, "show_info", lambda _p, text, *a, **k: seen.append(text))
    for module in (screen, mode, follow_up, preview):
        monkeypatch.setattr(module, "show_error", lambda _p, e, *a, **k: seen.append(getattr(e, "message", str(e))))
    monkeypatch.setattr(screen, "show_info", lambda _p, text, *a, **k: seen.append(text))
    monkeypatch.setattr(screen, "confirm", lambda _p, q, *a, **k: seen.append(q) or True)
    return seen
