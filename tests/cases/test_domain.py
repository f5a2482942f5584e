"""Pure rules of the case files: workflow, judicial step, referrals,
validation, search planning. No database."""

from __future__ import annotations

from datetime import date

import pytest

from cus_desk.domain import cases as rules
from cus_desk.domain.cases import CaseStatus as S
from cus_desk.domain.errors import ValidationError, WorkflowError

TODAY = date(2026, 11, 28)

LEGAL = {
    (S.OPEN, S.TO_PRESENT), (S.OPEN, S.CLOSED),
    (S.TO_PRESENT, S.RECOMMENDATION), (S.TO_PRESENT, S.OPEN), (S.TO_PRESENT, S.CLOSED),
    (S.RECOMMENDATION, S.ACTION_DEFINED), (S.RECOMMENDATION, S.TO_PRESENT), (S.RECOMMENDATION, S.CLOSED),
    (S.ACTION_DEFINED, S.FOLLOW_UP), (S.ACTION_DEFINED, S.TO_PRESENT), (S.ACTION_DEFINED, S.CLOSED),
    (S.FOLLOW_UP, S.TO_PRESENT), (S.FOLLOW_UP, S.CLOSED),
    (S.CLOSED, S.OPEN),
}


def test_pinned_codes():
    assert [s.value for s in S] == [
        "ouvert", "a_presenter", "preconisation", "action_definie", "en_suivi", "clos"]
    assert list(rules.PROBLEMS) == [
        "impaye_loyer", "trouble_voisinage", "sante_mentale", "perte_autonomie", "sur_occupation",
        "sous_occupation", "violences_intrafamiliales", "incurie_hygiene", "isolement", "handicap", "autre"]
    assert list(rules.REFERRAL_STATUSES) == ["envoyee", "acceptee", "refusee", "sans_reponse", "cloturee"]
    assert rules.JUDICIAL_DECISION_TYPE == "demande_resiliation_judiciaire"


@pytest.mark.parametrize("src", list(S))
@pytest.mark.parametrize("dst", list(S))
def test_every_transition(src, dst):
    kwargs = {"closure_reason": "Dette soldée", "recommendation": "bilan_global"}
    if (src, dst) in LEGAL:
        result = rules.transition(src, dst, **kwargs)
        assert result.status is dst
        assert result.closed == (dst is S.CLOSED)
        assert result.reopened == (src is S.CLOSED)
        assert dst in rules.allowed_targets(src)
    else:
        with pytest.raises(WorkflowError) as exc:
            rules.transition(src, dst, **kwargs)
        assert "ne peut pas" in exc.value.message or "déjà" in exc.value.message
        assert dst not in rules.allowed_targets(src)


def test_closing_requires_a_reason():
    with pytest.raises(ValidationError) as exc:
        rules.transition("en_suivi", "clos", closure_reason="   ")
    assert exc.value.field == "closure_reason"
    assert rules.transition("en_suivi", "clos", closure_reason=" Relogé ").closure_reason == "Relogé"


def test_recommendation_required_and_controlled():
    with pytest.raises(ValidationError):
        rules.transition("a_presenter", "preconisation")
    with pytest.raises(ValidationError):
        rules.transition("a_presenter", "preconisation", recommendation="expulsion")
    assert rules.transition("a_presenter", "preconisation",
                            recommendation="intervention_sociale").recommendation == "intervention_sociale"


def test_unknown_status_is_refused_in_french():
    with pytest.raises(WorkflowError, match="inconnu"):
        rules.transition("bidon", "clos", closure_reason="x")


def test_judicial_step_refused_without_cas_decision():
    with pytest.raises(WorkflowError) as exc:
        rules.check_judicial_request("action_definie", authorised=False, already_requested=False)
    assert "décision de la CAS" in exc.value.message
    rules.check_judicial_request("action_definie", authorised=True, already_requested=False)
    with pytest.raises(WorkflowError, match="déjà"):
        rules.check_judicial_request("en_suivi", authorised=True, already_requested=True)
    with pytest.raises(WorkflowError, match="clos"):
        rules.check_judicial_request("clos", authorised=True, already_requested=False)


def test_referral_lifecycle():
    assert rules.referral_transition("envoyee", "acceptee").status == "acceptee"
    ok = rules.referral_transition("acceptee", "cloturee", "aboutie", "refus_menage")
    assert (ok.result, ok.failure_reason) == ("aboutie", None)  # a success has no failure reason
    with pytest.raises(ValidationError) as exc:
        rules.referral_transition("acceptee", "cloturee")
    assert exc.value.field == "result"
    with pytest.raises(ValidationError) as exc:
        rules.referral_transition("refusee", "cloturee", "non_aboutie")
    assert exc.value.field == "failure_reason"
    failed = rules.referral_transition("sans_reponse", "cloturee", "non_aboutie", "injoignable")
    assert failed.failure_reason == "injoignable"
    with pytest.raises(WorkflowError, match="clôturée"):
        rules.referral_transition("cloturee", "acceptee")
    with pytest.raises(WorkflowError):
        rules.referral_transition("acceptee", "envoyee")


def test_referral_overdue():
    assert rules.is_referral_overdue("envoyee", date(2026, 10, 1), TODAY, 30)
    assert not rules.is_referral_overdue("envoyee", date(2026, 10, 29), TODAY, 30)  # exactly 30 days
    assert rules.is_referral_overdue("sans_reponse", date(2026, 10, 28), TODAY, 30)
    assert not rules.is_referral_overdue("acceptee", date(2020, 1, 1), TODAY, 30)


@pytest.mark.parametrize("name", ["Nguyễn", "Ющенко", "محمد", "O'Brien", "Le Gall-Kervé", "Søren"])
def test_names_in_any_script_are_accepted(name):
    assert rules.clean_name(name, "Nom", "last_name") == name


@pytest.mark.parametrize("name", ["", "   ", "Dupont3", "R2D2", "<script>", "x" * 121, "_dupont"])
def test_bad_names_refused(name):
    with pytest.raises(ValidationError) as exc:
        rules.clean_name(name, "Nom", "last_name")
    assert exc.value.field == "last_name"
    assert exc.value.message.startswith("« Nom »")


def test_birth_dates():
    rules.check_birth_date(date(1950, 2, 28), TODAY)
    with pytest.raises(ValidationError, match="futur"):
        rules.check_birth_date(date(2027, 1, 1), TODAY)
    with pytest.raises(ValidationError, match="1900"):
        rules.check_birth_date(date(1899, 12, 31), TODAY)


def test_arrears():
    rules.check_arrears(0, 0)
    rules.check_arrears(123456, 7)
    with pytest.raises(ValidationError, match="négatif") as exc:
        rules.check_arrears(-1, None)
    assert exc.value.field == "arrears_cents"
    with pytest.raises(ValidationError):
        rules.check_arrears(None, -1)
    with pytest.raises(ValidationError):
        rules.check_arrears(rules.MAX_ARREARS_CENTS + 1, None)


@pytest.mark.parametrize("text,cents", [
    ("1 234,56", 123456), ("1234.5", 123450), ("12 €", 1200), ("0", 0), ("", None),
    ("1\u202f234,56\u00a0€", 123456), ("-5", -500),
])
def test_parse_amount(text, cents):
    assert rules.parse_amount_cents(text) == cents


@pytest.mark.parametrize("text", ["abc", "1,234,56", "12,345", "1e3", "--3"])
def test_parse_amount_refuses_garbage(text):
    with pytest.raises(ValidationError, match="montant"):
        rules.parse_amount_cents(text)


def test_long_text_refused_with_sizes():
    with pytest.raises(ValidationError) as exc:
        rules.clean_text("a" * 10_000, rules.MAX_SUMMARY, "Situation", "summary")
    assert "10\u202f000" in exc.value.message and exc.value.field == "summary"


def test_problems_controlled_and_ordered():
    assert rules.check_problems(["isolement", "impaye_loyer", "isolement"]) == ["impaye_loyer", "isolement"]
    with pytest.raises(ValidationError):
        rules.check_problems([])
    with pytest.raises(ValidationError):
        rules.check_problems(["drogue"])


def test_health_note_requires_consent():
    with pytest.raises(ValidationError) as exc:
        rules.check_confidential_note("sante", "Suivi CMP", None, None, TODAY)
    assert exc.value.field == "consent_on"
    with pytest.raises(ValidationError) as exc:
        rules.check_confidential_note("sante", "Suivi CMP", date(2026, 11, 1), None, TODAY)
    assert exc.value.field == "consent_method"
    with pytest.raises(ValidationError, match="futur"):
        rules.check_confidential_note("sante", "Suivi CMP", date(2026, 12, 1), "ecrit_signe", TODAY)
    assert rules.check_confidential_note("sante", " Suivi CMP ", date(2026, 11, 1), "ecrit_signe", TODAY) == "Suivi CMP"
    # Not health: consent optional.
    assert rules.check_confidential_note("violences", "Main courante", None, None, TODAY)
    with pytest.raises(ValidationError):
        rules.check_confidential_note("sante", "", date(2026, 11, 1), "ecrit_signe", TODAY)


def test_reference_format():
    assert rules.format_reference(2026, 42) == "CAS-2026-0042"
    assert rules.format_reference(2026, 12345) == "CAS-2026-12345"
    assert rules.parse_reference(" cas-2026-0042 ") == (2026, 42)
    assert rules.parse_reference("2026-42") is None


def test_fold_and_search_plan():
    assert rules.fold("HÉLÈNE Lefèvre Œuvre d’Arc") == "HeLeNE Lefevre oeuvre d'Arc"
    assert rules.plan_search("  ") is None
    plan = rules.plan_search('Hélène "x" OR')
    assert plan.fts_query == '"Helene" """x"""'  # quotes doubled: no FTS syntax injection
    assert plan.like_patterns == ("%OR%",)
    assert rules.plan_search("50%_").fts_query == '"50%_"'
    assert rules.plan_search("a_").like_patterns == ("%a\\_%",)


def test_fold_sql_matches_python_fold():
    import sqlite3

    con = sqlite3.connect(":memory:")
    sample = "ÉLODIE Brûlé-Çava Œil Ñandú Ющенко d’Arc ÿ"
    out = sample
    for step in rules.fold_sql_steps("?"):
        out = con.execute(f"SELECT {step}", (out,)).fetchone()[0]
    assert out == rules.fold(sample)
    assert "Ющенко" in out and "e" in out


def test_parse_date_fr():
    assert rules.parse_date_fr("28/11/2026", "Date", "d") == date(2026, 11, 28)
    assert rules.parse_date_fr(" 1.2.2026 ", "Date", "d") == date(2026, 2, 1)
    assert rules.parse_date_fr("", "Date", "d") is None
    with pytest.raises(ValidationError, match="obligatoire"):
        rules.parse_date_fr(" ", "Date", "d", required=True)
    with pytest.raises(ValidationError, match="calendrier"):
        rules.parse_date_fr("29/02/2026", "Date", "d")
    with pytest.raises(ValidationError, match="pas une date") as exc:
        rules.parse_date_fr("2026-11-28", "Date", "d")
    assert exc.value.field == "d"
