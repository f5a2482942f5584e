"""The case file lists its household's signalements (#13): the adviser who
opens it sees what was already sent to a CCAS, CLIC… and where it stands.
Never at the commission's summary level."""

from __future__ import annotations

from datetime import date

import pytest

from cus_desk.services.cases import CaseService
from cus_desk.store.models.seniors import SeniorAlertEvent
from tests.security import builders as b


@pytest.fixture
def household_case(db, actors):
    with db.write_session() as s:
        hh, lease = b.household(s, "metz", "WEBER", "Odile", birth=date(1950, 2, 1))
        case = b.case(s, hh, opened_on=date(2026, 9, 1))
        # one signalement about the household's lease (sent before the case existed),
        sent = b.signalement(s, lease, status="envoye", sent_on=date(2026, 10, 5))
        s.add(SeniorAlertEvent(referral_id=sent.id, status="envoye", on_date=date(2026, 10, 25),
                               kind="relance", means="téléphone", note="Relance du CCAS"))
        # one closed earlier, and one about another household, which must not show
        b.signalement(s, lease, status="clos", sent_on=date(2025, 3, 1), closed_on=date(2025, 4, 2))
        _, other_lease = b.household(s, "metz", "AUTRE", "Paul", birth=date(1940, 1, 1))
        b.signalement(s, other_lease, status="envoye", sent_on=date(2026, 10, 6))
        b.meeting_with(s, case, attendee_user_ids=[actors["cas_member"].user_id], held_on=date(2026, 11, 5))
        return case.id, sent.id


def test_full_access_lists_the_households_signalements(db, actors, household_case):
    case_id, sent_id = household_case
    detail = CaseService(db, actors["adviser_metz"]).get(case_id)
    assert [(a.sent_on, a.status_label) for a in detail.signalements] == [
        (date(2026, 10, 5), "Envoyé"), (date(2025, 3, 1), "Clos")]
    latest = detail.signalements[0]
    assert latest.reference == f"SIG-2026-{sent_id:04d}"
    assert latest.last_event == "Relance le 25/10/2026 (téléphone)"


def test_the_commission_summary_shows_no_signalement(db, actors, household_case):
    case_id, _ = household_case
    summary = CaseService(db, actors["cas_member"]).get(case_id)
    assert summary.access == "summary" and summary.signalements == ()


@pytest.mark.gui
def test_case_window_shows_them_in_the_orientations_tab(qtbot, db, actors, household_case):
    from cus_desk.ui.cases.case_dialog import CaseDialog
    from cus_desk.ui.context import AppContext

    case_id, _ = household_case
    dialog = CaseDialog(AppContext(db=db, actor=actors["adviser_metz"]), case_id)
    qtbot.addWidget(dialog)
    assert dialog.tabs.tabText(2) == "&Orientations (0, 2 signalement(s))"
    dialog.tabs.setCurrentIndex(2)
    model = dialog.signalements_model
    assert model.rowCount() == 2
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[0] == "05/10/2026" and row[3] == "Envoyé" and row[4] == "Relance le 25/10/2026 (téléphone)"
    assert dialog.signalements_view.isVisibleTo(dialog)
