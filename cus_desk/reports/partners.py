"""Per-agency partners document (PDF, reportlab) and the directory workbook
(XLSX, openpyxl). Both take the plain value types of domain.partners;
reportlab and openpyxl are imported inside the functions (start-up time)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cus_desk.domain.formatting import format_date, format_datetime
from cus_desk.domain.partners import AgencyView, PartnerDetail


def _esc(text) -> str:
    from xml.sax.saxutils import escape

    return escape("" if text is None else str(text))


def build_agency_pdf(path: str | Path, view: AgencyView, *, organisation: str = "VIVEST",
                     generated_at: datetime) -> Path:
    """A4 portrait, French: the agency's partners by category, the
    conventions reaching their end, then the intermédiation tables."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from cus_desk.reports.fonts import register_fonts

    regular, bold = register_fonts()
    path = Path(path)
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9)
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11.5, leading=14,
                        spaceBefore=10, spaceAfter=4, textColor=colors.HexColor("#1F4E79"),
                        keepWithNext=1)
    h3 = ParagraphStyle("h3", parent=base, fontName=bold, fontSize=9.5, leading=12,
                        spaceBefore=6, spaceAfter=2, keepWithNext=1)
    head = ParagraphStyle("head", parent=base, fontName=bold, textColor=colors.white)
    head_r = ParagraphStyle("head_r", parent=head, alignment=TA_RIGHT)
    width = A4[0] - 30 * mm

    def table(data, col_widths, *, total_row=False):
        t = Table(data, colWidths=col_widths, repeatRows=1)
        style = [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F4E79")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#B0B7C3")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F5F9")]),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if total_row:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#DCE6F1")))
        t.setStyle(TableStyle(style))
        return t

    story = [
        Paragraph(_esc(f"Structures partenaires – {view.agency_label}"), h1),
        Paragraph(_esc(f"{organisation} · pôle social · situation au {format_date(view.today)} · "
                       f"{view.partner_count} structure(s) active(s)"), small),
        Spacer(1, 4 * mm),
        Paragraph("Partenaires par catégorie", h2),
    ]
    if not view.partners_by_category:
        story.append(Paragraph("Aucune structure partenaire active n'est rattachée à cette agence.",
                               base))
    for label, rows in view.partners_by_category:
        data = [[Paragraph(x, head) for x in ("Structure", "Commune", "Téléphone", "E-mail")]
                + [Paragraph("Conv.", head_r), Paragraph("Logts", head_r)]]
        for r in rows:
            conv = str(r.current_conventions) if r.current_conventions else ""
            if r.expiring_conventions:
                conv += " (!)"
            communes = r.commune or ", ".join(r.communes[:3])
            data.append([
                Paragraph(_esc(r.display_name), base), Paragraph(_esc(communes), base),
                Paragraph(_esc((r.phone or "").replace(" ", "\u00a0")), base),
                Paragraph(_esc(r.email or ""), small),
                Paragraph(_esc(conv), right),
                Paragraph(_esc(r.flat_count or ""), right),
            ])
        block = [Paragraph(_esc(f"{label} ({len(rows)})"), h3),
                 table(data, [0.31 * width, 0.14 * width, 0.16 * width, 0.23 * width,
                              0.08 * width, 0.08 * width])]
        story.append(KeepTogether(block) if len(rows) < 12 else block[0])
        if len(rows) >= 12:
            story.append(block[1])
    story.append(Paragraph(
        "Conv. : conventions en cours ((!) : l'une arrive à échéance). Logts : logements loués "
        "à la structure (fiches logement et chiffres de la CUS).", small))

    conv_title = Paragraph("Conventions arrivant à échéance", h2)
    if view.expiring:
        data = [[Paragraph(x, head) for x in ("Structure", "Convention", "Début", "Fin", "Référence")]]
        for name, c in view.expiring:
            data.append([Paragraph(_esc(name), base), Paragraph(_esc(c.kind_label), base),
                         Paragraph(format_date(c.start_date), base),
                         Paragraph(format_date(c.end_date), base),
                         Paragraph(_esc(c.document_ref or ""), base)])
        story.append(KeepTogether([conv_title, table(
            data, [0.32 * width, 0.22 * width, 0.12 * width, 0.12 * width, 0.22 * width])]))
    else:
        story.append(KeepTogether([conv_title, Paragraph(
            "Aucune convention n'arrive à échéance prochainement.", base)]))

    section = Paragraph("Intermédiation locative", h2)
    if not view.tables:
        story.append(section)
        story.append(Paragraph(
            "Aucun logement loué à une association n'est enregistré pour cette agence.", base))
    for i, t in enumerate(view.tables):
        data = [[Paragraph(_esc(t.key_label), head), Paragraph(_esc(t.value_label), head_r)]]
        for row in t.rows:
            data.append([Paragraph(_esc(row.label), base), Paragraph(str(row.flat_count), right)])
        data.append([Paragraph("<b>Total</b>", base), Paragraph(f"<b>{t.total}</b>", right)])
        block = [Paragraph(_esc(t.title), h3)]
        if i == 0:
            block.insert(0, section)  # never a section title alone at a page foot
        if t.note:
            block.append(Paragraph(_esc(t.note), small))
        block.append(table(data, [0.7 * width, 0.3 * width], total_row=True))
        if len(t.rows) < 30:
            story.append(KeepTogether(block))
        else:
            story.append(KeepTogether(block[:-1]))
            story.append(block[-1])

    stamp = format_datetime(generated_at)

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 10 * mm,
                          f"{organisation} – Partenaires – {view.agency_label} – édité le {stamp}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm,
                            title=f"Partenaires – {view.agency_label}", author=organisation,
                            subject="Structures partenaires et intermédiation locative")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return path


def write_directory_xlsx(path: str | Path, view: AgencyView,
                         details: list[PartnerDetail]) -> Path:
    """One workbook: Structures, Contacts, Conventions, Logements,
    Intermédiation (the tables of the view)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")

    def sheet(ws, title, headers, rows, widths):
        ws.title = title
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for row in rows:
            ws.append(list(row))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if hasattr(cell.value, "year"):
                    cell.number_format = "DD/MM/YYYY"
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions

    sheet(wb.active, "Structures",
          ["Nom", "Nom court", "Catégorie", "Agences", "Communes couvertes", "Adresse", "Commune",
           "Téléphone", "E-mail", "Conventions en cours", "Logements", "Orientations envoyées",
           "Acceptées / abouties", "Notes"],
          [(d.name, d.short_name, d.category_label, ", ".join(d.agencies), ", ".join(d.communes),
            d.address, d.commune, d.phone, d.email,
            sum(1 for c in d.conventions if c.state in ("en_cours", "echeance_proche")),
            sum(1 for f in d.flats if f.transfer_date is None)
            + sum(c.flat_count for c in d.counts
                               if c.table_code in ("logiest_2020_structures",
                                                   "slh_2020_sans_transfert",
                                                   "slh_2020_avec_transfert")),
            d.stats.sent, d.stats.positive, d.notes) for d in details],
          [38, 18, 24, 26, 26, 30, 18, 16, 28, 12, 11, 12, 12, 40])
    sheet(wb.create_sheet(), "Contacts",
          ["Structure", "Nom", "Fonction", "Téléphone", "E-mail"],
          [(d.name, c.name, c.function, c.phone, c.email) for d in details for c in d.contacts],
          [38, 26, 26, 16, 30])
    sheet(wb.create_sheet(), "Conventions",
          ["Structure", "Type", "Agence", "Début", "Fin", "Logements", "Référence", "État"],
          [(d.name, c.kind_label, c.agency, c.start_date, c.end_date, c.flat_count,
            c.document_ref, c.state_label) for d in details for c in d.conventions],
          [38, 24, 14, 12, 12, 11, 22, 16])
    sheet(wb.create_sheet(), "Logements",
          ["Structure", "Commune", "Adresse", "Agence", "Dispositif", "Début",
           "Bail transférable", "Date de glissement"],
          [(d.name, f.commune, f.address, f.agency, f.kind_label, f.start_date,
            "oui" if f.transferable else "non", f.transfer_date)
           for d in details for f in d.flats],
          [38, 22, 30, 14, 16, 12, 14, 14])
    rows = []
    for t in view.tables:
        rows.append((t.title, None))
        if t.note:
            rows.append((t.note, None))
        rows.append((t.key_label, t.value_label))
        rows.extend((r.label, r.flat_count) for r in t.rows)
        rows.append(("Total", t.total))
        rows.append((None, None))
    ws = wb.create_sheet()
    sheet(ws, "Intermédiation", [f"Intermédiation locative – {view.agency_label}", ""], rows,
          [70, 20])
    ws.auto_filter.ref = None
    for row in ws.iter_rows(min_row=2):
        if row[0].value in ("Total",) or (row[0].value and row[1].value is None
                                          and row[0].value in {t.title for t in view.tables}):
            row[0].font = Font(bold=True)
            row[1].font = Font(bold=True)
    wb.properties.title = f"Partenaires – {view.agency_label}"
    wb.save(path)
    return path
