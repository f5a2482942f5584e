"""The debt on the commission summary and in mode séance (#14): one source,
with its date and origin, never « non renseignée » beside an extract, never a
typed amount beside contradicting balances; the procedure stage and the
CCAPEX warning; the summary level without the household's resources."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.services.case_economics import CaseEconomicsService, EconomicsInput
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import Lease
from cus_desk.ui.context import AppContext
from tests.meetings import conftest as meetings_conftest
from tests.meetings.conftest import prepared_meeting

SHOTS = os.environ.get("CUS_DESK_SHOTS")


def make_case(db, agency_id, last, first, **kw) -> int:
    # pytest may load conftest.py apart from this import: keep clear of the
    # references its own counter gives the world's cases.
    meetings_conftest._seq["n"] = max(meetings_conftest._seq["n"], 50)
    return meetings_conftest.make_case(db, agency_id, last, first, **kw)


def _extract(db, case_id: int, on: date, cents: int, months: int = 6) -> None:
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

    with db.write_session() as session:
        case = session.get(Case, case_id)
        lease_id = session.scalar(select(Lease.id).where(Lease.household_id == case.household_id))
        extract = session.scalar(select(ArrearsExtract).where(ArrearsExtract.extract_date == on))
        if extract is None:
            extract = ArrearsExtract(extract_date=on, source_name=f"impayes-{on}.csv")
            session.add(extract)
            session.flush()
        session.add(ArrearsLine(extract_id=extract.id, lease_id=lease_id, balance_cents=cents,
                                months_unpaid=months, last_payment_on=date(2026, 9, 5)))


def test_extract_newer_than_the_typed_amount_is_the_debt(world):
    case_id = make_case(world.db, world.metz, "Lambert", "Rose", arrears_cents=65_025)  # opened 02/03/2026
    world.cases["lambert"] = case_id
    _extract(world.db, case_id, date(2026, 9, 30), 0)
    _extract(world.db, case_id, date(2026, 10, 31), 74_740)
    detail = prepared_meeting(world, "lambert")
    summary = world.service().commission_summary(detail.id, case_id)
    assert summary.debt.amount_cents == 74_740 and summary.debt.as_of == date(2026, 10, 31)
    assert summary.debt.origin == "extrait" and summary.debt.months == 6
    assert "650,25" in summary.debt.other and "plus ancien" in summary.debt.other
    # The balances end on the debt shown: no typed amount appended after them.
    assert summary.trend_points[-1] == (date(2026, 10, 31), 74_740)
    assert all(c != 65_025 for _, c in summary.trend_points)


def test_typed_amount_newer_than_the_extract_is_the_debt(world, clock):
    case_id = make_case(world.db, world.metz, "Lambert", "Rose", arrears_cents=None)
    world.cases["lambert"] = case_id
    _extract(world.db, case_id, date(2026, 10, 31), 74_740)
    from cus_desk.services.cases import CaseService

    cases = CaseService(world.db, world.actors["adviser_metz"])
    detail = cases.get(case_id)
    from dataclasses import replace

    cases.update_case(case_id, replace(detail.as_case_input(), arrears_cents=80_000), detail.version)
    meeting = prepared_meeting(world, "lambert")
    summary = world.service().commission_summary(meeting.id, case_id)
    today = clock.today()
    assert (summary.debt.amount_cents, summary.debt.as_of, summary.debt.origin) == (80_000, today, "dossier")
    assert "747,40" in summary.debt.other
    assert summary.trend_points[-2:] == ((date(2026, 10, 31), 74_740), (today, 80_000))


def test_procedure_and_ccapex_warning_reach_the_summary_without_resources(world):
    case_id = world.cases["martin"]
    CaseEconomicsService(world.db, world.actors["adviser_metz"]).save(
        case_id, EconomicsInput(rent_cents=41_000, charges_cents=6_000, resources_cents=98_765,
                                housing_aid_cents=15_000, housing_aid_kind="apl",
                                commandement_payer_on=date(2026, 7, 1), assignation_on=date(2026, 12, 15),
                                ccapex_referred_on=date(2026, 11, 1)), 0)
    detail = prepared_meeting(world, "martin")
    summary = world.service("cas_member").commission_summary(detail.id, case_id)
    assert summary.procedure_stage == "Assignation le 15/12/2026 (prévue)"
    assert "moins de deux mois" in summary.ccapex_warning and "01/01/2027" in summary.ccapex_warning
    joined = " ".join(summary.budget_lines)
    assert "410,00" in joined and "987,65" not in joined and "APL" not in joined
    # The adviser of the case sees the budget figures.
    own = world.service().commission_summary(detail.id, case_id)
    assert any("Taux d'effort" in line for line in own.budget_lines)


@pytest.mark.gui
def test_meeting_mode_shows_one_dated_debt(qtbot, world):
    from cus_desk.ui.meetings.meeting_mode import MeetingModeWindow

    case_id = make_case(world.db, world.metz, "Lambert", "Rose", arrears_cents=65_025)
    world.cases["lambert"] = case_id
    _extract(world.db, case_id, date(2026, 10, 31), 74_740)
    CaseEconomicsService(world.db, world.actors["adviser_metz"]).save(
        case_id, EconomicsInput(assignation_on=date(2026, 12, 15)), 0)
    detail = prepared_meeting(world, "lambert", "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    window = MeetingModeWindow(AppContext(world.db, world.actors["adviser_metz"]), detail.id,
                               [case_id, world.cases["martin"]])
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    text = window.debt.text()
    assert "747,40" in text and "extrait d'impayés du 31/10/2026" in text
    assert "Au dossier" not in text and "non renseignée" not in text
    assert "650,25" in text and "plus ancien" in text and "Montant saisi au dossier" in text  # named, not contradicting
    assert "sans saisine de la CCAPEX" in text and "Assignation le 15/12/2026" in text
    if SHOTS:
        qtbot.wait(50)
        window.grab().save(os.path.join(SHOTS, "mode_seance_debt_1366.png"))
