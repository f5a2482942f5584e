"""Relevé de décisions of a CAS session (reportlab, A4, French).

The service gathers plain values into a ``ReleveData``; this module only
lays them out. It never sees confidential notes, health problems or family
details: what is not in ``ReleveData`` cannot be printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from xml.sax.saxutils import escape

from cus_desk.domain.formatting import format_date, format_datetime

CONFIDENTIAL_FOOTER = "Document confidentiel — secret professionnel partagé"
MAX_ROW_LINES = 40  # a table row never taller than a page


@dataclass(frozen=True)
class ReleveAttendee:
    name: str
    function_label: str
    present: bool
    function: str = ""  # reference code: "president", "secretaire_seance"...
    presence_label: str = ""  # « Présent(e) », « Excusé(e) », « Absent(e) », « Non indiquée »


@dataclass(frozen=True)
class ReleveDecision:
    type_label: str
    text: str
    responsible: str
    due_on: date | None


@dataclass(frozen=True)
class ReleveCase:
    reference: str
    household: str
    agency: str
    decisions: tuple[ReleveDecision, ...]
    adjourned: bool = False  # only an ajournement was decided: « à représenter »


@dataclass(frozen=True)
class ReleveFollowUp:
    case_reference: str
    household: str
    meeting_label: str
    type_label: str
    text: str
    responsible: str
    due_on: date | None
    status_label: str
    overdue: bool = False
    last_comment: str = ""


@dataclass(frozen=True)
class ReleveAddendum:
    written_at: datetime
    author: str
    text: str
    about: str = ""  # "Décision : Saisine du FSL — CAS-2026-0042" when it targets one


@dataclass(frozen=True)
class ReleveData:
    organisation: str
    meeting_label: str
    held_on: date
    place: str
    scope_label: str
    final: bool  # False: the session is not closed yet (draft)
    generated_at: datetime
    attendees: tuple[ReleveAttendee, ...] = ()
    cases: tuple[ReleveCase, ...] = ()
    follow_ups: tuple[ReleveFollowUp, ...] = ()
    addenda: tuple[ReleveAddendum, ...] = field(default_factory=tuple)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    next_meeting: str = ""  # "CAS n° 3/2026 — jeudi 17/12/2026 — Siège" when one is prepared
    version: int | None = None  # archived version number (1 = signed at closing)
    version_label: str = ""


def format_time(value: datetime) -> str:
    """« 14 h 05 », Europe/Paris (from the UTC timestamp)."""
    hh, mm = format_datetime(value).split(" ")[1].split(":")
    return f"{int(hh)} h {mm}"


def _p(text: str) -> str:
    """User text made safe for Paragraph markup (no tag injection), line
    breaks kept."""
    return escape(text or "").replace("\n", "<br/>")


def _text_block_class():
    """A light flowable for table cells: runs of (font, size, colour, text)
    wrapped with simpleSplit and drawn line by line. Several times cheaper
    to lay out than a Paragraph (no markup parsing), which keeps a relevé of
    dozens of decisions well under the benchmark goal."""
    from reportlab.lib.utils import simpleSplit
    from reportlab.platypus import Flowable

    class TextBlock(Flowable):
        def __init__(self, runs: list[tuple[str, float, object, str]], leading_factor: float = 1.25):
            super().__init__()
            self.runs = [r for r in runs if r[3]]
            self.leading_factor = leading_factor
            self._lines: list[tuple[str, float, object, str]] = []
            self._for_width: float | None = None

        def _layout(self, width: float) -> None:
            if self._for_width == width or self.runs is None:  # None: a piece, already laid out
                return
            lines = []
            for font, size, color, text in self.runs:
                for part in text.split("\n"):
                    for line in simpleSplit(part, font, size, max(width, 10)) or [""]:
                        lines.append((font, size, color, line))
            self._lines, self._for_width = lines, width

        def wrap(self, avail_width, avail_height):
            self._layout(avail_width)
            self.width = avail_width
            self.height = sum(size * self.leading_factor for _, size, _, _ in self._lines)
            return self.width, self.height

        def split(self, avail_width, avail_height):
            """Long texts (a pasted note of many lines) continue on the next
            page instead of failing the whole document."""
            self._layout(avail_width)
            fitted, used = 0, 0.0
            for _, size, _, _ in self._lines:
                if used + size * self.leading_factor > avail_height:
                    break
                used += size * self.leading_factor
                fitted += 1
            if fitted == 0 or fitted == len(self._lines):
                return []
            parts = []
            for chunk in (self._lines[:fitted], self._lines[fitted:]):
                part = TextBlock([], self.leading_factor)
                part.runs, part._lines, part._for_width = None, list(chunk), avail_width
                parts.append(part)
            return parts

        def chunks(self, width: float, max_lines: int) -> list:
            """The block cut into blocks of at most ``max_lines`` lines (a
            table row cannot span pages: a very long text becomes several
            rows)."""
            self._layout(width)
            if len(self._lines) <= max_lines:
                return [self]
            parts = []
            for start in range(0, len(self._lines), max_lines):
                part = TextBlock([], self.leading_factor)
                part.runs, part._lines = None, self._lines[start:start + max_lines]
                part._for_width = width
                parts.append(part)
            return parts

        def draw(self):
            # One text object for the whole block: far fewer PDF operators
            # than a drawString per line.
            if not self._lines:
                return
            size = self._lines[0][1]
            leading = size * self.leading_factor
            text = self.canv.beginText(0, self.height - size + 1)
            current = None
            for font, line_size, color, line in self._lines:
                if (font, line_size, color) != current:
                    text.setFont(font, line_size, leading)
                    text.setFillColor(color)
                    current = (font, line_size, color)
                text.textLine(line)
            self.canv.drawText(text)

    return TextBlock


def build_releve_pdf(data: ReleveData) -> bytes:
    import io

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from cus_desk.reports.fonts import register_fonts
    from cus_desk.reports.paging import numbered_canvas

    regular, bold = register_fonts()
    TextBlock = _text_block_class()  # noqa: N806 - a class
    black, grey = colors.black, colors.HexColor("#444444")
    generated = format_datetime(data.generated_at)

    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
    org = ParagraphStyle("org", parent=base, fontName=bold, fontSize=15, leading=19)
    title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=13, leading=17,
                           alignment=TA_CENTER, spaceBefore=4)
    subtitle = ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, alignment=TA_CENTER)
    draft = ParagraphStyle("draft", parent=base, fontName=bold, fontSize=10, alignment=TA_CENTER,
                           textColor=colors.HexColor("#B00020"), spaceBefore=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11.5, leading=15,
                        spaceBefore=10, spaceAfter=4, textColor=colors.HexColor("#1F3A5F"))
    cell_bold = ParagraphStyle("cellb", parent=base, fontName=bold)
    compact = ParagraphStyle("compact", parent=base, fontSize=8, leading=10)

    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA5B1")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E9F0")),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ])

    width = A4[0] - 36 * mm
    story: list = [
        Paragraph(_p(data.organisation), org),
        Paragraph("Commission d'Action Sociale", title),
        Paragraph(f"Relevé de décisions — {_p(data.meeting_label)}", subtitle),
        Paragraph(f"Séance du {format_date(data.held_on)} — {_p(data.scope_label)}", subtitle),
    ]
    if data.place:
        story.append(Paragraph(f"Lieu : {_p(data.place)}", subtitle))
    hours = []
    if data.started_at is not None:
        hours.append(f"ouverte à {format_time(data.started_at)}")
    if data.ended_at is not None:
        hours.append(f"clôturée à {format_time(data.ended_at)}")
    if hours:
        story.append(Paragraph("Séance " + ", ".join(hours), subtitle))
    if data.version_label:
        story.append(Paragraph(_p(data.version_label), subtitle))
    if not data.final:
        story.append(Paragraph("PROJET — séance non clôturée, document provisoire", draft))
    story.append(Spacer(1, 4 * mm))

    # Attendees: one row per member, with the function and the presence.
    story.extend([CondPageBreak(35 * mm), Paragraph("Membres de la commission", h2)])
    if not data.attendees:
        story.append(Paragraph("Aucun membre enregistré.", base))
    else:
        rows = [[Paragraph("Membre", cell_bold), Paragraph("Fonction", cell_bold),
                 Paragraph("Présence", cell_bold)]]
        for a in sorted(data.attendees, key=lambda a: not a.present):
            rows.append([Paragraph(_p(a.name), base), Paragraph(_p(a.function_label), base),
                         Paragraph(a.presence_label or ("Présent(e)" if a.present else "Excusé(e)"), base)])
        table = Table(rows, colWidths=[width * 0.36, width * 0.44, width * 0.20], repeatRows=1)
        table.setStyle(grid)
        story.append(table)
        present = sum(1 for a in data.attendees if a.present)
        story.append(Paragraph(
            f"{present} membre{'s' if present > 1 else ''} présent{'s' if present > 1 else ''} "
            f"sur {len(data.attendees)}.", small))
    chair = [a.name for a in data.attendees if a.function == "president" and a.present]
    clerk = [a.name for a in data.attendees if a.function == "secretaire_seance" and a.present]
    roles = []
    if chair:
        roles.append(f"Présidence de séance : {_p(', '.join(chair))}")
    if clerk:
        roles.append(f"Secrétaire de séance : {_p(', '.join(clerk))}")
    if roles:
        story.append(Paragraph(" — ".join(roles), base))

    # Decisions, grouped by case: one table, a spanning row per case (kept
    # with its first decision), column headers repeated on every page.
    # Short cells are plain strings (much cheaper than Paragraphs to lay out).
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def cell(text: str, style: ParagraphStyle, col_width: float):
        text = text or "—"
        if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) <= col_width - 9:
            return text
        return [TextBlock([(style.fontName, style.fontSize, black, text)])]

    decided = [c for c in data.cases if c.decisions and not c.adjourned]
    undecided = [c for c in data.cases if not c.decisions or c.adjourned]
    story.extend([CondPageBreak(35 * mm), Paragraph("Décisions de la séance", h2)])
    col = [width * 0.58, width * 0.27, width * 0.15]
    if not data.cases:
        story.append(Paragraph("Aucun dossier n'a été examiné.", base))
    elif not decided:
        story.append(Paragraph("Aucune décision n'a été prise sur les dossiers examinés.", base))
    else:
        rows: list[list] = [["Décision", "Responsable", "Échéance"]]
        commands = list(grid.getCommands()) + [
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("FONTSIZE", (0, 0), (-1, -1), base.fontSize),
        ]
        for case in decided:
            r = len(rows)
            rows.append([TextBlock([(bold, base.fontSize, black, f"{case.reference} — {case.household}"
                                                                 f" ({case.agency})")]), "", ""])
            commands += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), colors.HexColor("#F3F5F8")),
                         ("NOSPLIT", (0, r), (-1, r + 1))]
            for d in case.decisions:
                body = TextBlock([(bold, base.fontSize, black, d.type_label),
                                  (regular, base.fontSize, black, d.text)])
                first, *more = body.chunks(col[0] - 8, MAX_ROW_LINES)
                rows.append([[first], cell(d.responsible, base, col[1]), format_date(d.due_on) or "—"])
                rows.extend([[part], "", ""] for part in more)
        t = Table(rows, colWidths=col, repeatRows=1, splitByRow=1, splitInRow=0)
        t.setStyle(TableStyle(commands))
        story.append(t)

    if undecided:
        story.extend([CondPageBreak(30 * mm), Paragraph("Points examinés sans décision", h2)])
        rows = [[Paragraph("Dossier", cell_bold), Paragraph("Suite donnée", cell_bold)]]
        for case in undecided:
            if case.adjourned:
                outcome = "Ajourné — à représenter"
                texts = [d.text for d in case.decisions if d.text]
                if texts:
                    outcome += " : " + " ; ".join(texts)
            else:
                outcome = "Examiné, sans décision"
            rows.append([
                [TextBlock([(bold, base.fontSize, black, case.reference),
                            (regular, base.fontSize, black, f"{case.household} ({case.agency})")])],
                [TextBlock([(regular, base.fontSize, black, outcome)]).chunks(width * 0.58 - 8,
                                                                              MAX_ROW_LINES)[0]],
            ])
        t = Table(rows, colWidths=[width * 0.42, width * 0.58], repeatRows=1)
        t.setStyle(grid)
        story.append(t)

    if data.addenda:
        story.extend([CondPageBreak(35 * mm), Paragraph("Rectificatifs (addenda)", h2)])
        rows = [[Paragraph("Date", cell_bold), Paragraph("Auteur", cell_bold),
                 Paragraph("Rectificatif", cell_bold)]]
        for a in data.addenda:
            body = (f"<i>{_p(a.about)}</i><br/>" if a.about else "") + _p(a.text)
            rows.append([Paragraph(format_datetime(a.written_at), base), Paragraph(_p(a.author), base),
                         Paragraph(body, base)])
        t = Table(rows, colWidths=[width * 0.18, width * 0.22, width * 0.60], repeatRows=1)
        t.setStyle(grid)
        story.append(t)

    story.extend([CondPageBreak(35 * mm), Paragraph("Suivi des décisions antérieures", h2)])
    if not data.follow_ups:
        story.append(Paragraph("Aucune décision antérieure en cours ou close depuis la dernière séance.", base))
    else:
        fu_cols = [width * w for w in (0.16, 0.14, 0.30, 0.16, 0.12, 0.12)]
        rows = [["Dossier", "Séance", "Décision", "Responsable", "Échéance", "Statut"]]
        overdue_rows: list[int] = []
        for f in data.follow_ups:
            size = compact.fontSize
            body = TextBlock([(bold, size, black, f.type_label), (regular, size, black, f.text),
                              (regular, size, grey, f.last_comment)])
            status = TextBlock([(regular, size, black, f.status_label),
                                (bold, size, black, "En retard" if f.overdue else "")])
            # Shorter pieces than in the decisions: a row does not split
            # inside (its borders and its case stay whole), so smaller rows
            # leave less blank at the foot of a page.
            first, *more = body.chunks(fu_cols[2] - 8, MAX_ROW_LINES // 2)
            if f.overdue:
                overdue_rows.append(len(rows))
            rows.append([
                [TextBlock([(regular, size, black, f.case_reference), (regular, size, black, f.household)])],
                cell(f.meeting_label, compact, fu_cols[1]),
                [first],
                cell(f.responsible, compact, fu_cols[3]),
                format_date(f.due_on) or "—",
                [status],
            ])
            # A text longer than a page continues on rows of its own, each
            # saying which case and session it belongs to.
            rows.extend([[TextBlock([(regular, size, black, f.case_reference),
                                     (regular, size, grey, "(suite)")])],
                         cell(f.meeting_label, compact, fu_cols[1]), [part], "", "", ""]
                        for part in more)
        t = Table(rows, colWidths=fu_cols, repeatRows=1, splitByRow=1, splitInRow=0)
        style = TableStyle(list(grid.getCommands()) + [
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("FONTSIZE", (0, 0), (-1, -1), compact.fontSize),
        ])
        for i in overdue_rows:
            style.add("BACKGROUND", (5, i), (5, i), colors.HexColor("#FDECEA"))
        t.setStyle(style)
        story.append(t)

    next_session = [Paragraph("Prochaine séance", h2),
                    Paragraph(_p(data.next_meeting) if data.next_meeting
                              else "Aucune séance suivante n'est encore préparée.", base)]

    # Signatures, kept together on one page.
    chair_name = ", ".join(chair) if chair else ""
    clerk_name = ", ".join(clerk) if clerk else ""
    signatures = Table(
        [[Paragraph("Le/La président·e de séance", cell_bold),
          Paragraph("Le/La secrétaire de séance", cell_bold)],
         [Paragraph(_p(chair_name) or "Nom :", base), Paragraph(_p(clerk_name) or "Nom :", base)],
         [Paragraph("Date et signature :", small), Paragraph("Date et signature :", small)],
         ["", ""]],
        colWidths=[width / 2, width / 2],
        rowHeights=[None, None, None, 22 * mm],
    )
    signatures.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOX", (0, 0), (0, -1), 0.4, colors.HexColor("#9AA5B1")),
        ("BOX", (1, 0), (1, -1), 0.4, colors.HexColor("#9AA5B1")),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
    ]))
    # The next session and the signatures never sit alone on a last page.
    story.append(KeepTogether([*next_session, Spacer(1, 4 * mm), Paragraph("Signatures", h2),
                               signatures]))

    running_left = f"Relevé de décisions — {data.meeting_label} — séance du {format_date(data.held_on)}"
    running_right = ("PROJET" if not data.final
                     else f"Version {data.version}" if data.version else "")

    def _footer(self, total: int) -> None:
        self.saveState()
        self.setFont(regular, 7.5)
        self.setFillColor(colors.HexColor("#333333"))
        self.drawString(18 * mm, A4[1] - 11 * mm, running_left)
        self.drawRightString(A4[0] - 18 * mm, A4[1] - 11 * mm, running_right)
        self.setStrokeColor(colors.HexColor("#9AA5B1"))
        self.setLineWidth(0.4)
        self.line(18 * mm, A4[1] - 12.5 * mm, A4[0] - 18 * mm, A4[1] - 12.5 * mm)
        self.setStrokeColor(colors.HexColor("#9AA5B1"))
        self.setLineWidth(0.4)
        self.line(18 * mm, 14 * mm, A4[0] - 18 * mm, 14 * mm)
        self.setFont(regular, 7.5)
        self.setFillColor(colors.HexColor("#333333"))
        self.drawString(18 * mm, 10 * mm, CONFIDENTIAL_FOOTER)
        self.drawCentredString(A4[0] / 2 + 20 * mm, 10 * mm, f"Généré le {generated}")
        self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {self._pageNumber} / {total}")
        self.restoreState()

    NumberedCanvas = numbered_canvas(_footer)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"Relevé de décisions — {data.meeting_label}",
        author=data.organisation,
        subject="Commission d'Action Sociale",
        creator="CUS Desk",
        lang="fr-FR",
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()
