"""The pôle social imports its partner structures from CSV or XLSX (#13),
with the header recognition of the arrears extracts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services.partners_import import PartnerImportService
from cus_desk.services.seniors import SeniorsService
from cus_desk.store import arrears_import as imp
from cus_desk.store.models.core import AuditEvent, Lease, Partner

from .conftest import EXTRACT_DATE, write_csv

HEADERS = ["Nom de la structure", "Type", "Adresse", "Commune", "Téléphone", "Courriel",
           "Communes d'intervention", "Agences"]


def partners_csv(path, rows):
    lines = ["Annuaire des partenaires du pôle social", "Mis à jour le 02/11/2026", "",
             ";".join(HEADERS)] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def count(db):
    with db.read_session() as s:
        return s.scalar(select(func.count(Partner.id)))


def test_import_partners_from_csv_with_title_lines(db, actors, tmp_path):
    service = PartnerImportService(db, actors["social_head"])
    before = count(db)
    path = partners_csv(tmp_path / "partenaires.csv", [
        ["CCAS de Woippy", "CCAS", "1 place de l'Hôtel de Ville", "Woippy", "03 87 34 63 00", "ccas@woippy.fr",
         "Woippy, Norroy-le-Veneur", "Metz"],
        ["Pôle gérontologique de Forbach", "Pôle gérontologique", "", "Forbach", "", "", "Forbach, Stiring-Wendel",
         "Forbach"],
        ["CLIC Inconnu", "Club de pétanque", "", "Metz", "", "", "", ""],
        ["CMS de Metz-Nord", "CMS", "", "Metz", "", "pas-un-courriel", "", ""],
        ["CCAS de Woippy", "ccas", "", "Woippy", "", "", "", ""],
        ["CMS de Nulle-Part", "CMS", "", "Metz", "", "", "", "Paris"],
    ])
    result = service.import_partners(path)
    assert result.created == ["CCAS de Woippy", "Pôle gérontologique de Forbach"]
    reasons = {r.line: r.reason for r in result.rejected}
    assert sorted(reasons) == [7, 8, 9, 10]
    assert "type « Club de pétanque » inconnu" in reasons[7]
    assert "pas-un-courriel" in reasons[8]
    assert reasons[9] == "« CCAS de Woippy » est déjà dans l'annuaire"
    assert reasons[10] == "agence « Paris » inconnue"
    assert count(db) == before + 2
    with db.read_session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity_type == "partner_list")) == 1

    # the signalement dialog now proposes the imported CCAS for a Woippy tenant
    recovery = SeniorsService(db, actors["recovery_metz"])
    recovery.import_arrears(write_csv(tmp_path / "x.csv"), EXTRACT_DATE)
    with db.read_session() as s:
        woippy = s.scalar(select(Lease.id).where(Lease.commune == "Woippy"))
    choices = recovery.partner_choices(woippy, "ccas")
    assert choices[0].name == "CCAS de Woippy" and choices[0].proposed


def test_import_partners_from_a_workbook_with_a_merged_title(db, actors, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Annuaire — pôle social"])
    ws.merge_cells("A1:D1")
    ws.append([])
    ws.append(["Structure", "Catégorie", "Ville", "Tél"])
    ws.append(["CLIC du Pays Haut", "CLIC", "Thionville", "+352 27 12 34 56"])  # across the border
    path = tmp_path / "annuaire.xlsx"
    wb.save(path)
    result = PartnerImportService(db, actors["social_head"]).import_partners(path)
    assert (result.created, result.rejected) == (["CLIC du Pays Haut"], [])
    with db.read_session() as s:
        assert s.scalar(select(Partner.phone).where(Partner.name == "CLIC du Pays Haut")) == "+352 27 12 34 56"


def test_partner_import_refusals_leave_nothing(db, actors, tmp_path):
    service = PartnerImportService(db, actors["social_head"])
    before = count(db)
    bad = partners_csv(tmp_path / "bad.csv", [["X", "Club", "", "", "", "", "", ""]])
    with pytest.raises(imp.ImportRefused, match="Aucune structure .* Rien n'a été importé"):
        service.import_partners(bad)
    no_type = tmp_path / "sans_type.csv"
    no_type.write_text("Nom;Ville\nCCAS de Metz;Metz\n", encoding="utf-8")
    with pytest.raises(imp.ImportRefused, match="n'a pas de colonne « Type »"):
        service.import_partners(no_type)
    with pytest.raises(AccessDeniedError):
        PartnerImportService(db, actors["recovery_metz"]).import_partners(bad)
    assert count(db) == before


@pytest.mark.gui
def test_partner_list_import_from_the_partners_screen(qtbot, db, actors, tmp_path, monkeypatch):
    from cus_desk.ui.context import AppContext
    from cus_desk.ui.partners import screen as partners_screen

    path = partners_csv(tmp_path / "p.csv", [["CCAS de Woippy", "CCAS", "", "Woippy", "", "", "", ""],
                                             ["Truc", "Club", "", "", "", "", "", ""]])
    screen = partners_screen.PartnersScreen(AppContext(db, actors["social_head"]))
    qtbot.addWidget(screen)
    assert screen.import_button.isVisibleTo(screen)
    monkeypatch.setattr(partners_screen.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    screen.import_list()
    qtbot.waitUntil(lambda: getattr(screen, "last_import", None) is not None, timeout=15000)
    assert "1 structure(s) ajoutée(s)" in screen.status.text() and "ligne 6 : type « Club » inconnu" in screen.status.text()
    reader = partners_screen.PartnersScreen(AppContext(db, actors["cas_member"]))
    qtbot.addWidget(reader)
    assert not reader.import_button.isVisibleTo(reader)
