"""« Budget et procédure » in the case window (#14), with real widgets: the
figures as typed, the CCAPEX warning on the case, bad input refused in
French with nothing stored lost, and the summary level without resources."""

from __future__ import annotations

import os
from datetime import date

import pytest
from PySide6.QtWidgets import QLabel

from cus_desk.services.case_economics import CaseEconomicsService
from cus_desk.ui.cases.case_dialog import CaseDialog
from cus_desk.ui.context import AppContext
from tests.cases.conftest import TODAY

pytestmark = pytest.mark.gui
SHOTS = os.environ.get("CUS_DESK_SHOTS")


@pytest.fixture
def ctx(db, actors):
    return AppContext(db=db, actor=actors["adviser_metz"])


def _open(qtbot, ctx, case_id, size=(1024, 740)) -> CaseDialog:
    dialog = CaseDialog(ctx, case_id)
    qtbot.addWidget(dialog)
    dialog.resize(*size)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.economics)
    return dialog


def _type(panel, **values) -> None:
    for field, text in values.items():
        widget = panel.amounts.get(field) or panel.dates[field]
        widget.setText(text)


def test_figures_follow_the_typing_and_ctrl_s_saves(qtbot, ctx, make_case, tmp_path):
    case_id = make_case(arrears_cents=65025)
    dialog = _open(qtbot, ctx, case_id)
    panel = dialog.economics
    _type(panel, rent_cents="450", charges_cents="80", housing_aid_cents="200", resources_cents="1 100",
          other_charges_cents="150")
    panel.aid_kind.setCurrentIndex(panel.aid_kind.findData("apl"))
    assert panel.effort.text() == "30,0 %"
    # 1 100 + 200 − 530 − 150 = 620 € a month, one person: 20,67 € a day
    assert panel.remaining.text().startswith("620,00\u00a0€ par mois") or "620,00" in panel.remaining.text()
    assert "20,67" in panel.remaining.text()
    assert not panel.warning.isVisible()
    _type(panel, commandement_payer_on="01/06/2026", assignation_on="10/01/2027")
    assert panel.warning.isVisible() and "sans saisine de la CCAPEX" in panel.warning.text()
    assert "Assignation" in panel.stage.text() and "(prévue)" in panel.stage.text()
    assert dialog.is_dirty()
    assert dialog.save()
    view = CaseEconomicsService(ctx.db, ctx.actor).get(case_id)
    assert view.input.rent_cents == 45000 and view.input.housing_aid_kind == "apl"
    assert view.input.assignation_on == date(2027, 1, 10)
    assert not dialog.is_dirty()
    # The warning is on the case itself (header), not only in the tab.
    assert "sans saisine de la CCAPEX" in dialog.header.text()
    # The debt in the header: one figure, with its origin and date.
    assert "650,25" in dialog.header.text() and "saisie au dossier" in dialog.header.text()
    if SHOTS:
        qtbot.wait(50)
        dialog.grab().save(os.path.join(SHOTS, "economics_1024.png"))


@pytest.mark.parametrize("field, text, expected", [
    ("rent_cents", "4a0", "n'est pas un montant valide"),
    ("resources_cents", "-12", "ne peut pas être négatif"),
    ("charges_cents", "200 000", "dépasse 100 000 €"),
    ("assignation_on", "31/02/2027", "n'existe pas dans le calendrier"),
    ("jugement_on", "05/01/2027", "ne peut pas être dans le futur"),
    ("commandement_payer_on", "01/03/2027", "ne peut pas précéder"),
])
def test_bad_input_is_refused_in_french_and_nothing_is_lost(qtbot, ctx, make_case, field, text, expected):
    case_id = make_case()
    svc = CaseEconomicsService(ctx.db, ctx.actor)
    from cus_desk.services.case_economics import EconomicsInput

    svc.save(case_id, EconomicsInput(rent_cents=45000, assignation_on=date(2027, 1, 10),
                                     ccapex_referred_on=date(2026, 9, 1)), 0)
    before = svc.get(case_id)
    dialog = _open(qtbot, ctx, case_id)
    dialog.summary.setPlainText("Situation modifiée en même temps")  # the case form is dirty too
    _type(dialog.economics, **{field: text})
    assert not dialog.save()
    shown = dialog.economics.error_label
    assert shown.isVisible() and expected in shown.text(), shown.text()
    after = svc.get(case_id)
    assert after.input == before.input and after.version == before.version
    # The case form was not saved either: all or nothing.
    from cus_desk.services.cases import CaseService

    assert CaseService(ctx.db, ctx.actor).get(case_id, audit_read=False).summary != "Situation modifiée en même temps"
    assert dialog.is_dirty()  # what was typed is still there to correct


def test_summary_level_shows_no_resources(qtbot, db, actors, make_case):
    from cus_desk.services.case_economics import EconomicsInput
    from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting

    case_id = make_case()
    CaseEconomicsService(db, actors["adviser_metz"]).save(
        case_id, EconomicsInput(rent_cents=45000, resources_cents=123456, housing_aid_cents=20000,
                                housing_aid_kind="al", assignation_on=date(2027, 1, 10)), 0)
    with db.write_session() as session:
        meeting = Meeting(year=2026, number=3, held_on=TODAY, status="preparee")
        meeting.attendees = [Attendee(user_id=actors["cas_member"].user_id, name="Serge", function="autre")]
        meeting.agenda_items = [AgendaItem(case_id=case_id, position=1, proposal="")]
        session.add(meeting)
    dialog = _open(qtbot, AppContext(db=db, actor=actors["cas_member"]), case_id)
    panel = dialog.economics
    assert set(panel.amounts) == {"rent_cents", "charges_cents"}
    assert not panel.save_button.isVisibleTo(panel)
    # Spaces of every kind made plain: an amount is found whatever its separator.
    texts = " ".join(w.text() for w in dialog.findChildren(QLabel)).replace("\u202f", " ").replace("\xa0", " ")
    assert "1 234,56" not in texts and "200,00" not in texts
    assert "réservés à la conseillère" in texts
    assert "sans saisine de la CCAPEX" in panel.warning.text()  # the commission needs it
    if SHOTS:
        qtbot.wait(50)
        dialog.grab().save(os.path.join(SHOTS, "economics_summary.png"))
