"""Pure rules of the CAS sessions (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.meetings import AgendaCandidate, DecisionType, FollowUpStatus, MeetingStatus

SESSION = date(2026, 11, 26)


def test_pinned_codes_never_change():
    assert [t.value for t in DecisionType] == [
        "intervention_sociale", "visite_domicile", "orientation_partenaire", "saisine_fsl",
        "plan_apurement", "remise_gracieuse", "mutation_relogement", "saisine_ccapex",
        "signalement_senior", "suspension_contentieux", "poursuite_contentieux",
        "demande_resiliation_judiciaire", "ajournement", "autre",
    ]
    assert [s.value for s in FollowUpStatus] == ["a_faire", "en_cours", "realisee", "abandonnee"]
    assert [s.value for s in MeetingStatus] == ["preparee", "en_cours", "cloturee"]
    assert all(t.label for t in DecisionType)
    assert rules.JUDICIAL_AUTHORISATION == "demande_resiliation_judiciaire"


def test_lifecycle_rules():
    rules.check_start("preparee")
    with pytest.raises(WorkflowError, match="déjà en cours"):
        rules.check_start("en_cours")
    with pytest.raises(WorkflowError, match="rouverte"):
        rules.check_start("cloturee")
    with pytest.raises(WorkflowError, match="ouvrez d'abord"):
        rules.check_close("preparee", 3)
    with pytest.raises(WorkflowError, match="présents"):
        rules.check_close("en_cours", 0)
    rules.check_close("en_cours", 1)
    with pytest.raises(WorkflowError, match="déjà clôturée"):
        rules.check_close("cloturee", 2)


def test_decisions_only_during_an_open_session():
    rules.check_decision_entry("en_cours")
    with pytest.raises(WorkflowError, match="ouvrez d'abord la séance"):
        rules.check_decision_entry("preparee")
    with pytest.raises(WorkflowError, match="rectificatif"):
        rules.check_decision_entry("cloturee")
    with pytest.raises(WorkflowError):
        rules.check_addendum("en_cours")
    rules.check_addendum("cloturee")


def test_agenda_proposal_due_date_rule():
    candidates = [
        AgendaCandidate(1, "a_presenter", 10),
        AgendaCandidate(2, "en_suivi", 10, (date(2026, 11, 26),)),  # due on the session day
        AgendaCandidate(3, "en_suivi", 10, (date(2026, 11, 27),)),  # due after: not proposed
        AgendaCandidate(4, "action_definie", 10, (date(2026, 10, 1), date(2026, 12, 1))),
        AgendaCandidate(5, "clos", 10, (date(2026, 10, 1),)),  # closed case: never
        AgendaCandidate(6, "a_presenter", 20),  # other agency
        AgendaCandidate(7, "a_presenter", 10),  # already on the agenda
        AgendaCandidate(8, "ouvert", 10),  # nothing due, not to present
    ]
    proposed = rules.propose_agenda(candidates, SESSION, None, already={7})
    assert [p.case_id for p in proposed] == [4, 2, 1, 6]
    assert proposed[0].reasons == ("Décision échue le 01/10/2026",)
    assert proposed[2].reasons == ("À présenter en CAS",)
    scoped = rules.propose_agenda(candidates, SESSION, 10, already={7})
    assert [p.case_id for p in scoped] == [4, 2, 1]


def test_follow_up_rules():
    rules.check_follow_up("a_faire", FollowUpStatus.EN_COURS, "")
    rules.check_follow_up("en_cours", FollowUpStatus.REALISEE, "")
    with pytest.raises(ValidationError, match="abandonnée") as err:
        rules.check_follow_up("a_faire", FollowUpStatus.ABANDONNEE, "  ")
    assert err.value.field == "comment"
    rules.check_follow_up("a_faire", FollowUpStatus.ABANDONNEE, "Le ménage a déménagé")
    with pytest.raises(ValidationError, match="rouverte"):
        rules.check_follow_up("realisee", FollowUpStatus.EN_COURS, "")
    rules.check_follow_up("realisee", FollowUpStatus.EN_COURS, "Nouvel impayé")
    with pytest.raises(ValidationError, match="n'existe pas"):
        rules.parse_follow_up_status("fini")
    with pytest.raises(ValidationError, match="type de décision"):
        rules.parse_decision_type("expulsion")


def test_overdue_first_then_due_date():
    today = date(2026, 11, 20)
    rows = [
        ("a", date(2026, 12, 1), "a_faire", "Recouvrement"),
        ("b", None, "a_faire", "CS Metz"),
        ("c", date(2026, 11, 1), "en_cours", "CS Metz"),
        ("d", date(2026, 10, 1), "realisee", "CS Metz"),  # done: not overdue
        ("e", date(2026, 11, 19), "a_faire", "Agence"),
    ]
    ordered = sorted(rows, key=lambda r: rules.follow_up_sort_key(r[1], r[2], r[3], today))
    assert [r[0] for r in ordered] == ["c", "e", "d", "a", "b"]
    by_resp = sorted(rows, key=lambda r: rules.follow_up_sort_key(r[1], r[2], r[3], today, True))
    assert [r[0] for r in by_resp] == ["e", "c", "d", "b", "a"]
    assert rules.is_overdue(date(2026, 11, 19), "a_faire", today)
    assert not rules.is_overdue(date(2026, 11, 20), "a_faire", today)
    assert not rules.is_overdue(date(2026, 11, 1), "abandonnee", today)


def test_earlier_decisions_section():
    prev = date(2026, 10, 22)
    f = rules.earlier_decision_in_follow_up
    assert f("a_faire", None, date(2026, 9, 24), SESSION, prev)
    assert f("realisee", date(2026, 11, 2), date(2026, 9, 24), SESSION, prev)
    assert not f("realisee", date(2026, 10, 1), date(2026, 9, 24), SESSION, prev)  # before last session
    assert not f("realisee", date(2026, 12, 1), date(2026, 9, 24), SESSION, prev)  # after this one
    assert not f("a_faire", None, SESSION, SESSION, prev)  # taken at this session


def test_names_and_refs():
    assert rules.short_name("dupont", "jean-pierre") == "DUPONT J.-P."
    assert rules.short_name("Nguyễn", "Thị Hoa") == "NGUYỄN T."
    assert rules.short_name("KARIMI", "") == "KARIMI"
    assert rules.full_name("Martin", "Élodie") == "MARTIN Élodie"
    assert rules.parse_meeting_ref("3/2026") == (None, 3, 2026)
    assert rules.parse_meeting_ref("2026-3") == (None, 3, 2026)
    assert rules.parse_meeting_ref("n° 11/2026") == (None, 11, 2026)
    assert rules.parse_meeting_ref("12") == (12, None, None)
    for bad in ("", "abc", "3/x", "2026/"):
        with pytest.raises(ValidationError, match="référence de séance"):
            rules.parse_meeting_ref(bad)
    assert rules.next_number([]) == 1
    assert rules.next_number([1, 2, 5]) == 6


def test_text_cleaning_and_due_date():
    assert rules.clean_text("  a  ", label="X", field="x") == "a"
    with pytest.raises(ValidationError, match="obligatoire"):
        rules.clean_text("   ", label="X", field="x", required=True)
    with pytest.raises(ValidationError, match="trop long"):
        rules.clean_text("a" * 4001, label="X", field="x")
    with pytest.raises(ValidationError, match="contrôle"):
        rules.clean_text("a\x00b", label="X", field="x")
    with pytest.raises(ValidationError, match="précède"):
        rules.validate_due_date(date(2026, 11, 25), SESSION)
    rules.validate_due_date(SESSION, SESSION)
    rules.validate_due_date(None, SESSION)


def test_sensitivity_and_trend():
    for code in ("sante_mentale", "violences_intrafamiliales", "handicap", "perte_autonomie",
                 "incurie_hygiene"):
        assert rules.is_sensitive_problem(code)
    for code in ("impaye_loyer", "trouble_voisinage", "sur_occupation", "isolement"):
        assert not rules.is_sensitive_problem(code)
    pts = [(date(2026, m, 1), v) for m, v in ((7, 100), (8, 200), (9, 300), (10, 400))]
    assert rules.arrears_trend(pts) == "En hausse"
    assert rules.arrears_trend([(d, 500 - v) for d, v in pts]) == "En baisse"
    assert rules.arrears_trend([(date(2026, 1, 1), 5), (date(2026, 2, 1), 5)]) == "Stable"
    assert rules.arrears_trend([(date(2026, 1, 1), 5)]) == "Évolution inconnue"
    assert rules.move([1, 2, 3], 0, 1) == [2, 1, 3]
    assert rules.move([1, 2, 3], 2, 5) == [1, 2, 3]
    assert rules.move([1, 2, 3], 1, -5) == [2, 1, 3]
