"""Agencies' contact details (administrator): the address, phone and e-mail
printed on every fiche de signalement so that the partner can answer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.services.agencies import AgencyContact, AgencyService
from cus_desk.ui.common import set_accessible


class AgenciesDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = AgencyService(ctx.db, ctx.actor)
        self.setWindowTitle("Coordonnées des agences")
        self.contacts: list[AgencyContact] = []

        self.list = QListWidget()
        self.list.setObjectName("agency_list")
        set_accessible(self.list, "Agences")
        self.list.currentRowChanged.connect(self._show)
        self.address = QPlainTextEdit()
        self.address.setObjectName("agency_address")
        self.address.setTabChangesFocus(True)
        self.address.setPlaceholderText("12 rue des Clercs\n57000 Metz")
        self.address.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        set_accessible(self.address, "Adresse de l'agence")
        self.phone = QLineEdit()
        self.phone.setObjectName("agency_phone")
        self.phone.setPlaceholderText("03 87 12 34 56")
        set_accessible(self.phone, "Téléphone de l'agence")
        self.email = QLineEdit()
        self.email.setObjectName("agency_email")
        self.email.setPlaceholderText("social.metz@bailleur.fr")
        set_accessible(self.email, "E-mail de l'agence")
        form = QFormLayout()
        form.addRow("&Adresse :", self.address)
        form.addRow("&Téléphone :", self.phone)
        form.addRow("&E-mail :", self.email)
        hint = QLabel("Ces coordonnées sont imprimées sur chaque fiche de signalement : le partenaire "
                      "(CCAS, CMS, CLIC, pôle gérontologique) y répond. Une fiche ne s'imprime pas tant "
                      "que l'agence n'a ni téléphone ni e-mail.")
        hint.setWordWrap(True)
        self.message = QLabel("")
        self.message.setObjectName("agency_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a61b1b;")
        self.saved_label = QLabel("")
        self.saved_label.setObjectName("agency_saved")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(hint)
        right.addWidget(self.message)
        right.addWidget(self.saved_label)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list, 2)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(760, 360)
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self.contacts = self.svc.list_contacts()
        self.list.blockSignals(True)
        self.list.clear()
        for contact in self.contacts:
            item = QListWidgetItem(contact.label if contact.answerable
                                   else f"{contact.label} — à compléter")
            item.setData(Qt.ItemDataRole.UserRole, contact.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [c.id for c in self.contacts]
        self.list.setCurrentRow(ids.index(select_id) if select_id in ids else 0)
        self._show(self.list.currentRow())

    def current(self) -> AgencyContact | None:
        row = self.list.currentRow()
        return self.contacts[row] if 0 <= row < len(self.contacts) else None

    def _show(self, _row: int) -> None:
        contact = self.current()
        self.message.clear()
        if contact is None:
            return
        self.address.setPlainText(contact.address)
        self.phone.setText(contact.phone or "")
        self.email.setText(contact.email or "")

    def save(self) -> None:
        contact = self.current()
        if contact is None:
            return
        try:
            saved = self.svc.set_contact(contact.id, self.address.toPlainText(), self.phone.text(),
                                         self.email.text(), expected=contact)
        except CusDeskError as exc:
            self.message.setText(exc.message)
            editor = {"address": self.address, "phone": self.phone, "email": self.email}.get(
                getattr(exc, "field", None) or "")
            if editor is not None:
                editor.setFocus()
            return
        self.saved_label.setText(f"Coordonnées de l'{saved.label} enregistrées.")
        self.ctx.bus.data_changed.emit("agencies")
        self.reload(saved.id)
