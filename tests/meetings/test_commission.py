"""The CAS as a commission runs it (issue 14): members copied from the last
session, presence recorded at the meeting, quorum before decisions and
closing, adjourned cases back on the agenda, proposals with their time,
decisions that move the case and create what they imply, the responsible
from a list linked to accounts, and the collegial control of the demande
de résiliation judiciaire. Real SQLite files and the PostgreSQL server."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.settings import CAS_MINUTES_FOLLOW_UP, CAS_MINUTES_NEW_CASE, CAS_QUORUM
from cus_desk.services.cases import CaseService
from cus_desk.services.decision_effects import EffectRequest
from cus_desk.services.settings import SettingsService
from cus_desk.store.models.cases import Case, JournalEntry, RepaymentPlan
from cus_desk.store.models.core import Partner, Referral
from cus_desk.store.models.meetings import Attendee, Decision, Meeting
from tests.meetings import conftest as meetings_conftest
from tests.meetings.conftest import SESSION_DAY, prepared_meeting

HELD = date(2026, 11, 19)  # a session already held (the test clock's today is 20/11/2026)


def make_case(*args, **kwargs) -> int:
    # This module's copy of the fixtures' counter: keep its references apart.
    meetings_conftest._seq["n"] = max(meetings_conftest._seq["n"], 500)
    return meetings_conftest.make_case(*args, **kwargs)


def _count(db, model, *where) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _held(w, *keys, held_on=SESSION_DAY, decide=None, who="adviser_metz"):
    """A session held and closed with quorum; ``decide(svc, detail)`` records
    its decisions."""
    svc = w.service(who)
    detail = prepared_meeting(w, *keys, held_on=held_on, who=who)
    svc.start_meeting(detail.id)
    if decide:
        decide(svc, detail)
    svc.close_meeting(detail.id)
    return svc.get_meeting(detail.id)


# ----------------------------------------------------------------------------- members, presence, quorum


def test_a_new_session_starts_with_the_members_of_the_last_one_presence_not_recorded(world):
    first = _held(world, "martin",
                  decide=lambda s, d: s.add_decision(d.id, world.cases["martin"], "visite_domicile", "",
                                                     "Pôle social"))
    svc = world.service()
    nxt = svc.create_meeting(date(2026, 12, 17), "Siège")
    assert [(a.name, a.function) for a in nxt.attendees] == [(a.name, a.function) for a in first.attendees]
    assert {a.presence for a in nxt.attendees} == {None}
    assert {a.presence_label for a in nxt.attendees} == {"Non indiquée"}
    # Editable: remove one, add a partner with a consultative voice.
    svc.remove_attendee(nxt.attendees[-1].id)
    added = svc.add_attendee(nxt.id, "Nadia CCAS", "partenaire_ccas_cms")
    assert not added.voting and added.function_label.startswith("Partenaire extérieur")
    again = svc.get_meeting(nxt.id)
    assert len(again.attendees) == len(first.attendees)
    # Copying again brings back the one removed, and duplicates nobody.
    assert svc.copy_previous_members(nxt.id) == 1
    with pytest.raises(ValidationError, match="figurent déjà"):
        svc.copy_previous_members(nxt.id)


def test_presence_is_recorded_in_three_states_and_the_quorum_guards_decisions_and_closing(world):
    svc = world.service()
    detail = prepared_meeting(world, "martin", attendees=False)
    head = svc.add_attendee(detail.id, "", "president", user_id=world.actors["social_head"].user_id)
    clerk = svc.add_attendee(detail.id, "Marc Secrétaire", "secretaire_seance")
    partner = svc.add_attendee(detail.id, "Nadia CCAS", "partenaire_ccas_cms")
    litigation = svc.add_attendee(detail.id, "Gilles Contentieux", "gestionnaire_contentieux")
    late = svc.add_attendee(detail.id, "Luc Sécurité", "responsable_cellule_securite")
    assert head.presence is None and head.present  # invited: not pre-filled « présent »
    svc.start_meeting(detail.id)
    for a, state in ((head, "present"), (clerk, "present"), (partner, "present"), (litigation, "present"),
                     (late, "excuse")):
        svc.set_presence(a.id, state)
    shown = svc.get_meeting(detail.id)
    assert [a.presence_label for a in shown.attendees] == ["Présent(e)"] * 4 + ["Excusé(e)"]
    assert shown.quorum.present_voting == 2 and not shown.quorum.reached
    with pytest.raises(WorkflowError) as refused:
        svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")
    assert "2 membres votants présents sur 3 requis" in refused.value.message
    assert _count(world.db, Decision) == 0
    with pytest.raises(WorkflowError, match="Quorum non atteint"):
        svc.close_meeting(detail.id)
    svc.set_presence(late.id, "absent")
    assert svc.get_meeting(detail.id).attendees[-1].presence_label == "Absent(e)"
    svc.set_presence(late.id, "present")
    assert svc.quorum(detail.id).reached
    svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")
    extra = svc.add_attendee(detail.id, "Retardataire", "autre")
    with pytest.raises(WorkflowError, match="présence n'est pas indiquée pour : Retardataire"):
        svc.close_meeting(detail.id)
    svc.set_presence(extra.id, "absent")
    closed = svc.close_meeting(detail.id)
    assert closed.status == "cloturee"
    with pytest.raises(ValidationError, match="présent, excusé ou absent"):
        svc.set_presence(extra.id, "en retard")


def test_the_quorum_is_a_setting(world):
    SettingsService(world.db, world.actors["admin"]).set(CAS_QUORUM, 4)
    svc = world.service()
    detail = prepared_meeting(world, "martin")  # three voting members present
    svc.start_meeting(detail.id)
    with pytest.raises(WorkflowError, match="3 membres votants présents sur 4 requis"):
        svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")
    SettingsService(world.db, world.actors["admin"]).set(CAS_QUORUM, 3)
    svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social")


# ----------------------------------------------------------------------------- agenda


def test_an_adjourned_case_comes_back_on_the_next_agenda_and_its_follow_up_closes(world):
    with world.db.write_session() as s:  # put on the agenda by hand, never marked « à présenter »
        s.get(Case, world.cases["nguyen"]).status = "ouvert"
    first = _held(world, "nguyen", held_on=date(2026, 10, 22), decide=lambda s, d: s.add_decision(
        d.id, world.cases["nguyen"], "ajournement", "Pièces manquantes", ""))
    adjournment = first.decisions[0]
    svc = world.service()
    nxt = prepared_meeting(world, held_on=SESSION_DAY)
    proposals = {p.case_id: p for p in svc.propose_agenda(nxt.id)}
    assert "Ajourné le 22/10/2026 — à représenter" in proposals[world.cases["nguyen"]].reasons
    assert list(proposals)[0] == world.cases["nguyen"]  # adjourned cases first
    svc.add_to_agenda(nxt.id, world.cases["nguyen"])
    svc.start_meeting(nxt.id)
    svc.add_decision(nxt.id, world.cases["nguyen"], "visite_domicile", "", "Pôle social")
    followed = {d.id: d for d in svc.follow_up_list(include_closed=True)}[adjournment.id]
    assert followed.status == "realisee" and followed.status_changed_on == SESSION_DAY
    assert "Dossier réexaminé en CAS n° 2/2026 du 26/11/2026" in followed.follow_ups[0].comment
    # Deleting that decision (session still open) sets the adjournment to do again.
    decision = svc.get_meeting(nxt.id).decisions[0]
    svc.delete_decision(decision.id)
    assert {d.id: d for d in svc.follow_up_list()}[adjournment.id].status == "a_faire"


def test_an_adviser_is_proposed_the_due_decisions_of_cases_she_presented_with_their_time(world):
    forbach_case = make_case(world.db, world.forbach, "Weber", "Anna", status="ouvert",
                             adviser_id=world.actors["adviser_metz"].user_id)  # household moved
    head = world.service("social_head")
    first = head.create_meeting(date(2026, 10, 22), "Siège", copy_previous_members=False)
    head.add_to_agenda(first.id, forbach_case)
    for user in ("social_head", "cas_member"):
        head.add_attendee(first.id, "", "autre", user_id=world.actors[user].user_id, presence="present")
    head.add_attendee(first.id, "Paul Recouvrement", "responsable_recouvrement", presence="present")
    head.start_meeting(first.id)
    head.add_decision(first.id, forbach_case, "visite_domicile", "", "Pôle social", date(2026, 11, 20))
    head.close_meeting(first.id)

    svc = world.service()  # the Metz adviser, on a central session
    central = svc.create_meeting(SESSION_DAY, "Siège", copy_previous_members=False)
    proposals = svc.propose_agenda(central.id)
    by_case = {p.case_id: p for p in proposals}
    assert forbach_case in by_case
    assert by_case[forbach_case].reasons == ("Décision échue le 20/11/2026",)
    assert world.cases["forbach"] not in by_case  # another agency's case she never presented
    assert by_case[world.cases["martin"]].minutes == 15 and by_case[forbach_case].minutes == 5
    from cus_desk.services.agenda_proposals import duration_summary, total_minutes

    assert total_minutes(proposals) == 15 * sum(1 for p in proposals if "nouveau" in p.kinds) + 5
    SettingsService(world.db, world.actors["admin"]).set(CAS_MINUTES_NEW_CASE, 20)
    SettingsService(world.db, world.actors["admin"]).set(CAS_MINUTES_FOLLOW_UP, 10)
    again = svc.propose_agenda(central.id)
    assert {p.case_id: p.minutes for p in again}[world.cases["martin"]] == 20
    assert duration_summary(again).startswith(f"{len(again)} dossiers — durée estimée ")
    svc.add_to_agenda(central.id, forbach_case)  # she may put it back on the agenda
    from cus_desk.store.models.meetings import AgendaItem

    assert _count(world.db, AgendaItem, AgendaItem.meeting_id == central.id, AgendaItem.case_id == forbach_case,
                  AgendaItem.presented_by_id == world.actors["adviser_metz"].user_id) == 1
    with pytest.raises(Exception, match="autre agence|accès|Vous"):  # not a case of hers without a decision
        svc.add_to_agenda(central.id, world.cases["forbach"])


def test_pole_social_proposals_carry_a_total_duration(world):
    for i in range(22):
        make_case(world.db, world.metz if i % 2 else world.forbach, f"Famille{i}", "X")
    svc = world.service("social_head")
    meeting = svc.create_meeting(SESSION_DAY, "Siège", copy_previous_members=False)
    proposals = svc.propose_agenda(meeting.id)
    assert len(proposals) >= 25
    from cus_desk.services.agenda_proposals import duration_summary

    assert duration_summary(proposals) == f"{len(proposals)} dossiers — durée estimée " + (
        f"{len(proposals) * 15 // 60} h {len(proposals) * 15 % 60:02d}" if len(proposals) * 15 % 60
        else f"{len(proposals) * 15 // 60} h")


# ----------------------------------------------------------------------------- decisions that act


def test_decisions_move_the_case_at_closing(world):
    def decide(svc, d):
        svc.add_decision(d.id, world.cases["martin"], "plan_apurement", "", "Service recouvrement de l'agence")
        svc.add_decision(d.id, world.cases["dupont"], "intervention_sociale", "", "Pôle social")
        svc.add_decision(d.id, world.cases["nguyen"], "ajournement", "", "")

    svc = world.service()
    detail = prepared_meeting(world, "martin", "dupont", "nguyen")
    svc.start_meeting(detail.id)
    decide(svc, detail)
    statuses = {a.case_id: a.case_status for a in svc.get_meeting(detail.id).agenda}
    assert statuses[world.cases["martin"]] == "a_presenter"  # final at closing
    svc.close_meeting(detail.id)
    with world.db.read_session() as s:
        assert s.get(Case, world.cases["martin"]).status == "action_definie"
        dupont = s.get(Case, world.cases["dupont"])
        assert (dupont.status, dupont.recommendation) == ("preconisation", "intervention_sociale")
        assert s.get(Case, world.cases["nguyen"]).status == "a_presenter"  # adjourned: to present again
    nxt = svc.create_meeting(date(2026, 12, 17), "Siège", copy_previous_members=False)
    proposed = {p.case_id for p in svc.propose_agenda(nxt.id)}
    assert world.cases["martin"] not in proposed and world.cases["dupont"] not in proposed
    assert world.cases["nguyen"] in proposed


def test_a_confirmed_decision_creates_the_orientation_the_saisine_or_the_plan(world):
    with world.db.read_session() as s:
        amli = s.scalar(select(Partner.id).where(Partner.seed_key == "amli"))
        fsl = s.scalar(select(Partner.id).where(Partner.category == "fsl").order_by(Partner.id))
    svc = world.service()
    detail = prepared_meeting(world, "martin", "dupont")
    svc.start_meeting(detail.id)
    choices = svc.effect_partners(world.cases["martin"], "saisine_fsl")
    assert choices[0].suggested and choices[0].id in {p.id for p in choices if p.suggested}
    with pytest.raises(ValidationError, match="durée du plan"):
        svc.add_decision(detail.id, world.cases["martin"], "plan_apurement", "", "Service recouvrement de l'agence",
                         effect=EffectRequest(monthly_cents=8_000, months=0))
    with pytest.raises(ValidationError, match="ne crée rien"):
        svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social",
                         effect=EffectRequest(partner_id=amli))
    assert _count(world.db, Decision) == 0 and _count(world.db, RepaymentPlan,
                                                      RepaymentPlan.case_id == world.cases["martin"]) == 0
    plan = svc.add_decision(detail.id, world.cases["martin"], "plan_apurement", "80 € par mois",
                            "Service recouvrement de l'agence", effect=EffectRequest(monthly_cents=8_000, months=12))
    saisine = svc.add_decision(detail.id, world.cases["martin"], "saisine_fsl", "FSL maintien",
                               "Conseillère sociale de l'agence", effect=EffectRequest(partner_id=fsl))
    orientation = svc.add_decision(detail.id, world.cases["dupont"], "orientation_partenaire", "",
                                   "Pôle social")
    assert orientation.referral_id is None  # not confirmed: nothing created
    orientation = svc.apply_decision_effect(orientation.id, EffectRequest(partner_id=amli))
    with world.db.read_session() as s:
        created_plan = s.get(RepaymentPlan, plan.repayment_plan_id)
        assert (created_plan.monthly_cents, created_plan.months, created_plan.agreed_on) == (8_000, 12, SESSION_DAY)
        request = s.get(Referral, saisine.referral_id)
        assert request.partner_id == fsl and "Demande de numéro de dossier" in request.reason
        assert s.get(Referral, orientation.referral_id).partner_id == amli
        journal = [j.text for j in s.scalars(select(JournalEntry).where(
            JournalEntry.case_id == world.cases["martin"]))]
        assert any(t.startswith("Plan d'apurement créé : 80,00") and "sur 12 mois" in t for t in journal)
    with pytest.raises(WorkflowError, match="déjà créé"):
        svc.apply_decision_effect(orientation.id, EffectRequest(partner_id=amli))
    # Deleting a decision while the session is open removes what it created, untouched.
    svc.delete_decision(saisine.id)
    assert _count(world.db, Referral, Referral.id == saisine.referral_id) == 0


# ----------------------------------------------------------------------------- responsible


def test_the_responsible_comes_from_a_list_and_each_person_has_her_decisions_to_follow(world):
    svc = world.service()
    detail = prepared_meeting(world, "martin", "forbach", who="social_head")
    head = world.service("social_head")
    head.start_meeting(detail.id)
    with pytest.raises(ValidationError, match="Choisissez le responsable dans la liste"):
        head.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Mme Untel")
    person = next(o for o in head.responsible_options() if o.ref == f"user:{world.actors['adviser_metz'].user_id}")
    mine = head.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", person.ref)
    assert mine.responsible == person.label and mine.responsible_user_id == world.actors["adviser_metz"].user_id
    recovery_metz = head.add_decision(detail.id, world.cases["martin"], "plan_apurement", "",
                                      "service:recouvrement")
    recovery_forbach = head.add_decision(detail.id, world.cases["forbach"], "plan_apurement", "",
                                         "Service recouvrement de l'agence")
    pole = head.add_decision(detail.id, world.cases["forbach"], "remise_gracieuse", "", "Pôle social")
    head.close_meeting(detail.id)
    assert [d.id for d in svc.my_decisions()] == [mine.id]
    assert [d.id for d in world.service("recovery_metz").my_decisions()] == [recovery_metz.id]
    assert recovery_forbach.id not in {d.id for d in world.service("recovery_metz").my_decisions()}
    assert [d.id for d in head.my_decisions()] == [pole.id]
    assert world.service("adviser_forbach").my_decisions() == []


# ----------------------------------------------------------------------------- résiliation judiciaire


def _judicial_decision(svc, detail, case_id, confirmed=True):
    return svc.add_decision(detail.id, case_id, "demande_resiliation_judiciaire",
                            "Échec du plan, de la saisine FSL et de la CCAPEX ; aucun contact depuis six mois.",
                            "Service contentieux de l'agence", confirmed=confirmed)


def _request(world, case_key="martin"):
    cases = CaseService(world.db, world.actors["adviser_metz"])
    case_id = world.cases[case_key]
    return cases.request_judicial_termination(case_id, cases.get(case_id).version)


def test_a_grave_decision_asks_for_a_motivation_and_a_confirmation(world):
    svc = world.service()
    detail = prepared_meeting(world, "martin")
    svc.start_meeting(detail.id)
    with pytest.raises(ValidationError) as short:
        svc.add_decision(detail.id, world.cases["martin"], "demande_resiliation_judiciaire", "Impayés",
                         "Service contentieux de l'agence", confirmed=True)
    assert short.value.field == "text" and "Motivez" in short.value.message
    with pytest.raises(ValidationError) as unconfirmed:
        _judicial_decision(svc, detail, world.cases["martin"], confirmed=False)
    assert unconfirmed.value.field == "confirm"
    assert _count(world.db, Decision) == 0
    assert _judicial_decision(svc, detail, world.cases["martin"]).type == "demande_resiliation_judiciaire"


def test_the_demand_is_refused_while_the_session_is_open_and_names_the_decision_once_closed(world):
    svc = world.service()
    detail = prepared_meeting(world, "martin", held_on=HELD)
    svc.start_meeting(detail.id)
    decision = _judicial_decision(svc, detail, world.cases["martin"])
    with pytest.raises(WorkflowError, match="n'est pas clôturée"):
        _request(world)
    svc.close_meeting(detail.id)
    _request(world)
    case = CaseService(world.db, world.actors["adviser_metz"]).get(world.cases["martin"])
    assert case.judicial_requested_on == date(2026, 11, 20)
    assert ("autorisée par la décision collégiale de la CAS n° 1/2026 du 19/11/2026 "
            f"(décision n° {decision.id}") in case.journal[0].text


def test_a_session_in_the_future_with_only_the_adviser_does_not_ground_the_demand(world):
    with world.db.write_session() as s:
        meeting = Meeting(year=2027, number=1, held_on=date(2027, 1, 14), status="cloturee")
        s.add(meeting)
        s.flush()
        s.add(Attendee(meeting_id=meeting.id, user_id=world.actors["adviser_metz"].user_id, name="CS Metz",
                       function="conseillere_sociale", present=True, presence="present"))
        s.add(Decision(meeting_id=meeting.id, case_id=world.cases["martin"], type="demande_resiliation_judiciaire",
                       text="Résiliation"))
    with pytest.raises(WorkflowError, match="dans le futur"):
        _request(world)
    with world.db.write_session() as s:
        s.scalar(select(Meeting).where(Meeting.year == 2027)).held_on = date(2026, 11, 12)
    with pytest.raises(WorkflowError, match="n'avait pas le quorum"):
        _request(world)
    assert CaseService(world.db, world.actors["adviser_metz"]).get(world.cases["martin"]).judicial_requested_on is None


def test_only_the_cases_own_agency_or_a_central_session_grounds_the_demand(world):
    with world.db.write_session() as s:
        meeting = Meeting(year=2026, number=40, held_on=date(2026, 11, 12), status="cloturee",
                          scope_agency_id=world.forbach)
        s.add(meeting)
        s.flush()
        for name in ("A", "B", "C"):
            s.add(Attendee(meeting_id=meeting.id, name=name, function="autre", present=True, presence="present"))
        s.add(Decision(meeting_id=meeting.id, case_id=world.cases["martin"], type="demande_resiliation_judiciaire",
                       text="Résiliation"))
    with pytest.raises(WorkflowError, match="autre agence"):
        _request(world)


def test_the_demand_does_not_survive_a_rectification_of_its_decision(world):
    svc = world.service()
    detail = prepared_meeting(world, "martin", held_on=HELD)
    svc.start_meeting(detail.id)
    decision = _judicial_decision(svc, detail, world.cases["martin"])
    svc.close_meeting(detail.id)
    _request(world)
    with pytest.raises(WorkflowError):  # the session is closed: the decision is no longer deleted
        svc.delete_decision(decision.id)
    svc.add_addendum(detail.id, "La commission demande d'abord une dernière visite.", decision.id)
    case = CaseService(world.db, world.actors["adviser_metz"]).get(world.cases["martin"])
    assert case.judicial_requested_on is None
    assert "Demande de résiliation judiciaire du bail annulée" in case.journal[0].text
    assert "a fait l'objet d'un rectificatif le 20/11/2026" in case.journal[0].text
