"""Forms of the partners screen. A form never talks to the database: it
builds an input dataclass and hands it to ``save(data)`` (a callable the
screen gives, which calls the service). A validation error stays in the
form, shown in French under the fields, with the faulty field focused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import ConflictError, CusDeskError, ValidationError
from cus_desk.domain.partners import CONVENTION_KINDS, SUBLET_KINDS
from cus_desk.domain.reference import PARTNER_CATEGORIES
from cus_desk.services.partners import ContactInput, ConventionInput, FlatInput, PartnerInput
from cus_desk.ui.common import error_text, french_locale, set_accessible


class OptionalDate(QWidget):
    """A date that may be left empty (a check box switches it on)."""

    def __init__(self, label: str, today: date, parent=None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QHBoxLayout

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox("renseignée")
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("dd/MM/yyyy")
        self.edit.setLocale(french_locale())
        self.edit.setDate(QDate(today.year, today.month, today.day))  # offered when ticked
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        set_accessible(self.check, f"{label} renseignée")
        set_accessible(self.edit, label)
        layout.addWidget(self.check)
        layout.addWidget(self.edit, 1)

    def value(self) -> date | None:
        return self.edit.date().toPython() if self.check.isChecked() else None

    def set_value(self, value: date | None) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))

    def setFocus(self) -> None:  # noqa: N802 - Qt naming
        (self.edit if self.check.isChecked() else self.check).setFocus()


class FormDialog(QDialog):
    """OK / Annuler, an error line, and ``save`` called on OK."""

    conflicted = Signal()  # the record changed meanwhile: the screen reloads it

    def __init__(self, title: str, save: Callable[[Any], Any], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._save = save
        self.result_value = None
        self.fields: dict[str, QWidget] = {}
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #B00020; font-weight: bold;")
        self.error.setAccessibleName("Erreur de saisie")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enregistrer")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.buttons)

    def add(self, key: str, label: str, widget: QWidget) -> QWidget:
        set_accessible(widget, label.rstrip(" *:"))
        self.form.addRow(label, widget)
        self.fields[key] = widget
        return widget

    def data(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def submit(self) -> None:
        try:
            self.result_value = self._save(self.data())
        except ValidationError as exc:
            self.show_error(exc.message, exc.field)
            return
        except ConflictError as exc:
            self.show_error(exc.message)
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            self.conflicted.emit()
            return
        except CusDeskError as exc:
            self.show_error(exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - logged, shown politely
            self.show_error(error_text(exc))
            return
        self.accept()

    def show_error(self, message: str, field: str | None = None) -> None:
        self.error.setText(message)
        self.error.show()
        widget = self.fields.get(_FIELD_ALIASES.get(field or "", field or ""))
        if widget is not None:
            widget.setFocus()


_FIELD_ALIASES = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}


def _line(text: str | None = None, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(text or "")
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


class PartnerDialog(FormDialog):
    def __init__(self, save, agencies, detail=None, parent=None) -> None:
        super().__init__("Modifier la structure" if detail else "Nouvelle structure partenaire",
                         save, parent)
        d = detail
        self.name = self.add("name", "Nom *", _line(d.name if d else ""))
        self.short_name = self.add("short_name", "Sigle / nom court",
                                   _line(d.short_name if d else ""))
        self.category = QComboBox()
        self.category.addItem("— choisir —", "")
        for code, label in PARTNER_CATEGORIES.items():
            self.category.addItem(label, code)
        if d:
            self.category.setCurrentIndex(max(0, self.category.findData(d.category)))
        self.add("category", "Catégorie *", self.category)
        self.address = self.add("address", "Adresse", _line(d.address if d else ""))
        self.commune = self.add("commune", "Commune", _line(d.commune if d else ""))
        self.phone = self.add("phone", "Téléphone",
                              _line(d.phone if d else "", "03 87 12 34 56"))
        self.email = self.add("email", "E-mail",
                              _line(d.email if d else "", "accueil@structure.fr"))
        self.communes = QPlainTextEdit("\n".join(d.communes) if d else "")
        self.communes.setPlaceholderText("Une commune par ligne (ou séparées par des virgules)")
        self.communes.setFixedHeight(60)
        self.add("communes", "Communes couvertes", self.communes)
        box = QGroupBox("Agences avec lesquelles elle travaille")
        blay = QVBoxLayout(box)
        self.agency_checks: dict[int, QCheckBox] = {}
        for a in agencies:
            check = QCheckBox(a.label)
            check.setChecked(bool(d and a.id in d.agency_ids))
            set_accessible(check, f"Agence {a.name}")
            blay.addWidget(check)
            self.agency_checks[a.id] = check
        self.fields["agencies"] = box
        self.layout_.addWidget(box)
        self.notes = QPlainTextEdit(d.notes if d and d.notes else "")
        self.notes.setFixedHeight(60)
        self.add("notes", "Notes", self.notes)
        self.finish_layout()

    def data(self) -> PartnerInput:
        return PartnerInput(
            name=self.name.text(), short_name=self.short_name.text(),
            category=self.category.currentData() or "", address=self.address.text(),
            commune=self.commune.text(), phone=self.phone.text(), email=self.email.text(),
            notes=self.notes.toPlainText(),
            agency_ids=[aid for aid, c in self.agency_checks.items() if c.isChecked()],
            communes=[self.communes.toPlainText()],
        )


class ContactDialog(FormDialog):
    def __init__(self, save, contact=None, parent=None) -> None:
        super().__init__("Modifier le contact" if contact else "Nouveau contact", save, parent)
        c = contact
        self.name = self.add("name", "Nom *", _line(c.name if c else ""))
        self.function = self.add("function", "Fonction", _line(c.function if c else ""))
        self.phone = self.add("phone", "Téléphone", _line(c.phone if c else "", "03 87 12 34 56"))
        self.email = self.add("email", "E-mail", _line(c.email if c else ""))
        self.finish_layout()

    def data(self) -> ContactInput:
        return ContactInput(name=self.name.text(), function=self.function.text(),
                            phone=self.phone.text(), email=self.email.text())


def _kind_combo(kinds: dict[str, str], current: str | None) -> QComboBox:
    combo = QComboBox()
    combo.addItem("— choisir —", "")
    for code, label in kinds.items():
        combo.addItem(label, code)
    if current:
        combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def _agency_combo(agencies, current: int | None) -> QComboBox:
    combo = QComboBox()
    combo.addItem("(non précisée)", None)
    for a in agencies:
        combo.addItem(a.label, a.id)
    if current is not None:
        combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class ConventionDialog(FormDialog):
    def __init__(self, save, agencies, convention=None, default_agency=None, parent=None,
                 *, today: date) -> None:
        super().__init__("Modifier la convention" if convention else "Nouvelle convention",
                         save, parent)
        c = convention
        self.kind = self.add("kind", "Type *", _kind_combo(CONVENTION_KINDS, c.kind if c else None))
        agency_id = None
        if c and c.agency:
            agency_id = next((a.id for a in agencies if a.name == c.agency), None)
        self.agency = self.add("agency_id", "Agence",
                               _agency_combo(agencies, agency_id if c else default_agency))
        self.start = OptionalDate("Date de début", today)
        self.start.set_value(c.start_date if c else None)
        self.add("start_date", "Début *", self.start)
        self.end = OptionalDate("Date de fin", today)
        self.end.set_value(c.end_date if c else None)
        self.add("end_date", "Fin", self.end)
        self.flat_count = self.add("flat_count", "Nombre de logements",
                                   _line("" if not c or c.flat_count is None else str(c.flat_count)))
        self.document_ref = self.add("document_ref", "Référence du document",
                                     _line(c.document_ref if c else ""))
        self.finish_layout()

    def data(self) -> ConventionInput:
        return ConventionInput(kind=self.kind.currentData() or "", start_date=self.start.value(),
                               end_date=self.end.value(), flat_count=self.flat_count.text(),
                               document_ref=self.document_ref.text(),
                               agency_id=self.agency.currentData())


class FlatDialog(FormDialog):
    def __init__(self, save, agencies, flat=None, default_agency=None, parent=None,
                 *, today: date) -> None:
        super().__init__("Modifier le logement" if flat else "Nouveau logement loué", save, parent)
        f = flat
        self.commune = self.add("commune", "Commune *", _line(f.commune if f else ""))
        self.address = self.add("address", "Adresse (facultative)", _line(f.address if f else ""))
        self.agency = self.add("agency_id", "Agence",
                               _agency_combo(agencies, f.agency_id if f else default_agency))
        self.kind = self.add("kind", "Dispositif *", _kind_combo(SUBLET_KINDS, f.kind if f else None))
        self.start = OptionalDate("Date de mise à disposition", today)
        self.start.set_value(f.start_date if f else None)
        self.add("start_date", "Début", self.start)
        self.transferable = QCheckBox("le bail peut glisser au ménage")
        self.transferable.setChecked(bool(f and f.transferable))
        self.add("transferable", "Bail transférable", self.transferable)
        self.transfer = OptionalDate("Date du glissement", today)
        self.transfer.set_value(f.transfer_date if f else None)
        self.add("transfer_date", "Glissement réalisé le", self.transfer)
        self.finish_layout()

    def data(self) -> FlatInput:
        return FlatInput(commune=self.commune.text(), kind=self.kind.currentData() or "",
                         agency_id=self.agency.currentData(), address=self.address.text(),
                         start_date=self.start.value(), transferable=self.transferable.isChecked(),
                         transfer_date=self.transfer.value())


class MergeDialog(FormDialog):
    """Pick the duplicate entry to fold into the current one."""

    def __init__(self, save, survivor_name: str, candidates, parent=None) -> None:
        super().__init__("Fusionner deux fiches", save, parent)
        intro = QLabel(
            f"La fiche choisie ci-dessous sera fusionnée dans « {survivor_name} » : ses "
            "orientations, signalements, contacts, conventions et logements y seront rattachés, "
            "puis elle sera désactivée (elle reste visible dans l'historique).")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.other = QComboBox()
        self.other.addItem("— choisir la fiche en double —", None)
        for row in candidates:
            self.other.addItem(row.display_name, row.id)
        self.add("merge", "Fiche en double *", self.other)
        self.finish_layout()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Fusionner")

    def data(self):
        if self.other.currentData() is None:
            raise_field = ValidationError("Choisissez la fiche en double à fusionner.", "merge")
            raise raise_field
        return self.other.currentData()

    def submit(self) -> None:
        try:
            self.data()
        except ValidationError as exc:
            self.show_error(exc.message, exc.field)
            return
        super().submit()


__all__ = ["PartnerDialog", "ContactDialog", "ConventionDialog", "FlatDialog", "MergeDialog",
           "OptionalDate", "Qt"]
