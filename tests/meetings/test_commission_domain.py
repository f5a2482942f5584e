"""Pure rules of the commission (domain.commission), without a database."""

from __future__ import annotations

from datetime import date

import pytest

from cus_desk.domain import commission as c
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import ValidationError, WorkflowError


def test_quorum_counts_voting_members_present_only():
    members = [("president", "present"), ("secretaire_seance", "present"), ("partenaire_ccas_cms", "present"),
               ("gestionnaire_contentieux", "present"), ("autre", "excuse"), ("autre", "absent"), ("autre", None)]
    q = c.quorum(members, 3)
    assert (q.present_voting, q.not_recorded, q.reached) == (2, 1, False)
    assert q.label == "Quorum non atteint : 2 membres votants présents sur 3 requis"
    with pytest.raises(WorkflowError, match="voix consultative"):
        c.check_quorum(q, "clôture de la séance")
    assert c.quorum(members, 2).reached
    assert c.quorum([("president", "present")], 1).label == "Quorum atteint : 1 membre votant présent sur 1 requis"


def test_presence_states_and_the_access_flag():
    assert [c.parse_presence(x) for x in ("present", "excuse", "absent", None, "")] == [
        c.Presence.PRESENT, c.Presence.EXCUSE, c.Presence.ABSENT, None, None]
    with pytest.raises(ValidationError):
        c.parse_presence("retard")
    assert c.invited(None) and c.invited("present") and not c.invited("excuse") and not c.invited("absent")
    assert c.presence_label(None) == "Non indiquée" and c.presence_label("absent") == "Absent(e)"


def test_the_case_status_follows_the_decisions():
    assert c.case_status_after("a_presenter", ["ajournement"]) == ("a_presenter", None)
    assert c.case_status_after("ouvert", ["ajournement"]) == ("a_presenter", None)
    assert c.case_status_after("a_presenter", ["intervention_sociale"]) == ("preconisation", "intervention_sociale")
    assert c.case_status_after("a_presenter", ["intervention_sociale", "saisine_fsl"]) == ("action_definie", None)
    assert c.case_status_after("a_presenter", ["ajournement", "plan_apurement"]) == ("action_definie", None)
    assert c.case_status_after("clos", ["plan_apurement"]) == ("clos", None)
    assert c.case_status_after("a_presenter", []) == ("a_presenter", None)


def test_effects_and_plan_values():
    assert c.effect_of("saisine_ccapex") is c.Effect.NUMBER_REQUEST
    assert c.effect_of("orientation_partenaire") is c.Effect.REFERRAL
    assert c.effect_of("visite_domicile") is None and c.effect_of("inconnu") is None
    assert "CCAPEX" in c.effect_question("saisine_ccapex")
    assert c.validate_plan(8_000, 12) == (8_000, 12)
    for monthly, months in ((0, 12), (None, 12), (8_000, 0), (8_000, 121), (10_000_001, 12)):
        with pytest.raises(ValidationError):
            c.validate_plan(monthly, months)


def test_durations():
    minutes = {"nouveau": 15, "ajourne": 10, "suivi": 5}
    assert c.estimated_minutes({"nouveau", "suivi"}, minutes) == 15
    assert c.estimated_minutes(set(), minutes) == 0
    assert [c.format_duration(m) for m in (0, 45, 60, 375)] == ["0 min", "45 min", "1 h", "6 h 15"]


def test_adjourned_cases_are_proposed_first():
    held = date(2026, 11, 26)
    candidates = [
        rules.AgendaCandidate(1, "a_presenter", 10),
        rules.AgendaCandidate(2, "ouvert", 10, adjourned_on=(date(2026, 10, 22),)),
        rules.AgendaCandidate(3, "en_suivi", 10, open_due_dates=(date(2026, 11, 1),)),
        rules.AgendaCandidate(4, "ouvert", 10, adjourned_on=(held,)),  # same day: not earlier
    ]
    proposed = rules.propose_agenda(candidates, held, None, set())
    assert [p.case_id for p in proposed] == [2, 3, 1]
    assert proposed[0].reasons == ("Ajourné le 22/10/2026 — à représenter",) and proposed[0].kinds == ("ajourne",)


def test_responsible_services_are_linked_to_accounts():
    s = c.ResponsibleService
    assert c.service_holds(s.POLE_SOCIAL, "responsable_pole_social", None, 1)
    assert c.service_holds(s.CONSEILLERE_AGENCE, "conseillere_sociale", 1, 1)
    assert not c.service_holds(s.CONSEILLERE_AGENCE, "conseillere_sociale", 2, 1)
    assert c.service_holds(s.RECOUVREMENT, "recouvrement", 1, 1) and c.service_holds(s.CONTENTIEUX, "recouvrement", None, 1)
    assert not c.service_holds(s.RECOUVREMENT, "recouvrement", 2, 1)
    assert c.service_holds(s.CELLULE_SECURITE, "membre_cas", None, 1)
    assert not c.service_holds("inconnu", "membre_cas", None, 1)


def test_judicial_ground_and_grave_decision():
    ok = c.quorum([("autre", "present")] * 3, 3)
    today = date(2026, 11, 20)
    c.check_judicial_ground(c.JudicialGround("cloturee", date(2026, 11, 19), None, ok), 5, today)
    c.check_judicial_ground(c.JudicialGround("cloturee", date(2026, 11, 19), 5, ok), 5, today)
    for ground, words in (
        (c.JudicialGround("en_cours", date(2026, 11, 19), None, ok), "pas clôturée"),
        (c.JudicialGround("cloturee", date(2026, 11, 21), None, ok), "dans le futur"),
        (c.JudicialGround("cloturee", date(2026, 11, 19), None, c.quorum([("autre", "present")], 3)), "quorum"),
        (c.JudicialGround("cloturee", date(2026, 11, 19), 6, ok), "autre agence"),
    ):
        with pytest.raises(WorkflowError, match=words):
            c.check_judicial_ground(ground, 5, today)
    c.check_grave_decision("visite_domicile", "", False)
    with pytest.raises(ValidationError, match="Motivez"):
        c.check_grave_decision("demande_resiliation_judiciaire", "court", True)
    with pytest.raises(ValidationError, match="confirmez"):
        c.check_grave_decision("demande_resiliation_judiciaire", "x" * 25, False)
