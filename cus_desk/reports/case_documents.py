"""Two printed documents of the CAS (reportlab, A4, French, DejaVu Sans):

- the **ordre du jour / convocation** sent to the members before a session:
  the cases by reference and initials only;
- the **fiche dossier / note de synthèse** of one case, for the adviser who
  presents it: the debt with its date, the budget and the procedure, plans,
  orientations and earlier decisions.

The service gathers plain values (what the reader may see); this module only
lays them out: what is not in the data cannot be printed. Every page carries
a running header naming the document, and « Page n / N »."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

from cus_desk.domain.formatting import format_date, format_datetime

CONFIDENTIAL_FOOTER = "Document confidentiel — secret professionnel partagé"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def long_date(day: date) -> str:
    """« jeudi 26/11/2026 »."""
    return f"{WEEKDAYS[day.weekday()]} {format_date(day)}"


@dataclass(frozen=True)
class ConvocationMember:
    name: str
    function_label: str


@dataclass(frozen=True)
class ConvocationItem:
    position: int
    reference: str
    initials: str
    agency: str
    presented_by: str


@dataclass(frozen=True)
class ConvocationData:
    organisation: str
    meeting_label: str
    held_on: date
    place: str
    scope_label: str
    generated_at: datetime
    members: tuple[ConvocationMember, ...] = ()
    items: tuple[ConvocationItem, ...] = ()
    follow_up_count: int = 0  # earlier decisions to follow up at this session
    hidden_items: int = 0  # agenda cases the printing actor may not see


@dataclass(frozen=True)
class CaseNoteData:
    organisation: str
    reference: str
    household: str
    agency: str
    status_label: str
    adviser: str
    opened_on: date
    generated_at: datetime
    full: bool  # False: the commission summary (SUMMARY level)
    problems: tuple[str, ...] = ()
    occupants: str = ""
    debt: str = ""
    debt_other: str = ""
    budget_lines: tuple[str, ...] = ()
    procedure: tuple[tuple[str, str], ...] = ()  # (stage label, date text)
    procedure_stage: str = ""
    ccapex_warning: str = ""
    plans: tuple[str, ...] = ()
    referrals: tuple[str, ...] = ()
    decisions: tuple[tuple[str, str, str, str], ...] = ()  # séance, type, texte, suivi
    agenda: str = ""  # « Inscrit à l'ordre du jour de la CAS n° 4/2026 du 17/12/2026 »
    proposal: str = ""


def _p(text: str) -> str:
    return escape(text or "").replace("\n", "<br/>")


class _Styles:
    def __init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle

        from cus_desk.reports.fonts import register_fonts

        self.regular, self.bold = register_fonts()
        self.base = ParagraphStyle("base", fontName=self.regular, fontSize=9.5, leading=12.5)
        self.small = ParagraphStyle("small", parent=self.base, fontSize=8, leading=10,
                                    textColor=colors.HexColor("#444444"))
        self.org = ParagraphStyle("org", parent=self.base, fontName=self.bold, fontSize=14, leading=18)
        self.title = ParagraphStyle("title", parent=self.base, fontName=self.bold, fontSize=13, leading=17,
                                    alignment=TA_CENTER, spaceBefore=4)
        self.subtitle = ParagraphStyle("subtitle", parent=self.base, fontSize=10.5, leading=14,
                                       alignment=TA_CENTER)
        self.h2 = ParagraphStyle("h2", parent=self.base, fontName=self.bold, fontSize=11.5, leading=15,
                                 spaceBefore=8, spaceAfter=3, textColor=colors.HexColor("#1F3A5F"))
        self.cell_bold = ParagraphStyle("cellb", parent=self.base, fontName=self.bold)
        self.warning = ParagraphStyle("warning", parent=self.base, fontName=self.bold,
                                      textColor=colors.HexColor("#8C1D18"), backColor=colors.HexColor("#FDECEA"),
                                      borderColor=colors.HexColor("#B3261E"), borderWidth=0.6, borderPadding=5,
                                      spaceBefore=6, spaceAfter=8)
        self.grid = [
            ("FONTNAME", (0, 0), (-1, -1), self.regular),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA5B1")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E9F0")),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]


def _build(story: list, *, title: str, running: str, organisation: str, generated_at: datetime) -> bytes:
    """Lay ``story`` out on A4 pages, each with ``running`` at the top and
    the confidentiality notice, the generation time and « Page n / N » below."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from cus_desk.reports.paging import numbered_canvas

    regular = _Styles().regular
    generated = format_datetime(generated_at)

    def _decorate(self, total: int) -> None:
        self.saveState()
        self.setFont(regular, 7.5)
        self.setFillColor(colors.HexColor("#333333"))
        self.setStrokeColor(colors.HexColor("#9AA5B1"))
        self.setLineWidth(0.4)
        self.drawString(18 * mm, A4[1] - 11 * mm, running)
        self.line(18 * mm, A4[1] - 12.5 * mm, A4[0] - 18 * mm, A4[1] - 12.5 * mm)
        self.line(18 * mm, 14 * mm, A4[0] - 18 * mm, 14 * mm)
        self.drawString(18 * mm, 10 * mm, CONFIDENTIAL_FOOTER)
        self.drawCentredString(A4[0] / 2 + 20 * mm, 10 * mm, f"Généré le {generated}")
        self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {self._pageNumber} / {total}")
        self.restoreState()

    NumberedCanvas = numbered_canvas(_decorate)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=20 * mm, bottomMargin=20 * mm, title=title, author=organisation,
                            subject="Commission d'Action Sociale", creator="CUS Desk", lang="fr-FR")
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def build_convocation_pdf(data: ConvocationData) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, Paragraph, Spacer, Table, TableStyle

    s = _Styles()
    width = A4[0] - 36 * mm
    story: list = [
        Paragraph(_p(data.organisation), s.org),
        Paragraph("Commission d'Action Sociale", s.title),
        Paragraph(f"Convocation et ordre du jour — {_p(data.meeting_label)}", s.subtitle),
        Paragraph(f"Séance du {long_date(data.held_on)} — {_p(data.scope_label)}", s.subtitle),
    ]
    if data.place:
        story.append(Paragraph(f"Lieu : {_p(data.place)}", s.subtitle))
    story += [
        Spacer(1, 5 * mm),
        Paragraph(
            f"Vous êtes convoqué(e) à la séance de la Commission d'Action Sociale du "
            f"{long_date(data.held_on)}{' — ' + _p(data.place) if data.place else ''}. "
            "Les dossiers inscrits à l'ordre du jour y sont présentés par la conseillère sociale qui les "
            "suit ; ce document ne les désigne que par leur référence et les initiales du ménage. "
            "En cas d'empêchement, merci de prévenir le pôle social.", s.base),
        CondPageBreak(35 * mm),
        Paragraph("Membres convoqués", s.h2),
    ]
    if data.members:
        rows = [[Paragraph("Membre", s.cell_bold), Paragraph("Fonction", s.cell_bold)]]
        rows += [[Paragraph(_p(m.name), s.base), Paragraph(_p(m.function_label), s.base)]
                 for m in data.members]
        table = Table(rows, colWidths=[width * 0.45, width * 0.55], repeatRows=1)
        table.setStyle(TableStyle(s.grid))
        story.append(table)
    else:
        story.append(Paragraph("Aucun membre n'est encore inscrit à cette séance.", s.base))

    story += [CondPageBreak(35 * mm), Paragraph("Ordre du jour", s.h2)]
    story.append(Paragraph("1. Ouverture de la séance ; désignation du/de la secrétaire de séance.", s.base))
    story.append(Paragraph(
        "2. Suivi des décisions des séances précédentes"
        + (f" ({data.follow_up_count} décision{'s' if data.follow_up_count > 1 else ''} à suivre)."
           if data.follow_up_count else "."), s.base))
    count = len(data.items) + data.hidden_items
    story.append(Paragraph(f"3. Examen des dossiers ({count} dossier{'s' if count > 1 else ''}) :", s.base))
    story.append(Spacer(1, 2 * mm))
    if data.items:
        rows = [[Paragraph(h, s.cell_bold) for h in ("N°", "Dossier", "Ménage", "Agence", "Présenté par")]]
        rows += [[str(i.position), i.reference, Paragraph(_p(i.initials), s.base), Paragraph(_p(i.agency), s.base),
                  Paragraph(_p(i.presented_by) or "—", s.base)] for i in data.items]
        table = Table(rows, colWidths=[width * w for w in (0.07, 0.21, 0.14, 0.28, 0.30)], repeatRows=1)
        table.setStyle(TableStyle(s.grid + [("FONTSIZE", (0, 1), (1, -1), s.base.fontSize)]))
        story.append(table)
    elif not data.hidden_items:
        story.append(Paragraph("Aucun dossier n'est encore inscrit.", s.base))
    if data.hidden_items:
        story.append(Paragraph(
            f"Et {data.hidden_items} dossier{'s' if data.hidden_items > 1 else ''} d'autres agences, "
            "présenté(s) par leur conseillère.", s.small))
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph("4. Questions diverses ; date de la prochaine séance.", s.base))
    return _build(story, title=f"Convocation — {data.meeting_label}",
                  running=f"Convocation et ordre du jour — {data.meeting_label} — séance du "
                          f"{format_date(data.held_on)}",
                  organisation=data.organisation, generated_at=data.generated_at)


def build_case_note_pdf(data: CaseNoteData) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

    s = _Styles()
    width = A4[0] - 36 * mm
    story: list = [
        Paragraph(_p(data.organisation), s.org),
        Paragraph("Fiche dossier — note de synthèse pour la CAS", s.title),
        Paragraph(f"Dossier {_p(data.reference)} — {_p(data.household)}", s.subtitle),
        Spacer(1, 3 * mm),
    ]
    ident = [
        ("Agence", data.agency), ("Statut", data.status_label),
        ("Conseillère référente", data.adviser or "—"), ("Ouvert le", format_date(data.opened_on)),
    ]
    if data.occupants:
        ident.append(("Ménage", data.occupants))
    if data.agenda:
        ident.append(("CAS", data.agenda))
    table = Table([[Paragraph(k, s.cell_bold), Paragraph(_p(v), s.base)] for k, v in ident],
                  colWidths=[width * 0.28, width * 0.72])
    table.setStyle(TableStyle([c for c in s.grid if c[0] != "BACKGROUND"]))
    story.append(table)
    story.append(Spacer(1, 1.5 * mm))
    if data.full:
        # The free-text résumé may hold health or family matters: like the
        # projected summary (where it is revealed on demand), it is not printed.
        story.append(Paragraph("Document de travail de la conseillère qui présente le dossier : ne pas "
                               "diffuser aux membres ni laisser en séance. Le résumé de la situation reste "
                               "dans le dossier (non imprimé).", s.small))
    else:
        story.append(Paragraph("Synthèse préparée pour la commission : le détail du dossier (situation, "
                               "ressources, journal) reste réservé à la conseillère.", s.small))
    if data.ccapex_warning:
        story.append(Paragraph(f"⚠ {_p(data.ccapex_warning)}", s.warning))

    def section(title: str, lines, empty: str) -> None:
        story.append(CondPageBreak(15 * mm))
        story.append(Paragraph(title, s.h2))
        lines = [line for line in lines if line]
        if not lines:
            story.append(Paragraph(empty, s.base))
        for line in lines:
            story.append(Paragraph(f"• {_p(line)}", s.base))

    section("Problématiques", [", ".join(data.problems)] if data.problems else [], "—")
    story.append(KeepTogether([
        Paragraph("Proposition à la commission", s.h2),
        Paragraph(_p(data.proposal) or "À rédiger par la conseillère.", s.base),
    ]))
    story.append(CondPageBreak(15 * mm))
    story.append(Paragraph("Dette locative", s.h2))
    story.append(Paragraph(_p(data.debt), s.base))
    if data.debt_other:
        story.append(Paragraph(_p(data.debt_other), s.small))
    section("Budget du ménage (par mois)", data.budget_lines, "Budget non renseigné.")
    story.append(CondPageBreak(25 * mm))
    story.append(Paragraph("Procédure d'expulsion", s.h2))
    story.append(Paragraph(f"Étape actuelle : {_p(data.procedure_stage)}", s.base))
    if data.procedure:
        rows = [[Paragraph("Étape", s.cell_bold), Paragraph("Date", s.cell_bold)]]
        rows += [[Paragraph(_p(label), s.base), on] for label, on in data.procedure]
        t = Table(rows, colWidths=[width * 0.6, width * 0.4])
        t.setStyle(TableStyle(s.grid))
        story.append(Spacer(1, 2 * mm))
        story.append(t)
    section("Plans d'apurement", data.plans, "Aucun plan d'apurement.")
    section("Orientations", data.referrals, "Aucune orientation.")
    story.append(CondPageBreak(18 * mm))
    story.append(Paragraph("Décisions de la CAS", s.h2))
    if data.decisions:
        rows = [[Paragraph(h, s.cell_bold) for h in ("Séance", "Décision", "Suivi")]]
        for meeting, kind, text, status in data.decisions:
            rows.append([Paragraph(_p(meeting), s.base),
                         Paragraph(f"<b>{_p(kind)}</b>" + (f" : {_p(text)}" if text else ""), s.base),
                         Paragraph(_p(status), s.base)])
        t = Table(rows, colWidths=[width * 0.27, width * 0.55, width * 0.18], repeatRows=1)
        t.setStyle(TableStyle(s.grid))
        story.append(t)
    else:
        story.append(Paragraph("Première présentation en CAS.", s.base))
    return _build(story, title=f"Fiche dossier {data.reference}",
                  running=f"Fiche dossier {data.reference} — {data.household}",
                  organisation=data.organisation, generated_at=data.generated_at)
