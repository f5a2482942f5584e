"""Suivi des décisions: open decisions, overdue first, by due date or by
responsible; change a decision's status with a dated comment."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.meetings import FollowUpStatus
from cus_desk.services import access
from cus_desk.services.meetings import DecisionView, MeetingService
from cus_desk.ui.common import set_accessible, show_error
from cus_desk.ui.meetings.meeting_mode import parse_french_date
from cus_desk.ui.meetings.models import DecisionsModel

ALL = "__all__"
MINE = "__mine__"  # « Mes décisions à suivre »: entrusted to me or to a service I answer for


class FollowUpView(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = MeetingService(ctx.db, ctx.actor)
        self.allowed = access.has(ctx.actor, access.Permission.DECISION_FOLLOW_UP)

        filters = QHBoxLayout()
        self.responsible_combo = QComboBox()
        set_accessible(self.responsible_combo, "Filtrer par responsable")
        self.order_combo = QComboBox()
        self.order_combo.addItem("Par échéance (en retard d'abord)", False)
        self.order_combo.addItem("Par responsable", True)
        set_accessible(self.order_combo, "Ordre de la liste")
        self.closed_check = QCheckBox("Inclure les décisions &closes")
        self.count_label = QLabel("")
        set_accessible(self.count_label, "Nombre de décisions listées")
        filters.addWidget(QLabel("Responsable :"))
        filters.addWidget(self.responsible_combo)
        filters.addWidget(QLabel("Ordre :"))
        filters.addWidget(self.order_combo)
        filters.addWidget(self.closed_check)
        filters.addStretch(1)
        filters.addWidget(self.count_label)

        self.model = DecisionsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        set_accessible(self.table, "Décisions à suivre")

        panel = QWidget()
        form_l = QVBoxLayout(panel)
        self.detail = QLabel("Sélectionnez une décision.")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        set_accessible(self.detail, "Décision sélectionnée et son historique")
        form_l.addWidget(self.detail, 1)
        form = QFormLayout()
        self.status_combo = QComboBox()
        for status in FollowUpStatus:
            self.status_combo.addItem(status.label, status.value)
        set_accessible(self.status_combo, "Nouveau statut de suivi")
        self.date_edit = QLineEdit()
        self.date_edit.setPlaceholderText("jj/mm/aaaa (aujourd'hui si vide)")
        set_accessible(self.date_edit, "Date du suivi")
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setTabChangesFocus(True)
        self.comment_edit.setMaximumHeight(90)
        set_accessible(self.comment_edit, "Commentaire de suivi")
        form.addRow("&Statut :", self.status_combo)
        form.addRow("&Date :", self.date_edit)
        form.addRow("&Commentaire :", self.comment_edit)
        form_l.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #B00020")
        self.error.setWordWrap(True)
        set_accessible(self.error, "Erreur de saisie")
        form_l.addWidget(self.error)
        self.save_button = QPushButton("&Enregistrer le suivi")
        set_accessible(self.save_button, "Enregistrer le suivi de la décision")
        self.save_button.clicked.connect(self.save)
        form_l.addWidget(self.save_button)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(panel)
        splitter.setSizes([1050, 340])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)

        self.responsible_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.order_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.closed_check.toggled.connect(lambda _b: self.refresh())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self._set_form_enabled(False)
        if not self.allowed:
            self.detail.setText("Votre profil ne permet pas le suivi des décisions.")

    def _set_form_enabled(self, on: bool) -> None:
        for w in (self.status_combo, self.date_edit, self.comment_edit, self.save_button):
            w.setEnabled(on and self.allowed)

    def _fill_responsibles(self) -> None:
        current = self.responsible_combo.currentData()
        self.responsible_combo.blockSignals(True)
        self.responsible_combo.clear()
        self.responsible_combo.addItem("Tous", ALL)
        self.responsible_combo.addItem("Mes décisions à suivre", MINE)
        for name in self.service.responsibles():
            self.responsible_combo.addItem(name, name)
        index = self.responsible_combo.findData(current) if current else 0
        self.responsible_combo.setCurrentIndex(max(0, index))
        self.responsible_combo.blockSignals(False)

    def show_mine(self) -> None:
        """Select « Mes décisions à suivre »."""
        if self.responsible_combo.count() == 0:
            self._fill_responsibles()
        self.responsible_combo.setCurrentIndex(max(0, self.responsible_combo.findData(MINE)))

    def refresh(self, keep_id: int | None = None) -> None:
        if not self.allowed:
            return
        if keep_id is None:
            current = self.current()
            keep_id = current.id if current else None
        try:
            if self.responsible_combo.count() == 0:
                self._fill_responsibles()
            who = self.responsible_combo.currentData()
            if who == MINE:
                rows = self.service.my_decisions(include_closed=self.closed_check.isChecked())
            else:
                rows = self.service.follow_up_list(
                    include_closed=self.closed_check.isChecked(),
                    responsible=None if who in (None, ALL) else who,
                    by_responsible=bool(self.order_combo.currentData()),
                )
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self.model.set_rows(rows)
        overdue = sum(1 for r in rows if r.overdue)
        self.count_label.setText(f"{len(rows)} décision(s), dont {overdue} en retard")
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(60)
        if keep_id is not None:
            for row, d in enumerate(rows):
                if d.id == keep_id:
                    self.table.selectRow(row)
                    break
        self._show_current()

    def current(self) -> DecisionView | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _show_current(self) -> None:
        d = self.current()
        self.error.setText("")
        if d is None:
            self.detail.setText("Sélectionnez une décision.")
            self._set_form_enabled(False)
            return
        history = "".join(
            f"<li>{format_date(f.on)} — {escape(f.author)}"
            f"{' — <b>' + escape(f.status_label) + '</b>' if f.status else ''}"
            f"{' : ' + escape(f.comment) if f.comment else ''}</li>"
            for f in d.follow_ups
        ) or "<li>Aucun suivi enregistré.</li>"
        late = " <span style='color:#B00020'><b>(en retard)</b></span>" if d.overdue else ""
        self.detail.setText(
            f"<b>{escape(d.case_reference)} — {escape(d.household)}</b><br/>"
            f"{escape(d.meeting_label)} du {format_date(d.held_on)}<br/>"
            f"<b>{escape(d.type_label)}</b> : {escape(d.text) or '—'}<br/>"
            f"Responsable : {escape(d.responsible) or '—'} — échéance {format_date(d.due_on) or '—'}{late}<br/>"
            f"Statut : <b>{escape(d.status_label)}</b><ul>{history}</ul>"
        )
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(d.status)))
        self._set_form_enabled(True)

    def save(self) -> None:
        d = self.current()
        if d is None:
            return
        self.error.setText("")
        try:
            on = parse_french_date(self.date_edit.text())
            self.service.set_follow_up(d.id, self.status_combo.currentData(),
                                       self.comment_edit.toPlainText(), on, d.version)
        except ValidationError as exc:
            self.error.setText(exc.message)
            return
        except CusDeskError as exc:
            show_error(self, exc)
            self.refresh(keep_id=d.id)
            return
        self.comment_edit.clear()
        self.date_edit.clear()
        self.ctx.bus.data_changed.emit("meetings")
        self.refresh(keep_id=d.id)
