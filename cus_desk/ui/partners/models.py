"""Qt models of the partners screens (model/view, no SQL: they hold the
dataclasses the service returns)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from cus_desk.domain.formatting import format_date
from cus_desk.domain.partners import PartnerRow

_ROOT = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
WARN = QBrush(QColor("#8A4B00"))
WARN_BG = QBrush(QColor("#FFF1D6"))
MUTED = QBrush(QColor("#777777"))


class PartnerTableModel(QAbstractTableModel):
    HEADERS = ("Structure", "Catégorie", "Agences", "Commune", "Conventions", "Logements",
               "Orientations")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[PartnerRow] = []

    def set_rows(self, rows: list[PartnerRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> PartnerRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.display_name
            if col == 1:
                return r.category_label
            if col == 2:
                return ", ".join(r.agencies)
            if col == 3:
                return r.commune or ", ".join(r.communes[:3])
            if col == 4:
                if not r.current_conventions:
                    return ""
                text = str(r.current_conventions)
                return text + (" ⚠" if r.expiring_conventions else "")
            if col == 5:
                cus = f"CUS 2020 : {r.cus_flat_count}" if r.cus_flat_count else ""
                if r.flat_count and cus:
                    return f"{r.flat_count} ({cus})"
                return str(r.flat_count) if r.flat_count else cus
            if col == 6:
                if not r.referrals_sent:
                    return ""
                answered = r.referrals_sent - r.referrals_pending
                waiting = f" + {r.referrals_pending} en attente" if r.referrals_pending else ""
                if not answered:
                    return f"{r.referrals_pending} en attente"
                pct = round(100 * r.referrals_positive / answered)
                return f"{r.referrals_positive}/{answered} ({pct} %){waiting}"
        if role == SORT_ROLE:
            if col in (0, 1, 2, 3):
                return str(self.data(index)).casefold()
            if col == 4:
                return r.current_conventions
            if col == 5:  # flats let now first, then the CUS 2020 figure
                return r.flat_count * 1_000_000 + r.cus_flat_count
            if col == 6:
                answered = r.referrals_sent - r.referrals_pending
                return r.referrals_positive / answered if answered else -1.0
        if role == ROW_ROLE:
            return r
        if role == Qt.ItemDataRole.ForegroundRole:
            if not r.active:
                return MUTED
            if col == 4 and r.expiring_conventions:
                return WARN
        if role == Qt.ItemDataRole.FontRole and not r.active:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if not r.active:
                return "Structure désactivée (n'est plus proposée)"
            if col == 4 and r.expiring_conventions:
                return f"{r.expiring_conventions} convention(s) arrivent à échéance"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (4, 5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SortProxy(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]
    align_right: bool = False


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "strftime"):
        return format_date(value)
    return str(value)


class RecordTableModel(QAbstractTableModel):
    """A read-only table over a list of dataclasses, one Column per field
    shown; ``highlight(record)`` marks rows (expiring conventions...)."""

    def __init__(self, columns: list[Column], parent=None,
                 highlight: Callable[[Any], str | None] | None = None,
                 bold: Callable[[Any], bool] | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self._rows: list[Any] = []
        self._highlight = highlight
        self._bold = bold

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def record(self, row: int):
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(col.value(rec))
        if role == SORT_ROLE:
            v = col.value(rec)
            return v if isinstance(v, (int, float)) else cell_text(v).casefold()
        if role == ROW_ROLE:
            return rec
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if self._highlight is not None:
            tip = self._highlight(rec)
            if tip:
                if role == Qt.ItemDataRole.BackgroundRole:
                    return WARN_BG
                if role == Qt.ItemDataRole.ForegroundRole:
                    return WARN
                if role == Qt.ItemDataRole.ToolTipRole:
                    return tip
        if role == Qt.ItemDataRole.FontRole and self._bold is not None and self._bold(rec):
            font = QFont()
            font.setBold(True)
            return font
        return None
