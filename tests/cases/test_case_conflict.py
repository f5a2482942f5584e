"""Issue 14: two people on one case file. The second learns who saved and
when, sees the difference field by field, then merges or overwrites
deliberately (audited); « Revenir au dossier » never loops into the same
dead end, and nothing is overwritten silently."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import ConflictError, ValidationError
from cus_desk.services.case_conflict import CaseConflictService
from cus_desk.services.cases import CaseService
from cus_desk.store.models.core import AuditEvent
from cus_desk.ui.context import AppContext


def _input(svc: CaseService, case_id: int):
    from cus_desk.services.case_conflict import _stored_input

    return _stored_input(svc.get(case_id, audit_read=False))


def _two_saves(db, actors, make_case):
    """Camille (adviser) and Sophie (pôle social) open version 1; Sophie saves first."""
    case_id = make_case()
    camille, sophie = CaseService(db, actors["adviser_metz"]), CaseService(db, actors["social_head"])
    seen = camille.get(case_id, audit_read=False)
    mine = replace(_input(camille, case_id), summary="Bilan de Camille", fsl_number="FSL-CAMILLE",
                   arrears_cents=120_000)
    theirs = replace(_input(sophie, case_id), summary="Bilan de Sophie", caf_number="CAF-SOPHIE")
    sophie.save_case_file(case_id, theirs, seen.version)
    with pytest.raises(ConflictError):
        camille.save_case_file(case_id, mine, seen.version)
    return case_id, mine


def test_the_conflict_says_who_when_and_what_differs(db, actors, make_case, clock):
    case_id, mine = _two_saves(db, actors, make_case)
    conflict = CaseConflictService(db, actors["adviser_metz"]).conflict(case_id, mine)
    assert conflict.saved_by == "Sophie Responsable"  # a name, not the login
    assert conflict.saved_at == clock.now()
    rows = {d.key: (d.label, d.mine, d.theirs) for d in conflict.differences}
    assert rows["summary"] == ("Situation", "Bilan de Camille", "Bilan de Sophie")
    assert rows["fsl_number"] == ("N° dossier FSL", "FSL-CAMILLE", "—")
    assert rows["caf_number"] == ("N° allocataire CAF", "—", "CAF-SOPHIE")
    assert rows["arrears_cents"][1] == "1\u00a0200,00\u00a0€"
    assert "problems" not in rows  # the same on both sides


def test_a_merge_keeps_the_ticked_fields_of_mine_and_theirs_for_the_rest(db, actors, make_case):
    case_id, mine = _two_saves(db, actors, make_case)
    svc = CaseConflictService(db, actors["adviser_metz"])
    conflict = svc.conflict(case_id, mine)
    svc.resolve(conflict, mine, keep_mine={"fsl_number", "arrears_cents"})
    stored = svc.get(case_id, audit_read=False)
    assert (stored.summary, stored.caf_number, stored.fsl_number, stored.arrears_cents) == (
        "Bilan de Sophie", "CAF-SOPHIE", "FSL-CAMILLE", 120_000)
    with db.read_session() as s:
        last = s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                         .order_by(AuditEvent.id.desc())).first()
    details = json.loads(last.details_json)
    assert details["conflit"] == "fusion" and details["version_remplacee"] == conflict.version
    assert last.user_login == "cs.metz"


def test_an_overwrite_is_deliberate_and_audited(db, actors, make_case):
    case_id, mine = _two_saves(db, actors, make_case)
    svc = CaseConflictService(db, actors["adviser_metz"])
    svc.resolve(svc.conflict(case_id, mine), mine, keep_mine=None)
    stored = svc.get(case_id, audit_read=False)
    assert (stored.summary, stored.caf_number, stored.fsl_number) == ("Bilan de Camille", None, "FSL-CAMILLE")
    history = " ".join(h.text for h in stored.history)
    assert "Conflit d'enregistrement résolu : écrasement" in history
    assert "Bilan" not in history  # the content of a confidential field never enters the trail


def test_a_third_save_meanwhile_is_a_new_conflict_and_nothing_is_lost(db, actors, make_case):
    case_id, mine = _two_saves(db, actors, make_case)
    camille = CaseConflictService(db, actors["adviser_metz"])
    conflict = camille.conflict(case_id, mine)
    sophie = CaseService(db, actors["social_head"])
    again = replace(_input(sophie, case_id), summary="Bilan de Sophie, revu")
    sophie.save_case_file(case_id, again, conflict.version)
    with pytest.raises(ConflictError):
        camille.resolve(conflict, mine, keep_mine=None)
    assert camille.get(case_id, audit_read=False).summary == "Bilan de Sophie, revu"


def test_choosing_a_field_that_does_not_differ_is_refused(db, actors, make_case):
    case_id, mine = _two_saves(db, actors, make_case)
    svc = CaseConflictService(db, actors["adviser_metz"])
    conflict = svc.conflict(case_id, mine)
    with pytest.raises(ValidationError, match="parmi les champs qui diffèrent"):
        svc.resolve(conflict, mine, keep_mine={"problems"})
    assert svc.get(case_id, audit_read=False).summary == "Bilan de Sophie"


@pytest.mark.gui
@pytest.mark.parametrize("choice", ["cancel_then_merge", "overwrite"])
def test_the_second_window_merges_or_overwrites(qtbot, db, actors, make_case, monkeypatch, choice):
    from cus_desk.ui.cases import conflict_dialog
    from cus_desk.ui.cases.case_dialog import CaseDialog

    case_id = make_case()
    first = CaseDialog(AppContext(db, actors["social_head"]), case_id)
    second = CaseDialog(AppContext(db, actors["adviser_metz"]), case_id)
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    first.summary.setPlainText("Bilan de Sophie")
    assert first.save()
    second.summary.setPlainText("Bilan de Camille")
    second.fsl.setText("FSL-CAMILLE")
    shown: list = []

    def answer(answers):
        def fake_exec(dialog):
            shown.append(dialog)
            what = answers.pop(0)
            if what == "cancel":
                dialog.cancel_button.click()
                return 0
            if what == "merge":  # keep my FSL number only
                for row in range(dialog.table.rowCount()):
                    item = dialog.table.item(row, 1)
                    if item.data(0x0100) != "fsl_number":
                        item.setCheckState(conflict_dialog.Qt.CheckState.Unchecked)
                dialog.merge_button.click()
            else:
                dialog.overwrite_button.click()
            return 1
        return fake_exec

    answers = ["cancel", "merge"] if choice == "cancel_then_merge" else ["overwrite"]
    monkeypatch.setattr(conflict_dialog.ConflictDialog, "exec", answer(answers))
    if choice == "cancel_then_merge":
        assert not second.save()  # back to the form, the input intact
        assert second.summary.toPlainText() == "Bilan de Camille"
    assert second.save()  # no endless conflict: a deliberate resolution
    dialog = shown[-1]
    assert "Sophie Responsable" in dialog.summary.text() and "28/11/2026 à 10:00" in dialog.summary.text()
    labels = {dialog.table.item(r, 0).text(): (dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text())
              for r in range(dialog.table.rowCount())}
    assert labels["Situation"] == ("Bilan de Camille", "Bilan de Sophie")
    stored = CaseService(db, actors["adviser_metz"]).get(case_id, audit_read=False)
    expected = "Bilan de Sophie" if choice == "cancel_then_merge" else "Bilan de Camille"
    assert (stored.summary, stored.fsl_number) == (expected, "FSL-CAMILLE")
    assert second.summary.toPlainText() == expected  # the form shows what is stored
    assert not second.is_dirty()


def test_household_changes_on_both_sides_are_not_merged_silently(db, actors, make_case):
    from cus_desk.services.cases import HouseholdInput, MemberInput

    case_id = make_case()
    camille = CaseConflictService(db, actors["adviser_metz"])
    sophie = CaseService(db, actors["social_head"])
    seen = camille.get(case_id, audit_read=False)
    members = [MemberInput(m.last_name, m.first_name, m.birth_date, m.relationship_kind) for m in seen.household.members]
    sophie.save_case_file(case_id, replace(_input(sophie, case_id), summary="Bilan de Sophie"), seen.version,
                          HouseholdInput(members, "03 87 11 11 11"), seen.household.version)
    mine = replace(_input(camille, case_id), summary="Bilan de Camille")
    conflict = camille.conflict(case_id, mine)
    with pytest.raises(ConflictError, match="composition du ménage a aussi été modifiée par Sophie"):
        camille.resolve(conflict, mine, None, HouseholdInput(members, "03 87 22 22 22"), seen.household.version)
    stored = camille.get(case_id, audit_read=False)
    assert (stored.summary, stored.household.phone) == ("Bilan de Sophie", "03 87 11 11 11")
