"""Per-agency PDF read back with pypdf; directory XLSX read back with
openpyxl; both audited; bad destinations refused in French."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.services.partners import ContactInput, ConventionInput, FlatInput, PartnerInput
from cus_desk.store.models.core import AuditEvent
from tests.partners.conftest import add_referrals, agency_ids, partner_id


def _text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def _audit(db, action):
    with db.read_session() as session:
        return [json.loads(e.details_json) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == action))]


def test_dt54_pdf_has_partners_by_category_and_the_tables(svc, db, tmp_path):
    path = svc.print_agency(tmp_path / "dt54.pdf", agency_ids(db)["dt54"])
    text = _text(path)
    assert "Structures partenaires – Délégation territoriale 54" in text
    for label in ("Hébergement / CHRS", "Santé mentale", "Réfugiés et demandeurs d'asile",
                  "ARS Réinsertion Sociale", "Réseau MONALISA", "COPSIL"):
        assert label in text
    assert "A.R.S. rue de Graffigny (4017)" in text
    assert "sans possibilité de transfert" in text
    assert "69" in text
    assert "par commune" not in text  # the Logiest commune table belongs to the whole view
    assert "toutes agences confondues" in text  # Logiest 2020 figures of its structures, labelled
    assert _audit(db, "print")[-1]["agency"] == "Délégation territoriale 54"


def test_whole_company_pdf_totals(svc, db, tmp_path):
    text = _text(svc.print_agency(tmp_path / "all.pdf", None))
    assert "Toutes les agences" in text
    assert "HOMBOURG HAUT" in text and "MOISSONS NOUVELLES" in text
    assert text.count("217") >= 2


def test_agency_pdf_with_flats_conventions_and_accents(svc, db, tmp_path):
    ag = agency_ids(db)
    d = svc.create(PartnerInput(name="Association Éole – hébergement", category="hebergement",
                                agency_ids=[ag["metz"]], phone="03 87 00 00 00"))
    d = svc.add_convention(d.id, ConventionInput("sous_location", date(2024, 1, 1),
                                                 date(2027, 1, 15), document_ref="CONV-Éole-1"),
                           d.version)
    for commune in ("Metz", "Montigny-lès-Metz"):
        d = svc.add_flat(d.id, FlatInput(commune, "sous_location", ag["metz"]), d.version)
    text = _text(svc.print_agency(tmp_path / "metz.pdf", ag["metz"]))
    assert "Association Éole – hébergement" in text
    assert "Montigny-lès-Metz" in text
    assert "Conventions arrivant à échéance" in text and "15/01/2027" in text
    assert "CONV-Éole-1" in text


def test_xlsx_export_read_back(svc, db, tmp_path):
    pid = partner_id(db, "udaf")
    d = svc.get(pid)
    d = svc.add_contact(pid, ContactInput(name="Mme Démo Tutelle", function="Déléguée",
                                          phone="03 87 00 00 04", email="demo@udaf.example.fr"),
                        d.version)
    d = svc.add_convention(pid, ConventionInput("partenariat", date(2025, 2, 1), None), d.version)
    add_referrals(db, pid, [("orientation", "acceptee", None), ("orientation", "refusee", None)])
    path = svc.export_xlsx(tmp_path / "partenaires.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Structures", "Contacts", "Conventions", "Logements", "Intermédiation"]
    rows = list(wb["Structures"].iter_rows(values_only=True))
    assert rows[0][0] == "Nom"
    udaf = next(r for r in rows if r[0] == "UDAF")
    header = rows[0]
    assert udaf[header.index("Logements")] == 33
    assert udaf[header.index("Orientations envoyées")] == 2
    assert udaf[header.index("Acceptées / abouties")] == 1
    assert udaf[header.index("Agences")] == "Forbach"
    contacts = list(wb["Contacts"].iter_rows(values_only=True))
    assert ("UDAF", "Mme Démo Tutelle", "Déléguée", "03 87 00 00 04", "demo@udaf.example.fr") in contacts
    conv = list(wb["Conventions"].iter_rows(values_only=True))[1]
    assert conv[0] == "UDAF" and conv[3].date() == date(2025, 2, 1)
    inter = [r for r in wb["Intermédiation"].iter_rows(values_only=True)]
    totals = [r[1] for r in inter if r[0] == "Total"]
    assert totals[:2] == [217, 217] and 69 in totals and 2 in totals
    assert ("METZ", 80) in inter
    assert _audit(db, "export")[-1]["format"] == "xlsx"


def test_xlsx_of_one_agency(svc, db, tmp_path):
    path = svc.export_xlsx(tmp_path / "forbach.xlsx", agency_ids(db)["forbach"])
    names = {r[0] for r in load_workbook(path)["Structures"].iter_rows(min_row=2, values_only=True)}
    assert {"ADOMA", "UDAF", "CMSEA"} <= names and "AIEM" not in names


def test_bad_destinations(svc, tmp_path):
    with pytest.raises(ValidationError) as info:
        svc.export_xlsx(tmp_path / "partenaires.csv")
    assert ".xlsx" in info.value.message
    with pytest.raises(ValidationError) as info:
        svc.export_xlsx(tmp_path / "absent" / "p.xlsx")
    assert "n'existe pas" in info.value.message
    with pytest.raises(ValidationError):
        svc.print_agency(tmp_path / "absent" / "p.pdf")
    (tmp_path / "dossier.xlsx").mkdir()
    with pytest.raises(ValidationError) as info:
        svc.export_xlsx(tmp_path / "dossier.xlsx")
    assert "Impossible d'écrire" in info.value.message


def test_export_requires_partner_read(service_for, db, tmp_path, monkeypatch):
    from cus_desk.domain.roles import Role
    from cus_desk.services import access

    svc = service_for("cas_member")
    monkeypatch.setitem(access.ROLE_PERMISSIONS, Role.CAS_MEMBER, frozenset())
    with pytest.raises(AccessDeniedError):
        svc.export_xlsx(tmp_path / "x.xlsx")
    with pytest.raises(AccessDeniedError):
        svc.print_agency(tmp_path / "x.pdf")
    assert not (tmp_path / "x.xlsx").exists()
