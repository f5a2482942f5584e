"""What is asked before a CAS decision is recorded: the confirmation and
motivation of a demande de résiliation judiciaire (a decision of that
gravity), and the confirmation of what the decision creates in the case
file (orientation, saisine FSL / CCAPEX, plan d'apurement). Used by the
séance window and by the decision dialog of the sessions screen."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain import commission
from cus_desk.domain.errors import ValidationError
from cus_desk.domain.meetings import DecisionType
from cus_desk.services.decision_effects import EffectRequest
from cus_desk.ui.common import french_locale, set_accessible


def run_modal(dialog: QDialog) -> bool:
    """The one place these dialogs are shown modally (tests drive the
    real dialog through this seam instead of a timer)."""
    return dialog.exec() == QDialog.DialogCode.Accepted


class GraveDecisionDialog(QDialog):
    """« Demande de résiliation judiciaire du bail »: the motivation is
    shown again and « Je confirme » must be ticked before recording."""

    def __init__(self, case_reference: str, motivation: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Confirmer une décision grave")
        self.resize(560, 300)
        intro = QLabel(
            f"<b>Demande de résiliation judiciaire du bail — dossier {escape(case_reference)}</b><br>"
            "La commission autorise la procédure qui peut conduire à l'expulsion du ménage. "
            "Elle ne pourra être engagée qu'après la clôture de la séance, avec le quorum."
        )
        intro.setWordWrap(True)
        self.motivation = QLabel(f"<i>Motivation :</i> {escape(motivation)}")
        self.motivation.setWordWrap(True)
        set_accessible(self.motivation, "Motivation de la décision")
        self.confirm_check = QCheckBox("&Je confirme la décision de la commission et sa motivation")
        set_accessible(self.confirm_check, "Je confirme la décision grave")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Enregistrer la décision")
        self.ok_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.confirm_check.toggled.connect(self.ok_button.setEnabled)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.motivation)
        layout.addWidget(self.confirm_check)
        layout.addStretch(1)
        layout.addWidget(self.buttons)


class EffectDialog(QDialog):
    """« Créer l'orientation / la saisine / le plan dans le dossier ? » with
    what it needs: the partner, or the monthly amount and the length."""

    def __init__(self, type_code: str, partners, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.type_code = type_code
        self.effect = commission.effect_of(type_code)
        self.setWindowTitle(f"Effet de la décision — {DecisionType(type_code).label}")
        self.resize(560, 240)
        question = QLabel(commission.effect_question(type_code))
        question.setWordWrap(True)
        form = QFormLayout()
        self.partner_combo = QComboBox()
        self.monthly_spin = QDoubleSpinBox()
        self.months_spin = QSpinBox()
        if self.effect is commission.Effect.PLAN:
            self.monthly_spin.setLocale(french_locale())
            self.monthly_spin.setRange(0, 100_000)
            self.monthly_spin.setDecimals(2)
            self.monthly_spin.setSuffix(" €")
            set_accessible(self.monthly_spin, "Mensualité du plan")
            self.months_spin.setRange(1, 120)
            self.months_spin.setValue(12)
            self.months_spin.setSuffix(" mois")
            set_accessible(self.months_spin, "Durée du plan")
            form.addRow("&Mensualité :", self.monthly_spin)
            form.addRow("&Durée :", self.months_spin)
        else:
            for p in partners:
                self.partner_combo.addItem(p.label + (" (suggéré)" if p.suggested else ""), p.id)
            set_accessible(self.partner_combo, "Structure partenaire")
            form.addRow("&Structure :", self.partner_combo)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #B00020")
        self.error.setWordWrap(True)
        box = QDialogButtonBox()
        self.create_button = box.addButton("&Créer avec la décision", QDialogButtonBox.ButtonRole.AcceptRole)
        self.alone_button = box.addButton("Décision &seule", QDialogButtonBox.ButtonRole.DestructiveRole)
        cancel = box.addButton("Annuler", QDialogButtonBox.ButtonRole.RejectRole)
        self.create_button.clicked.connect(lambda: self._finish(True))
        self.alone_button.clicked.connect(lambda: self._finish(False))
        cancel.clicked.connect(self.reject)
        self.create = False
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(box)

    def _finish(self, create: bool) -> None:
        if create:
            if self.effect is commission.Effect.PLAN:
                try:
                    commission.validate_plan(round(self.monthly_spin.value() * 100), self.months_spin.value())
                except ValidationError as exc:
                    self.error.setText(exc.message)
                    return
            elif self.partner_combo.currentData() is None:
                self.error.setText("Aucune structure partenaire à choisir : enregistrez la décision seule.")
                return
        self.create = create
        self.accept()

    def request(self) -> EffectRequest | None:
        if not self.create:
            return None
        if self.effect is commission.Effect.PLAN:
            return EffectRequest(monthly_cents=round(self.monthly_spin.value() * 100), months=self.months_spin.value())
        return EffectRequest(partner_id=self.partner_combo.currentData())


def ask_before_saving(parent: QWidget, service, case_id: int, case_reference: str, type_code: str,
                      text: str, with_effect: bool = True) -> dict | None:
    """The extra arguments of ``add_decision`` once the user has confirmed
    (``confirmed``, ``effect``), or None when she cancels. A motivation too
    short raises the service's ValidationError before anything is asked."""
    extra: dict = {}
    if type_code == DecisionType.DEMANDE_RESILIATION_JUDICIAIRE.value:
        commission.check_grave_decision(type_code, text, True)
        if not run_modal(GraveDecisionDialog(case_reference, text.strip(), parent)):
            return None
        extra["confirmed"] = True
    if with_effect and commission.effect_of(type_code) is not None:
        partners = [] if commission.effect_of(type_code) is commission.Effect.PLAN else \
            service.effect_partners(case_id, type_code)
        dialog = EffectDialog(type_code, partners, parent)
        if not run_modal(dialog):
            return None
        effect = dialog.request()
        if effect is not None:
            extra["effect"] = effect
    return extra
