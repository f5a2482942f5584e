"""The risk rule at its edges (pure, no database)."""

from datetime import date

import pytest

from cus_desk.domain.errors import WorkflowError
from cus_desk.domain.seniors import (
    AlertStatus,
    RiskRule,
    SeniorStatus,
    age_band,
    allowed_alert_transitions,
    check_alert_transition,
    in_arrears,
    is_at_risk,
    is_first_arrears,
    is_senior,
    reminder_due,
    senior_age_of,
    senior_status,
)

EXTRACT = date(2026, 11, 30)


def test_65th_birthday_on_the_extract_date_counts():
    assert is_senior(date(1961, 11, 30), None, EXTRACT)


def test_the_day_before_the_65th_birthday_does_not():
    assert not is_senior(date(1961, 12, 1), None, EXTRACT)
    assert senior_age_of(date(1961, 12, 1), None, EXTRACT) == 64


def test_born_29_february_turns_65_on_1_march_in_a_common_year():
    born = date(1960, 2, 29)
    assert not is_senior(born, None, date(2025, 2, 28))
    assert is_senior(born, None, date(2025, 3, 1))


def test_born_29_february_turns_65_on_29_february_in_a_leap_year():
    born = date(1964, 2, 29)
    assert not is_senior(born, None, date(2029, 2, 28))
    assert is_senior(born, None, date(2029, 3, 1))
    born = date(1963, 2, 28)
    assert is_senior(born, None, date(2028, 2, 28))
    assert senior_age_of(date(1963, 2, 29 - 1), None, date(2028, 2, 27)) == 64


def test_co_tenant_only_counts():
    assert is_senior(date(1980, 1, 1), date(1950, 1, 1), EXTRACT)
    assert is_senior(None, date(1950, 1, 1), EXTRACT)
    assert senior_age_of(date(1980, 1, 1), date(1950, 1, 1), EXTRACT) == 76


def test_no_birth_date_is_not_senior():
    assert not is_senior(None, None, EXTRACT)
    assert senior_age_of(None, None, EXTRACT) is None


def test_age_threshold_is_a_setting():
    assert not is_senior(date(1965, 1, 1), None, EXTRACT)
    assert is_senior(date(1965, 1, 1), None, EXTRACT, RiskRule(senior_age=60))


@pytest.mark.parametrize(
    "balance, months, expected",
    [
        (1, None, True),
        (0, None, False),
        (-5000, None, False),  # credit
        (-5000, 3, False),
        (12000, 0, False),  # zero months unpaid
        (12000, 1, True),
        (12000, None, True),  # the extract has no months column
    ],
)
def test_in_arrears(balance, months, expected):
    assert in_arrears(balance, months) is expected


def test_arrears_thresholds_are_settings():
    rule = RiskRule(min_balance_cents=10000, min_months=2)
    assert not in_arrears(9999, 5, rule)
    assert not in_arrears(10000, 1, rule)
    assert in_arrears(10000, 2, rule)
    assert in_arrears(10, 0, RiskRule(min_months=0))


def test_at_risk_needs_both():
    assert is_at_risk(date(1950, 1, 1), None, 100, 1, EXTRACT)
    assert not is_at_risk(date(1990, 1, 1), None, 100, 1, EXTRACT)
    assert not is_at_risk(date(1950, 1, 1), None, -100, 1, EXTRACT)


def test_first_arrears():
    old_lease = date(2010, 5, 1)
    assert is_first_arrears(True, False, old_lease, EXTRACT)
    assert not is_first_arrears(True, True, old_lease, EXTRACT)  # already in arrears before
    assert not is_first_arrears(False, False, old_lease, EXTRACT)
    assert not is_first_arrears(True, False, None, EXTRACT)
    # exactly 5 years on the extract date counts, the day before does not
    assert is_first_arrears(True, False, date(2021, 11, 30), EXTRACT)
    assert not is_first_arrears(True, False, date(2021, 12, 1), EXTRACT)
    assert is_first_arrears(True, False, date(2024, 1, 1), EXTRACT, RiskRule(first_arrears_lease_years=2))


def test_status_progression():
    assert senior_status(True, [], []) is SeniorStatus.A_SURVEILLER
    assert senior_status(True, [date(2026, 11, 2)], []) is SeniorStatus.A_SIGNALER
    assert senior_status(True, [date(2026, 11, 2)], [("envoye", None)]) is SeniorStatus.SIGNALE
    assert senior_status(True, [], [("accuse_reception", None)]) is SeniorStatus.SIGNALE
    assert senior_status(True, [], [("pris_en_charge", None)]) is SeniorStatus.PRIS_EN_CHARGE
    assert senior_status(True, [date(2026, 1, 1)], [("clos", date(2026, 6, 1))]) is SeniorStatus.CLOS


def test_new_observation_after_a_closed_signalement_calls_for_a_new_one():
    alerts = [("clos", date(2026, 6, 1))]
    assert senior_status(True, [date(2026, 1, 1), date(2026, 7, 1)], alerts) is SeniorStatus.A_SIGNALER


def test_no_arrears_leaves_the_list_unless_a_signalement_is_open():
    assert senior_status(False, [date(2026, 1, 1)], []) is None
    assert senior_status(False, [], [("clos", date(2026, 6, 1))]) is None
    assert senior_status(False, [], [("envoye", None)]) is SeniorStatus.SIGNALE
    assert senior_status(False, [], [("clos", date(2026, 1, 1)), ("pris_en_charge", None)]) is SeniorStatus.PRIS_EN_CHARGE


def test_alert_transitions_forward_only():
    assert allowed_alert_transitions("envoye") == [
        AlertStatus.ACCUSE_RECEPTION, AlertStatus.PRIS_EN_CHARGE, AlertStatus.CLOS]
    assert allowed_alert_transitions("clos") == []
    check_alert_transition("envoye", "pris_en_charge")
    with pytest.raises(WorkflowError, match="ne peut pas passer"):
        check_alert_transition("pris_en_charge", "envoye")
    with pytest.raises(WorkflowError, match="inconnu"):
        check_alert_transition("envoye", "perdu")


def test_reminder_after_n_days_without_answer():
    sent = date(2026, 11, 1)
    assert reminder_due("envoye", sent, date(2026, 11, 15), 15) is None
    assert reminder_due("envoye", sent, date(2026, 11, 16), 15) == date(2026, 11, 16)
    assert reminder_due("accuse_reception", sent, date(2026, 12, 31), 15) is None


def test_age_bands():
    assert age_band(None) is None
    assert age_band(65) == "-74"
    assert age_band(74) == "-74"
    assert age_band(75) == "75-84"
    assert age_band(84) == "75-84"
    assert age_band(85) == "85+"


def test_first_arrears_tells_what_it_knows():
    from cus_desk.domain.seniors import first_arrears

    on = date(2026, 10, 31)
    old = date(1990, 1, 1)
    # nothing known: unknown, not "never in arrears"
    finding = first_arrears(True, False, False, old, on)
    assert finding.first is None and finding.unknown and "historique des impayés inconnu" in finding.reason
    # the file tells
    assert first_arrears(True, False, False, old, on, months_unpaid=1).first is True
    assert first_arrears(True, False, False, old, on, months_unpaid=7).first is False
    assert first_arrears(True, False, False, old, on, last_payment=date(2026, 10, 2)).first is True
    assert first_arrears(True, False, False, old, on, last_payment=date(2026, 3, 2)).reason == (
        "dernier paiement le 02/03/2026 selon l'extrait")
    # history known: as before, but 13 months unpaid is never "first"
    assert first_arrears(True, True, False, old, on).first is True
    assert first_arrears(True, True, True, old, on).first is False
    assert first_arrears(True, True, False, old, on, months_unpaid=13).first is False
    # a recent or unknown lease, or no arrears: no
    assert first_arrears(True, False, False, date(2024, 1, 1), on).first is False
    assert first_arrears(True, False, False, None, on).first is False
    assert first_arrears(False, False, False, old, on).first is False
