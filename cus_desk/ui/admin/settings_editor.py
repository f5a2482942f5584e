"""Settings editor (administrator): every setting of domain.settings."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.settings import SETTINGS
from cus_desk.services.settings import SettingsService
from cus_desk.ui.common import set_accessible


class SettingsDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = SettingsService(ctx.db, ctx.actor)
        self.setWindowTitle("Réglages")
        self.values = self.svc.all()
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout()
        for key, spec in SETTINGS.items():
            value = self.values[key]
            if spec.type is bool:
                editor = QCheckBox()
                editor.setChecked(bool(value))
            elif spec.type is int:
                editor = QSpinBox()
                editor.setRange(spec.minimum if spec.minimum is not None else -2_000_000_000,
                                spec.maximum if spec.maximum is not None else 2_000_000_000)
                editor.setValue(int(value))
                editor.setGroupSeparatorShown(True)
            else:
                editor = QLineEdit(str(value))
            set_accessible(editor, spec.label)
            editor.setObjectName(f"setting_{key}")
            self.editors[key] = editor
            form.addRow(spec.label + " :", editor)
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a61b1b;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(680, 560)

    def value_of(self, key: str):
        editor = self.editors[key]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        return editor.text()

    def save(self) -> None:
        """Each changed setting is saved (and audited) on its own; the first
        refused one stops the save with its message."""
        changed = 0
        for key, spec in SETTINGS.items():
            new = self.value_of(key)
            if new == self.values[key]:
                continue
            try:
                self.svc.set(spec, new)
            except CusDeskError as exc:
                self.message.setText(exc.message)
                self.editors[key].setFocus()
                return
            self.values[key] = new
            changed += 1
        if changed:
            self.ctx.bus.data_changed.emit("settings")
        self.accept()
