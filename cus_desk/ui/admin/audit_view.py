"""The audit viewer (administrator): filters by user, case, date and action;
rows fetched from SQL page by page; chain verification."""

from __future__ import annotations

from PySide6.QtCore import QDate, QModelIndex
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from cus_desk.domain.formatting import format_datetime
from cus_desk.services import audit
from cus_desk.services.audit_admin import AuditAdminService, AuditFilter, ChainReport
from cus_desk.ui.admin.models import RowsModel
from cus_desk.ui.common import set_accessible

PAGE = 200
_ROOT = QModelIndex()

ENTITY_LABELS = {
    "case": "dossier", "user": "compte", "setting": "réglage", "tenant": "personne",
    "meeting": "séance", "decision": "décision", "partner": "partenaire", "database": "base",
    "audit": "journal", "retention": "conservation", "referral": "orientation",
    "statistiques": "statistiques", "arrears_extract": "extrait",
}


def _entity(r) -> str:
    return f"{ENTITY_LABELS.get(r.entity_type, r.entity_type)} {r.entity_id}".strip()


AUDIT_COLUMNS = [
    ("N°", lambda r: r.id),
    ("Date", lambda r: format_datetime(r.occurred_at)),
    ("Utilisateur", lambda r: r.user_login),
    ("Action", lambda r: r.action_label),
    ("Objet", _entity),
    ("Dossier", lambda r: "" if r.case_id is None else r.case_id),
    ("Détails", lambda r: r.details_text),
]


class AuditModel(RowsModel):
    """Newest first; more rows are fetched as the view scrolls."""

    def __init__(self, svc: AuditAdminService, parent=None) -> None:
        super().__init__(AUDIT_COLUMNS, parent)
        self.svc = svc
        self.filter = AuditFilter()
        self.total = 0

    _resetting = False

    def apply(self, flt: AuditFilter) -> None:
        self.filter = flt
        self.total = self.svc.count(flt)
        first_page = self.svc.query(flt, 0, PAGE)
        # Views ask for more rows while a change is being announced: not then.
        self._resetting = True
        try:
            if self.rows:
                self.beginRemoveRows(_ROOT, 0, len(self.rows) - 1)
                self.rows = []
                self.endRemoveRows()
            self.append_rows(first_page)
        finally:
            self._resetting = False

    def canFetchMore(self, parent: QModelIndex = _ROOT) -> bool:  # noqa: N802 - Qt API
        return not self._resetting and not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: QModelIndex = _ROOT) -> None:  # noqa: N802 - Qt API
        if parent.isValid():
            return
        self.append_rows(self.svc.query(self.filter, len(self.rows), PAGE))


class AuditDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = AuditAdminService(ctx.db, ctx.actor)
        self.setWindowTitle("Journal d'audit")
        self.user = set_accessible(QComboBox(), "Filtrer par utilisateur")
        self.user.setEditable(True)
        self.user.addItem("")
        self.user.addItems(self.svc.users_seen())
        self.case = set_accessible(QLineEdit(), "Filtrer par dossier (identifiant)")
        self.case.setPlaceholderText("n° interne du dossier")
        self.action = set_accessible(QComboBox(), "Filtrer par action")
        self.action.addItem("Toutes", None)
        for code, label in audit.ACTION_LABELS.items():
            self.action.addItem(label, code)
        day = ctx.clock.today()
        today = QDate(day.year, day.month, day.day)
        self.use_from = QCheckBox("Depuis le")
        self.date_from = set_accessible(QDateEdit(today.addDays(-30)), "Depuis le")
        self.use_to = QCheckBox("Jusqu'au")
        self.date_to = set_accessible(QDateEdit(today), "Jusqu'au")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        filters = QFormLayout()
        row1 = QHBoxLayout()
        row1.addWidget(self.user, 2)
        row1.addWidget(QLabel("Dossier :"))
        row1.addWidget(self.case, 1)
        row1.addWidget(QLabel("Action :"))
        row1.addWidget(self.action, 1)
        filters.addRow("Utilisateur :", row1)
        row2 = QHBoxLayout()
        row2.addWidget(self.use_from)
        row2.addWidget(self.date_from)
        row2.addWidget(self.use_to)
        row2.addWidget(self.date_to)
        row2.addStretch(1)
        apply = QPushButton("&Filtrer")
        apply.setDefault(True)
        apply.clicked.connect(self.refresh)
        row2.addWidget(apply)
        verify = QPushButton("&Vérifier l'intégrité du journal")
        verify.clicked.connect(self.verify)
        row2.addWidget(verify)
        filters.addRow("Période :", row2)
        self.model = AuditModel(self.svc, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        set_accessible(self.table, "Événements du journal d'audit")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.count_label = QLabel("")
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        self.refresh()
        self.resize(1100, 620)

    def current_filter(self) -> AuditFilter | None:
        case_text = self.case.text().strip()
        case_id = None
        if case_text:
            if not case_text.isdigit():
                self.message.setStyleSheet("color: #a61b1b;")
                self.message.setText("Le dossier se filtre par son n° interne (un nombre).")
                return None
            case_id = int(case_text)
        qd_from, qd_to = self.date_from.date(), self.date_to.date()
        date_from = qd_from.toPython() if self.use_from.isChecked() else None
        date_to = qd_to.toPython() if self.use_to.isChecked() else None
        if date_from and date_to and date_from > date_to:
            self.message.setStyleSheet("color: #a61b1b;")
            self.message.setText("La date de début est après la date de fin : corrigez la période.")
            return None
        return AuditFilter(user=self.user.currentText().strip() or None, case_id=case_id,
                           date_from=date_from, date_to=date_to, action=self.action.currentData())

    def refresh(self) -> None:
        flt = self.current_filter()
        if flt is None:
            return
        self.message.clear()
        self.model.apply(flt)
        self.count_label.setText(f"{self.model.total} événement(s)")

    def verify(self) -> ChainReport:
        report = self.svc.verify()
        self.message.setStyleSheet("color: #1d6b2c;" if report.ok else "color: #a61b1b; font-weight: bold;")
        self.message.setText(report.message)
        return report
