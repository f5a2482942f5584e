"""New case form: the lease (an existing one found by its contract number,
or a new one), the household, the problématiques and the arrears snapshot.
An invalid form saves nothing: the error is shown next to its field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain import cases as rules
from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.domain.reference import LEASE_KINDS
from cus_desk.domain.roles import Role
from cus_desk.services.cases import (
    CaseInput,
    CaseService,
    HouseholdInput,
    LeaseInput,
    LeaseLookup,
    NewCase,
)
from cus_desk.ui.cases.widgets import (
    ArrearsRow,
    DateField,
    FieldErrors,
    MembersEditor,
    PhoneRow,
    ProblemsBox,
)
from cus_desk.ui.common import confirm, show_error
from cus_desk.ui.screen_size import initial_size


class NewCaseDialog(QDialog):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = CaseService(ctx.db, ctx.actor)
        self.created_id: int | None = None
        self.existing: LeaseLookup | None = None
        self.setWindowTitle("Nouveau dossier CAS")
        self.setAccessibleName("Nouveau dossier CAS")
        initial_size(self, 900, 720)  # no taller than the screen (#14)

        outer = QVBoxLayout(self)
        self.error_label = QLabel()
        self.errors = FieldErrors(self.error_label)
        outer.addWidget(self.error_label)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        page = QWidget()
        scroll.setWidget(page)
        outer.addWidget(scroll, 1)
        layout = QVBoxLayout(page)

        lease_box = QGroupBox("Bail")
        lease = QFormLayout(lease_box)
        row = QHBoxLayout()
        self.contract = QLineEdit()
        self.contract.setAccessibleName("Numéro de contrat")
        self.contract.setPlaceholderText("ex. 57-000123-01")
        self.contract.setMaxLength(rules.MAX_SHORT * 2)
        self.contract.editingFinished.connect(self.lookup)
        row.addWidget(self.contract)
        self.lookup_button = QPushButton("Rechercher le bail")
        self.lookup_button.setAccessibleName("Rechercher un bail existant")
        self.lookup_button.clicked.connect(self.lookup)
        row.addWidget(self.lookup_button)
        lease.addRow("N° de contrat :", row)
        self.lookup_label = QLabel("Saisissez le n° de contrat : un bail déjà connu sera repris avec son ménage.")
        self.lookup_label.setWordWrap(True)
        lease.addRow(self.lookup_label)
        self.agency = QComboBox()
        self.agency.setAccessibleName("Agence")
        for c in self.service.agencies():
            self.agency.addItem(c.label, c.id)
        if ctx.actor.agency_id is not None:
            self.agency.setCurrentIndex(max(0, self.agency.findData(ctx.actor.agency_id)))
            if Role(ctx.actor.role) is Role.SOCIAL_ADVISER:
                self.agency.setEnabled(False)
        lease.addRow("Agence :", self.agency)
        self.commune = QLineEdit()
        self.commune.setAccessibleName("Commune")
        self.commune.setMaxLength(240)
        lease.addRow("Commune :", self.commune)
        self.address = QLineEdit()
        self.address.setAccessibleName("Adresse")
        self.address.setMaxLength(500)
        lease.addRow("Adresse :", self.address)
        kind_row = QHBoxLayout()
        self.start = DateField("Date d'entrée dans les lieux", "start_date")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Type de bail")
        for code, label in LEASE_KINDS.items():
            self.kind.addItem(label, code)
        kind_row.addWidget(self.start)
        kind_row.addWidget(QLabel("Type :"))
        kind_row.addWidget(self.kind)
        kind_row.addStretch(1)
        lease.addRow("Entrée le :", kind_row)
        layout.addWidget(lease_box)

        self.household_box = QGroupBox("Ménage (le titulaire du bail en premier)")
        hh = QVBoxLayout(self.household_box)
        phone_row = PhoneRow()
        self.phone = phone_row.phone
        hh.addLayout(phone_row)
        self.members = MembersEditor(self.errors)
        self.members.set_members([])
        hh.addWidget(self.members)
        layout.addWidget(self.household_box)

        self.problems = ProblemsBox("Problématiques (au moins une)")
        self.problem_boxes = self.problems.boxes
        layout.addWidget(self.problems)

        case_box = QGroupBox("Situation")
        form = QFormLayout(case_box)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("Résumé de la situation")
        self.summary.setFixedHeight(80)
        form.addRow("Résumé :", self.summary)
        arrears = ArrearsRow()
        self.arrears, self.months, self.last_payment = arrears.amount, arrears.months, arrears.last_payment
        form.addRow("Impayé :", arrears)
        self.caf = QLineEdit()
        self.caf.setAccessibleName("N° allocataire CAF")
        self.caf.setMaxLength(rules.MAX_SHORT * 2)
        form.addRow("N° allocataire CAF :", self.caf)
        layout.addWidget(case_box)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.create_button = QPushButton("Créer le dossier")
        self.create_button.setAccessibleName("Créer le dossier")
        self.create_button.setDefault(True)
        self.create_button.setToolTip("Ctrl+S")
        self.create_button.clicked.connect(self.create)
        cancel = QPushButton("Annuler")
        cancel.setAccessibleName("Annuler la création")
        cancel.clicked.connect(self.reject)
        buttons.addWidget(self.create_button)
        buttons.addWidget(cancel)
        outer.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, self.create)

        for field, widget in (
            ("contract_number", self.contract), ("agency_id", self.agency), ("commune", self.commune),
            ("address", self.address), ("start_date", self.start), ("kind", self.kind),
            ("phone", self.phone), ("members", self.members), ("problems", self.problems),
            ("summary", self.summary), ("arrears_cents", self.arrears), ("arrears_months", self.months),
            ("last_payment_on", self.last_payment), ("caf_number", self.caf),
        ):
            self.errors.register(field, widget)
        self._initial = self._state()
        self.contract.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------

    def lookup(self) -> None:
        try:
            found = self.service.lookup_lease(self.contract.text())
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self.existing = found
        new_lease_fields = (self.agency, self.commune, self.address, self.start, self.kind)
        if found is None:
            for w in new_lease_fields:
                w.setEnabled(True)
            if Role(self.ctx.actor.role) is Role.SOCIAL_ADVISER and self.ctx.actor.agency_id is not None:
                self.agency.setEnabled(False)
            self.household_box.setEnabled(True)
            self.lookup_label.setText(
                "Nouveau bail : complétez l'agence, la commune et le ménage."
                if self.contract.text().strip() else
                "Saisissez le n° de contrat : un bail déjà connu sera repris avec son ménage."
            )
            return
        for w in new_lease_fields:
            w.setEnabled(False)
        self.household_box.setEnabled(False)
        self.agency.setCurrentIndex(max(0, self.agency.findData(found.agency_id)))
        self.commune.setText(found.commune)
        text = (f"Bail existant : <b>{found.holder_name}</b>, {found.commune} (agence {found.agency_name}). "
                "Le dossier sera ouvert pour ce ménage.")
        if found.open_case_reference:
            text += (f"<br><b>Attention :</b> ce ménage a déjà un dossier en cours "
                     f"({found.open_case_reference}).")
        self.lookup_label.setText(text)

    def _state(self) -> tuple:
        return (self.contract.text(), self.commune.text(), self.address.text(), self.start.text(),
                self.phone.text(), self.summary.toPlainText(), self.arrears.text(), self.months.text(),
                self.last_payment.text(), self.caf.text(),
                tuple(b.isChecked() for b in self.problem_boxes.values()),
                tuple((m[0].text(), m[1].text(), m[2].text()) for m in self.members.rows))

    def new_case(self) -> NewCase:
        case = CaseInput(
            problems=self.problems.checked(),
            summary=self.summary.toPlainText(),
            caf_number=self.caf.text(),
            arrears_cents=self.arrears.value(), arrears_months=self.months.value(),
            last_payment_on=self.last_payment.value(),
        )
        if self.existing is not None and self.existing.contract_number == self.contract.text().strip():
            return NewCase(case=case, lease_id=self.existing.lease_id)
        return NewCase(
            case=case,
            household=HouseholdInput(self.members.members(), self.phone.text()),
            lease=LeaseInput(self.contract.text(), self.agency.currentData(), self.commune.text(),
                             self.address.text(), self.start.value(), self.kind.currentData()),
        )

    def create(self) -> None:
        self.errors.clear()
        try:
            if self.existing is None or self.existing.contract_number != self.contract.text().strip():
                self.lookup()
            self.created_id = self.service.create_case(self.new_case())
        except ValidationError as exc:
            self.errors.show(exc)
            return
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self._initial = self._state()
        self.accept()

    def reject(self) -> None:
        if self._state() != self._initial and not confirm(
            self, "Le nouveau dossier n'est pas enregistré. Fermer quand même et abandonner la saisie ?",
            "Saisie non enregistrée",
        ):
            return
        super().reject()
