"""Qt models of the seniors screen (model/view; the rows come from the
service as plain dataclasses)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from cus_desk.domain.formatting import format_cents, format_date

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


class SeniorsTableModel(QAbstractTableModel):
    COLUMNS = ("Contrat", "Locataire", "Âge", "Agence", "Commune", "Solde", "Mois", "Statut",
               "1er impayé", "Relance")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rows(self) -> list:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == ROW_ROLE:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r.contract,
                f"{r.last_name} {r.first_name}".strip(),
                "" if r.age is None else f"{r.age} ans",
                r.agency,
                r.commune,
                format_cents(r.balance_cents),
                "" if r.months_unpaid is None else str(r.months_unpaid),
                r.status_label,
                "Oui" if r.first_arrears else "",
                format_date(r.reminder_due),
            )[col]
        if role == SORT_ROLE:
            return (
                r.contract,
                f"{r.last_name} {r.first_name}".lower(),
                r.age if r.age is not None else -1,
                r.agency,
                r.commune,
                r.balance_cents if r.balance_cents is not None else -10**12,
                r.months_unpaid if r.months_unpaid is not None else -1,
                r.status,
                1 if r.first_arrears else 0,
                r.reminder_due.toordinal() if r.reminder_due else 0,
            )[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and r.first_arrears and col in (0, 1, 8):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and col == 8 and r.first_arrears:
            return QBrush(QColor("#b3261e"))
        if role == Qt.ItemDataRole.ForegroundRole and col == 9 and r.reminder_due:
            return QBrush(QColor("#b3261e"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 8 and r.first_arrears:
                return ("Premier impayé : en impayé sur cet extrait, sur aucun extrait précédent, "
                        "bail ancien. C'est le cas pour lequel le signalement existe.")
            if col == 9 and r.reminder_due:
                return f"Aucune réponse du partenaire : relance à faire depuis le {format_date(r.reminder_due)}."
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        return None


class RejectedLinesModel(QAbstractTableModel):
    COLUMNS = ("Ligne", "Motif du rejet")

    def __init__(self, rejected: list, parent=None, reason_title: str | None = None) -> None:
        super().__init__(parent)
        self._rows = list(rejected)
        if reason_title is not None:
            self.COLUMNS = ("Ligne", reason_title)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        item = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return str(item.line) if index.column() == 0 else item.reason
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
