"""Right of access (export everything about one person) and the anonymous
statistics export, for the roles allowed to."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.formatting import format_date
from cus_desk.services.person_export import PersonExportService, withheld_note
from cus_desk.services.stats import StatsService
from cus_desk.ui.admin.models import RowsModel
from cus_desk.ui.common import set_accessible, show_error
from cus_desk.ui.workers import run_in_background

PERSON_COLUMNS = [
    ("Nom", lambda m: m.name),
    ("Naissance", lambda m: format_date(m.birth_date)),
    ("Agence", lambda m: m.agency),
    ("Contrat(s)", lambda m: ", ".join(m.contract_numbers)),
]


class PersonExportDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.svc = PersonExportService(ctx.db, ctx.actor)
        self.setWindowTitle("Droit d'accès : données d'une personne")
        self.search = set_accessible(QLineEdit(), "Nom ou n° de contrat")
        self.search.setPlaceholderText("Nom, prénom ou n° de contrat")
        self.search.returnPressed.connect(self.find)
        find = QPushButton("&Chercher")
        find.clicked.connect(self.find)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(find)
        self.model = RowsModel(PERSON_COLUMNS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        set_accessible(self.table, "Personnes trouvées")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.message = QLabel("L'export est tracé dans le journal d'audit.")
        self.message.setWordWrap(True)
        pdf = QPushButton("Exporter en &PDF (pour la personne)…")
        pdf.clicked.connect(lambda: self._export("pdf"))
        js = QPushButton("Exporter en &JSON (pour le dossier)…")
        js.clicked.connect(lambda: self._export("json"))
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(pdf)
        bottom.addWidget(js)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self.resize(760, 420)

    def find(self) -> None:
        try:
            matches = self.svc.find(self.search.text())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            return
        self.model.set_rows(matches)
        self.message.setText(f"{len(matches)} personne(s) trouvée(s)." if matches else
                             "Personne trouvée dans les ménages que vous pouvez exporter.".replace(
                                 "Personne trouvée", "Aucune personne trouvée"))
        if matches:
            self.table.selectRow(0)

    def _export(self, kind: str) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Cherchez puis choisissez d'abord une personne dans la liste.")
            return
        match = self.model.row(rows[0].row())
        suffix = "pdf" if kind == "pdf" else "json"
        default = f"droit-acces-{match.name.replace(' ', '-').lower()}.{suffix}"
        name, _ = QFileDialog.getSaveFileName(self, "Enregistrer l'export", default,
                                              f"{suffix.upper()} (*.{suffix})")
        if name:
            self.export_to(match.tenant_id, Path(name), kind)

    def export_to(self, tenant_id: int, path: Path, kind: str):
        fn = self.svc.export_pdf if kind == "pdf" else self.svc.export_json

        def done(export) -> None:
            self.message.setText(f"Données de {export.name} enregistrées dans {path}." + withheld_note(export))

        return run_in_background(self, lambda _p: fn(tenant_id, path), done,
                                 lambda exc: show_error(self, exc), progress_text="Export en cours…")


class StatsDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.svc = StatsService(ctx.db, ctx.actor)
        self.setWindowTitle("Export statistique")
        self.year = set_accessible(QSpinBox(), "Année")
        self.year.setRange(2000, 2100)
        self.year.setValue(ctx.clock.today().year)
        note = QLabel("Des effectifs par agence, sans aucun nom, n° de contrat ni référence de "
                      "dossier. Secret statistique : un effectif trop petit pour être anonyme "
                      "s'affiche «\u00a0<\u00a05\u00a0» (seuil dans Administration › Réglages), et une case qui "
                      "permettrait de le retrouver par soustraction «\u00a0secret\u00a0». "
                      "Format CSV (tableur) ou XLSX (Excel).")
        note.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        export = QPushButton("&Exporter…")
        export.clicked.connect(self._choose)
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        form = QFormLayout()
        form.addRow("&Année :", self.year)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(export)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(row)

    def _choose(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Enregistrer les statistiques",
                                              f"statistiques-{self.year.value()}.xlsx",
                                              "Excel (*.xlsx);;CSV (*.csv)")
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path):
        year = self.year.value()
        return run_in_background(
            self, lambda _p: self.svc.export(year, path),
            lambda rows: self.message.setText(f"{len(rows)} lignes enregistrées dans {path}."),
            lambda exc: show_error(self, exc), progress_text="Export en cours…")
