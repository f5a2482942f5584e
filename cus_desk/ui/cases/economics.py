"""« Budget et procédure », a tab of the case window: the debt (one source,
dated), the household's monthly budget around the rent with the taux
d'effort and reste à vivre computed as typed (formulas:
``domain.case_economics``), and the dates of the eviction procedure with
the CCAPEX warning.

At summary level (a CAS member) the household's resources, APL/AL, other
charges and the figures drawn from them are not built at all: the service
does not send them (``access.shows_household_budget``)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain import case_economics as rules
from cus_desk.domain.case_economics import Stage
from cus_desk.domain.errors import ConflictError, CusDeskError, ValidationError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.services.case_economics import (
    BUDGET_FIELDS,
    CaseEconomicsService,
    DebtView,
    EconomicsInput,
    EconomicsView,
    format_percent,
)
from cus_desk.ui.cases.widgets import AmountField, DateField, FieldErrors, action_button
from cus_desk.ui.common import show_error

WARNING_STYLE = ("background: #fdecea; color: #8c1d18; border: 1px solid #b3261e; border-radius: 4px;"
                 " padding: 6px; font-weight: bold;")
FORMULAS = (
    "Taux d'effort net = (loyer + charges − APL/AL) ÷ ressources hors aide au logement.\n"
    "Reste à vivre = ressources + APL/AL − (loyer + charges) − autres charges fixes ; "
    "par personne et par jour = reste à vivre ÷ occupants ÷ 30."
)


def debt_html(debt: DebtView) -> str:
    """The debt with its date and origin, and the other source's figure."""
    if debt.amount_cents is None:
        return "Dette : <b>non renseignée</b> (ni extrait d'impayés, ni montant saisi au dossier)"
    parts = [f"Dette : <b style='white-space:nowrap'>{escape(format_cents(debt.amount_cents))}</b>"
             f" — {escape(debt.origin_label, quote=False)}"]
    if debt.months:
        parts.append(f"{debt.months} mois d'impayés")
    if debt.last_payment_on:
        parts.append(f"dernier paiement le {format_date(debt.last_payment_on)}")
    text = " · ".join(parts)
    if debt.other:
        text += f"<br/><span style='color:#555'>{escape(debt.other, quote=False)}</span>"
    return text


class EconomicsPanel(QWidget):
    """The tab. ``view`` holds what was last loaded; ``save()`` stores the
    form (French message next to a bad field, nothing stored lost);
    ``saved`` is emitted after each save or reload."""

    saved = Signal()

    def __init__(self, ctx, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.case_id = ctx, case_id
        self.service = CaseEconomicsService(ctx.db, ctx.actor)
        self.view: EconomicsView = self.service.get(case_id)
        self.full = self.view.access == "full"
        self.editable = self.view.editable
        self._snapshot: tuple | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        page = QWidget()
        scroll.setWidget(page)
        outer.addWidget(scroll)
        layout = QVBoxLayout(page)

        self.error_label = QLabel()
        self.errors = FieldErrors(self.error_label, reveal=self._reveal)
        layout.addWidget(self.error_label)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setAccessibleName("Alerte CCAPEX")
        layout.addWidget(self.warning)

        debt_box = QGroupBox("Dette locative")
        debt_layout = QVBoxLayout(debt_box)
        self.debt = QLabel()
        self.debt.setWordWrap(True)
        self.debt.setTextFormat(Qt.TextFormat.RichText)
        self.debt.setAccessibleName("Dette locative")
        debt_layout.addWidget(self.debt)
        layout.addWidget(debt_box)

        layout.addWidget(self._build_budget())
        layout.addWidget(self._build_procedure())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = action_button("Enregistrer le budget et la procédure",
                                         "Enregistrer le budget et la procédure", self.save)
        self.save_button.setVisible(self.editable)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        if not self.editable:
            for w in self.amounts.values():
                w.setReadOnly(True)
            for w in self.dates.values():
                w.setReadOnly(True)
            if self.full:
                self.aid_kind.setEnabled(False)
        self.fill(self.view)

    # ---------------------------------------------------------------- build

    def _reveal(self) -> None:
        """Bring this tab forward (before an error is shown in it)."""
        widget = self.parentWidget()
        while widget is not None and not isinstance(widget, QTabWidget):
            widget = widget.parentWidget()
        if widget is not None:
            widget.setCurrentIndex(widget.indexOf(self))

    def _amount(self, field: str, label: str) -> AmountField:
        w = AmountField(label, field)
        w.textChanged.connect(self._recompute)
        self.errors.register(field, w)
        self.amounts[field] = w
        return w

    def _build_budget(self) -> QGroupBox:
        box = QGroupBox("Budget mensuel du ménage")
        form = QFormLayout(box)
        self.amounts: dict[str, AmountField] = {}
        rent = QHBoxLayout()
        rent.addWidget(self._amount("rent_cents", "Loyer hors charges"))
        rent.addWidget(QLabel("€   Charges :"))
        rent.addWidget(self._amount("charges_cents", "Charges"))
        rent.addWidget(QLabel("€"))
        rent.addStretch(1)
        form.addRow("Loyer hors charges :", rent)
        self.aid_kind = QComboBox()
        if not self.full:
            self.aid_kind.setParent(self)
            self.aid_kind.hide()
            note = QLabel("Les ressources du ménage, l'APL/AL, le taux d'effort et le reste à vivre restent "
                          "réservés à la conseillère du dossier.")
            note.setWordWrap(True)
            form.addRow(note)
            return box
        aid = QHBoxLayout()
        aid.addWidget(self._amount("housing_aid_cents", "APL / AL"))
        aid.addWidget(QLabel("€"))
        self.aid_kind.setAccessibleName("Type d'aide au logement")
        self.aid_kind.addItem("—", None)
        for kind in rules.HousingAid:
            self.aid_kind.addItem(kind.label, kind.value)
        self.errors.register("housing_aid_kind", self.aid_kind)
        aid.addWidget(self.aid_kind)
        aid.addStretch(1)
        form.addRow("Aide au logement :", aid)
        resources = QHBoxLayout()
        resources.addWidget(self._amount("resources_cents", "Ressources du ménage"))
        resources.addWidget(QLabel("€ (hors aide au logement)"))
        resources.addStretch(1)
        form.addRow("Ressources :", resources)
        other = QHBoxLayout()
        other.addWidget(self._amount("other_charges_cents", "Autres charges fixes"))
        other.addWidget(QLabel("€ (énergie, assurance, crédits…)"))
        other.addStretch(1)
        form.addRow("Autres charges fixes :", other)
        self.effort = QLabel()
        self.effort.setAccessibleName("Taux d'effort net")
        self.remaining = QLabel()
        self.remaining.setAccessibleName("Reste à vivre")
        self.remaining.setWordWrap(True)
        for w in (self.effort, self.remaining):
            w.setToolTip(FORMULAS)
        form.addRow("Taux d'effort net :", self.effort)
        form.addRow("Reste à vivre :", self.remaining)
        formula = QLabel(FORMULAS)
        formula.setWordWrap(True)
        formula.setStyleSheet("color: #555;")
        form.addRow(formula)
        return box

    def _build_procedure(self) -> QGroupBox:
        box = QGroupBox("Procédure d'expulsion")
        grid = QGridLayout(box)
        self.dates: dict[str, DateField] = {}
        rows = [(s.value + "_on", s.label) for s in Stage]
        rows.append(("ccapex_referred_on", "Saisine de la CCAPEX par le bailleur"))
        for i, (field, label) in enumerate(rows):
            w = DateField(label, field)
            w.textChanged.connect(self._recompute)
            self.errors.register(field, w)
            self.dates[field] = w
            grid.addWidget(QLabel(label + " :"), i % 4, (i // 4) * 2)
            grid.addWidget(w, i % 4, (i // 4) * 2 + 1)
        grid.setColumnStretch(4, 1)
        self.stage = QLabel()
        self.stage.setAccessibleName("Étape de la procédure")
        self.stage.setWordWrap(True)
        grid.addWidget(self.stage, 4, 0, 1, 5)
        hint = QLabel("Une date à venir (assignation ou audience fixée) est enregistrée comme prévue. "
                      "Le bailleur doit saisir la CCAPEX au moins deux mois avant l'assignation "
                      f"({rules.CCAPEX_LAW}).")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        grid.addWidget(hint, 5, 0, 1, 5)
        return box

    # ---------------------------------------------------------------- fill

    def fill(self, view: EconomicsView) -> None:
        self.view = view
        data = view.input
        for field, w in self.amounts.items():
            w.set_value(getattr(data, field))
        if self.full:
            self.aid_kind.setCurrentIndex(max(0, self.aid_kind.findData(data.housing_aid_kind)))
        for field, w in self.dates.items():
            w.set_value(getattr(data, field))
        self.debt.setText(debt_html(view.debt))
        self.errors.clear()
        self._recompute()
        self._snapshot = self._state()

    def _state(self) -> tuple:
        return (tuple(w.text() for w in self.amounts.values()), self.aid_kind.currentData(),
                tuple(w.text() for w in self.dates.values()))

    def is_dirty(self) -> bool:
        return self.editable and self._snapshot is not None and self._state() != self._snapshot

    def _recompute(self) -> None:
        """Figures and warning as typed; a field not (yet) readable leaves
        the figures of the last readable input."""
        try:
            data = self.data()
        except ValidationError:
            return
        if self.full:
            figures = rules.compute(data.budget(), self.view.occupants)
            self.effort.setText(format_percent(figures.effort_rate_percent)
                                if figures.effort_rate_percent is not None
                                else "— (loyer et ressources nécessaires)")
            if figures.remaining_cents is None:
                self.remaining.setText("— (loyer et ressources nécessaires)")
            else:
                text = f"{format_cents(figures.remaining_cents)} par mois"
                if figures.remaining_per_person_day_cents is not None:
                    text += (f", soit {format_cents(figures.remaining_per_person_day_cents)} par personne "
                             f"et par jour ({self.view.occupants} pers.)")
                self.remaining.setText(text)
        current = rules.current_stage(data.stages(), self.ctx.clock.today())
        if current is None:
            self.stage.setText("Étape actuelle : aucune étape de procédure enregistrée.")
        else:
            stage, on, planned = current
            self.stage.setText(f"Étape actuelle : <b>{stage.label}</b> le {format_date(on)}"
                               + (" (prévue)" if planned else ""))
        warning = rules.ccapex_warning(data.assignation_on, data.ccapex_referred_on)
        self.warning.setText(f"⚠ {warning}" if warning else "")
        self.warning.setVisible(bool(warning))

    # ---------------------------------------------------------------- save

    def data(self) -> EconomicsInput:
        """The form as typed; a ValidationError naming the field otherwise."""
        values = {f: w.value() for f, w in self.amounts.items()}
        values.update({f: w.value() for f, w in self.dates.items()})
        if self.full:
            values["housing_aid_kind"] = self.aid_kind.currentData()
        return EconomicsInput(**{k: v for k, v in values.items()
                                 if k in BUDGET_FIELDS or k.endswith("_on")})

    def check(self) -> bool:
        """Validate the form without storing (the case window calls it
        before saving anything): the error shown next to its field."""
        self.errors.clear()
        try:
            data = self.data()
            rules.check_budget(data.budget())
            rules.check_procedure(data.stages(), data.ccapex_referred_on, self.ctx.clock.today())
        except ValidationError as exc:
            self.errors.show(exc)
            return False
        return True

    def save(self) -> bool:
        if not self.editable:
            return False
        self.errors.clear()
        try:
            view = self.service.save(self.case_id, self.data(), self.view.version)
        except ValidationError as exc:
            self.errors.show(exc)
            return False
        except ConflictError as exc:
            show_error(self, f"{exc.message} Le budget et la procédure affichés vont être rechargés : "
                             "ressaisissez vos modifications.")
            self.reload()
            return False
        except CusDeskError as exc:
            show_error(self, exc)
            return False
        self.fill(view)
        self.saved.emit()
        self.ctx.bus.data_changed.emit("cases")
        return True

    def reload(self) -> None:
        try:
            self.fill(self.service.get(self.case_id))
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self.saved.emit()
