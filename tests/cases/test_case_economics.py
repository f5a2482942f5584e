"""Budget et procédure of a case file (#14): formulas, the CCAPEX rule, the
service (validation, nothing lost, access), and the one source of the debt."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cus_desk.domain import case_economics as rules
from cus_desk.domain.case_economics import Budget, Stage
from cus_desk.domain.errors import AccessDeniedError, ConflictError, ValidationError
from cus_desk.services.case_economics import CaseEconomicsService, EconomicsInput
from cus_desk.services.cases import CaseService
from cus_desk.store.models.cases import Case
from tests.cases.conftest import TODAY

# ------------------------------------------------------------------ domain


def test_effort_rate_and_remaining_follow_the_documented_formulas():
    b = Budget(rent_cents=45000, charges_cents=8000, housing_aid_cents=20000, housing_aid_kind="apl",
               resources_cents=110000, other_charges_cents=15000)
    f = rules.compute(b, occupants=3)
    assert f.housing_cost_cents == 53000
    assert f.net_housing_cost_cents == 33000
    assert f.effort_rate_percent == 30.0  # 330 / 1 100
    assert f.remaining_cents == 110000 + 20000 - 53000 - 15000 == 62000
    assert f.remaining_per_person_day_cents == 689  # 620 € / 3 / 30 = 6,888… → 6,89 €


def test_missing_amounts_give_no_figure_rather_than_a_wrong_one():
    f = rules.compute(Budget(rent_cents=45000), occupants=2)
    assert f.effort_rate_percent is None and f.remaining_cents is None
    assert rules.compute(Budget(resources_cents=100000), occupants=2).remaining_cents is None
    # No resources at all: no rate (no division by zero), a negative reste à vivre.
    f = rules.compute(Budget(rent_cents=40000, resources_cents=0), occupants=1)
    assert f.effort_rate_percent is None and f.remaining_cents == -40000


@pytest.mark.parametrize("budget, field", [
    (Budget(rent_cents=-1), "rent_cents"),
    (Budget(resources_cents=rules.MAX_MONTHLY_CENTS + 1), "resources_cents"),
    (Budget(housing_aid_cents=1000), "housing_aid_kind"),
    (Budget(housing_aid_kind="rsa"), "housing_aid_kind"),
    (Budget(rent_cents=30000, housing_aid_cents=40000, housing_aid_kind="al"), "housing_aid_cents"),
])
def test_bad_budget_is_refused_in_french(budget, field):
    with pytest.raises(ValidationError) as err:
        rules.check_budget(budget)
    assert err.value.field == field
    assert any(w in err.value.message for w in ("ne peut pas", "dépasse", "Précisez", "inconnu"))


def test_add_months_keeps_the_end_of_month():
    assert rules.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert rules.add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert rules.add_months(date(2026, 11, 28), -2) == date(2026, 9, 28)


def test_ccapex_rule():
    # No assignation, done or planned: nothing to say.
    assert rules.ccapex_warning(None, None) is None
    # Assignation set, no referral: warned, with the last day to refer and the law.
    text = rules.ccapex_warning(date(2027, 3, 15), None)
    assert "sans saisine de la CCAPEX" in text and "15/01/2027" in text and "loi n° 89-462" in text
    # Referral less than two months before: warned with the earliest day.
    text = rules.ccapex_warning(date(2027, 3, 15), date(2027, 2, 1))
    assert "moins de deux mois" in text and "01/04/2027" in text
    # Exactly two months: the rule is kept.
    assert rules.ccapex_warning(date(2027, 4, 1), date(2027, 2, 1)) is None


def test_procedure_dates_in_order_and_within_reason():
    ok = {Stage.COMMANDEMENT_PAYER: date(2026, 6, 1), Stage.ASSIGNATION: date(2027, 1, 10)}
    rules.check_procedure(ok, date(2026, 10, 1), TODAY)  # a planned assignation is fine
    with pytest.raises(ValidationError) as err:
        rules.check_procedure({Stage.ASSIGNATION: date(2026, 5, 1), Stage.COMMANDEMENT_PAYER: date(2026, 6, 1)},
                              None, TODAY)
    assert err.value.field == "assignation_on" and "ne peut pas précéder" in err.value.message
    with pytest.raises(ValidationError) as err:
        rules.check_procedure({Stage.JUGEMENT: date(2027, 1, 5)}, None, TODAY)
    assert err.value.field == "jugement_on" and "futur" in err.value.message
    with pytest.raises(ValidationError) as err:
        rules.check_procedure({Stage.AUDIENCE: date(2062, 1, 5)}, None, TODAY)
    assert err.value.field == "audience_on" and "vérifiez l'année" in err.value.message
    with pytest.raises(ValidationError) as err:
        rules.check_procedure({}, date(2026, 12, 1), TODAY)
    assert err.value.field == "ccapex_referred_on"


# ------------------------------------------------------------------ service

GOOD = EconomicsInput(rent_cents=45000, charges_cents=8000, housing_aid_cents=20000, housing_aid_kind="apl",
                      resources_cents=110000, commandement_payer_on=date(2026, 6, 1),
                      assignation_on=date(2027, 1, 10))


def _svc(db, actors, who="adviser_metz"):
    return CaseEconomicsService(db, actors[who])


def test_save_and_read_back_with_the_ccapex_warning(db, actors, make_case):
    case_id = make_case()
    svc = _svc(db, actors)
    assert svc.get(case_id).version == 0
    view = svc.save(case_id, GOOD, 0)
    assert view.version == 1
    assert view.figures.effort_rate_percent == 30.0
    assert "Assignation le 10/01/2027 (prévue)" == view.current_stage
    assert "sans saisine de la CCAPEX" in view.ccapex_warning
    # Referred early enough: the warning goes.
    view = svc.save(case_id, replace(GOOD, ccapex_referred_on=date(2026, 10, 2)), view.version)
    assert view.ccapex_warning is None
    assert svc.get(case_id).input.ccapex_referred_on == date(2026, 10, 2)


@pytest.mark.parametrize("bad, field", [
    (replace(GOOD, rent_cents=-100), "rent_cents"),
    (replace(GOOD, housing_aid_kind=None), "housing_aid_kind"),
    (replace(GOOD, jugement_on=date(2027, 2, 1)), "jugement_on"),
    (replace(GOOD, commandement_payer_on=date(2027, 2, 1)), "assignation_on"),
    (replace(GOOD, ccapex_referred_on=date(2030, 1, 1)), "ccapex_referred_on"),
])
def test_bad_input_loses_nothing_stored(db, actors, make_case, bad, field):
    case_id = make_case()
    svc = _svc(db, actors)
    saved = svc.save(case_id, GOOD, 0)
    with pytest.raises(ValidationError) as err:
        svc.save(case_id, bad, saved.version)
    assert err.value.field == field and err.value.message
    again = svc.get(case_id)
    assert again.input == saved.input and again.version == saved.version


def test_stale_form_gets_a_conflict(db, actors, make_case):
    case_id = make_case()
    svc = _svc(db, actors)
    svc.save(case_id, GOOD, 0)
    with pytest.raises(ConflictError):
        svc.save(case_id, replace(GOOD, rent_cents=46000), 0)
    assert svc.get(case_id).input.rent_cents == 45000


def test_summary_level_never_sees_resources(db, actors, make_case):
    from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting

    case_id = make_case()
    _svc(db, actors).save(case_id, replace(GOOD, other_charges_cents=12345), 0)
    with db.write_session() as session:
        meeting = Meeting(year=2026, number=3, held_on=TODAY, status="preparee")
        meeting.attendees = [Attendee(user_id=actors["cas_member"].user_id, name="Serge", function="autre")]
        meeting.agenda_items = [AgendaItem(case_id=case_id, position=1, proposal="")]
        session.add(meeting)
    view = _svc(db, actors, "cas_member").get(case_id)
    assert view.access == "summary" and not view.editable
    assert view.input.resources_cents is None and view.input.housing_aid_cents is None
    assert view.input.other_charges_cents is None and view.figures is None
    assert view.input.rent_cents == 45000 and view.ccapex_warning  # the commission needs these
    assert not any("Ressources" in line or "Reste" in line or "effort" in line for line in view.lines)
    with pytest.raises(AccessDeniedError):
        _svc(db, actors, "cas_member").save(case_id, GOOD, view.version)
    with pytest.raises(AccessDeniedError):
        _svc(db, actors, "adviser_forbach").get(case_id)


def test_audit_trail_holds_no_resource_amount(db, actors, make_case):
    from cus_desk.store.models.core import AuditEvent

    case_id = make_case()
    _svc(db, actors).save(case_id, replace(GOOD, resources_cents=987654), 0)
    with db.read_session() as session:
        details = " ".join(e.details_json or "" for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "case_economics")))
    assert "987654" not in details and "resources_cents" in details


# ------------------------------------------------------------------ one debt


def _extract(db, case_id, on, cents):
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

    with db.write_session() as session:
        lease_id = session.get(Case, case_id).lease_id
        e = ArrearsExtract(extract_date=on, source_name=f"x-{on}.csv")
        session.add(e)
        session.flush()
        session.add(ArrearsLine(extract_id=e.id, lease_id=lease_id, balance_cents=cents, months_unpaid=5))


def test_debt_is_the_latest_source_with_its_date(db, actors, make_case, clock):
    case_id = make_case(arrears_cents=65025)  # typed at opening, 28/11/2026
    debt = _svc(db, actors).get(case_id).debt
    assert (debt.amount_cents, debt.origin) == (65025, "dossier")
    # A newer extract wins and names the typed amount beside it.
    _extract(db, case_id, date(2026, 12, 31), 74740)
    debt = _svc(db, actors).get(case_id).debt
    assert (debt.amount_cents, debt.as_of, debt.origin) == (74740, date(2026, 12, 31), "extrait")
    assert debt.months == 5
    assert "extrait d'impayés du 31/12/2026" in debt.text and "650,25" in debt.other
    # The adviser types a newer amount: it wins, dated the day she typed it.
    clock.advance(timedelta(days=48))  # 15/01/2027
    cases = CaseService(db, actors["adviser_metz"])
    detail = cases.get(case_id)
    cases.update_case(case_id, replace(detail.as_case_input(), arrears_cents=70000), detail.version)
    debt = _svc(db, actors).get(case_id).debt
    assert (debt.amount_cents, debt.as_of, debt.origin) == (70000, date(2027, 1, 15), "dossier")
    assert "saisie au dossier le 15/01/2027" in debt.text and "747,40" in debt.other


def test_typing_the_arrears_keeps_an_open_budget_form_valid(db, actors, make_case):
    case_id = make_case()
    cases = CaseService(db, actors["adviser_metz"])
    detail = cases.get(case_id)
    cases.update_case(case_id, replace(detail.as_case_input(), arrears_cents=1000), detail.version)
    # The row exists for the date only: the form shown before (version 0) still saves.
    assert _svc(db, actors).save(case_id, GOOD, 0).input.rent_cents == 45000
    detail = cases.get(case_id)
    cases.update_case(case_id, replace(detail.as_case_input(), arrears_cents=2000), detail.version)
    view = _svc(db, actors).get(case_id)
    assert _svc(db, actors).save(case_id, replace(GOOD, rent_cents=46000), view.version).input.rent_cents == 46000
