"""Meeting mode: the projected screen of a CAS session. One case at a time,
large type, the commission summary only, decisions typed live.

Reserved items (situation, family, journal texts, sensitive problématiques
and orientations, confidential notes) are never announced on the screen:
only the case's own adviser (or the pôle social) sees a neutral line and may,
deliberately, choose one, confirm that the screen is projected, show it and
hide it again (both audited). A decision draft belongs to the case it was
typed on: moving on or leaving asks what to do with it."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import escape

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.domain.meetings import DecisionType, MeetingStatus
from cus_desk.services import access
from cus_desk.services.meetings import CommissionSummary, MeetingService
from cus_desk.ui.cases.economics import debt_html
from cus_desk.ui.common import choose, choose_item, confirm, set_accessible, show_error
from cus_desk.ui.meetings.decision_checks import ask_before_saving

STYLE_TEMPLATE = """
QWidget#meetingMode { background: #F7F9FC; }
QWidget#meetingMode QLabel { font-size: {15}pt; }
QWidget#meetingMode QLabel#mmProgress { font-size: {20}pt; color: #1F3A5F; font-weight: bold; }
QWidget#meetingMode QLabel#mmTitle { font-size: {26}pt; font-weight: bold; }
QWidget#meetingMode QLabel#mmSub { font-size: {17}pt; color: #333; }
QWidget#meetingMode QLabel[section="true"] { font-size: {17}pt; font-weight: bold; color: #1F3A5F; }
QWidget#meetingMode QFrame#mmCard { background: white; border: 1px solid #C8D1DC; border-radius: 6px; }
QWidget#meetingMode QLabel#mmBody { font-size: {16}pt; }
QWidget#meetingMode QPushButton { font-size: {14}pt; padding: 4px 10px; }
QWidget#meetingMode QComboBox, QWidget#meetingMode QLineEdit, QWidget#meetingMode QPlainTextEdit { font-size: {15}pt; }
QWidget#meetingMode QLabel#mmHiddenLabel { font-size: {15}pt; color: #555; }
QWidget#meetingMode QLabel#mmRevealed { font-size: {15}pt; background: #FFF7E0; border: 1px solid #E5C07B; padding: 6px; }
QWidget#meetingMode QLabel#mmFormError { font-size: {14}pt; color: #B00020; }
"""

# The summary is sized for a 1920×1080 projector; on a smaller screen (or at
# 150 %) the type shrinks with the window, down to this factor, rather than
# pushing half of the summary out of sight (#14).
MIN_SCALE = 0.72


def style_for(scale: float) -> str:
    """The style sheet with every ``{N}pt`` font size multiplied by ``scale``."""
    return re.sub(r"\{(\d+)\}pt", lambda m: f"{int(m.group(1)) * scale:.1f}pt", STYLE_TEMPLATE)


def scale_for(width: int, height: int) -> float:
    """1.0 from 1600×900 up; smaller below, in steps of 0.04."""
    raw = min(width / 1600, height / 900, 1.0)
    return max(MIN_SCALE, round(raw / 0.04) * 0.04)


def money(cents: int | None) -> str:
    """An amount for rich text, never split across two lines."""
    text = escape(format_cents(cents))
    return f"<span style='white-space:nowrap'>{text}</span>" if text else ""


def parse_french_date(text: str) -> date | None:
    """``jj/mm/aaaa`` (or empty → None); a clear French error otherwise."""
    raw = text.strip()
    if not raw:
        return None
    for fmt in ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"« {raw} » n'est pas une date valide : tapez-la sous la forme jj/mm/aaaa "
                          "(ex. 15/12/2026).", "due_on")


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("mmCard")
    layout = QVBoxLayout(frame)
    # No AlignTop here: aligned, a wrapped label gets its one-line height
    # and its last lines were cut off; a stretch below keeps it at the top.
    heading = QLabel(title)
    heading.setProperty("section", True)
    heading.setWordWrap(True)
    layout.addWidget(heading)
    return frame, layout


def _body(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName("mmBody")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    set_accessible(label, name)
    return label


class MeetingModeWindow(QWidget):
    """Top-level, full screen. ``closed`` is emitted when it goes away."""

    closed = Signal()

    def __init__(self, ctx, meeting_id: int, case_ids: list[int], start_index: int = 0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.service = MeetingService(ctx.db, ctx.actor)
        self.meeting_id = meeting_id
        self.case_ids = list(case_ids)
        self.index = max(0, min(start_index, len(self.case_ids) - 1))
        self.summary: CommissionSummary | None = None
        self.revealed: dict[str, tuple[str, str]] = {}  # key → (label, text) shown now
        self.form_case_id: int | None = None  # the case the decision form belongs to
        self.setObjectName("meetingMode")
        self.setWindowTitle("CUS Desk — Mode séance")
        self.scale = 1.0
        self.setStyleSheet(style_for(self.scale))
        self._cards: list[QFrame] = []
        self._columns = 0
        set_accessible(self, "Mode séance de la Commission d'Action Sociale")
        self._build()
        self._shortcuts()
        meeting = self.service.get_meeting(meeting_id).meeting
        self.meeting_label = meeting.label
        self.can_manage = access.has(ctx.actor, access.Permission.MEETING_MANAGE)
        self.editable = meeting.status == MeetingStatus.EN_COURS and self.can_manage
        self._set_form_enabled(self.editable, meeting.status)
        self.load()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 16, 24, 16)
        top = QHBoxLayout()
        self.progress = QLabel("")
        self.progress.setObjectName("mmProgress")
        set_accessible(self.progress, "Progression dans l'ordre du jour")
        self.prev_button = QPushButton("◀ Précédent")
        self.next_button = QPushButton("Suivant ▶")
        self.quit_button = QPushButton("Quitter le mode séance (Échap)")
        set_accessible(self.prev_button, "Dossier précédent (Page précédente)")
        set_accessible(self.next_button, "Dossier suivant (Page suivante)")
        set_accessible(self.quit_button, "Quitter le mode séance")
        for b in (self.prev_button, self.next_button, self.quit_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.prev_button.clicked.connect(self.previous_case)
        self.next_button.clicked.connect(self.next_case)
        self.quit_button.clicked.connect(self.close)
        # Long session labels wrap rather than push the buttons off screen.
        self.progress.setWordWrap(True)
        self.progress.setMinimumWidth(120)
        self.quit_button.setText("Quitter (Échap)")
        self.quit_button.setToolTip("Quitter le mode séance (Échap ou F11)")
        top.addWidget(self.progress, 1)
        top.addWidget(self.prev_button)
        top.addWidget(self.next_button)
        top.addWidget(self.quit_button)
        outer.addLayout(top)

        self.title = QLabel("")
        self.title.setObjectName("mmTitle")
        self.title.setWordWrap(True)
        set_accessible(self.title, "Dossier présenté")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("mmSub")
        self.subtitle.setWordWrap(True)
        outer.addWidget(self.title)
        outer.addWidget(self.subtitle)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter, 1)

        # Left: the commission summary
        left_holder = QWidget()
        grid = QGridLayout(left_holder)
        grid.setSpacing(12)
        debt, debt_l = _card("Dette et évolution")
        self.debt = _body("Dette et évolution")
        debt_l.addWidget(self.debt)
        plan, plan_l = _card("Plan d'apurement et orientations")
        self.plans = _body("Plan d'apurement et orientations")
        plan_l.addWidget(self.plans)
        proposal, proposal_l = _card("Proposition de la conseillère")
        self.proposal = _body("Proposition de la conseillère")
        proposal_l.addWidget(self.proposal)
        previous, previous_l = _card("Décisions antérieures de la CAS")
        self.previous = _body("Décisions antérieures de la CAS")
        previous_l.addWidget(self.previous)
        journal, journal_l = _card("Journal récent et problématiques")
        self.journal = _body("Journal récent et problématiques")
        journal_l.addWidget(self.journal)
        hidden, self.hidden_layout = _card("Éléments réservés")
        self.hidden_card = hidden
        self.hidden_holder = QVBoxLayout()
        self.hidden_layout.addLayout(self.hidden_holder)
        self.cards_grid = grid
        self._cards = [debt, plan, proposal, previous, journal, hidden]
        for card in self._cards:
            card.layout().addStretch(1)
            card.setMinimumWidth(0)
        self._arrange_cards(2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left_holder)
        scroll.setMinimumWidth(260)
        scroll.viewport().installEventFilter(self)  # its width decides the columns
        self.summary_scroll = scroll
        set_accessible(scroll, "Synthèse du dossier pour la commission")
        splitter.addWidget(scroll)

        # Right: decisions of this session on the case + entry form
        right = QFrame()
        right.setObjectName("mmCard")
        right_l = QVBoxLayout(right)
        heading = QLabel("Décisions de la séance")
        heading.setProperty("section", True)
        right_l.addWidget(heading)
        self.current = _body("Décisions de la séance sur ce dossier")
        right_l.addWidget(self.current)
        form = QFormLayout()
        # On a narrow screen the labels go above their fields.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.type_combo = QComboBox()
        for t in DecisionType:
            self.type_combo.addItem(t.label, t.value)
        self.type_combo.setCurrentIndex(-1)
        self.type_combo.setPlaceholderText("Choisir le type…")
        set_accessible(self.type_combo, "Type de décision")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setPlaceholderText("Décision, en quelques lignes")
        self.text_edit.setMaximumHeight(140)
        set_accessible(self.text_edit, "Texte de la décision")
        self.responsible_edit = QLineEdit()
        self.responsible_edit.setPlaceholderText("Personne ou service")
        set_accessible(self.responsible_edit, "Responsable de la décision")
        try:
            names = self.service.responsibles()
        except CusDeskError:
            names = []
        completer = QCompleter(names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.responsible_edit.setCompleter(completer)
        self.due_edit = QLineEdit()
        self.due_edit.setPlaceholderText("jj/mm/aaaa")
        set_accessible(self.due_edit, "Échéance de la décision")
        form.addRow("&Type :", self.type_combo)
        form.addRow("Te&xte :", self.text_edit)
        form.addRow("&Responsable :", self.responsible_edit)
        form.addRow("É&chéance :", self.due_edit)
        right_l.addLayout(form)
        self.form_error = QLabel("")
        self.form_error.setObjectName("mmFormError")
        self.form_error.setWordWrap(True)
        set_accessible(self.form_error, "Erreur de saisie")
        right_l.addWidget(self.form_error)
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.setMinimumContentsLength(12)
        self.save_button = QPushButton("Enregistrer (Ctrl+Entrée)")
        self.save_button.setToolTip("Enregistrer la décision (Ctrl+Entrée)")
        set_accessible(self.save_button, "Enregistrer la décision")
        self.save_button.clicked.connect(self.save_decision)
        right_l.addWidget(self.save_button)
        right_l.addStretch(1)
        right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right_scroll.setWidget(right)
        right_scroll.setMinimumWidth(280)
        self.form_scroll = right_scroll
        splitter.addWidget(right_scroll)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

    def _arrange_cards(self, columns: int, force: bool = False) -> None:
        """Two columns of cards when there is room, one below (#14); a last
        card alone on its line takes the whole width."""
        if columns == self._columns and not force:
            return
        self._columns = columns
        grid = self.cards_grid
        for card in self._cards:
            grid.removeWidget(card)
        for row in range(grid.rowCount()):
            grid.setRowStretch(row, 0)
        shown = [c for c in self._cards if not (c is self._cards[-1] and c.isHidden())]
        for n, card in enumerate(shown):
            alone = columns == 2 and n == len(shown) - 1 and n % 2 == 0
            grid.addWidget(card, n // columns, n % columns, 1, 2 if alone else 1)
        for col in range(2):
            grid.setColumnStretch(col, 1 if col < columns else 0)
        grid.setRowStretch(grid.rowCount(), 1)

    def _fit(self) -> None:
        """Type size and columns follow the window's size."""
        scale = scale_for(self.width(), self.height())
        if abs(scale - self.scale) > 0.001:
            self.scale = scale
            self.setStyleSheet(style_for(scale))
            if self.summary is not None:
                self.render()
        width = self.summary_scroll.viewport().width()
        self._arrange_cards(2 if width >= 560 * self.scale + 40 else 1)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _shortcuts(self) -> None:
        """Keys work wherever the focus is in this window: an application
        event filter sees them before the focused widget (a scroll area or
        a selectable label used to swallow Page suivante and the arrows
        after a click). In a form field, plain arrows stay with the field."""
        self._fields = (self.type_combo, self.text_edit, self.responsible_edit, self.due_edit)
        self._filtering = False
        QWidget.setTabOrder(self.type_combo, self.text_edit)
        QWidget.setTabOrder(self.text_edit, self.responsible_edit)
        QWidget.setTabOrder(self.responsible_edit, self.due_edit)
        QWidget.setTabOrder(self.due_edit, self.save_button)

    def _handle_key(self, event, in_field: bool) -> bool:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and ctrl:
            self.save_decision()
        elif key == Qt.Key.Key_PageDown or (alt and key == Qt.Key.Key_Right):
            self.next_case()
        elif key == Qt.Key.Key_PageUp or (alt and key == Qt.Key.Key_Left):
            self.previous_case()
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_F11):
            self.close()
        elif not in_field and key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.next_case()
        elif not in_field and key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.previous_case()
        else:
            return False
        return True

    def _in_field(self, widget) -> bool:
        return any(widget is f or f.isAncestorOf(widget) for f in self._fields)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.Resize and obj is self.summary_scroll.viewport():
            self._fit()
        elif kind == QEvent.Type.KeyPress and isinstance(obj, QWidget) and obj.window() is self:
            focus = QApplication.focusWidget()
            # Once per key press: at the widget it is sent to, not again as
            # it travels up to the parents.
            if obj is self or obj is focus or (focus is None or focus.window() is not self):
                if self._handle_key(event, in_field=self._in_field(obj)):
                    return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        # Sent straight to the window (no filter installed yet).
        if self._filtering or not self._handle_key(event, in_field=False):
            super().keyPressEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._filtering:
            QApplication.instance().installEventFilter(self)
            QApplication.instance().focusChanged.connect(self._focus_changed)
            self._filtering = True
        super().showEvent(event)
        self._fit()

    def _stop_filtering(self) -> None:
        if self._filtering:
            QApplication.instance().removeEventFilter(self)
            QApplication.instance().focusChanged.disconnect(self._focus_changed)
            self._filtering = False

    def _focus_changed(self, old, _new) -> None:
        """Leaving « Responsable » (Alt+C, Tab, a click) closes its list of
        names: left open, it caught the next key typed and sent it back to
        « Responsable » (31/01/2027 became 01/01/2027)."""
        if old is self.responsible_edit:
            completer = self.responsible_edit.completer()
            if completer is not None and completer.popup().isVisible():
                completer.popup().hide()

    def _set_form_enabled(self, on: bool, status: str) -> None:
        for w in (self.type_combo, self.text_edit, self.responsible_edit, self.due_edit, self.save_button):
            w.setEnabled(on)
        if not on:
            self.form_error.setText(
                "Votre profil permet de consulter la séance, pas d'y saisir des décisions."
                if not self.can_manage else
                "Séance clôturée : consultation seulement." if status == MeetingStatus.CLOTUREE
                else "Séance non ouverte : consultation seulement."
            )

    # ------------------------------------------------------------------ navigation

    def next_case(self) -> None:
        if self.index + 1 < len(self.case_ids) and self.settle_draft():
            self.index += 1
            self.load()

    def previous_case(self) -> None:
        if self.index > 0 and self.settle_draft():
            self.index -= 1
            self.load()

    # ------------------------------------------------------------------ decision draft

    def has_draft(self) -> bool:
        """Something typed in the decision form and not recorded yet."""
        if not self.editable:
            return False
        return bool(self.type_combo.currentIndex() >= 0 or self.text_edit.toPlainText().strip()
                    or self.responsible_edit.text().strip() or self.due_edit.text().strip())

    def clear_form(self) -> None:
        self.type_combo.setCurrentIndex(-1)
        self.text_edit.clear()
        self.responsible_edit.clear()
        self.due_edit.clear()
        self.form_error.setText("" if self.editable else self.form_error.text())

    def settle_draft(self) -> bool:
        """Before leaving the case on screen: an unsaved decision is
        recorded on this case, abandoned, or the user stays. True: go on."""
        if not self.has_draft():
            return True
        s = self.summary
        where = f"le dossier {s.case_reference} ({s.household_brief})" if s is not None else "ce dossier"
        answer = choose(
            self,
            f"La décision en cours de saisie pour {where} n'est pas enregistrée.\n\n"
            "Enregistrer : elle est enregistrée sur ce dossier avant de continuer.\n"
            "Abandonner : elle est effacée.\n"
            "Rester : vous restez sur ce dossier pour la compléter.",
            [("save", "Enregistrer"), ("discard", "Abandonner"), ("stay", "Rester")],
            default="stay", escape="stay", title="Décision non enregistrée",
        )
        if answer == "save":
            return self.save_decision()
        if answer == "discard":
            self.clear_form()
            return True
        return False

    def load(self) -> None:
        if not self.case_ids:
            self.progress.setText("L'ordre du jour est vide.")
            return
        self.revealed = {}
        # A draft never travels to another household.
        self.clear_form()
        self.form_case_id = self.case_ids[self.index]
        try:
            self.summary = self.service.commission_summary(self.meeting_id, self.case_ids[self.index])
        except CusDeskError as exc:
            self.summary = None
            self.progress.setText(f"{self.meeting_label} — Dossier {self.index + 1} / {len(self.case_ids)}")
            self.title.setText("Dossier non consultable")
            self.subtitle.setText(exc.message)
            for label in (self.debt, self.plans, self.proposal, self.previous, self.journal, self.current):
                label.setText("")
            self._fill_hidden()
            return
        self.render()

    # ------------------------------------------------------------------ rendering

    def render(self) -> None:
        s = self.summary
        if s is None:
            return
        self.progress.setText(f"{self.meeting_label} — Dossier {s.position} / {s.total}")
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index + 1 < len(self.case_ids))
        self.title.setText(f"{s.case_reference} — {s.household_brief}")
        adviser = f" — suivi par {s.adviser}" if s.adviser else ""
        self.subtitle.setText(f"{s.agency}{adviser} — {s.case_status_label}")
        # One debt, with its date and origin (case_economics.debt_of), then
        # the stage of the procedure and the CCAPEX warning (#14).
        debt = [debt_html(s.debt)] if s.debt is not None else [
            f"Au dossier : <b>{money(s.arrears_cents) or 'non renseignée'}</b>"]
        if s.procedure_stage:
            debt.append(f"<br/>Procédure : {escape(s.procedure_stage)}")
        if s.budget_lines:
            debt.append("<br/>" + " · ".join(escape(line) for line in s.budget_lines))
        if s.ccapex_warning:
            debt.append(f"<br/><span style='color:#B00020'><b>⚠ {escape(s.ccapex_warning)}</b></span>")
        trend = f"<br/>Tendance : <b>{escape(s.trend_label)}</b>"
        if len(s.trend_points) > 1:
            trend += f"<br/><span style='font-size:{13 * self.scale:.1f}pt;color:#444'>Soldes : " + " → ".join(
                f"{format_date(d)[:5]} : {money(c)}" for d, c in s.trend_points[-4:]
            ) + "</span>"
        self.debt.setText("".join(debt) + trend)
        plans = "".join(f"• {escape(p)}<br/>" for p in s.repayment_plans) or "Aucun plan d'apurement.<br/>"
        refs = "".join(f"• {escape(r)}<br/>" for r in s.referrals) or "Aucune orientation."
        self.plans.setText(f"{plans}<br/><b>Orientations</b><br/>{refs}")
        self.proposal.setText(escape(s.proposal).replace("\n", "<br/>") or "<i>Aucune proposition rédigée.</i>")
        self.previous.setText("".join(
            f"• {format_date(d.held_on)} — <b>{escape(d.type_label)}</b>"
            f"{' : ' + escape(d.text[:120]) if d.text else ''} — {escape(d.responsible) or '—'} — "
            f"<i>{escape(d.status_label)}</i>"
            + (" <span style='color:#B00020'><b>en retard</b></span>" if d.overdue else "") + "<br/>"
            for d in s.previous_decisions
        ) or "Première présentation en CAS.")
        problems = ", ".join(escape(p) for p in s.problems) or "—"
        journal = "".join(f"• {escape(j)}<br/>" for j in s.journal) or "Aucune entrée."
        self.journal.setText(f"<b>Problématiques :</b> {problems}<br/><br/>{journal}")
        self.current.setText("".join(
            f"• <b>{escape(d.type_label)}</b>{' : ' + escape(d.text) if d.text else ''}"
            f" — {escape(d.responsible) or '—'}"
            f"{' — échéance ' + format_date(d.due_on) if d.due_on else ''}<br/>"
            for d in s.current_decisions
        ) or "<i>Aucune décision pour l'instant.</i>")
        self._fill_hidden()

    def _fill_hidden(self) -> None:
        while self.hidden_holder.count():
            item = self.hidden_holder.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        s = self.summary
        # Whoever may not reveal sees nothing at all here: neither the items
        # nor a hint that some exist.
        was_hidden = self.hidden_card.isHidden()
        self.hidden_card.setVisible(s is not None and s.can_reveal)
        if was_hidden != self.hidden_card.isHidden():
            self._arrange_cards(self._columns, force=True)
        if s is None or not s.can_reveal:
            return
        line = QWidget()
        line_l = QHBoxLayout(line)
        line_l.setContentsMargins(0, 0, 0, 0)
        note = QLabel("Éléments réservés à la conseillère du dossier")
        note.setObjectName("mmHiddenLabel")
        note.setWordWrap(True)
        line_l.addWidget(note, 1)
        button = QPushButton("Afficher…")
        button.setObjectName("reveal")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip("Choisir un élément réservé et l'afficher sur l'écran projeté "
                          "(une confirmation est demandée ; l'affichage est noté dans le journal d'audit).")
        set_accessible(button, "Afficher un élément réservé sur l'écran projeté")
        button.clicked.connect(self.choose_and_reveal)
        line_l.addWidget(button)
        self.hidden_holder.addWidget(line)
        for key, (label, text) in self.revealed.items():
            row = QWidget()
            row_l = QVBoxLayout(row)
            row_l.setContentsMargins(0, 0, 0, 0)
            head = QHBoxLayout()
            title = QLabel(f"Affiché : {escape(label)}")
            title.setObjectName("mmHiddenLabel")
            title.setWordWrap(True)
            head.addWidget(title, 1)
            hide = QPushButton("Masquer")
            hide.setObjectName(f"hide:{key}")
            hide.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            set_accessible(hide, f"Masquer : {label}")
            hide.clicked.connect(lambda _=False, k=key: self.hide_item(k))
            head.addWidget(hide)
            row_l.addLayout(head)
            shown = QLabel(escape(text).replace("\n", "<br/>"))
            shown.setObjectName("mmRevealed")
            shown.setWordWrap(True)
            set_accessible(shown, f"Information affichée : {label}")
            row_l.addWidget(shown)
            self.hidden_holder.addWidget(row)

    def reveal_buttons(self) -> list[QPushButton]:
        return [b for b in self.findChildren(QPushButton)
                if b.objectName() == "reveal" and not b.isHidden()]

    def hide_buttons(self) -> list[QPushButton]:
        return [b for b in self.findChildren(QPushButton)
                if b.objectName().startswith("hide:") and not b.isHidden()]

    def choose_and_reveal(self) -> None:
        """The deliberate act: choose the item, then confirm that the whole
        room will see it."""
        s = self.summary
        if s is None or not s.can_reveal:
            return
        items = [item for item in s.hidden if item.key not in self.revealed]
        if not items:
            show_error(self, "Ce dossier ne contient aucun autre élément réservé à afficher.")
            return
        index = choose_item(self, "Élément réservé à afficher :", [item.label for item in items],
                            title="Afficher un élément réservé")
        if index is None:
            return
        self.reveal(items[index].key)

    def reveal(self, key: str) -> None:
        s = self.summary
        if s is None:
            return
        label = next((item.label for item in s.hidden if item.key == key), "cet élément réservé")
        if not confirm(
            self,
            f"Cet écran est projeté : « {label} » sera visible de toute la salle.\n\n"
            "Ne l'affichez que si la commission en a besoin pour décider. L'affichage est noté "
            "dans le journal d'audit ; « Masquer » le retire de l'écran.\n\nAfficher maintenant ?",
            title="Écran projeté",
        ):
            return
        try:
            item = self.service.reveal(self.meeting_id, s.case_id, key)
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self.revealed[key] = (item.label, item.text)
        self._fill_hidden()

    def hide_item(self, key: str) -> None:
        s = self.summary
        if key not in self.revealed or s is None:
            return
        del self.revealed[key]  # off the screen first, whatever the audit says
        self._fill_hidden()
        try:
            self.service.conceal(self.meeting_id, s.case_id, key)
        except CusDeskError as exc:
            show_error(self, exc)

    # ------------------------------------------------------------------ decisions

    def save_decision(self) -> bool:
        """Record the decision typed in the form on the case it was typed on.
        True when recorded."""
        s = self.summary
        if s is None or not self.editable:
            return False
        if self.form_case_id != s.case_id:  # never on another household than the one shown
            self.clear_form()
            self.form_case_id = s.case_id
            return False
        self.form_error.setText("")
        code = self.type_combo.currentData()
        try:
            if not code:
                raise ValidationError("Choisissez le type de décision.", "type")
            due = parse_french_date(self.due_edit.text())
            # Confirmation of a grave decision, and of what it creates (issue 14).
            extra = ask_before_saving(self, self.service, self.form_case_id, s.case_reference, code,
                                      self.text_edit.toPlainText())
            if extra is None:
                return False
            self.service.add_decision(self.meeting_id, self.form_case_id, code,
                                      self.text_edit.toPlainText(), self.responsible_edit.text(), due, **extra)
        except ValidationError as exc:
            self.form_error.setText(exc.message)
            target = {"type": self.type_combo, "text": self.text_edit,
                      "responsible": self.responsible_edit, "due_on": self.due_edit}.get(exc.field)
            if target is not None:
                target.setFocus()
            return False
        except CusDeskError as exc:
            show_error(self, exc)
            return False
        self.clear_form()
        self.ctx.bus.data_changed.emit("meetings")
        revealed = dict(self.revealed)
        try:
            self.summary = self.service.commission_summary(self.meeting_id, s.case_id)
        except CusDeskError as exc:
            show_error(self, exc)
            return True
        self.revealed = revealed
        self.render()
        self.type_combo.setFocus()
        return True

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.settle_draft():
            event.ignore()
            return
        self._stop_filtering()
        self.closed.emit()
        super().closeEvent(event)
