"""The commission on screen (issue 14): the member, proposal and decision
dialogs, and a full session driven through the real widgets — prepared
(members copied, the adjourned case on the agenda), presence recorded,
a decision refused without the quorum and recorded with it, closed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

from cus_desk.store.models.cases import Case, RepaymentPlan
from cus_desk.store.models.core import Referral
from cus_desk.store.models.meetings import Decision
from tests.meetings.conftest import prepared_meeting

pytestmark = pytest.mark.gui
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "issue14-cas"


def _shot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def _screen(qtbot, world, who="adviser_metz"):
    from cus_desk.ui.context import AppContext
    from cus_desk.ui.meetings.screen import MeetingsScreen

    widget = MeetingsScreen(AppContext(world.db, world.actors[who]))
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    return widget


# ----------------------------------------------------------------------------- dialogs


def test_member_dialog_leaves_presence_to_the_meeting_and_offers_the_outside_partners(qtbot, world):
    from cus_desk.ui.meetings.dialogs import AttendeeDialog

    candidates = world.service().attendee_candidates()
    dialog = AttendeeDialog(candidates)
    qtbot.addWidget(dialog)
    assert dialog.presence_combo.currentData() is None
    assert dialog.presence_combo.currentText().startswith("Non indiquée")
    functions = [dialog.function_combo.itemData(i) for i in range(dialog.function_combo.count())]
    assert {"president", "secretaire_seance", "partenaire_ccas_cms", "gestionnaire_contentieux"} <= set(functions)
    dialog.user_combo.setCurrentIndex(0)  # someone without an account
    dialog.name_edit.setText("Nadia CCAS")
    dialog.function_combo.setCurrentIndex(dialog.function_combo.findData("partenaire_ccas_cms"))
    dialog.presence_combo.setCurrentIndex(dialog.presence_combo.findData("excuse"))
    detail = prepared_meeting(world, "martin", attendees=False)
    added = world.service().add_attendee(detail.id, *dialog.values())
    assert (added.name, added.presence_label, added.voting) == ("Nadia CCAS", "Excusé(e)", False)


def test_proposals_dialog_shows_each_case_time_and_the_total_of_the_ticked_ones(qtbot, world):
    from cus_desk.ui.meetings.dialogs import ProposalsDialog

    detail = prepared_meeting(world)
    proposals = world.service("social_head").propose_agenda(detail.id)
    dialog = ProposalsDialog(proposals)
    qtbot.addWidget(dialog)
    assert all(dialog.list.item(i).text().endswith(" min") for i in range(dialog.list.count()))
    from cus_desk.domain.commission import format_duration

    total = sum(p.minutes for p in proposals)
    assert len(proposals) > 1 and total == 15 * len(proposals)
    assert dialog.total_label.text() == (f"Sélection : {len(proposals)} dossiers — durée estimée "
                                         f"{format_duration(total)}")
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert f"{len(proposals) - 1} dossier" in dialog.total_label.text()
    dialog.resize(720, 420)
    _shot(dialog, "proposals-dialog")


def test_grave_decision_needs_the_tick_and_the_effect_dialog_collects_the_plan(qtbot, world):
    from cus_desk.ui.meetings import decision_checks

    grave = decision_checks.GraveDecisionDialog("CAS-2026-9001", "Échec du plan et de la saisine FSL")
    qtbot.addWidget(grave)
    assert not grave.ok_button.isEnabled()
    qtbot.mouseClick(grave.confirm_check, Qt.MouseButton.LeftButton)
    assert grave.ok_button.isEnabled()
    grave.resize(560, 300)
    _shot(grave, "grave-decision-dialog")

    effect = decision_checks.EffectDialog("plan_apurement", [])
    qtbot.addWidget(effect)
    effect.monthly_spin.setValue(0)
    effect.create_button.click()
    assert "mensualité" in effect.error.text() and effect.result() != QDialog.DialogCode.Accepted
    effect.monthly_spin.setValue(80.5)
    effect.months_spin.setValue(10)
    effect.create_button.click()
    assert effect.result() == QDialog.DialogCode.Accepted
    request = effect.request()
    assert (request.monthly_cents, request.months) == (8_050, 10)
    partners = world.service().effect_partners(world.cases["martin"], "saisine_fsl")
    saisine = decision_checks.EffectDialog("saisine_fsl", partners)
    qtbot.addWidget(saisine)
    assert saisine.partner_combo.currentText().endswith("(suggéré)")
    saisine.resize(560, 240)
    _shot(saisine, "effect-dialog")


def test_the_seance_window_asks_before_a_grave_decision_and_creates_what_is_confirmed(qtbot, world, messages,
                                                                                   monkeypatch):
    from cus_desk.ui.meetings import decision_checks

    detail = prepared_meeting(world, "martin")
    world.service().start_meeting(detail.id)
    screen = _screen(qtbot, world)
    screen.toggle_meeting_mode()
    mode = screen.mode_window
    qtbot.waitExposed(mode)
    asked: list[str] = []

    def answer(dialog) -> bool:
        asked.append(type(dialog).__name__)
        if isinstance(dialog, decision_checks.GraveDecisionDialog):
            assert "aucun contact depuis six mois" in dialog.motivation.text()
            return False  # not confirmed: nothing recorded
        dialog.monthly_spin.setValue(80)
        dialog.months_spin.setValue(12)
        dialog.create_button.click()
        return dialog.result() == QDialog.DialogCode.Accepted

    monkeypatch.setattr(decision_checks, "run_modal", answer)
    mode.type_combo.setCurrentIndex(mode.type_combo.findData("demande_resiliation_judiciaire"))
    mode.text_edit.setPlainText("Impayés")
    mode.responsible_edit.setText("Service contentieux de l'agence")
    assert not mode.save_decision()
    assert "Motivez" in mode.form_error.text() and asked == []  # too short: asked nothing
    mode.text_edit.setPlainText("Échec du plan et de la saisine FSL, aucun contact depuis six mois.")
    assert not mode.save_decision() and asked == ["GraveDecisionDialog"]
    with world.db.read_session() as s:
        assert s.scalar(select(Decision.id)) is None
    mode.clear_form()
    mode.type_combo.setCurrentIndex(mode.type_combo.findData("plan_apurement"))
    mode.responsible_edit.setText("Service recouvrement de l'agence")
    assert mode.save_decision() and asked[-1] == "EffectDialog"
    with world.db.read_session() as s:
        d = s.scalar(select(Decision))
        plan = s.get(RepaymentPlan, d.repayment_plan_id)
        assert (plan.monthly_cents, plan.months, plan.case_id) == (8_000, 12, world.cases["martin"])
    mode.close()
    assert messages == [] or all("Ouvrir" in m for m in messages)


def test_decision_dialog_offers_the_responsibles_from_the_list(qtbot, world, messages, monkeypatch):
    from cus_desk.ui.meetings import dialogs

    detail = prepared_meeting(world, "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "Visite", "Pôle social")
    screen = _screen(qtbot, world)
    screen.inner.setCurrentIndex(1)
    screen.decisions_view.selectRow(0)
    adviser = f"user:{world.actors['adviser_metz'].user_id}"
    offered: list[str] = []

    def fake_exec(dialog):
        combo = dialog.responsible_combo
        offered.extend(combo.itemText(i) for i in range(combo.count()))
        assert combo.currentData() == "service:pole_social"  # the stored one is selected
        combo.setCurrentIndex(combo.findData(adviser))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.DecisionDialog, "exec", fake_exec)
    screen.edit_decision()
    assert "Pôle social — Service" in offered and any("Conseillère sociale" in o for o in offered)
    stored = svc.get_meeting(detail.id).decisions[0]
    assert stored.responsible_user_id == world.actors["adviser_metz"].user_id
    assert messages == []
    # « Mes décisions à suivre » in the follow-up tab
    screen.tabs.setCurrentWidget(screen.follow_up)
    screen.follow_up.show_mine()
    assert [d.id for d in screen.follow_up.model.rows()] == [stored.id]


# ----------------------------------------------------------------------------- a full session


def test_a_full_session_prepared_held_with_quorum_and_closed(qtbot, world, messages, monkeypatch):
    from cus_desk.ui.meetings import decision_checks, dialogs

    # October: Martin's case (never marked « à présenter ») is adjourned.
    with world.db.write_session() as s:
        s.get(Case, world.cases["martin"]).status = "ouvert"
    svc = world.service()
    october = prepared_meeting(world, "martin", held_on=date(2026, 10, 22))
    svc.start_meeting(october.id)
    svc.add_decision(october.id, world.cases["martin"], "ajournement", "Pièces manquantes", "")
    svc.close_meeting(october.id)

    screen = _screen(qtbot, world)

    def new_session(dialog):
        dialog.date_edit.setDate(QDate(2026, 11, 26))
        dialog.place_edit.setText("Siège, salle du conseil — Metz")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.MeetingDialog, "exec", new_session)
    screen.new_item()
    detail = screen.detail
    assert detail.meeting.label == "CAS n° 2/2026"
    # Members copied from October, presence not recorded yet.
    assert [a.name for a in detail.attendees] == [a.name for a in october.attendees]
    assert screen.attendees_model.rowCount() == 4
    assert {screen.attendees_model.index(r, 1).data() for r in range(4)} == {"Non indiquée"}
    assert "Quorum non atteint : 0 membre votant présent sur 3 requis" in screen.quorum_label.text()

    # « Proposer… »: the adjourned case first, with the time of each.
    totals: list[str] = []

    def propose(dialog):
        totals.append(dialog.total_label.text())
        assert "Ajourné le 22/10/2026 — à représenter" in dialog.list.item(0).text()
        for i in range(1, dialog.list.count()):
            dialog.list.item(i).setCheckState(Qt.CheckState.Unchecked)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.ProposalsDialog, "exec", propose)
    qtbot.mouseClick(screen.propose_button, Qt.MouseButton.LeftButton)
    assert "durée estimée" in totals[0]
    assert [a.case_id for a in screen.detail.agenda] == [world.cases["martin"]]

    # The session opens; presence is taken down the list by the buttons.
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert screen.detail.status == "en_cours"
    screen.attendees_view.selectRow(0)
    for button in (screen.present_button, screen.present_button, screen.absent_button, screen.excused_button):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    labels = [screen.attendees_model.index(r, 1).data() for r in range(4)]
    assert labels == ["Présent(e)", "Présent(e)", "Absent(e)", "Excusé(e)"]
    assert "Quorum non atteint : 2 membres votants présents sur 3 requis" in screen.quorum_label.text()
    _shot(screen, "preparation-quorum-not-reached-1366x768")
    screen.resize(1024, 768)  # an agency laptop / old projector: fits, presence in view
    assert screen.minimumSizeHint().width() <= 1024
    _shot(screen, "preparation-quorum-not-reached-1024x768")
    screen.resize(1366, 768)

    # A decision without the quorum: refused, with how many are present.
    monkeypatch.setattr(decision_checks, "run_modal", lambda dialog: False)
    screen.toggle_meeting_mode()
    mode = screen.mode_window
    qtbot.waitExposed(mode)
    mode.type_combo.setCurrentIndex(mode.type_combo.findData("visite_domicile"))
    mode.responsible_edit.setText("Pôle social")
    assert not mode.save_decision()
    assert "2 membres votants présents sur 3 requis" in messages[-1]
    mode.clear_form()
    mode.close()
    qtbot.waitUntil(lambda: screen.mode_window is None)

    # The latecomer arrives: quorum reached, the decision is recorded.
    screen.attendees_view.selectRow(2)
    qtbot.mouseClick(screen.present_button, Qt.MouseButton.LeftButton)
    assert "Quorum atteint : 3 membres votants présents sur 3 requis" in screen.quorum_label.text()
    screen.toggle_meeting_mode()
    mode = screen.mode_window
    qtbot.waitExposed(mode)
    mode.type_combo.setCurrentIndex(mode.type_combo.findData("visite_domicile"))
    mode.responsible_edit.setText("Pôle social")
    assert mode.save_decision()
    mode.close()
    qtbot.waitUntil(lambda: screen.mode_window is None)
    with world.db.read_session() as s:
        adjournment = s.scalar(select(Decision).where(Decision.type == "ajournement"))
        assert adjournment.status == "realisee"  # the adjourned case was examined again

    # Closing: the case follows the decision; the relevé lists the presence.
    screen.close_meeting(ask=False)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.status == "cloturee", timeout=15000)
    with world.db.read_session() as s:
        assert s.get(Case, world.cases["martin"]).status == "action_definie"
        assert s.scalar(select(Referral.id).where(Referral.case_id == world.cases["martin"])) is None
    assert not screen.present_button.isEnabled()
    _shot(screen, "session-closed-1366x768")


def test_an_effect_declined_at_the_session_can_be_created_later_from_the_decisions_tab(qtbot, world, messages,
                                                                                   monkeypatch):
    from cus_desk.ui.meetings import decision_checks

    detail = prepared_meeting(world, "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    alone = svc.add_decision(detail.id, world.cases["martin"], "orientation_partenaire", "", "Pôle social")
    svc.close_meeting(detail.id)  # confirmed with the partner after the session
    screen = _screen(qtbot, world)
    screen.inner.setCurrentIndex(1)
    screen.decisions_view.selectRow(0)
    assert screen.effect_button.isEnabled()
    chosen: list[str] = []

    def create(dialog) -> bool:
        chosen.append(dialog.partner_combo.currentText())
        dialog.create_button.click()
        return dialog.result() == QDialog.DialogCode.Accepted

    monkeypatch.setattr(decision_checks, "run_modal", create)
    qtbot.mouseClick(screen.effect_button, Qt.MouseButton.LeftButton)
    stored = svc.get_meeting(detail.id).decisions[0]
    assert stored.id == alone.id and stored.referral_id is not None and chosen
    screen.decisions_view.selectRow(0)
    qtbot.mouseClick(screen.effect_button, Qt.MouseButton.LeftButton)
    assert "déjà créé" in messages[-1]
