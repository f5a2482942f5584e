"""The Seniors screen driven as a user would, on a real database."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from sqlalchemy import func, select

from cus_desk.services.seniors import SeniorsService
from cus_desk.store.models.core import Lease, Partner
from cus_desk.store.models.seniors import ArrearsExtract, FieldObservation
from cus_desk.ui.context import AppContext
from cus_desk.ui.seniors import dialogs as dialogs_module
from cus_desk.ui.seniors import screen as screen_module
from cus_desk.ui.seniors.dialogs import (
    ExtractDateDialog,
    ImportReportDialog,
    MappingDialog,
    ObservationDialog,
    SignalementDialog,
)
from cus_desk.ui.seniors.models import SeniorsTableModel

from .conftest import EXTRACT_DATE, ROWS, write_csv

pytestmark = pytest.mark.gui


class Driver:
    """Plays the user's part in each modal dialog the screen opens."""

    def __init__(self) -> None:
        self.handlers: list = []
        self.seen: list = []

    def __call__(self, dialog: QDialog) -> int:
        self.seen.append(dialog)
        for kind, fn in list(self.handlers):
            if isinstance(dialog, kind):
                self.handlers.remove((kind, fn))
                result = fn(dialog)
                return result if result is not None else dialog.result()
        raise AssertionError(f"unexpected dialog {type(dialog).__name__}")


def click_ok(qtbot, dialog):
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    return dialog.result()


@pytest.fixture
def messages(monkeypatch):
    seen = []
    monkeypatch.setattr(screen_module, "show_error", lambda parent, exc, *a: seen.append(("error", getattr(exc, "message", str(exc)))))
    monkeypatch.setattr(screen_module, "show_info", lambda parent, text, *a: seen.append(("info", text)))
    return seen


def make_screen(qtbot, db, actor, monkeypatch=None):
    ctx = AppContext(db, actor)
    screen = screen_module.SeniorsScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1300, 800)
    screen.show()
    driver = Driver()
    screen._exec = driver
    if screen.can_read:
        qtbot.waitUntil(lambda: screen.listing is not None, timeout=10000)
    return screen, driver


def import_through_screen(qtbot, screen, driver, path, when=EXTRACT_DATE):
    def fill_date(dialog: ExtractDateDialog):
        dialog.date_edit.setDate(dialog.date_edit.date().fromString(when.strftime("%d/%m/%Y"), "dd/MM/yyyy"))
        return click_ok(qtbot, dialog)

    driver.handlers.append((ExtractDateDialog, fill_date))
    driver.handlers.append((ImportReportDialog, lambda d: QDialog.DialogCode.Accepted))
    before = screen.last_import
    screen.import_file(str(path))
    qtbot.waitUntil(lambda: screen.last_import is not before and screen.last_import is not None, timeout=15000)
    return screen.last_import


def test_import_by_drop_filter_observe_and_signal(qtbot, db, actors, tmp_path, messages, monkeypatch):
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    assert "Aucun extrait importé" in screen.extract_label.text()

    # drop a file with a rejected line
    rows = [list(r) for r in ROWS] + [["57-000099", "X", "Y", "01/02/1950", "", "Metz", "Metz", "", "", "1,0,0", "1", "", "", ""]]
    path = write_csv(tmp_path / "impayes_2026-10-31.csv", rows=rows)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    report = {}

    def check_date(dialog: ExtractDateDialog):
        assert dialog.extract_date() == EXTRACT_DATE  # proposed from the file name
        return click_ok(qtbot, dialog)

    def check_report(dialog: ImportReportDialog):
        report["summary"] = dialog.summary.text()
        report["rows"] = dialog.table.model().rowCount()
        out = tmp_path / "rejets.csv"
        monkeypatch.setattr(dialogs_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        report["csv"] = out.read_text(encoding="utf-8-sig")
        return QDialog.DialogCode.Accepted

    driver.handlers += [(ExtractDateDialog, check_date), (ImportReportDialog, check_report)]
    screen.dropEvent(event)
    qtbot.waitUntil(lambda: "csv" in report, timeout=15000)
    assert "8 ligne(s) lue(s), 7 ménage(s) importé(s), 1 ligne(s) rejetée(s)" in report["summary"]
    assert report["rows"] == 1
    assert report["csv"].splitlines()[1].startswith("9;solde")
    # The file holds 4 tenants of 65+ in arrears (Metz, Forbach, DT 54): Metz's
    # recovery officer sees her agency's 2 only (services.access.seniors_agency).
    qtbot.waitUntil(lambda: screen.listing is not None and screen.listing.total == 2, timeout=10000)
    assert "31/10/2026" in screen.extract_label.text()

    # Metz first; "all agencies" is still Metz; then premier impayé only
    assert {r.contract for r in screen.visible_rows()} == {"57-000001", "57-000002"}
    screen.agency_combo.setCurrentIndex(0)
    assert {r.contract for r in screen.visible_rows()} == {"57-000001", "57-000002"}
    qtbot.mouseClick(screen.first_check, Qt.MouseButton.LeftButton)
    assert {r.contract for r in screen.visible_rows()} == {"57-000002"}
    qtbot.mouseClick(screen.first_check, Qt.MouseButton.LeftButton)
    screen.band_combo.setCurrentIndex(screen.band_combo.findData("-74"))
    assert [r.contract for r in screen.visible_rows()] == ["57-000002"]
    screen.band_combo.setCurrentIndex(0)
    qtbot.keyClicks(screen.search, "muller")
    assert [r.contract for r in screen.visible_rows()] == ["57-000001"]
    assert "Metz : 2" in screen.counts_label.text() and "À surveiller : 2" in screen.counts_label.text()
    assert "Forbach" not in screen.counts_label.text()

    # open the row: detail with history and the premier impayé banner
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.detail is not None)
    assert "MULLER" in screen.detail_title.text()
    assert not screen.first_banner.isVisibleTo(screen)  # 3 months unpaid: not a first arrears
    assert screen.sparkline.points() == [(EXTRACT_DATE, 123456)]

    # an observation: first with no facts (refused in the dialog), then properly
    def observe(dialog: ObservationDialog):
        assert click_ok(qtbot, dialog) != QDialog.DialogCode.Accepted
        assert "Décrivez les faits" in dialog.error_label.text()
        dialog.kind.setCurrentIndex(dialog.kind.findData("ne_repond_plus"))
        dialog.note.setPlainText("Ne répond plus aux relances téléphoniques.")
        return click_ok(qtbot, dialog)

    driver.handlers.append((ObservationDialog, observe))
    qtbot.mouseClick(screen.observe_button, Qt.MouseButton.LeftButton)
    with db.read_session() as s:
        obs = s.scalars(select(FieldObservation)).all()
    assert len(obs) == 1 and obs[0].observer == "Romain Recouvrement"
    assert "Ne répond plus aux relances" in screen.observations.item(0).text()
    qtbot.waitUntil(lambda: {r.contract: r.status for r in screen.listing.rows}["57-000001"] == "a_signaler")

    # a signalement to the CLIC of the tenant's commune
    with db.write_session() as s:
        s.add(Partner(name="CLIC de Woippy", category="clic", commune="Woippy", active=True, version=1))
        s.add(Partner(name="CLIC de Metz", category="clic", commune="Metz", active=True, version=1))

    def signal(dialog: SignalementDialog):
        dialog.kind.setCurrentIndex(dialog.kind.findData("clic"))
        assert dialog.partner.itemText(0).startswith("CLIC de Metz")
        assert "commune du locataire" in dialog.partner.itemText(0)
        assert "Ne répond plus" in dialog.facts.toPlainText() or "ne répond plus" in dialog.facts.toPlainText()
        # whether the tenant was told is required (#13): the dialog stays open and says so
        assert click_ok(qtbot, dialog) != QDialog.DialogCode.Accepted
        assert "Indiquez si le locataire a été informé" in dialog.error_label.text()
        dialog.informed.setCurrentIndex(dialog.informed.findData(True))
        return click_ok(qtbot, dialog)

    driver.handlers.append((SignalementDialog, signal))
    qtbot.mouseClick(screen.signal_button, Qt.MouseButton.LeftButton)
    assert screen.signalements.count() == 1 and "CLIC de Metz" in screen.signalements.item(0).text()
    qtbot.waitUntil(lambda: {r.contract: r.status for r in screen.listing.rows}["57-000001"] == "signale")
    assert messages == []

    # the fiche de signalement: refused while the agency has no phone or e-mail
    # (the partner could not answer), with what to do; then previewed and saved
    screen.print_current()
    qtbot.waitUntil(lambda: bool(messages), timeout=15000)
    assert messages[0][0] == "error" and "Administration › Agences" in messages[0][1]
    messages.clear()
    from .conftest import set_agency_contact

    set_agency_contact(db, actors["admin"])
    from cus_desk.ui.pdf_preview import PdfPreviewDialog

    target = tmp_path / "fiche"
    seen = {}

    def preview(dialog: PdfPreviewDialog):
        seen["title"] = dialog.windowTitle()
        seen["pages"] = dialog.preview.page_count()
        monkeypatch.setattr("cus_desk.ui.pdf_preview.QFileDialog.getSaveFileName",
                            lambda *a, **k: (str(target), ""))
        qtbot.mouseClick(dialog.preview.save_button, Qt.MouseButton.LeftButton)
        seen["saved"] = dialog.preview.saved_path
        return QDialog.DialogCode.Accepted

    driver.handlers.append((PdfPreviewDialog, preview))
    screen.print_current()
    qtbot.waitUntil(lambda: "saved" in seen, timeout=15000)
    assert seen["title"] == "Fiche de signalement"
    assert seen["pages"] == 1 and seen["saved"] == tmp_path / "fiche.pdf"
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(seen["saved"].read_bytes())).pages[0].extract_text()
    assert "MULLER" in text and "CLIC de Metz" in text and "03 53 01 10 00" in text
    assert not list(tmp_path.glob("*.part"))


def test_unknown_headers_go_through_the_mapping_dialog(qtbot, db, actors, tmp_path, messages):
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    path = write_csv(tmp_path / "export.csv", headers=["Réf. bail", "Nom", "Agence", "Reste dû", "DDN"],
                     rows=[["57-1", "MULLER", "Metz", "12,00", "01/01/1950"]])

    def mapping(dialog: MappingDialog):
        assert click_ok(qtbot, dialog) != QDialog.DialogCode.Accepted  # contract and balance missing
        assert "Choisissez la colonne" in dialog.error_label.text()
        dialog.combos["contract"].setCurrentText("Réf. bail")
        dialog.combos["balance"].setCurrentText("Reste dû")
        dialog.combos["birth_date"].setCurrentText("Reste dû")
        assert click_ok(qtbot, dialog) != QDialog.DialogCode.Accepted  # one column twice
        assert "une colonne ne peut servir qu'une fois" in dialog.error_label.text()
        dialog.combos["birth_date"].setCurrentText("DDN")
        return click_ok(qtbot, dialog)

    driver.handlers.append((MappingDialog, mapping))
    result = import_through_screen(qtbot, screen, driver, path, date(2026, 10, 31))
    assert result.imported == 1
    # the same shape of file is now recognised without asking
    assert not SeniorsService(db, actors["recovery_metz"]).analyse_file(path).needs_mapping


def test_bad_file_is_refused_with_a_message(qtbot, db, actors, tmp_path, messages):
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    screen.import_file(str(path))
    qtbot.waitUntil(lambda: bool(messages), timeout=10000)
    assert messages[0][0] == "error" and "est vide" in messages[0][1]
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 0


def test_cancel_from_the_progress_dialog_leaves_nothing(qtbot, db, actors, tmp_path, messages):
    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    rows = [[f"57-{i:06d}", "NOM", "P", "01/01/1950", "", "Metz", "Metz", "", "01/01/2000", "10,00", "1", "", "", ""]
            for i in range(1, 6001)]
    path = write_csv(tmp_path / "gros.csv", rows=rows)
    task = screen.start_import(str(path), date(2026, 10, 31))
    assert task.dialog is not None and task.dialog.labelText().startswith("Import")
    from PySide6.QtWidgets import QPushButton

    cancel = next(b for b in task.dialog.findChildren(QPushButton) if b.text() == "Annuler")
    cancel.click()  # the "Annuler" button of the progress dialog
    qtbot.waitUntil(lambda: bool(messages), timeout=20000)
    assert messages == [("info", "Import annulé : la base de données n'a pas été modifiée.")]
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 0
        assert s.scalar(select(func.count(Lease.id))) == 0


def test_profiles(qtbot, db, actors):
    admin, _ = make_screen(qtbot, db, actors["admin"])
    assert admin.table is None and admin.import_button.isVisibleTo(admin) and admin.acceptDrops()
    cas, _ = make_screen(qtbot, db, actors["cas_member"])
    assert cas.table is None and not cas.import_button.isVisibleTo(cas) and not cas.acceptDrops()
    adviser, _ = make_screen(qtbot, db, actors["adviser_metz"])
    assert adviser.table is not None and not adviser.import_button.isVisibleTo(adviser)


def test_table_model(qtmodeltester, db, actors, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    model = SeniorsTableModel()
    model.set_rows(recovery.list_seniors().rows)
    qtmodeltester.check(model)
    assert model.data(model.index(0, 5)).endswith("€")


def test_open_the_case_file_from_a_signalement(qtbot, db, actors, recovery, extract_csv, messages):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    with db.write_session() as s:
        lease_id = s.scalar(select(Lease.id).where(Lease.contract_number == "57-000001"))
        partner = Partner(name="CCAS de Metz (test)", category="ccas", commune="Metz", active=True, version=1)
        s.add(partner)
        s.flush()
        partner_id = partner.id
    adviser_service = SeniorsService(db, actors["adviser_metz"])
    adviser_service.add_observation(lease_id, "autre", date(2026, 11, 2), "Agent", "Courrier non retiré.")
    sent = adviser_service.send_signalement(lease_id, partner_id, date(2026, 11, 3), "", tenant_informed=True)

    screen, driver = make_screen(qtbot, db, actors["adviser_metz"])
    assert screen.select_lease(lease_id)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.case_button.isEnabled())
    opened = []
    import cus_desk.ui.cases as cases_ui

    real_open = cases_ui.open_case
    cases_ui_open = lambda parent, ctx, case_id: opened.append(real_open(parent, ctx, case_id))  # noqa: E731
    asked = []
    try:
        cases_ui.open_case = cases_ui_open
        # « Ouvrir le dossier » asks before creating one (#13): "no" creates nothing
        screen._confirm = lambda question: (asked.append(question), False)[1]
        qtbot.mouseClick(screen.case_button, Qt.MouseButton.LeftButton)
        from cus_desk.store.models.cases import Case

        with db.read_session() as s:
            assert s.scalar(select(func.count(Case.id))) == 0
        assert "Aucun dossier n'est ouvert pour ce ménage" in asked[0]
        assert "Impayé de 1\u00a0234,56\u00a0€ (3 mois) au 31/10/2026 selon l'extrait." in asked[0]
        screen._confirm = lambda question: (asked.append(question), True)[1]
        qtbot.mouseClick(screen.case_button, Qt.MouseButton.LeftButton)
    finally:
        cases_ui.open_case = real_open
    assert messages == [] and len(asked) == 2
    with db.read_session() as s:
        from cus_desk.store.models.core import Referral

        case_id = s.get(Referral, sent.id).case_id
        case = s.get(Case, case_id)
        # the case carries the arrears known from the extract
        assert (case.arrears_cents, case.arrears_months) == (123456, 3)
    assert case_id is not None
    assert opened and opened[0] is not None
    opened[0].close()
    assert "Dossier CAS lié" in screen.signalements.item(0).text()
    # the same action again finds the same case file, without asking
    assert adviser_service.case_for_signalement(sent.id) == case_id
    assert screen.service.case_opening(sent.id)[0] == case_id  # an open case: nothing to ask

    recovery_screen, _ = make_screen(qtbot, db, actors["recovery_metz"])
    recovery_screen.select_lease(lease_id)
    qtbot.waitUntil(lambda: recovery_screen.detail is not None)
    qtbot.mouseClick(recovery_screen.case_button, Qt.MouseButton.LeftButton)
    assert messages and messages[-1][0] == "error" and "ne permet pas" in messages[-1][1]


def test_workbook_sheet_choice_and_signalement_follow_up(qtbot, db, actors, tmp_path, messages):
    from cus_desk.ui.seniors.dialogs import StatusDialog

    from .conftest import write_xlsx

    screen, driver = make_screen(qtbot, db, actors["recovery_metz"])
    path = write_xlsx(tmp_path / "classeur.xlsx", extra_first_sheet=True)
    asked = []
    screen._ask_sheet = lambda sheets: asked.append(sheets) or "Impayés"
    result = import_through_screen(qtbot, screen, driver, path, EXTRACT_DATE)
    assert asked == [["Notice", "Impayés"]] and result.imported == 7

    with db.write_session() as s:
        lease_id = s.scalar(select(Lease.id).where(Lease.contract_number == "57-000002"))
        partner = Partner(name="Pôle gérontologique (test)", category="pole_gerontologique", active=True, version=1)
        s.add(partner)
        s.flush()
        partner_id = partner.id
    service = SeniorsService(db, actors["recovery_metz"])
    service.add_observation(lease_id, "changement_attitude", date(2026, 11, 1), "Agent", "Désorienté à l'accueil.")
    service.send_signalement(lease_id, partner_id, date(2026, 11, 2), "", tenant_informed=True)
    screen.refresh(select_lease=lease_id)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.lease_id == lease_id
                    and screen.status_button.isEnabled(), timeout=10000)

    def follow(dialog: StatusDialog):
        assert [dialog.status.itemData(i) for i in range(dialog.status.count())] == [
            "accuse_reception", "pris_en_charge", "clos"]
        dialog.status.setCurrentIndex(1)
        dialog.on_date.setDate(dialog.on_date.date().fromString("05/11/2026", "dd/MM/yyyy"))
        return click_ok(qtbot, dialog)

    driver.handlers.append((StatusDialog, follow))
    qtbot.mouseClick(screen.status_button, Qt.MouseButton.LeftButton)
    assert "Pris en charge" in screen.signalements.item(0).text()
    assert "pris en charge le 05/11/2026" in screen.signalements.item(0).text()
    qtbot.waitUntil(lambda: {r.contract: r.status for r in screen.listing.rows}.get("57-000002") == "pris_en_charge")

    # keyboard: Ctrl+F goes to the search field (the main window calls focus_search)
    screen.focus_search()
    assert screen.search.hasFocus() or screen.focusWidget() is screen.search
    assert messages == []


def test_fiche_preview_prints_every_page(qtbot, tmp_path, monkeypatch):
    from pypdf import PdfReader
    from PySide6.QtPrintSupport import QPrinter

    from cus_desk.reports.signalement import FicheData, build_fiche
    from cus_desk.ui import pdf_preview
    from cus_desk.ui.pdf_preview import PdfPreviewDialog

    data = FicheData(
        organisation="VIVEST", agency_label="Agence de Metz", agency_town="Metz", sender_name="Romain",
        reference="SIG-2026-0001", sent_on=date(2026, 11, 3), partner_name="CCAS de Metz", partner_kind="CCAS",
        partner_address=None, last_name="MULLER", first_name="Jeanne", birth_date=date(1948, 3, 12), age=78,
        cotenant_birth_date=None, address="3 rue des Roses", commune="Metz", phone=None, contract="57-1",
        lease_start=None, balance_cents=12000, months_unpaid=1, last_payment_on=None, monthly_rent_cents=None,
        extract_date=date(2026, 10, 31),
        facts=[(date(2026, 11, 1), "Autre", f"Constat numéro {i} : " + "courrier non retiré. " * 8) for i in range(40)])
    pdf = build_fiche(data)
    dialog = PdfPreviewDialog(pdf, "fiche.pdf", "Fiche de signalement", noun="la fiche de signalement")
    qtbot.addWidget(dialog)
    preview = dialog.preview
    assert preview.page_count() >= 2
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "imprime.pdf"
    printer.setOutputFileName(str(out))
    assert preview.print_to(printer)
    assert len(PdfReader(str(out)).pages) == preview.page_count()
    # saving where it cannot be written: a French message naming the fiche, no partial file
    shown = []
    monkeypatch.setattr(pdf_preview, "show_error", lambda _p, e, *a, **k: shown.append(e.message))
    assert preview.save(str(tmp_path / "absent" / "fiche.pdf")) is None
    assert shown and shown[0].startswith("Impossible d'enregistrer la fiche de signalement")
    assert not (tmp_path / "absent").exists()


def test_reminder_filter(qtbot, db, actors, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    with db.write_session() as s:
        lease_id = s.scalar(select(Lease.id).where(Lease.contract_number == "57-000004"))
        partner = Partner(name="CMS de Forbach (test)", category="cms", active=True, version=1)
        s.add(partner)
        s.flush()
        partner_id = partner.id
    recovery.add_observation(lease_id, "autre", date(2026, 9, 1), "Agent", "Volets fermés depuis des semaines.")
    recovery.send_signalement(lease_id, partner_id, date(2026, 9, 2), "", tenant_informed=True)  # no answer since
    screen, _ = make_screen(qtbot, db, recovery.actor)  # head office: a Forbach tenant
    screen.agency_combo.setCurrentIndex(0)
    screen.status_combo.setCurrentIndex(screen.status_combo.findData(screen_module.REMINDER_FILTER))
    rows = screen.visible_rows()
    assert [r.contract for r in rows] == ["57-000004"] and rows[0].reminder_due is not None
    assert "Relances à faire : 1" in screen.counts_label.text()
