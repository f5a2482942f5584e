"""Users management (administrator)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.formatting import format_datetime
from cus_desk.domain.roles import Role
from cus_desk.services.users import UserInfo, UsersService
from cus_desk.ui.admin.models import RowsModel
from cus_desk.ui.common import confirm, set_accessible, show_error


def _state(u: UserInfo) -> str:
    parts = ["actif" if u.active else "désactivé"]
    if u.locked:
        parts.append("verrouillé")
    if u.must_change_password:
        parts.append("mot de passe provisoire")
    return ", ".join(parts)


USER_COLUMNS = [
    ("Identifiant", lambda u: u.login),
    ("Nom", lambda u: u.display_name),
    ("Rôle", lambda u: u.role_label),
    ("Agence", lambda u: u.agency_name or ""),
    ("État", _state),
    ("Dernière connexion", lambda u: format_datetime(u.last_login_at) or "jamais"),
]


class UserEditDialog(QDialog):
    def __init__(self, svc: UsersService, parent=None, user: UserInfo | None = None) -> None:
        super().__init__(parent)
        self.svc, self.user = svc, user
        self.result_info: UserInfo | None = None
        self.temporary: str | None = None
        self.setWindowTitle("Modifier le compte" if user else "Nouveau compte")
        self.login = set_accessible(QLineEdit(user.login if user else ""), "Identifiant")
        self.login.setReadOnly(user is not None)
        self.name = set_accessible(QLineEdit(user.display_name if user else ""), "Nom affiché")
        self.role = set_accessible(QComboBox(), "Rôle")
        for role in Role:
            self.role.addItem(role.label, role.value)
        if user:
            self.role.setCurrentIndex(self.role.findData(user.role.value))
        self.agency = set_accessible(QComboBox(), "Agence")
        self.agency.addItem("(aucune)", None)
        for agency in svc.agencies():
            self.agency.addItem(agency.label, agency.id)
        if user and user.agency_id is not None:
            self.agency.setCurrentIndex(self.agency.findData(user.agency_id))
        self.active = QCheckBox("Compte actif")
        self.active.setChecked(user.active if user else True)
        self.active.setVisible(user is not None)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a61b1b;")
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Nom affiché :", self.name)
        form.addRow("&Rôle :", self.role)
        form.addRow("&Agence :", self.agency)
        form.addRow("", self.active)
        if user is None:
            note = QLabel("Un mot de passe provisoire sera affiché une fois : transmettez-le à la "
                          "personne, qui le changera à sa première connexion.")
            note.setWordWrap(True)
            form.addRow("", note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())

    def submit(self) -> None:
        try:
            if self.user is None:
                self.result_info, self.temporary = self.svc.add(
                    self.login.text(), self.name.text(), self.role.currentData(),
                    self.agency.currentData())
            else:
                self.result_info = self.svc.update(
                    self.user.id, display_name=self.name.text(), role=self.role.currentData(),
                    agency_id=self.agency.currentData(), active=self.active.isChecked())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            return
        self.accept()


def show_temporary_password(parent, login: str, password: str) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Mot de passe provisoire")
    box.setText(f"Mot de passe provisoire de « {login} » :\n\n{password}\n\n"
                "Transmettez-le à la personne (il ne sera plus affiché). Elle devra le changer "
                "à sa première connexion.")
    box.setTextInteractionFlags(box.textInteractionFlags())
    box.exec()


class UsersDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = UsersService(ctx.db, ctx.actor)
        self.setWindowTitle("Utilisateurs")
        self.model = RowsModel(USER_COLUMNS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        set_accessible(self.table, "Liste des utilisateurs")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.doubleClicked.connect(lambda _i: self.edit())
        buttons = QHBoxLayout()
        self.buttons = {}
        for key, text, slot in [
            ("new", "&Nouveau compte…", self.new), ("edit", "&Modifier…", self.edit),
            ("toggle", "&Désactiver", self.toggle_active), ("unlock", "Dé&verrouiller", self.unlock),
            ("reset", "&Réinitialiser le mot de passe…", self.reset_password),
        ]:
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[key] = button
        buttons.addStretch(1)
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.reload()
        self.resize(980, 460)

    def reload(self, select_id: int | None = None) -> None:
        self.model.set_rows(self.svc.list_users())
        if select_id is not None:
            for i, u in enumerate(self.model.rows):
                if u.id == select_id:
                    self.table.selectRow(i)
        self._update_buttons()

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        user = self.selected()
        for key in ("edit", "toggle", "unlock", "reset"):
            self.buttons[key].setEnabled(user is not None)
        if user is not None:
            self.buttons["toggle"].setText("&Désactiver" if user.active else "&Réactiver")
            self.buttons["unlock"].setEnabled(user.locked)

    def _changed(self, user_id: int | None) -> None:
        self.reload(user_id)
        self.ctx.bus.data_changed.emit("users")

    def new(self) -> None:
        dialog = UserEditDialog(self.svc, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_info:
            self._changed(dialog.result_info.id)
            show_temporary_password(self, dialog.result_info.login, dialog.temporary)

    def edit(self) -> None:
        user = self.selected()
        if user is None:
            return
        dialog = UserEditDialog(self.svc, self, user)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._changed(user.id)

    def toggle_active(self) -> None:
        user = self.selected()
        if user is None:
            return
        verb = "désactiver" if user.active else "réactiver"
        if not confirm(self, f"Voulez-vous {verb} le compte « {user.login} » ?"):
            return
        try:
            self.svc.set_active(user.id, not user.active)
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self._changed(user.id)

    def unlock(self) -> None:
        user = self.selected()
        if user is None:
            return
        self.svc.unlock(user.id)
        self._changed(user.id)

    def reset_password(self) -> None:
        user = self.selected()
        if user is None:
            return
        if not confirm(self, f"Donner un nouveau mot de passe provisoire à « {user.login} » ? "
                             "L'actuel ne fonctionnera plus."):
            return
        temporary = self.svc.reset_password(user.id)
        self._changed(user.id)
        show_temporary_password(self, user.login, temporary)
