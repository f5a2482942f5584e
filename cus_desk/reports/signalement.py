"""Fiche de signalement (CUS §9.3): what a CMS, CCAS, CLIC or pôle
gérontologique needs to contact an older tenant in arrears — identity, age,
address, phone, the facts observed, the arrears situation, the landlord's
contact. Nothing else: never case notes, never confidential information
(the data class has no field for them)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from cus_desk.domain.formatting import format_cents, format_date


@dataclass(frozen=True)
class FicheData:
    organisation: str
    agency_label: str
    agency_town: str
    sender_name: str
    reference: str
    sent_on: date
    partner_name: str
    partner_kind: str
    partner_address: str | None
    last_name: str
    first_name: str
    birth_date: date | None
    age: int | None
    cotenant_birth_date: date | None
    address: str | None
    commune: str
    phone: str | None
    contract: str
    lease_start: date | None
    balance_cents: int | None
    months_unpaid: int | None
    last_payment_on: date | None
    monthly_rent_cents: int | None
    extract_date: date | None
    history: list[tuple[date, int]] = field(default_factory=list)
    facts: list[tuple[date, str, str]] = field(default_factory=list)  # date, kind label, note
    reason: str = ""
    cotenant_name: str | None = None
    tenant_informed: bool | None = None  # None: not recorded (signalements before #13)
    tenant_informed_note: str = ""
    reply_expected: str = ""
    reply_by: date | None = None
    sender_role: str = ""
    agency_address: str = ""  # may hold several lines
    agency_phone: str | None = None
    agency_email: str | None = None


def build_fiche(data: FicheData) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from cus_desk.reports.fonts import register_fonts

    regular, bold = register_fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444"))
    title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=16, leading=20, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14, spaceBefore=6,
                        spaceAfter=3, textColor=colors.HexColor("#1f3a5f"))
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
    label_style = ParagraphStyle("label", parent=base, fontName=bold, textColor=colors.HexColor("#333333"))

    def p(text: str | None, style=base) -> Paragraph:
        return Paragraph(escape(text or "—").replace("\n", "<br/>"), style)

    def grid(rows: list[tuple[str, str | None]]) -> Table:
        table = Table([[p(k, label_style), p(v)] for k, v in rows], colWidths=[52 * mm, 118 * mm])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]))
        return table

    def grid2(rows: list[list[tuple[str, str | None]]]) -> Table:
        """Two label/value pairs per line (one pair alone spans the line):
        the fiche stays on one page."""
        cells, spans = [], []
        for i, pairs in enumerate(rows):
            line = [x for k, v in pairs for x in (p(k, label_style), p(v))]
            if len(pairs) == 1:
                line += ["", ""]
                spans.append(("SPAN", (1, i), (3, i)))
            cells.append(line)
        table = Table(cells, colWidths=[40 * mm, 45 * mm, 36 * mm, 49 * mm])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            *spans,
        ]))
        return table

    story = []
    header = Table(
        [[Paragraph(f"<b>{escape(data.organisation)}</b><br/>{escape(data.agency_label)}", base),
          Paragraph(f"Réf. {escape(data.reference)}<br/>Envoyé le {format_date(data.sent_on)}", right)]],
        colWidths=[100 * mm, 70 * mm],
    )
    story += [header, Spacer(1, 3 * mm), p("Fiche de signalement — locataire de 65 ans et plus", title),
              p("Impayé de loyer et comportement ayant attiré l'attention de notre personnel de terrain "
                "(convention d'utilité sociale, § 9.3).", small), Spacer(1, 3 * mm)]

    def block(heading: str, rows: list[tuple[str, str | None]]) -> list:
        table = Table([[p(k, label_style), p(v)] for k, v in rows], colWidths=[27 * mm, 55 * mm])
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ]))
        return [p(heading, h2), table]

    parties = Table([[
        block("Destinataire", [("Structure", data.partner_name), ("Type", data.partner_kind),
                               ("Adresse", data.partner_address)]),
        block("Contact chez le bailleur", [("Agence", f"{data.agency_label} ({data.agency_town})"),
                                           ("Adresse", data.agency_address.replace("\n", ", ") or None),
                                           ("Téléphone", data.agency_phone),
                                           ("E-mail", data.agency_email),
                                           ("Signalé par", ", ".join(
                                               x for x in (data.sender_name, data.sender_role) if x))]),
    ]], colWidths=[85 * mm, 85 * mm])
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(parties)

    age = f"{data.age} ans" if data.age is not None else None
    story.append(p("Personne signalée", h2))
    rows = [
        [("Nom", data.last_name), ("Prénom", data.first_name)],
        [("Date de naissance", format_date(data.birth_date) or None), ("Âge", age)],
    ]
    if data.cotenant_name or data.cotenant_birth_date:
        rows.append([("Cotitulaire", ", ".join(x for x in (
            data.cotenant_name, f"né(e) le {format_date(data.cotenant_birth_date)}"
            if data.cotenant_birth_date else None) if x))])
    rows += [
        [("Adresse", data.address), ("Commune", data.commune)],
        [("Téléphone", data.phone), ("N° de contrat", data.contract)],
        [("Locataire depuis", format_date(data.lease_start) or None)],
    ]
    story.append(grid2(rows))

    story.append(p("Faits observés", h2))
    if data.facts:
        fact_rows = [[p("Date", label_style), p("Constat", label_style), p("Description", label_style)]]
        fact_rows += [[p(format_date(d)), p(kind), p(note)] for d, kind, note in data.facts]
        facts = Table(fact_rows, colWidths=[25 * mm, 52 * mm, 93 * mm], repeatRows=1)
        facts.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
        ]))
        story.append(facts)
    else:
        story.append(p("Aucune observation enregistrée."))
    if data.reason:
        story += [Spacer(1, 2 * mm), p("Motif du signalement", label_style), p(data.reason)]

    story.append(p("Situation de l'impayé", h2))
    situation = [
        [("Solde dû", format_cents(data.balance_cents) if data.balance_cents is not None else None),
         ("Mois d'impayés", str(data.months_unpaid) if data.months_unpaid is not None else None)],
        [("Dernier paiement", format_date(data.last_payment_on) or None),
         ("Loyer + charges", format_cents(data.monthly_rent_cents) if data.monthly_rent_cents is not None
          else None)],
        [("Selon l'extrait du", format_date(data.extract_date) or None)],
    ]
    if data.history:
        situation.append([("Évolution du solde", " · ".join(
            f"{format_date(d)} : {format_cents(c)}" for d, c in data.history))])
    story.append(grid2(situation))

    story.append(p("Information du locataire et réponse attendue", h2))
    informed = {True: "Oui, le locataire a été informé de ce signalement.",
                False: "Non, le locataire n'a pas été informé de ce signalement : tenez-en compte "
                       "avant de le contacter.", None: None}[data.tenant_informed]
    if data.tenant_informed_note:
        informed = f"{informed or ''} {data.tenant_informed_note}".strip()
    story.append(grid([
        ("Locataire informé", informed),
        ("Réponse attendue", data.reply_expected or "Un accusé de réception, puis l'indication d'une prise en "
                                                    "charge (ou de son impossibilité)."),
        ("Avant le", format_date(data.reply_by) or None),
        ("Répondre à", f"{data.sender_name} — {data.agency_label} ({data.agency_town})"
                       + "".join(f", {x}" for x in (data.agency_phone, data.agency_email) if x)
                       + f", en rappelant la référence {data.reference}"),
    ]))


    buffer = io.BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 8)
        # On every page: the fiche may be photocopied or forwarded page by page.
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(20 * mm, 14 * mm, "Document contenant des données personnelles, transmis au seul "
                                            "destinataire ci-dessus pour l'accompagnement de la personne.")
        canvas.setFillColor(colors.black)
        canvas.drawString(20 * mm, 10 * mm, f"{data.organisation} — fiche de signalement {data.reference}")
        canvas.drawRightString(190 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=16 * mm, bottomMargin=20 * mm,
                            title=f"Fiche de signalement {data.reference}", author=data.organisation)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
