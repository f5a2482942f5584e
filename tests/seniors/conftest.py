"""Fixtures of the seniors feature: extract files written as the
management system writes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cus_desk.services.seniors import SeniorsService

HEADERS = ["N° contrat", "Nom", "Prénom", "Date de naissance", "Date de naissance cotitulaire",
           "Agence", "Commune", "Adresse", "Date d'entrée", "Solde débiteur", "Nb mois impayés",
           "Date dernier paiement", "Loyer + charges", "Téléphone"]

# contract, name, first, birth, cobirth, agency, commune, address, start, balance, months, lastpay, rent, phone
ROWS = [
    ["57-000001", "MULLER", "Jeanne", "12/03/1948", "", "Metz", "Metz", "3 rue des Roses", "01/02/1990", "1 234,56", "3", "02/08/2026", "512,30", "06 39 98 00 01"],
    ["57-000002", "KLEIN", "Marcel", "31/10/1961", "", "Agence de Metz", "Woippy", "8 rue Haute", "15/06/2001", "250,00 €", "1", "", "430,00", ""],
    ["57-000003", "SCHMITT", "Paul", "01/11/1961", "", "metz", "Metz", "1 place d'Armes", "01/01/2000", "900,00", "2", "", "", ""],
    ["57-000004", "ZIMMER", "Anne", "05/05/1985", "07/07/1950", "Forbach", "Forbach", "2 rue Nationale", "01/09/2015", "480,00", "1", "", "", ""],
    ["57-000005", "HOFFMANN", "Lucie", "29/02/1960", "", "Saint-Avold", "Saint-Avold", "9 rue Poincaré", "01/03/1995", "-35,00", "0", "", "", ""],
    ["54-000006", "PETIT", "Louis", "10/10/1940", "", "DT 54", "Nancy", "5 rue Stanislas", "01/01/1980", "75,10", "0", "", "", ""],
    ["54-000007", "ROBERT", "Rose", "10/10/1950", "", "dt54", "Vandœuvre-lès-Nancy", "7 rue du Parc", "01/01/2024", "310,00", "2", "", "", ""],
]

EXTRACT_DATE = date(2026, 10, 31)


def write_csv(path: Path, rows=ROWS, headers=HEADERS, sep=";", encoding="utf-8", bom=False) -> Path:
    lines = [sep.join(headers)] + [sep.join(r) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, rows=ROWS, headers=HEADERS, sheet="Impayés", extra_first_sheet=False) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if extra_first_sheet:
        ws.title = "Notice"
        ws.append(["Ce classeur contient l'extrait sur la feuille suivante."])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def extract_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "impayes_2026-10-31.csv")


@pytest.fixture
def recovery(db, actors):
    """A recovery officer of the head office (no agency): she sees the 65+
    tenants of every agency (services.access.seniors_agency); an agency's
    recovery staff see their agency's only."""
    from cus_desk.domain.roles import Role
    from cus_desk.services.auth import create_user

    return SeniorsService(db, create_user(db, "recouvrement.siege", "Régis Siège", Role.RECOVERY, None, None))


def set_agency_contact(db, admin, code: str = "metz", address: str = "12 rue des Clercs\n57000 Metz",
                       phone: str = "03 53 01 10 00", email: str = "social.metz@example.org"):
    """What an administrator enters once per agency (Administration › Agences)."""
    from cus_desk.services.agencies import AgencyService

    svc = AgencyService(db, admin)
    agency = next(c for c in svc.list_contacts() if c.code == code)
    return svc.set_contact(agency.id, address, phone, email)
