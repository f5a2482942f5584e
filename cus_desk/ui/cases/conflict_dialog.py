"""Someone else saved this case file meanwhile (#14): who and when, the
difference field by field (« Ma saisie » / « Version enregistrée »), and a
deliberate choice: merge (tick, per field, the values of mine to keep),
overwrite with all of mine, or reload the stored version."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.formatting import format_datetime
from cus_desk.services.case_conflict import CaseConflict


class ConflictDialog(QDialog):
    """``choice`` after exec: "merge" (with ``keep_mine()``), "overwrite",
    "reload" or None (back to the form, nothing saved)."""

    def __init__(self, conflict: CaseConflict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conflict = conflict
        self.choice: str | None = None
        self.setWindowTitle("Conflit d'enregistrement")
        when = f" le {format_datetime(conflict.saved_at).replace(' ', ' à ')}" if conflict.saved_at else ""
        self.summary = QLabel(
            f"<b>{conflict.saved_by}</b> a enregistré ce dossier{when}, pendant que vous le modifiiez. "
            "Rien n'a été écrasé."
        )
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Qui a enregistré le dossier, et quand")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        # A fixed handful of rows (the fields of one form): an item table is enough here.
        self.table = QTableWidget(len(conflict.differences), 3)
        self.table.setHorizontalHeaderLabels(["Champ", "Ma saisie (cochée : conservée)", "Version enregistrée"])
        self.table.setAccessibleName("Différences entre votre saisie et la version enregistrée")
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for row, diff in enumerate(conflict.differences):
            name = QTableWidgetItem(diff.label)
            mine = QTableWidgetItem(diff.mine)
            mine.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            mine.setCheckState(Qt.CheckState.Checked)
            mine.setData(Qt.ItemDataRole.UserRole, diff.key)
            theirs = QTableWidgetItem(diff.theirs)
            for col, item in enumerate((name, mine, theirs)):
                item.setToolTip(item.text())
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table, 1)
        if not conflict.differences:
            layout.addWidget(QLabel("Vos champs sont identiques à la version enregistrée."))
        help_text = QLabel(
            "« Fusionner » garde les valeurs cochées de votre saisie et la version enregistrée pour les "
            "autres. « Écraser avec ma saisie » remplace toute la version enregistrée par la vôtre. "
            "Les deux sont notés dans l'historique du dossier. « Recharger » abandonne votre saisie."
        )
        help_text.setWordWrap(True)
        layout.addWidget(help_text)
        buttons = QDialogButtonBox()
        self.merge_button = QPushButton("&Fusionner et enregistrer")
        self.overwrite_button = QPushButton("&Écraser avec ma saisie")
        self.reload_button = QPushButton("&Recharger la version enregistrée")
        self.cancel_button = QPushButton("Revenir au dossier")
        buttons.addButton(self.merge_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.overwrite_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.reload_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.merge_button.clicked.connect(lambda: self._done("merge"))
        self.overwrite_button.clicked.connect(lambda: self._done("overwrite"))
        self.reload_button.clicked.connect(lambda: self._done("reload"))
        self.cancel_button.clicked.connect(self.reject)
        self.cancel_button.setDefault(True)
        layout.addWidget(buttons)
        self.resize(760, 420)

    def _done(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def keep_mine(self) -> set[str]:
        """The fields whose value of mine is ticked."""
        keys = set()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 1)
            if item.checkState() == Qt.CheckState.Checked:
                keys.add(item.data(Qt.ItemDataRole.UserRole))
        return keys
