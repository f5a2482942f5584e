"""The 65+ list as an XLSX workbook, for the monthly review with the
recovery head: the rows the screen shows (its filters applied), the
filters written above them. Text cells are neutralised against formula
injection (a tenant's name starting with ``=`` stays text)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime

from cus_desk.domain.formatting import format_date, format_datetime
from cus_desk.domain.parsing import spreadsheet_safe

HEADERS = ("Contrat", "Nom", "Prénom", "Âge", "Agence", "Commune", "Solde (€)", "Mois d'impayés",
           "Statut", "Premier impayé", "Entrée dans les lieux", "Relance due le")
WIDTHS = (14, 22, 18, 6, 14, 22, 12, 10, 16, 22, 14, 14)


def build_seniors_xlsx(rows: Sequence, *, title: str, filters: str, extract_date: date | None,
                       printed_at: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Seniors 65+"
    ws.append([spreadsheet_safe(title)])
    ws["A1"].font = Font(bold=True, size=13)
    extract = f"extrait du {format_date(extract_date)}" if extract_date else "aucun extrait importé"
    ws.append([f"Situation : {extract} — édité le {format_datetime(printed_at)}"])
    ws.append([spreadsheet_safe(f"Filtres : {filters}")])
    ws.append([])
    ws.append(list(HEADERS))
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for r in rows:
        first = "Oui" if r.first_arrears else ("Historique inconnu" if r.history_unknown else "")
        ws.append([
            spreadsheet_safe(r.contract), spreadsheet_safe(r.last_name), spreadsheet_safe(r.first_name), r.age,
            spreadsheet_safe(r.agency), spreadsheet_safe(r.commune),
            None if r.balance_cents is None else r.balance_cents / 100, r.months_unpaid, r.status_label, first,
            r.lease_start, r.reminder_due,
        ])
        row = ws.max_row
        ws.cell(row, 7).number_format = "#,##0.00"
        for col in (11, 12):
            ws.cell(row, col).number_format = "DD/MM/YYYY"
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[ws.cell(5, index).column_letter].width = width
    ws.freeze_panes = "A6"
    ws.auto_filter.ref = f"A5:{ws.cell(5, len(HEADERS)).column_letter}{max(ws.max_row, 5)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
