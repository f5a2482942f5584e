"""The case list model: filtered, sorted and paged in SQL by CaseService,
loaded lazily (fetchMore) so that 100,000 cases stay fluid."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from cus_desk.domain.cases import PROBLEMS
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.services.cases import CaseFilter, CaseRow, CaseService

PAGE = 200

# (header, sort key, cell text)
COLUMNS: tuple[tuple[str, str | None, object], ...] = (
    ("Référence", "reference", lambda r: r.reference),
    ("Titulaire", "holder_name", lambda r: r.holder_name),
    ("Contrat", "contract_number", lambda r: r.contract_number),
    ("Commune", None, lambda r: r.commune),
    ("Agence", "agency", lambda r: r.agency_name),
    ("Statut", "status", lambda r: r.status_label),
    ("Problématiques", None, lambda r: ", ".join(PROBLEMS.get(p, p) for p in r.problems)),
    ("Conseillère", "adviser", lambda r: r.adviser_name),
    ("Impayé", "arrears_cents", lambda r: format_cents(r.arrears_cents)),
    ("Dernière activité", "last_activity_on", lambda r: format_date(r.last_activity_on)),
    ("Retards", None, lambda r: str(r.overdue_referrals) if r.overdue_referrals else ""),
)
ARREARS_COL = 8
OVERDUE_COL = 10

# Roles as plain ints: data() is called thousands of times per paint.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_USER = int(Qt.ItemDataRole.UserRole.value)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_RED = QColor("#b3261e")


def _cells(row: CaseRow) -> tuple[str, ...]:
    return tuple(col[2](row) for col in COLUMNS)


_ROOT = QModelIndex()


class CaseListModel(QAbstractTableModel):
    """Rows come from ``CaseService.list_cases`` a page at a time. Sorting
    (``sort``) and filtering (``set_filter``) re-query the database; the view
    never holds more rows than the user scrolled through."""

    reloaded = Signal()

    def __init__(self, service: CaseService, parent=None) -> None:
        super().__init__(parent)
        self.service = service
        self.filter = CaseFilter()
        self.sort_key = "reference"
        self.descending = True  # newest cases first
        self.rows: list[CaseRow] = []
        self.cells: list[tuple[str, ...] | None] = []  # display texts, computed once per shown row
        self._more = False

    # -- loading

    def _page(self, offset: int) -> list[CaseRow]:
        # One row more than a page tells whether there is a next page.
        return self.service.list_cases(self.filter, self.sort_key, self.descending, offset, PAGE + 1)

    def reload(self) -> None:
        page = self._page(0)
        self.beginResetModel()
        self._more = len(page) > PAGE
        self.rows = page[:PAGE]
        self.cells = [None] * len(self.rows)  # display texts: computed when first shown
        self.endResetModel()
        self.reloaded.emit()

    def set_filter(self, flt: CaseFilter) -> None:
        self.filter = flt
        self.reload()

    def set_search(self, text: str) -> None:
        self.set_filter(replace(self.filter, search=text))

    def canFetchMore(self, parent=_ROOT) -> bool:  # noqa: N802
        return not parent.isValid() and self._more

    def fetchMore(self, parent=_ROOT) -> None:  # noqa: N802
        if parent.isValid() or not self._more:
            return
        page = self._page(len(self.rows))
        self._more = len(page) > PAGE
        page = page[:PAGE]
        if not page:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self.rows.extend(page)
        self.cells.extend([None] * len(page))
        self.endInsertRows()

    def has_more(self) -> bool:
        return self._more

    # -- Qt model

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=_DISPLAY):
        role = int(role) if not isinstance(role, int) else role
        if role == _DISPLAY or role == _ACCESSIBLE:
            r = index.row()
            if not 0 <= r < len(self.cells):
                return None
            cells = self.cells[r]
            if cells is None:
                cells = self.cells[r] = _cells(self.rows[r])
            return cells[index.column()]
        if role == _ALIGN:
            return _RIGHT if index.column() in (ARREARS_COL, OVERDUE_COL) else None
        if role == _FOREGROUND:
            r = index.row()
            if index.column() == OVERDUE_COL and 0 <= r < len(self.rows) and self.rows[r].overdue_referrals:
                return _RED
            return None
        if role == _USER:
            r = index.row()
            return self.rows[r].id if 0 <= r < len(self.rows) else None
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            if section == OVERDUE_COL:
                return "Orientations sans réponse après le délai fixé dans les paramètres"
            return "Cliquez pour trier" if COLUMNS[section][1] else "Colonne non triable"
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else None
        if key is None:
            return
        self.sort_key = key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def case_id(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None
