"""Issue 11, item 5: the audit trail, read by an administrator who has no
access to case files, holds no case content: situation texts, sensitive
problématiques, closure reasons, decision texts, members' names and birth
dates, the name of a partner that reveals health are marked as changed (or
counted), never copied."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from cus_desk.services.cases import CaseInput, HouseholdInput, MemberInput
from cus_desk.store.models.core import AuditEvent, Partner
from cus_desk.store.models.meetings import Decision

from .conftest import new_case_input

SITUATION = "Madame séropositive (VIH), violences conjugales de M. KOWALSKI"
CLOSURE = "Départ en foyer pour femmes victimes de violences"
MEMBER = ("KOWALSKI", "Bogdan", date(1968, 3, 14))


def _trail(db) -> str:
    with db.read_session() as s:
        return " ".join(f"{e.user_login} {e.entity_type} {e.entity_id} {e.details_json}"
                        for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _assert_clean(db, *secrets):
    trail = _trail(db)
    for secret in secrets:
        assert secret not in trail, secret


def test_case_texts_problems_and_members_never_reach_the_audit_trail(db, svc, actors):
    case_id = svc().create_case(new_case_input(
        db, problems=("impaye_loyer", "violences_intrafamiliales"), summary=SITUATION,
        caf_number="7654321"))
    _assert_clean(db, "VIH", "KOWALSKI", "violences_intrafamiliales", "7654321")
    detail = svc().get(case_id)

    # the case form: situation and problématiques change
    data = detail.as_case_input()
    data.summary = SITUATION + " ; suivi CMP"
    data.problems = ["impaye_loyer"]
    svc().update_case(case_id, data, detail.version)
    # the household form: a member added with a birth date, then renamed
    detail = svc().get(case_id)
    holder = detail.household.members[0]
    members = [MemberInput(holder.last_name, holder.first_name, holder.birth_date, "titulaire"),
               MemberInput(MEMBER[0], MEMBER[1], MEMBER[2], "conjoint")]
    svc().update_household(case_id, HouseholdInput(members, "06 11 22 33 44"), detail.household.version)
    detail = svc().get(case_id)
    members[1] = MemberInput(MEMBER[0], "Bogdana", MEMBER[2], "conjoint")
    svc().update_household(case_id, HouseholdInput(members, "06 11 22 33 44"), detail.household.version)
    # closing with a reason
    detail = svc().get(case_id)
    svc().change_status(case_id, "clos", detail.version, closure_reason=CLOSURE)

    _assert_clean(db, "VIH", "CMP", "KOWALSKI", "Bogdan", "1968", "14/03", "06 11 22 33 44",
                  "violences_intrafamiliales", "foyer pour femmes", "Hélène", "1970-05-17")
    with db.read_session() as s:
        household_events = [e.details_json for e in s.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "household", AuditEvent.action == "update")
            .order_by(AuditEvent.id))]
    # members as counts and row ids: the trail still tells what happened
    assert '"nombre": [1, 2]' in household_events[0] and '"ajoutes": 1' in household_events[0]
    assert '"nombre": [2, 2]' in household_events[1] and '"modifies": [' in household_events[1]


def test_referral_to_a_health_partner_is_audited_by_id_only(db, svc, actors):
    case_id = svc().create_case(new_case_input(db))
    with db.read_session() as s:
        hospital = s.scalar(select(Partner).where(Partner.seed_key == "chs_sarreguemines"))
        hospital_id, name = hospital.id, hospital.name
    svc().add_referral(case_id, hospital_id, date(2026, 11, 2), "Soins psychiatriques")
    _assert_clean(db, name, "Sarreguemines", "psychiatriques")
    assert f'"partner_id": {hospital_id}' in _trail(db)


def test_decision_text_change_is_marked_not_copied(db, actors):
    from tests.meetings.conftest import World, make_case, prepared_meeting

    with db.read_session() as s:
        from cus_desk.store.models.core import Agency

        metz = s.scalar(select(Agency.id).where(Agency.code == "metz"))
    world = World(db=db, actors=actors, metz=metz, forbach=metz)
    world.cases["x"] = make_case(db, metz, "Durand", "Aline")
    detail = prepared_meeting(world, "x", held_on=date(2026, 11, 26))
    svc = world.service()
    svc.start_meeting(detail.id)
    decision = svc.add_decision(detail.id, world.cases["x"], "saisine_fsl", "Premier texte", "Pôle social")
    with db.read_session() as s:
        version = s.get(Decision, decision.id).version
    svc.update_decision(decision.id, "saisine_fsl", "Orientation de Madame vers le CMP", "Pôle social", None,
                        version)
    _assert_clean(db, "Premier texte", "Orientation de Madame", "CMP")
    _ = CaseInput
