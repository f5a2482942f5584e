"""Arrears extracts written the way French social-landlord ERPs export them
(no real file is copied: these generators reproduce their layout).

- ``ulis_csv``: an Ulis/IKOS-style CSV in Windows-1252: a title line, an
  edition line, an empty line, then the header; "Nom Prénom" in one column;
  a co-tenant on a second line with the same contract ("Qualité").
- ``premhab_xlsx``: a Prem'Habitat-style workbook: a merged title row, a
  situation line, an empty row, the header on row 4; separate "Nom" /
  "Prénom"; co-tenant columns; contract numbers and dates stored as
  numbers and dates (as Excel does)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

ULIS_TITLE = "LOGIEST - Etat des impayés locataires présents - TOUTES AGENCES"
ULIS_HEADERS = ["Agence", "N° contrat", "Nom Prénom", "Qualité", "Né(e) le", "Commune", "Adresse",
                "Date d'entrée", "Solde", "Nb mois impayés", "Date dernier paiement", "Lot", "Typologie"]

# agency, contract, "NOM Prénom", role, birth, commune, address, start, balance, months, last payment
ULIS_ROWS = [
    ["Metz", "00452009", "MULLER Jeanne", "Titulaire", "12/03/1948", "Metz", "3 rue des Roses",
     "01/02/1990", "1 234,56", "1", "02/10/2026", "A12", "T3"],
    ["Metz", "00452010", "KLEIN Marcel", "Titulaire", "15/06/1970", "Woippy", "8 rue Haute",
     "15/06/2001", "250,00", "1", "", "B01", "T2"],
    # a household whose titulaire is 56 and co-tenant 71: 65+ as a household
    ["Metz", "00452010", "KLEIN Rose", "Cotitulaire", "20/01/1955", "Woippy", "8 rue Haute",
     "15/06/2001", "250,00", "1", "", "B01", "T2"],
    ["Forbach", "00460001", "DE LA FONTAINE Jean", "Titulaire", "05/05/1940", "Forbach", "2 rue Nationale",
     "01/09/1985", "480,00", "7", "03/03/2026", "C07", "T4"],
    ["Forbach", "00460002", "SCHMITT Paul", "Titulaire", "01/01/1950", "Forbach", "9 rue Poincaré",
     "01/03/1995", "45,00 CR", "0", "", "C08", "T3"],
]


def ulis_csv(path: Path, rows=None, *, headers=None, title=ULIS_TITLE,
             situation="Situation au 31/10/2026 - édité le 02/11/2026 à 06:12 par BATCH",
             encoding="cp1252") -> Path:
    rows = ULIS_ROWS if rows is None else rows
    lines = [title, situation, ""] + [";".join(headers or ULIS_HEADERS)] + [";".join(r) for r in rows]
    lines.append(";;;;;;;;" + "Total : " + str(len(rows)))  # the ERP's footer, a line without contract
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


PREM_HEADERS = ["Agence", "Contrat", "Nom", "Prénom", "Date de naissance", "Cotitulaire",
                "Né(e) le cotitulaire", "Commune", "Date d'entrée", "Solde locataire", "Nb mois impayés",
                "Dernier paiement"]


def prem_row(agency, contract, last, first, birth, co_name, co_birth, commune, start, balance, months=None,
             paid=None):
    return [agency, contract, last, first, birth, co_name, co_birth, commune, start, balance, months, paid]


PREM_ROWS = [
    prem_row("Forbach", 460001, "DE LA FONTAINE", "Jean", datetime(1940, 5, 5), None, None, "Forbach",
             datetime(1985, 9, 1), 480.0, 7, datetime(2026, 3, 3)),
    prem_row("Forbach", 460003, "ZIMMER", "Anne", datetime(1970, 5, 5), "ZIMMER Paul", datetime(1950, 7, 7),
             "Forbach", datetime(2015, 9, 1), 310.5, 2, None),
    prem_row("Forbach", 460004, "HOFFMANN", "Lucie", datetime(1951, 2, 2), None, None, "Stiring-Wendel",
             datetime(1998, 3, 1), 95.0, 1, datetime(2026, 10, 28)),
]


def premhab_xlsx(path: Path, rows=None, *, headers=None, title="PREM'HABITAT — Extrait des impayés — Agence de Forbach",
                 situation="Situation au 15/11/2026", sheet="Impayés") -> Path:
    from openpyxl import Workbook

    rows = PREM_ROWS if rows is None else rows
    headers = headers or PREM_HEADERS
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append([situation])
    ws.append([])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    for cells in ws.iter_rows(min_row=5, min_col=5, max_col=5):
        for cell in cells:
            cell.number_format = "DD/MM/YYYY"
    wb.save(path)
    return path


EXTRACT_OCT = date(2026, 10, 31)
EXTRACT_NOV = date(2026, 11, 15)
