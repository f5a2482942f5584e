"""Qt table models of the CAS sessions screen. They hold plain service
dataclasses (never ORM objects) and never query anything themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from cus_desk.domain.formatting import format_date

OVERDUE_BRUSH = QBrush(QColor("#B00020"))
_ROOT = QModelIndex()


class RowsModel(QAbstractTableModel):
    """A read-only table of dataclass rows: one (header, getter) per column."""

    columns: Sequence[tuple[str, Callable[[Any], Any]]] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    # data
    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_at(self, row: int) -> Any | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # Qt API
    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.columns):
                return self.columns[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not (0 <= index.column() < len(self.columns)):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.AccessibleTextRole):
            value = self.columns[index.column()][1](row)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return self.extra_data(row, index.column(), role)

    def extra_data(self, row: Any, column: int, role: int) -> Any:
        return None


class MeetingsModel(RowsModel):
    columns = (
        ("Séance", lambda r: r.label),
        ("Date", lambda r: format_date(r.held_on)),
        ("Statut", lambda r: r.status_label),
        ("Dossiers", lambda r: r.agenda_count),
        ("Décisions", lambda r: r.decision_count),
        ("Périmètre", lambda r: "Centrale" if r.scope_agency_id is None else r.scope_label),
    )

    def extra_data(self, row, column, role):
        if role == Qt.ItemDataRole.FontRole and row.status == "en_cours":
            font = QFont()
            font.setBold(True)
            return font
        return None


class AttendeesModel(RowsModel):
    columns = (
        # Presence next to the name: the column taken down at the meeting
        # stays in view on a narrow screen.
        ("Nom", lambda r: r.name),
        ("Présence", lambda r: r.presence_label),
        ("Voix", lambda r: "délibérative" if r.voting else "consultative"),
        ("Fonction", lambda r: r.function_label),
        ("Compte", lambda r: "oui" if r.user_id else "—"),
    )


AGENDA_MIME = "application/x-cus-desk-agenda-row"


class AgendaModel(RowsModel):
    """The agenda in order; rows can be moved by drag and drop (the screen
    saves the new order through the service)."""

    columns = (
        ("N°", lambda r: r.position),
        ("Dossier", lambda r: r.case_reference),
        ("Ménage", lambda r: r.household),
        ("Agence", lambda r: r.agency),
        ("Statut du dossier", lambda r: r.case_status_label),
        ("Proposition", lambda r: (r.proposal[:80] + "…") if len(r.proposal) > 80 else r.proposal),
        ("Décisions", lambda r: len(r.decisions)),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.movable = False
        self.on_reordered: Callable[[list[int]], None] | None = None

    def flags(self, index):
        base = super().flags(index)
        if not self.movable:
            return base
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self):  # noqa: N802
        return [AGENDA_MIME]

    def mimeData(self, indexes):  # noqa: N802
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data.setData(AGENDA_MIME, QByteArray(",".join(map(str, rows)).encode()))
        return data

    def dropMimeData(self, data, action, row, column, parent):  # noqa: N802
        if action != Qt.DropAction.MoveAction or not data.hasFormat(AGENDA_MIME) or not self.movable:
            return False
        text = bytes(data.data(AGENDA_MIME)).decode()
        if not text:
            return False
        source = int(text.split(",")[0])
        target = row if row >= 0 else (parent.row() if parent.isValid() else len(self._rows))
        self.move_row(source, target if target <= source else target - 1)
        return False  # we moved it ourselves: Qt must not remove the source row

    def move_row(self, source: int, target: int) -> bool:
        if not (0 <= source < len(self._rows)):
            return False
        target = max(0, min(len(self._rows) - 1, target))
        if target == source:
            return False
        order = [r.case_id for r in self._rows]
        order.insert(target, order.pop(source))
        if self.on_reordered is not None:
            self.on_reordered(order)
        return True


class DecisionsModel(RowsModel):
    """Decisions of one session, or the follow-up list (overdue in red)."""

    columns = (
        ("Dossier", lambda r: r.case_reference),
        ("Ménage", lambda r: r.household),
        ("Décision", lambda r: r.type_label),
        ("Texte", lambda r: (r.text[:90] + "…") if len(r.text) > 90 else r.text),
        ("Responsable", lambda r: r.responsible),
        ("Échéance", lambda r: format_date(r.due_on)),
        ("Statut", lambda r: r.status_label + (" — en retard" if r.overdue else "")),
        ("Séance", lambda r: r.meeting_label),
    )

    def extra_data(self, row, column, role):
        if role == Qt.ItemDataRole.ForegroundRole and row.overdue and column in (5, 6):
            return OVERDUE_BRUSH
        if role == Qt.ItemDataRole.FontRole and row.overdue and column == 6:
            font = QFont()
            font.setBold(True)
            return font
        return None
