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


def test_erp_exports_import_without_mapping(qtbot, db, actors, tmp_path, messages):  # noqa: F811
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
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
