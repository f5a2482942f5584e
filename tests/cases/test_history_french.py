"""Issue 14: the « Historique » tab in French for a conseillère (labels,
statuses, dd/mm/yyyy dates, names rather than logins), and a visible,
accessible confirmation after « Enregistrer »."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from cus_desk.domain.history import describe
from cus_desk.services.cases import CaseService
from cus_desk.ui.context import AppContext

RAW = ("confidential_note", "a_presenter", "ouvert →", "cs.metz", "pole.social", "_cents", "_on", "_id")


def test_describe_reads_like_french():
    assert describe("case", {"status": ["ouvert", "a_presenter"]}) == "Statut : Ouvert → À présenter en CAS"
    assert describe("case", {"last_payment_on": [None, "2026-10-20"], "arrears_cents": [0, 65_025]}) == (
        "Dernier paiement : 20/10/2026 ; Dette au dossier : 0,00\u00a0€ → 650,25\u00a0€")
    assert describe("case", {"summary": "(modifié — contenu confidentiel)"}) == (
        "Situation : modifié (contenu confidentiel)")
    assert describe("referral", {"partner_id": 4, "sent_on": "2026-11-02", "status": "envoyee"}) == (
        "Envoyée le : 02/11/2026 ; Statut : Envoyée")
    assert describe("case", {"adviser_id": [1, 2]}, {1: "Camille", 2: "Nadia"}) == "Conseillère : Camille → Nadia"


@pytest.mark.gui
def test_the_history_tab_speaks_french_with_names(qtbot, db, actors, make_case, svc):
    from cus_desk.ui.cases.case_dialog import CaseDialog

    case_id = make_case()
    head = svc("social_head")
    detail = head.get(case_id, audit_read=False)
    version = head.change_status(case_id, "a_presenter", detail.version)
    head.add_confidential_note(case_id, "sante", "Suivi psychiatrique", date(2026, 11, 2), "ecrit_signe")
    from cus_desk.services.case_conflict import _stored_input

    head.save_case_file(case_id, replace(_stored_input(head.get(case_id, audit_read=False)),
                                         last_payment_on=date(2026, 10, 20)), version)
    dialog = CaseDialog(AppContext(db, actors["adviser_metz"]), case_id)
    qtbot.addWidget(dialog)
    model = dialog.history_model
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    text = " | ".join(" ; ".join(str(v) for v in row) for row in rows)
    for raw in RAW:
        assert raw not in text, (raw, text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
    assert "Statut : Ouvert → À présenter en CAS" in text
    assert "Note confidentielle" in text and "Suivi psychiatrique" not in text
    assert "Dernier paiement : 20/10/2026" in text
    assert "Sophie Responsable" in text and "Camille Conseillère" in text
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Par"


@pytest.mark.gui
def test_saving_shows_a_confirmation(qtbot, db, actors, make_case):
    from cus_desk.ui.cases.case_dialog import CaseDialog

    window = QMainWindow()
    qtbot.addWidget(window)
    dialog = CaseDialog(AppContext(db, actors["adviser_metz"]), make_case(), window)
    dialog.summary.setPlainText("Nouvelle situation")
    assert dialog.saved_label.text() == ""
    assert dialog.save()
    assert dialog.saved_label.text().startswith("Dossier CAS-") and "enregistré à 10:00" in dialog.saved_label.text()
    assert dialog.saved_label.accessibleName() == "Confirmation d'enregistrement"
    assert dialog.saved_label.accessibleDescription() == dialog.saved_label.text()
    assert window.statusBar().currentMessage() == dialog.saved_label.text()
    dialog.arrears.setText("douze euros")  # a refused save confirms nothing new
    dialog.saved_label.setText("")
    assert not dialog.save()
    assert dialog.saved_label.text() == ""
    assert CaseService(db, actors["adviser_metz"]).get(dialog.case_id, audit_read=False).summary == "Nouvelle situation"


@pytest.mark.parametrize("entity,details,expected", [
    ("decision", {"seance": 4, "type": "saisine_fsl", "responsable": "CS Metz", "echeance": "2027-01-31"},
     "Type de décision : Saisine du FSL ; Responsable : CS Metz ; Échéance : 31/01/2027"),
    ("case", {"element": "note:17", "operation": "affiché", "seance": 4},
     "Élément : Note réservée ; Opération : affiché"),
    ("agenda_item", {"ordre_du_jour": ["", "CAS-2026-0042"]}, "Ordre du jour : CAS-2026-0042"),
    ("decision", {"suivi": "commentaire"}, "Suivi : commentaire ajouté"),
    ("journal_entry", {"kind": "entretien", "occurred_on": "2026-11-02", "corrects_id": None, "length": 80},
     "Type : Entretien ; Date : 02/11/2026"),
])
def test_meeting_and_journal_events_read_like_french(entity, details, expected):
    assert describe(entity, details) == expected
