"""The case screens with real widgets (pytest-qt), a real SQLite file."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication
from sqlalchemy import func, select

from cus_desk.services.cases import CaseService
from cus_desk.store.models.cases import Case, ConfidentialNote, JournalEntry
from cus_desk.store.models.core import Tenant
from cus_desk.ui.cases import open_case
from cus_desk.ui.cases.case_dialog import CaseDialog
from cus_desk.ui.cases.new_case import NewCaseDialog
from cus_desk.ui.cases.screen import CasesScreen
from cus_desk.ui.context import AppContext

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(db, actors):
    return AppContext(db=db, actor=actors["adviser_metz"])


def answer_next_box(*button_texts: str, seen: list | None = None, prepare=None) -> None:
    """Click the given buttons, in order, in the next modal boxes (message
    boxes and dialogs block in exec()). ``seen`` collects their texts;
    ``prepare(box)`` may fill a dialog before its button is clicked."""
    queue = list(button_texts)
    state = {"last": None, "tries": 0}

    def handler():
        box = QApplication.activeModalWidget()
        if box is None or box is state["last"]:
            state["tries"] += 1
            if state["tries"] < 500:
                QTimer.singleShot(10, handler)
            return
        state["last"], state["tries"] = box, 0
        if seen is not None:
            seen.append(box.text() if hasattr(box, "text") else box.windowTitle())
        if prepare is not None:
            prepare(box)
        wanted = queue.pop(0)
        for button in box.findChildren(QAbstractButton):
            if button.text().replace("&", "") == wanted:
                button.click()
                break
        else:
            box.close()
            raise AssertionError(f"no button {wanted!r} in {box!r}")
        if queue:
            QTimer.singleShot(10, handler)

    QTimer.singleShot(0, handler)


def type_text(qtbot, widget, text: str) -> None:
    """Type like a user. QTest only synthesises ASCII key events; other
    characters (é, Ю...) arrive as text input, as from an input method."""
    for ch in text:
        if ch.isascii():
            qtbot.keyClicks(widget, ch)
        elif hasattr(widget, "insert"):
            widget.insert(ch)
        else:
            widget.insertPlainText(ch)


def count_cases(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Case))


def type_new_case(qtbot, dialog: NewCaseDialog, *, contract="57-000999-01", last="MARTIN", first="Zoé",
                  birth="12/04/1988"):
    type_text(qtbot, dialog.contract, contract)
    dialog.lookup()
    type_text(qtbot, dialog.commune, "Woippy")
    type_text(qtbot, dialog.address, "3 rue des Mésanges")
    type_text(qtbot, dialog.start, "01/09/2019")
    last_edit, first_edit, birth_edit, _link, _rm = dialog.members.rows[0]
    type_text(qtbot, last_edit, last)
    type_text(qtbot, first_edit, first)
    type_text(qtbot, birth_edit, birth)
    type_text(qtbot, dialog.phone, "03 87 11 22 33")
    dialog.problem_boxes["impaye_loyer"].setChecked(True)
    dialog.problem_boxes["isolement"].setChecked(True)
    type_text(qtbot, dialog.summary, "Dette depuis la séparation.")
    type_text(qtbot, dialog.arrears, "1 234,56")
    type_text(qtbot, dialog.months, "4")


def test_create_case_by_typing_then_find_it(qtbot, db, ctx):
    dialog = NewCaseDialog(ctx)
    qtbot.addWidget(dialog)
    type_new_case(qtbot, dialog)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == NewCaseDialog.DialogCode.Accepted
    detail = CaseService(db, ctx.actor).get(dialog.created_id)
    assert detail.holder_name == "MARTIN Zoé"
    assert detail.arrears_cents == 123456 and detail.arrears_months == 4
    assert detail.problems == ("impaye_loyer", "isolement")
    assert detail.lease.contract_number == "57-000999-01" and detail.lease.start_date == date(2019, 9, 1)
    assert detail.household.members[0].birth_date == date(1988, 4, 12)

    screen = CasesScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    assert screen.model.rowCount() == 1
    screen.focus_search()
    type_text(qtbot, screen.search, "zoe mart")  # accents folded, several words
    assert screen.model.rowCount() == 1
    assert screen.model.index(0, 1).data() == "MARTIN Zoé"
    assert screen.model.index(0, 8).data() == "1\u00a0234,56\u00a0€"
    screen.search.clear()
    type_text(qtbot, screen.search, "inconnu")
    assert screen.model.rowCount() == 0
    assert "Aucun dossier ne correspond" in screen.empty_label.text()
    screen.search.clear()
    type_text(qtbot, screen.search, "CAS-2026")
    assert screen.model.rowCount() == 1
    # Enter opens the case file.
    screen.view.setFocus()
    qtbot.keyClick(screen.view, Qt.Key.Key_Return)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, CaseDialog) and w.isVisible()]
    assert dialogs and dialogs[0].detail.id == dialog.created_id
    dialogs[0].close()


@pytest.mark.parametrize("field_fill,expected_field,message", [
    ({"last": ""}, "members.0.last_name", "obligatoire"),
    ({"last": "Dupont 2"}, "members.0.last_name", "lettres"),
    ({"birth": "12/04/2099"}, "members.0.birth_date", "futur"),
    ({"birth": "31/02/1980"}, "members.0.birth_date", "calendrier"),
    ({"contract": ""}, "contract_number", "obligatoire"),
])
def test_invalid_new_case_form_saves_nothing(qtbot, db, ctx, field_fill, expected_field, message):
    dialog = NewCaseDialog(ctx)
    qtbot.addWidget(dialog)
    type_new_case(qtbot, dialog, **field_fill)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.created_id is None and not dialog.result()
    assert message in dialog.error_label.text()
    assert dialog.errors.widgets[expected_field].styleSheet()  # marked in red
    assert count_cases(db) == 0


def test_negative_arrears_and_long_text_refused(qtbot, db, ctx):
    dialog = NewCaseDialog(ctx)
    qtbot.addWidget(dialog)
    type_new_case(qtbot, dialog)
    dialog.arrears.setText("-12,00")
    dialog.create()
    assert "négatif" in dialog.error_label.text()
    dialog.arrears.setText("12,00")
    dialog.summary.setPlainText("x" * 10_000)
    dialog.create()
    assert "trop long" in dialog.error_label.text()
    assert count_cases(db) == 0
    dialog.summary.setPlainText("Court")
    type_text(qtbot, dialog.members.rows[0][0], "")  # unchanged
    dialog.members.rows[0][0].setText("Ющенко")
    dialog.create()
    assert dialog.created_id is not None
    with db.read_session() as session:
        assert session.scalar(select(Tenant.last_name)) == "Ющенко"


def test_existing_lease_is_reused(qtbot, db, ctx, make_case):
    make_case(contract="57-111111-01", last_name="PETIT", first_name="Anne")
    with db.write_session() as session:
        session.scalar(select(Case)).status = "clos"
    dialog = NewCaseDialog(ctx)
    qtbot.addWidget(dialog)
    type_text(qtbot, dialog.contract, "57-111111-01")
    dialog.lookup()
    assert "PETIT Anne" in dialog.lookup_label.text()
    assert not dialog.household_box.isEnabled()
    dialog.problem_boxes["trouble_voisinage"].setChecked(True)
    dialog.create()
    assert dialog.created_id is not None
    assert CaseService(db, ctx.actor).get(dialog.created_id).holder_name == "PETIT Anne"


def test_journal_and_referral_through_case_window(qtbot, db, ctx, make_case, partner_id):
    case_id = make_case()
    dialog = open_case(None, ctx, case_id)  # deletes itself on close
    assert dialog.windowTitle() == "Dossier CAS-2026-0001"
    assert "DUPONT Hélène" in dialog.header.text()
    # Journal entry
    dialog.tabs.setCurrentIndex(1)
    dialog.journal_kind.setCurrentIndex(dialog.journal_kind.findData("visite_domicile"))
    dialog.journal_date.clear()
    type_text(qtbot, dialog.journal_date, "25/11/2026")
    type_text(qtbot, dialog.journal_input, "Visite : logement en bon état, famille présente.")
    assert dialog.journal_subject.currentData() is None  # the household, unless a member is chosen
    dialog.journal_subject.setCurrentIndex(1)
    qtbot.mouseClick(dialog.journal_add, Qt.MouseButton.LeftButton)
    assert dialog.journal_model.rowCount() == 1
    with db.read_session() as s:
        assert s.scalar(select(JournalEntry.subject_tenant_id)) == dialog.detail.household.members[0].id
    assert dialog.journal_model.index(0, 1).data() == "Visite à domicile"
    assert dialog.journal_model.index(0, 0).data() == "25/11/2026"
    # Bad journal input: empty text, nothing stored.
    qtbot.mouseClick(dialog.journal_add, Qt.MouseButton.LeftButton)
    assert "obligatoire" in dialog.journal_error.text()
    # Correction: new entry, original kept.
    dialog.journal_view.selectRow(0)
    dialog.start_correction()
    dialog.journal_input.setPlainText("Visite : logement encombré, famille présente.")
    dialog.add_journal_entry()
    assert dialog.journal_model.rowCount() == 2
    texts = [dialog.journal_model.index(r, 3).data() for r in range(2)]
    assert any(t.startswith("[corrigée]") for t in texts) and any(t.startswith("[correction]") for t in texts)
    # Referral
    dialog.tabs.setCurrentIndex(2)
    qtbot.mouseClick(dialog.referral_add, Qt.MouseButton.LeftButton)
    assert "structure partenaire" in dialog.referral_error.text()
    dialog.partner.setCurrentIndex(dialog.partner.findData(partner_id))
    type_text(qtbot, dialog.referral_reason, "Accompagnement budgétaire")
    qtbot.mouseClick(dialog.referral_add, Qt.MouseButton.LeftButton)
    assert dialog.referral_model.rowCount() == 1
    assert dialog.referral_model.index(0, 3).data() == "Envoyée"
    # Close it without a result: refused inline.
    dialog.referral_view.selectRow(0)
    dialog.referral_status.setCurrentIndex(dialog.referral_status.findData("cloturee"))
    dialog.update_referral()
    assert "résultat" in dialog.referral_error.text()
    dialog.referral_result.setCurrentIndex(dialog.referral_result.findData("aboutie"))
    dialog.update_referral()
    assert dialog.referral_model.index(0, 3).data() == "Clôturée"
    assert dialog.referral_model.index(0, 4).data() == "Aboutie"
    # The referral also went to the journal, and the history shows the changes.
    assert dialog.journal_model.rowCount() == 3
    assert dialog.history_model.rowCount() >= 5
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 3
    dialog.close()


def test_save_situation_and_conflict_between_two_windows(qtbot, db, ctx, make_case):
    case_id = make_case()
    first = CaseDialog(ctx, case_id)
    second = CaseDialog(ctx, case_id)
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    first.summary.setPlainText("Version de la première fenêtre")
    first.fsl.setText("FSL-2026-42")
    assert first.is_dirty()
    assert first.save()
    assert not first.is_dirty()
    second.summary.setPlainText("Version de la seconde fenêtre")
    answer_next_box("Recharger la version enregistrée")
    assert not second.save()
    # Reloaded: shows the stored version, nothing overwritten.
    assert second.summary.toPlainText() == "Version de la première fenêtre"
    assert CaseService(db, ctx.actor).get(case_id).summary == "Version de la première fenêtre"
    assert second.fsl.text() == "FSL-2026-42"


def test_invalid_situation_saves_nothing(qtbot, db, ctx, make_case):
    case_id = make_case()
    dialog = CaseDialog(ctx, case_id)
    qtbot.addWidget(dialog)
    dialog.summary.setPlainText("Nouvelle situation")
    dialog.members.rows[0][2].setText("01/01/2090")  # household: birth date in the future
    assert not dialog.save()
    assert "futur" in dialog.situation_error.text()
    assert CaseService(db, ctx.actor).get(case_id).summary == ""  # case form not saved either
    dialog.members.rows[0][2].setText("01/01/1990")
    dialog.arrears.setText("douze euros")
    dialog.tabs.setCurrentIndex(1)  # Ctrl+S pressed while reading the journal
    assert not dialog.save()
    assert "montant" in dialog.situation_error.text()
    assert dialog.tabs.currentIndex() == 0  # brought back to the field at fault
    assert dialog.arrears.styleSheet()  # marked
    dialog.arrears.setText("12")
    assert dialog.save()
    assert CaseService(db, ctx.actor).get(case_id).arrears_cents == 1200


def test_escape_asks_before_discarding(qtbot, db, ctx, make_case):
    dialog = CaseDialog(ctx, make_case())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.summary.setPlainText("non enregistré")
    answer_next_box("Non")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    answer_next_box("Oui")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_status_change_and_judicial_refusal(qtbot, db, ctx, make_case):
    from cus_desk.ui.cases.case_dialog import StatusDialog

    dialog = CaseDialog(ctx, make_case())
    qtbot.addWidget(dialog)

    def choose(target):
        def prepare(box):
            assert isinstance(box, StatusDialog)
            box.status.setCurrentIndex(box.status.findData(target))
        return prepare

    answer_next_box("Valider", prepare=choose("a_presenter"))
    dialog.change_status()
    assert dialog.detail.status == "a_presenter"
    assert "À présenter en CAS" in dialog.header.text()
    # Closing without a reason: the French message, status unchanged.
    seen = []
    answer_next_box("Valider", "OK", seen=seen, prepare=lambda box: (
        box.status.setCurrentIndex(box.status.findData("clos")) if isinstance(box, StatusDialog) else None))
    dialog.change_status()
    assert any("motif de clôture" in t for t in seen)
    assert dialog.detail.status == "a_presenter"
    # The judicial step without a CAS decision is refused.
    seen = []
    answer_next_box("Oui", "OK", seen=seen)
    dialog.request_judicial()
    assert any("aucune décision de la CAS" in t for t in seen)
    assert dialog.detail.judicial_requested_on is None


def test_summary_access_for_cas_member(qtbot, db, actors, make_case):
    from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting

    case_id = make_case()
    CaseService(db, actors["adviser_metz"]).add_confidential_note(case_id, "violences", "Main courante", None, None)
    with db.write_session() as session:
        meeting = Meeting(year=2026, number=3, held_on=date(2026, 11, 28), status="preparee")
        meeting.attendees = [Attendee(user_id=actors["cas_member"].user_id, name="Serge", function="autre")]
        meeting.agenda_items = [AgendaItem(case_id=case_id, position=1, proposal="")]
        session.add(meeting)
    ctx = AppContext(db=db, actor=actors["cas_member"])
    dialog = CaseDialog(ctx, case_id)
    qtbot.addWidget(dialog)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert not any("confidentielles" in t for t in tabs)
    assert not any("Historique" in t for t in tabs)
    assert not dialog.save_button.isVisibleTo(dialog)
    assert not dialog.summary.isEnabled()
    assert "Main courante" not in " ".join(
        w.text() for w in dialog.findChildren(type(dialog.header)))
    # Someone without access gets a French message, no window.
    other = AppContext(db=db, actor=actors["adviser_forbach"])
    answer_next_box("OK")
    assert open_case(None, other, case_id) is None


def test_list_model_is_lazy_and_sorted_in_sql(qtbot, qtmodeltester, db, ctx):
    from cus_desk.store.models.core import Household, Lease

    with db.write_session() as session:
        metz = ctx.actor.agency_id
        for i in range(450):
            hh = Household(agency_id=metz, version=1)
            hh.members = [Tenant(last_name=f"NOM{i:04d}", first_name="Test", position=0)]
            session.add(hh)
            session.flush()
            lease = Lease(contract_number=f"57-{i:06d}-01", household_id=hh.id, agency_id=metz,
                          commune="Metz", version=1)
            session.add(lease)
            session.flush()
            session.add(Case(reference=f"CAS-2025-{i + 1:04d}", year=2025, sequence=i + 1, household_id=hh.id,
                             lease_id=lease.id, agency_id=metz, status="ouvert", opened_on=date(2025, 1, 1),
                             summary="", version=1, arrears_cents=i * 100))
    screen = CasesScreen(ctx)
    qtbot.addWidget(screen)
    model = screen.model
    assert model.rowCount() == 200 and model.canFetchMore()
    assert model.index(0, 0).data() == "CAS-2025-0450"  # newest first
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 450 and not model.canFetchMore()
    # Qt's model checker, on a model of its own (no view reacting in between).
    from cus_desk.ui.cases.models import CaseListModel

    # (last: pytest-qt's checker re-runs on each reset and fetches more
    # rows while the reset is still in flight, which it then reports.)
    checked = CaseListModel(CaseService(db, ctx.actor))
    checked.sort(1, Qt.SortOrder.AscendingOrder)
    checked.set_search("NOM04")
    assert checked.rowCount() == 50
    checked.set_search("")
    qtmodeltester.check(checked, force_py=True)
    assert checked.rowCount() == 450  # the checker fetched everything
    model.sort(8, Qt.SortOrder.DescendingOrder)  # arrears
    assert model.rowCount() == 200
    assert model.index(0, 1).data() == "NOM0449 Test"
    model.sort(3)  # commune: not sortable, ignored
    assert model.sort_key == "arrears_cents"
    qtbot.waitUntil(lambda: screen.count_label.text().startswith("450 dossiers"), timeout=5000)
    screen.overdue.setChecked(True)
    assert model.rowCount() == 0


def test_shortcuts_in_main_window(qtbot, db, ctx, make_case):
    """Ctrl+F focuses the search box, Ctrl+N opens the new-case form (Esc on
    an untouched form closes it), Enter opens the selected case."""
    from cus_desk.ui.main_window import MainWindow

    make_case()
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(ctx)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)
    win.show_screen("cases")
    screen = win.stack.currentWidget()
    assert isinstance(screen, CasesScreen)
    screen.view.setFocus()
    qtbot.keyClick(win, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.search, timeout=3000)
    seen = []
    answer_next_box("Annuler", seen=seen)
    qtbot.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert seen == ["Nouveau dossier CAS"]
    assert count_cases(db) == 1


def test_confidential_note_needs_consent_in_form(qtbot, db, ctx, make_case):
    dialog = CaseDialog(ctx, make_case())
    qtbot.addWidget(dialog)
    index = next(i for i in range(dialog.tabs.count()) if "confidentielles" in dialog.tabs.tabText(i))
    dialog.tabs.setCurrentIndex(index)
    dialog.note_category.setCurrentIndex(dialog.note_category.findData("sante"))
    type_text(qtbot, dialog.note_text, "Suivi au CMP")
    qtbot.mouseClick(dialog.note_add, Qt.MouseButton.LeftButton)
    assert "consentement" in dialog.note_error.text()
    assert dialog.notes_model.rowCount() == 0
    type_text(qtbot, dialog.consent_date, "02/11/2026")
    dialog.consent_method.setCurrentIndex(dialog.consent_method.findData("ecrit_signe"))
    # the note names the member it is about (right of access, #11)
    assert dialog.note_subject.currentData() is None and dialog.note_subject.count() == 2
    dialog.note_subject.setCurrentIndex(1)
    qtbot.mouseClick(dialog.note_add, Qt.MouseButton.LeftButton)
    assert dialog.notes_model.rowCount() == 1
    assert dialog.notes_model.index(0, 3).data().startswith("02/11/2026")
    with db.read_session() as s:
        note = s.scalar(select(ConfidentialNote))
        assert note.subject_tenant_id == dialog.detail.household.members[0].id


def test_repayment_plan_through_case_window(qtbot, db, ctx, make_case):
    dialog = CaseDialog(ctx, make_case())
    qtbot.addWidget(dialog)
    index = next(i for i in range(dialog.tabs.count()) if "apurement" in dialog.tabs.tabText(i))
    dialog.tabs.setCurrentIndex(index)
    type_text(qtbot, dialog.plan_date, "01/11/2026")
    type_text(qtbot, dialog.plan_amount, "-50")
    qtbot.mouseClick(dialog.plan_add, Qt.MouseButton.LeftButton)
    assert "positif" in dialog.plan_error.text()
    dialog.plan_amount.setText("75,50")
    type_text(qtbot, dialog.plan_months, "12")
    qtbot.mouseClick(dialog.plan_add, Qt.MouseButton.LeftButton)
    assert dialog.plans_model.rowCount() == 1
    assert dialog.plans_model.index(0, 1).data() == "75,50\u00a0€"
    dialog.plans_view.selectRow(0)
    dialog.plan_status.setCurrentIndex(dialog.plan_status.findData("solde"))
    dialog.update_plan()
    assert dialog.plans_model.index(0, 3).data() == "Soldé"
