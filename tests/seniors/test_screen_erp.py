"""The seniors screen imports ERP exports as they are (#13): no mapping
dialog, the date read from the title lines, the agencies replaced said
before importing, warnings in the report, and "historique inconnu" in the
detail and in the signalement's motif."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QDialog

from cus_desk.store.models.core import Partner
from cus_desk.ui.seniors.dialogs import (
    ExtractDateDialog,
    ImportReportDialog,
    ObservationDialog,
    SignalementDialog,
)

from .erp_files import EXTRACT_NOV, ULIS_HEADERS, ULIS_ROWS, premhab_xlsx, ulis_csv
from .test_screen import click_ok, make_screen, messages  # noqa: F401 - fixture

pytestmark = pytest.mark.gui


def run_import(qtbot, screen, driver, path, seen):
    def check_date(dialog: ExtractDateDialog):
        seen["date"] = dialog.extract_date()
        seen["notice"] = dialog.replace_label.text()
        return click_ok(qtbot, dialog)

    def check_report(dialog: ImportReportDialog):
        seen["summary"] = dialog.summary.text()
        seen["warnings"] = dialog.warnings_table.model().rowCount()
        return QDialog.DialogCode.Accepted

    # Any other dialog (the column mapping) would fail the test: the driver
    # refuses dialogs it was not told about.
    driver.handlers += [(ExtractDateDialog, check_date), (ImportReportDialog, check_report)]
    before = screen.last_import
    screen.import_file(str(path))
    qtbot.waitUntil(lambda: screen.last_import is not before and "summary" in seen, timeout=20000)
    return screen.last_import


def test_erp_exports_import_without_mapping(qtbot, db, actors, tmp_path, messages, recovery):  # noqa: F811
    # The head office's recovery officer: she sees every agency's tenants.
    screen, driver = make_screen(qtbot, db, recovery.actor)
    # every agency, as the ERP wrote it (title lines, "Nom Prénom", a co-tenant line),
    # dated 15/11 in its title; no months-unpaid or last-payment columns
    keep = [i for i, h in enumerate(ULIS_HEADERS) if h not in ("Nb mois impayés", "Date dernier paiement")]
    rows = [[r[i] for i in keep] for r in ULIS_ROWS]
    rows[0][4] = "00/00/0000"  # MULLER's birth date unreadable: a warning
    full = ulis_csv(tmp_path / "ETAT IMPAYES.csv", rows, headers=[ULIS_HEADERS[i] for i in keep],
                    situation="Situation au 15/11/2026 - édité le 16/11/2026 par BATCH")
    seen: dict = {}
    result = run_import(qtbot, screen, driver, full, seen)
    assert seen["date"] == EXTRACT_NOV and seen["notice"] == ""
    assert (result.imported, result.rejected) == (4, [])
    assert seen["warnings"] == 1 and "1 avertissement(s)" in seen["summary"]
    assert [type(d) for d in driver.seen] == [ExtractDateDialog, ImportReportDialog]  # no mapping dialog

    # the household of a 56-year-old titulaire and a 71-year-old co-tenant is listed
    qtbot.waitUntil(lambda: screen.listing is not None and any(
        r.contract == "00452010" for r in screen.listing.rows), timeout=10000)
    klein = next(r for r in screen.listing.rows if r.contract == "00452010")
    assert klein.age == 71 and klein.history_unknown and not klein.first_arrears

    # its detail says the history is unknown; the signalement's motif too
    screen.show_detail(klein.lease_id)
    assert screen.first_banner.isVisibleTo(screen)
    assert "historique des impayés inconnu" in screen.first_banner.text().lower()
    assert "jamais en impayé" not in screen.first_banner.text()
    driver.handlers.append((ObservationDialog, lambda d: (
        d.note.setPlainText("Ne répond plus aux courriers."), click_ok(qtbot, d))[1]))
    qtbot.mouseClick(screen.observe_button, qtbot_left())
    with db.write_session() as s:
        s.add(Partner(name="CCAS de Woippy", category="ccas", commune="Woippy", active=True, version=1))
    motif = {}

    def signal(dialog: SignalementDialog):
        motif["text"] = dialog.facts.toPlainText()
        return QDialog.DialogCode.Rejected

    driver.handlers.append((SignalementDialog, signal))
    qtbot.mouseClick(screen.signal_button, qtbot_left())
    assert "(historique des impayés inconnu)" in motif["text"]
    assert "premier impayé" not in motif["text"]

    # then Forbach's own workbook for the same date: the dialog says what is replaced
    seen = {}
    result = run_import(qtbot, screen, driver, premhab_xlsx(tmp_path / "forbach.xlsx"), seen)
    assert seen["date"] == EXTRACT_NOV
    assert "Ce fichier ne couvre que : Forbach" in seen["notice"]
    assert "celles de Metz sont conservées" in seen["notice"]
    assert result.kept_agencies == ["Metz"]
    assert "conservées pour : Metz" in seen["summary"]
    qtbot.waitUntil(lambda: any(r.contract == "460003" for r in screen.listing.rows), timeout=10000)
    assert any(r.contract == "00452010" for r in screen.listing.rows)  # Metz still there
    assert messages == []
    assert date(2026, 11, 15) == screen.listing.extract_date


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_list_exports_to_xlsx_with_the_screen_filters(qtbot, db, actors, tmp_path, messages, monkeypatch,  # noqa: F811
                                                          recovery):
    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from cus_desk.store.models.core import AuditEvent
    from cus_desk.ui.seniors import screen as screen_module

    from .conftest import EXTRACT_DATE, ROWS, write_csv

    rows = [list(r) for r in ROWS]
    rows[0][1] = "=HYPERLINK(\"http://x\")"  # a name a spreadsheet would run as a formula
    SeniorsService = __import__("cus_desk.services.seniors", fromlist=["SeniorsService"]).SeniorsService
    SeniorsService(db, actors["recovery_metz"]).import_arrears(write_csv(tmp_path / "x.csv", rows=rows), EXTRACT_DATE)
    screen, driver = make_screen(qtbot, db, recovery.actor)  # head office: every agency
    qtbot.waitUntil(lambda: screen.listing is not None and screen.listing.total == 4, timeout=10000)
    screen.agency_combo.setCurrentIndex(0)
    screen.first_check.setChecked(True)  # premier impayé only: 02 and 04
    shown = [r.contract for r in screen.visible_rows()]
    assert sorted(shown) == ["57-000002", "57-000004"]
    target = tmp_path / "revue"
    monkeypatch.setattr(screen_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    screen.export_list()
    qtbot.waitUntil(lambda: bool(messages), timeout=15000)
    assert messages == [("info", f"2 ligne(s) exportée(s) dans « {target}.xlsx ».")]
    ws = load_workbook(f"{target}.xlsx").active
    assert "Locataires de 65 ans et plus en impayé" in ws["A1"].value
    assert ws["A2"].value.startswith("Situation : extrait du 31/10/2026")
    assert ws["A3"].value == "Filtres : premiers impayés seulement"
    assert [c.value for c in ws[5]][:4] == ["Contrat", "Nom", "Prénom", "Âge"]
    assert [ws.cell(r, 1).value for r in (6, 7)] == shown and ws.max_row == 7
    assert not list(tmp_path.glob("*.part"))
    # all rows, with the formula-looking name kept as text
    screen.first_check.setChecked(False)
    messages.clear()
    screen.export_list()
    qtbot.waitUntil(lambda: bool(messages), timeout=15000)
    ws = load_workbook(f"{target}.xlsx").active
    names = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(6, ws.max_row + 1)}
    assert names["57-000001"] == "'=HYPERLINK(\"http://x\")" and ws.max_row == 9
    with db.read_session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "export",
                                                                 AuditEvent.entity_type == "seniors_list")) == 2


def test_relance_comment_cancel_and_correct_from_the_detail(qtbot, db, actors, tmp_path, messages):  # noqa: F811
    from cus_desk.services.seniors import SeniorsService
    from cus_desk.ui.seniors.dialogs import CorrectionDialog, FollowUpDialog

    from .conftest import EXTRACT_DATE, write_csv

    service = SeniorsService(db, actors["recovery_metz"])
    service.import_arrears(write_csv(tmp_path / "x.csv"), EXTRACT_DATE)
    lease_id = next(r.lease_id for r in service.list_seniors().rows if r.contract == "57-000001")
    with db.write_session() as s:
        partner = Partner(name="CCAS de Metz", category="ccas", commune="Metz", active=True, version=1)
        s.add(partner)
        s.flush()
        partner_id = partner.id
    service.add_observation(lease_id, "autre", date(2026, 10, 2), "Agent", "Boite pleine.")
    service.send_signalement(lease_id, partner_id, date(2026, 10, 3), "", tenant_informed=True,
                             reply_by=date(2026, 10, 18))
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    assert screen.select_lease(lease_id)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.relance_button.isEnabled())
    assert "Sans réponse : relance à faire" in screen.signalements.item(0).text()

    def relance(dialog: FollowUpDialog):
        dialog.means.setCurrentIndex(dialog.means.findData("courriel"))
        dialog.note.setPlainText("Relance envoyée à l'accueil du CCAS.")
        return click_ok(qtbot, dialog)

    driver.handlers.append((FollowUpDialog, relance))
    qtbot.mouseClick(screen.relance_button, qtbot_left())
    text = screen.signalements.item(0).text()
    assert "Relance (courriel) le 20/11/2026 : Relance envoyée" in text and "relance à faire" not in text

    def comment(dialog: FollowUpDialog):
        assert click_ok(qtbot, dialog) != QDialog.DialogCode.Accepted  # empty: refused, dialog open
        assert "Écrivez le commentaire" in dialog.error_label.text()
        dialog.note.setPlainText("Le CCAS rappelle lundi.")
        return click_ok(qtbot, dialog)

    driver.handlers.append((FollowUpDialog, comment))
    qtbot.mouseClick(screen.comment_button, qtbot_left())
    assert "Commentaire du 20/11/2026 : Le CCAS rappelle lundi." in screen.signalements.item(0).text()

    screen.observations.setCurrentRow(0)

    def correct(dialog: CorrectionDialog):
        assert dialog.note.toPlainText() == "Boite pleine."
        dialog.note.setPlainText("Boîte aux lettres pleine depuis une semaine.")
        dialog.reason.setText("Faute de frappe")
        return click_ok(qtbot, dialog)

    driver.handlers.append((CorrectionDialog, correct))
    qtbot.mouseClick(screen.correct_button, qtbot_left())
    assert screen.observations.count() == 1
    assert "Boîte aux lettres pleine depuis une semaine.\n(corrigée : Faute de frappe)" in screen.observations.item(0).text()

    def cancel(dialog: FollowUpDialog):
        dialog.note.setPlainText("Envoyé au mauvais CCAS.")
        return click_ok(qtbot, dialog)

    driver.handlers.append((FollowUpDialog, cancel))
    qtbot.mouseClick(screen.cancel_button, qtbot_left())
    assert "Annulé le 20/11/2026 : Envoyé au mauvais CCAS." in screen.signalements.item(0).text()
    assert not screen.relance_button.isEnabled() and not screen.cancel_button.isEnabled()
    assert messages == []
