"""Small input widgets of the case forms: French dates and amounts typed as
text (an empty value is allowed where the field is optional), the household
members editor, inline error display, and a read-only table model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain import cases as rules
from cus_desk.domain.errors import ValidationError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.domain.meetings import is_sensitive_problem
from cus_desk.domain.reference import RELATIONSHIP_KINDS
from cus_desk.services.cases import MemberInput, MemberView

ERROR_STYLE = "border: 2px solid #b3261e;"


class DateField(QLineEdit):
    """A date typed as jj/mm/aaaa (empty = no date)."""

    def __init__(self, label: str, field: str, parent: QWidget | None = None, required: bool = False):
        super().__init__(parent)
        self.label, self.field, self.required = label, field, required
        self.setPlaceholderText("jj/mm/aaaa")
        self.setMaxLength(10)
        self.setAccessibleName(label)
        self.setFixedWidth(110)

    def value(self) -> date | None:
        return rules.parse_date_fr(self.text(), self.label, self.field, required=self.required)

    def set_value(self, value: date | None) -> None:
        self.setText(format_date(value))


class AmountField(QLineEdit):
    """An amount in euros typed the French way (1 234,56)."""

    def __init__(self, label: str, field: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.label, self.field = label, field
        self.setPlaceholderText("0,00 €")
        self.setMaxLength(20)
        self.setAccessibleName(label)
        self.setFixedWidth(130)

    def value(self) -> int | None:
        try:
            return rules.parse_amount_cents(self.text())
        except ValidationError as exc:
            raise ValidationError(exc.message, self.field) from None

    def set_value(self, cents: int | None) -> None:
        self.setText(format_cents(cents, currency=False) if cents is not None else "")


class IntField(QLineEdit):
    def __init__(self, label: str, field: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.label, self.field = label, field
        self.setMaxLength(4)
        self.setAccessibleName(label)
        self.setFixedWidth(60)

    def value(self) -> int | None:
        raw = self.text().strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ValidationError(f"« {self.label} » attend un nombre entier (ex. 3).", self.field)
        return int(raw)

    def set_value(self, value: int | None) -> None:
        self.setText("" if value is None else str(value))


def action_button(text: str, accessible_name: str, slot: Callable[[], Any],
                  tooltip: str = "") -> QPushButton:
    """A push button that reads well to a screen reader, wired to ``slot``."""
    button = QPushButton(text)
    button.setAccessibleName(accessible_name)
    if tooltip:
        button.setToolTip(tooltip)
    button.clicked.connect(slot)
    return button


class ProblemsBox(QGroupBox):
    """The problématiques of a case as check boxes, four to a row. Without
    ``sensitive``, health, violence and family problématiques get no box at
    all (the commission summary must not hint at them)."""

    def __init__(self, title: str, sensitive: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        grid = QGridLayout(self)
        self.boxes: dict[str, QCheckBox] = {}
        shown = [(code, label) for code, label in rules.PROBLEMS.items()
                 if sensitive or not is_sensitive_problem(code)]
        for i, (code, label) in enumerate(shown):
            box = QCheckBox(label)
            box.setAccessibleName(f"Problématique : {label}")
            self.boxes[code] = box
            grid.addWidget(box, i // 4, i % 4)

    def checked(self) -> list[str]:
        return [code for code, box in self.boxes.items() if box.isChecked()]

    def set_checked(self, codes) -> None:
        for code, box in self.boxes.items():
            box.setChecked(code in codes)


class ArrearsRow(QHBoxLayout):
    """Amount owed, months unpaid and last payment on one line."""

    def __init__(self) -> None:
        super().__init__()
        self.amount = AmountField("Montant de l'impayé", "arrears_cents")
        self.months = IntField("Mois d'impayés", "arrears_months")
        self.last_payment = DateField("Date du dernier paiement", "last_payment_on")
        self.addWidget(self.amount)
        self.addWidget(QLabel("€   Mois impayés :"))
        self.addWidget(self.months)
        self.addWidget(QLabel("Dernier paiement :"))
        self.addWidget(self.last_payment)
        self.addStretch(1)


class PhoneRow(QHBoxLayout):
    """The household's phone number, labelled, on a line of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.addWidget(QLabel("Téléphone :"))
        self.phone = QLineEdit()
        self.phone.setAccessibleName("Téléphone du ménage")
        self.phone.setMaxLength(60)
        self.phone.setFixedWidth(180)
        self.addWidget(self.phone)
        self.addStretch(1)


class FieldErrors:
    """Shows a ValidationError next to its field: a red border on the
    widget, the message in the form's error label, focus on the field."""

    def __init__(self, label: QLabel, reveal: Callable[[], None] | None = None) -> None:
        self.label = label
        self.reveal = reveal  # brings the form into view (its tab) before an error is shown
        self.widgets: dict[str, QWidget] = {}
        self._marked: list[QWidget] = []
        label.setWordWrap(True)
        label.setStyleSheet("color: #b3261e; font-weight: bold;")
        label.setAccessibleName("Erreur de saisie")
        label.hide()

    def register(self, field: str, widget: QWidget) -> None:
        self.widgets[field] = widget

    def clear(self) -> None:
        for w in self._marked:
            w.setStyleSheet("")
        self._marked.clear()
        self.label.clear()
        self.label.hide()

    def show(self, exc: ValidationError) -> None:
        self.clear()
        if self.reveal is not None:
            self.reveal()
        self.label.setText(exc.message)
        self.label.show()
        widget = self.widgets.get(exc.field or "")
        if widget is not None:
            widget.setStyleSheet(ERROR_STYLE)
            self._marked.append(widget)
            widget.setFocus()


class MembersEditor(QWidget):
    """The people of the household: name, first name, birth date, link.
    Row 0 is the lease holder. A handful of rows: plain widgets."""

    def __init__(self, errors: FieldErrors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.errors = errors
        self.rows: list[tuple[QLineEdit, QLineEdit, DateField, QComboBox, QPushButton]] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        for col, title in enumerate(("Nom", "Prénom", "Naissance", "Lien")):
            head = QLabel(f"<b>{title}</b>")
            self.grid.addWidget(head, 0, col)
        outer.addLayout(self.grid)
        self.add_button = QPushButton("Ajouter un occupant")
        self.add_button.setAccessibleName("Ajouter un occupant")
        self.add_button.clicked.connect(lambda: self.add_row())
        outer.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def add_row(self, member: MemberView | MemberInput | None = None) -> int:
        i = len(self.rows)
        last = QLineEdit()
        last.setAccessibleName(f"Nom de l'occupant {i + 1}")
        last.setMaxLength(rules.MAX_NAME * 2)  # longer text gets a clear message, not a silent cut
        first = QLineEdit()
        first.setAccessibleName(f"Prénom de l'occupant {i + 1}")
        first.setMaxLength(rules.MAX_NAME * 2)
        birth = DateField(f"Date de naissance de l'occupant {i + 1}", f"members.{i}.birth_date")
        link = QComboBox()
        link.setAccessibleName(f"Lien de l'occupant {i + 1}")
        for code, label in RELATIONSHIP_KINDS.items():
            link.addItem(label, code)
        link.setCurrentIndex(0 if i == 0 else list(RELATIONSHIP_KINDS).index("enfant"))
        remove = QPushButton("Retirer")
        remove.setAccessibleName(f"Retirer l'occupant {i + 1}")
        remove.clicked.connect(lambda _=False, r=i: self.remove_row(r))
        remove.setEnabled(i > 0)
        if member is not None:
            last.setText(member.last_name)
            first.setText(member.first_name)
            birth.set_value(member.birth_date)
            link.setCurrentIndex(max(0, link.findData(member.relationship_kind)))
        for col, w in enumerate((last, first, birth, link, remove)):
            self.grid.addWidget(w, i + 1, col)
        self.rows.append((last, first, birth, link, remove))
        self.errors.register(f"members.{i}.last_name", last)
        self.errors.register(f"members.{i}.first_name", first)
        self.errors.register(f"members.{i}.birth_date", birth)
        self.errors.register(f"members.{i}.relationship_kind", link)
        return i

    def remove_row(self, index: int) -> None:
        members = self.members_raw()
        del members[index]
        self.set_members(members)

    def clear_rows(self) -> None:
        for row in self.rows:
            for w in row:
                self.grid.removeWidget(w)
                w.deleteLater()
        self.rows.clear()

    def set_members(self, members: Sequence[MemberView | MemberInput]) -> None:
        self.clear_rows()
        for m in members:
            self.add_row(m)
        if not self.rows:
            self.add_row()

    def members_raw(self) -> list[MemberInput]:
        """The rows as typed, without date parsing errors (for re-layout)."""
        out = []
        for last, first, birth, link, _ in self.rows:
            try:
                bd = birth.value()
            except ValidationError:
                bd = None
            out.append(MemberInput(last.text(), first.text(), bd, link.currentData()))
        return out

    def members(self) -> list[MemberInput]:
        """The members; raises ValidationError (with the field) on a bad date."""
        out = []
        for last, first, birth, link, _ in self.rows:
            if not last.text().strip() and not first.text().strip() and not birth.text().strip() and out:
                continue  # an empty extra row is ignored
            out.append(MemberInput(last.text(), first.text(), birth.value(), link.currentData()))
        return out


_ROOT = QModelIndex()


class RowsModel(QAbstractTableModel):
    """Read-only table of small lists (journal, referrals, decisions...)."""

    def __init__(self, headers: Sequence[str], row_fn: Callable[[Any], Sequence[str]],
                 parent=None, tooltip_fn: Callable[[Any], str] | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.row_fn = row_fn
        self.tooltip_fn = tooltip_fn
        self.items: list[Any] = []
        self.cells: list[Sequence[str]] = []

    def set_items(self, items: Sequence[Any]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.cells = [self.row_fn(i) for i in self.items]
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and self.tooltip_fn is not None:
            return self.tooltip_fn(self.items[index.row()])
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def item(self, row: int) -> Any:
        return self.items[row]
