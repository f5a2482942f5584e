"""The case file window: header, then tabs for the situation (case and
household forms), journal, referrals, confidential notes, repayment plans,
CAS decisions and the history of changes.

Ctrl+S saves the forms (all or nothing), Esc closes (asking before
discarding changes). A save based on an outdated version gets the conflict
message and the offer to reload; nothing is overwritten silently."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAccessible, QAccessibleEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain import cases as rules
from cus_desk.domain.errors import ConflictError, CusDeskError, ValidationError
from cus_desk.domain.formatting import format_cents, format_date, format_datetime
from cus_desk.services import access
from cus_desk.services.cases import CaseDetail, CaseInput, CaseService, HouseholdInput
from cus_desk.ui.cases.economics import EconomicsPanel, debt_html
from cus_desk.ui.cases.widgets import (
    AmountField,
    ArrearsRow,
    DateField,
    FieldErrors,
    IntField,
    MembersEditor,
    PhoneRow,
    ProblemsBox,
    RowsModel,
    action_button,
)
from cus_desk.ui.common import confirm, show_error, show_info
from cus_desk.ui.screen_size import initial_size


def _table(model, name: str, stretch: int | None = None) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is not None:
        view.horizontalHeader().setStretchLastSection(False)
        view.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ConflictBox(QMessageBox):
    """The conflict message with the choice to reload."""

    def __init__(self, parent, message: str) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle("Conflit d'enregistrement")
        self.setText(message)
        self.setInformativeText(
            "« Recharger » affiche la version enregistrée (votre saisie non enregistrée sera perdue). "
            "« Garder ma saisie » vous laisse la recopier avant de recharger."
        )
        self.reload_button = self.addButton("Recharger", QMessageBox.ButtonRole.AcceptRole)
        self.addButton("Garder ma saisie", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.reload_button)


class CaseDialog(QDialog):
    def __init__(self, ctx, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.case_id = case_id
        self.service = CaseService(ctx.db, ctx.actor)
        self.detail: CaseDetail = self.service.get(case_id)  # audited opening
        self.full = self.detail.access == "full"
        self.editable = self.full and access.has(ctx.actor, access.Permission.CASE_EDIT)
        self.show_notes = self.full and access.has(ctx.actor, access.Permission.CONFIDENTIAL_READ)
        self._snapshot: tuple | None = None
        self._correcting: int | None = None
        self.setWindowTitle(f"Dossier {self.detail.reference}")
        self.setAccessibleName(f"Dossier {self.detail.reference}")
        initial_size(self, 1100, 760)  # no taller than the screen (#14)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)

        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.header.setAccessibleName("En-tête du dossier")
        layout.addWidget(self.header)

        actions = QHBoxLayout()
        self.status_button = action_button("Changer de statut…", "Changer le statut du dossier",
                                           self.change_status)
        self.judicial_button = action_button(
            "Demande de résiliation judiciaire…",
            "Enregistrer la demande de résiliation judiciaire du bail", self.request_judicial)
        self.save_button = action_button("Enregistrer", "Enregistrer le dossier", self.save, "Ctrl+S")
        self.close_button = action_button("Fermer", "Fermer le dossier", self.reject)
        for b in (self.status_button, self.judicial_button):
            b.setVisible(self.editable)
            actions.addWidget(b)
        self.saved_label = QLabel("")
        self.saved_label.setObjectName("saved_confirmation")
        self.saved_label.setAccessibleName("Confirmation d'enregistrement")
        self.saved_label.setStyleSheet("color: #1B6E20; font-weight: bold;")
        actions.addStretch(1)
        actions.addWidget(self.saved_label)
        self.save_button.setVisible(self.editable)
        actions.addWidget(self.save_button)
        actions.addWidget(self.close_button)
        layout.addLayout(actions)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Parties du dossier")
        layout.addWidget(self.tabs, 1)
        self._make_models()
        self._build_situation()
        self._lazy: dict[QWidget, object] = {}
        self._add_lazy("&Journal", self._build_journal)
        self.referrals_page = self._add_lazy("&Orientations", self._build_referrals)
        if self.show_notes:
            self._add_lazy("Notes &confidentielles", self._build_notes)
        self._add_lazy("&Plans d'apurement", self._build_plans)
        # Budget et procédure (#14): a tab of its own, saved with Ctrl+S too.
        self.economics = EconomicsPanel(ctx, case_id, self)
        self.tabs.addTab(self.economics, "&Budget et procédure")
        self.economics.saved.connect(lambda: self._fill_header(self.detail))
        self._add_lazy("&Décisions CAS", self._build_decisions)
        if self.full:
            self._add_lazy("&Historique", self._build_history)

        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        self.tabs.currentChanged.connect(self._on_tab)
        self.fill(self.detail)

    # ================================================================ build

    def _make_models(self) -> None:
        """The tables' models exist from the start (fill() fills them); the
        widgets of a tab are built when the tab is first shown."""
        self.journal_model = RowsModel(
            ("Date", "Type", "Auteur", "Texte"),
            lambda j: (format_date(j.occurred_on), j.kind_label, j.author_name,
                       ("[corrigée] " if j.corrected_by_id else "")
                       + ("[correction] " if j.corrects_id else "") + _first_line(j.text)),
            self, tooltip_fn=lambda j: j.text[:2000],
        )
        self.referral_model = RowsModel(
            ("Envoyée le", "Partenaire", "Motif", "Statut", "Résultat", "Retard"),
            lambda r: (format_date(r.sent_on), r.partner_name, _first_line(r.reason, 80), r.status_label,
                       r.result_label, "EN RETARD" if r.overdue else ""),
            self, tooltip_fn=lambda r: (r.reason + ("\n\nSuite : " + r.outcome if r.outcome else ""))[:2000],
        )
        self.signalements_model = RowsModel(
            ("Envoyé le", "Référence", "Structure", "Statut", "Dernier suivi"),
            lambda a: (format_date(a.sent_on), a.reference, a.partner_name,
                       a.status_label + (f" ({format_date(a.status_changed_on)})"
                                         if a.status_changed_on and a.status_changed_on != a.sent_on else ""),
                       a.last_event),
            self, tooltip_fn=lambda a: a.reason[:2000],
        )
        self.notes_model = RowsModel(
            ("Saisie le", "Catégorie", "Auteur", "Consentement", "Note"),
            lambda n: (format_datetime(n.created_at), n.category_label, n.author_name,
                       (f"{format_date(n.consent_on)} — {rules.CONSENT_METHODS.get(n.consent_method or '', '')}"
                        if n.consent_on else ""), _first_line(n.text)),
            self, tooltip_fn=lambda n: n.text[:2000],
        )
        self.plans_model = RowsModel(
            ("Accord du", "Mensualité", "Durée", "Statut", "Note"),
            lambda p: (format_date(p.agreed_on), format_cents(p.monthly_cents), f"{p.months} mois",
                       p.status_label, _first_line(p.note)),
            self,
        )
        self.decisions_model = RowsModel(
            ("Séance", "Décision", "Texte", "Échéance", "Suivi"),
            lambda d: (d.meeting_label, d.type.replace("_", " "), _first_line(d.text, 100),
                       format_date(d.due_on), d.status.replace("_", " ")),
            self, tooltip_fn=lambda d: d.text[:2000],
        )
        self.history_model = RowsModel(
            ("Date", "Par", "Action", "Objet", "Détail"),
            lambda h: (format_datetime(h.occurred_at), h.user_name, h.action_label, h.entity_label,
                       _first_line(h.text, 200)),
            self, tooltip_fn=lambda h: h.text[:2000],
        )


    def _build_situation(self) -> None:
        page = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        outer = QVBoxLayout(page)
        self.situation_error = QLabel()
        self.errors = FieldErrors(self.situation_error, reveal=lambda: self.tabs.setCurrentIndex(0))
        outer.addWidget(self.situation_error)

        if not self.full:
            self.summary_note = QLabel(
                "Vous voyez la synthèse de ce dossier préparée pour la commission : dette, plan, "
                "orientations et décisions. Le détail (journal, notes) reste réservé à la conseillère."
            )
            self.summary_note.setWordWrap(True)
            outer.addWidget(self.summary_note)

        self.problems = ProblemsBox("Problématiques", sensitive=self.full)
        self.problem_boxes = self.problems.boxes
        self.errors.register("problems", self.problems)
        outer.addWidget(self.problems)

        form_box = QGroupBox("Situation")
        form = QFormLayout(form_box)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("Résumé de la situation")
        self.summary.setPlaceholderText("Quelques lignes : origine de la dette, difficultés, démarches en cours…")
        self.summary.setFixedHeight(90)
        form.addRow("Résumé :", self.summary)
        self.errors.register("summary", self.summary)
        self.adviser = QComboBox()
        self.adviser.setAccessibleName("Conseillère référente")
        self.adviser.addItem("—", None)
        if self.full:
            for c in self.service.advisers():
                self.adviser.addItem(c.label, c.id)
        form.addRow("Conseillère référente :", self.adviser)
        self.errors.register("adviser_id", self.adviser)
        numbers = QHBoxLayout()
        self.caf = QLineEdit()
        self.fsl = QLineEdit()
        self.ccapex = QLineEdit()
        for w, label, field in ((self.caf, "N° allocataire CAF", "caf_number"),
                                (self.fsl, "N° de dossier FSL", "fsl_number"),
                                (self.ccapex, "N° de saisine CCAPEX", "ccapex_number")):
            w.setAccessibleName(label)
            w.setPlaceholderText(label)
            w.setMaxLength(rules.MAX_SHORT * 2)
            self.errors.register(field, w)
            numbers.addWidget(QLabel(label + " :"))
            numbers.addWidget(w)
        form.addRow(numbers)
        self.worker = QLineEdit()
        self.worker.setAccessibleName("Travailleur social extérieur")
        self.worker.setPlaceholderText("Nom, structure, téléphone")
        self.errors.register("external_worker_ref", self.worker)
        form.addRow("Travailleur social extérieur :", self.worker)
        arrears = ArrearsRow()
        self.arrears, self.months, self.last_payment = arrears.amount, arrears.months, arrears.last_payment
        for w in (self.arrears, self.months, self.last_payment):
            self.errors.register(w.field, w)
        form.addRow("Impayé :", arrears)
        outer.addWidget(form_box)

        hh_box = QGroupBox("Ménage et bail")
        hh = QVBoxLayout(hh_box)
        self.lease_label = QLabel()
        self.lease_label.setWordWrap(True)
        self.lease_label.setAccessibleName("Bail")
        hh.addWidget(self.lease_label)
        phone_row = PhoneRow()
        self.phone = phone_row.phone
        self.errors.register("phone", self.phone)
        hh.addLayout(phone_row)
        self.members = MembersEditor(self.errors)
        self.errors.register("members", self.members)
        hh.addWidget(self.members)
        outer.addWidget(hh_box)
        outer.addStretch(1)

        if not self.editable:
            for w in [*self.problem_boxes.values(), self.summary, self.adviser, self.caf, self.fsl,
                      self.ccapex, self.worker, self.arrears, self.months, self.last_payment, self.phone]:
                w.setEnabled(False)
            self.members.setEnabled(False)
        self.tabs.addTab(scroll, "&Situation")

    def _build_journal(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.journal_view = _table(self.journal_model, "Journal du dossier")
        self.journal_view.selectionModel().currentRowChanged.connect(self._show_journal_entry)
        layout.addWidget(self.journal_view, 2)
        self.journal_text = QPlainTextEdit()
        self.journal_text.setReadOnly(True)
        self.journal_text.setAccessibleName("Texte de l'entrée sélectionnée")
        self.journal_text.setFixedHeight(80)
        self.journal_text.setPlaceholderText("Sélectionnez une entrée pour lire son texte complet.")
        layout.addWidget(self.journal_text)
        if self.editable:
            box = QGroupBox("Nouvelle entrée")
            form = QVBoxLayout(box)
            self.journal_error = QLabel()
            self.journal_errors = FieldErrors(self.journal_error)
            form.addWidget(self.journal_error)
            row = QHBoxLayout()
            self.journal_kind = QComboBox()
            self.journal_kind.setAccessibleName("Type d'entrée")
            for code, label in rules.JOURNAL_KINDS.items():
                self.journal_kind.addItem(label, code)
            self.journal_date = DateField("Date de l'entrée", "occurred_on", required=True)
            self.journal_date.set_value(self.service.today())
            row.addWidget(QLabel("Type :"))
            row.addWidget(self.journal_kind)
            row.addWidget(QLabel("Date :"))
            row.addWidget(self.journal_date)
            # Who the entry is about (right of access, #11); default: the household.
            self.journal_subject = QComboBox()
            self.journal_subject.setAccessibleName("Personne concernée par l'entrée")
            row.addWidget(QLabel("Concerne :"))
            row.addWidget(self.journal_subject)
            self._fill_subjects()
            self.correction_label = QLabel("")
            row.addWidget(self.correction_label, 1)
            form.addLayout(row)
            self.journal_input = QPlainTextEdit()
            self.journal_input.setAccessibleName("Texte de la nouvelle entrée")
            self.journal_input.setFixedHeight(70)
            form.addWidget(self.journal_input)
            buttons = QHBoxLayout()
            self.journal_add = action_button("Ajouter au journal", "Ajouter au journal",
                                             self.add_journal_entry)
            self.journal_fix = action_button(
                "Corriger l'entrée sélectionnée", "Corriger l'entrée sélectionnée", self.start_correction,
                "Une correction est une nouvelle entrée : l'originale reste visible.")
            buttons.addWidget(self.journal_add)
            buttons.addWidget(self.journal_fix)
            buttons.addStretch(1)
            form.addLayout(buttons)
            for f, w in (("kind", self.journal_kind), ("occurred_on", self.journal_date),
                         ("text", self.journal_input)):
                self.journal_errors.register(f, w)
            layout.addWidget(box)
        return page

    def _build_referrals(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.referral_view = _table(self.referral_model, "Orientations du dossier", stretch=2)
        layout.addWidget(self.referral_view, 1)
        if self.detail.signalements:
            # Sent from the seniors screen (CUS §9.3); followed up there.
            title = QLabel("<b>Signalements seniors (65 ans et plus) du ménage</b> — suivis dans l'écran "
                           "« Seniors 65+ »")
            title.setObjectName("case_signalements_title")
            layout.addWidget(title)
            self.signalements_view = _table(self.signalements_model, "Signalements seniors du ménage", stretch=2)
            self.signalements_view.setMaximumHeight(self.signalements_view.verticalHeader().defaultSectionSize()
                                                    * 5 + self.signalements_view.horizontalHeader().sizeHint().height() + 4)
            layout.addWidget(self.signalements_view)
        if self.editable:
            self.referral_error = QLabel()
            self.referral_errors = FieldErrors(self.referral_error)
            layout.addWidget(self.referral_error)
            add_box = QGroupBox("Nouvelle orientation")
            add = QHBoxLayout(add_box)
            self.partner = QComboBox()
            self.partner.setAccessibleName("Structure partenaire")
            self.partner.addItem("— choisir la structure —", None)
            self._partners_loaded = False  # loaded when the tab is first shown (opening stays fast)
            self.partner.setMinimumWidth(260)
            self.partner.setMaximumWidth(420)
            self.referral_date = DateField("Date d'envoi", "sent_on", required=True)
            self.referral_date.set_value(self.service.today())
            self.referral_reason = QLineEdit()
            self.referral_reason.setAccessibleName("Motif de l'orientation")
            self.referral_reason.setPlaceholderText("Motif")
            self.referral_add = action_button("Orienter", "Enregistrer l'orientation", self.add_referral)
            for w in (QLabel("Vers :"), self.partner, QLabel("le"), self.referral_date, self.referral_reason,
                      self.referral_add):
                add.addWidget(w)
            add.setStretch(4, 1)
            layout.addWidget(add_box)
            upd_box = QGroupBox("Suivi de l'orientation sélectionnée")
            upd = QHBoxLayout(upd_box)
            self.referral_status = QComboBox()
            self.referral_status.setAccessibleName("Nouveau statut de l'orientation")
            for code, label in rules.REFERRAL_STATUSES.items():
                self.referral_status.addItem(label, code)
            self.referral_result = QComboBox()
            self.referral_result.setAccessibleName("Résultat de l'orientation")
            self.referral_result.addItem("Résultat…", None)
            for code, label in rules.REFERRAL_RESULTS.items():
                self.referral_result.addItem(label, code)
            self.referral_failure = QComboBox()
            self.referral_failure.setAccessibleName("Motif d'échec")
            self.referral_failure.addItem("Motif d'échec…", None)
            for code, label in rules.REFERRAL_FAILURE_REASONS.items():
                self.referral_failure.addItem(label, code)
            self.referral_outcome = QLineEdit()
            self.referral_outcome.setAccessibleName("Suite donnée")
            self.referral_outcome.setPlaceholderText("Suite donnée (facultatif)")
            self.referral_update = action_button(
                "Mettre à jour", "Mettre à jour l'orientation", self.update_referral)
            for w in (self.referral_status, self.referral_result, self.referral_failure,
                      self.referral_outcome, self.referral_update):
                upd.addWidget(w)
            upd.setStretch(3, 1)
            layout.addWidget(upd_box)
            for f, w in (("partner_id", self.partner), ("sent_on", self.referral_date),
                         ("reason", self.referral_reason), ("status", self.referral_status),
                         ("result", self.referral_result), ("failure_reason", self.referral_failure),
                         ("outcome", self.referral_outcome)):
                self.referral_errors.register(f, w)
        return page

    def _build_notes(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        warn = QLabel(
            "<b>Confidentiel.</b> Ces notes (santé, violences) ne sont jamais imprimées, ni montrées "
            "à la commission, ni exportées. Une information de santé n'est enregistrée qu'avec le "
            "consentement du locataire."
        )
        warn.setWordWrap(True)
        warn.setStyleSheet("background: #fdecea; padding: 6px; border-radius: 4px;")
        layout.addWidget(warn)
        layout.addWidget(_table(self.notes_model, "Notes confidentielles"), 1)
        if self.editable:
            box = QGroupBox("Nouvelle note confidentielle")
            form = QFormLayout(box)
            self.note_error = QLabel()
            self.note_errors = FieldErrors(self.note_error)
            form.addRow(self.note_error)
            self.note_category = QComboBox()
            self.note_category.setAccessibleName("Catégorie de la note")
            for code, label in rules.CONFIDENTIAL_CATEGORIES.items():
                self.note_category.addItem(label, code)
            form.addRow("Catégorie :", self.note_category)
            # Who the note is about: the right-of-access export of each member
            # holds the notes about that member only (#11).
            self.note_subject = QComboBox()
            self.note_subject.setAccessibleName("Personne concernée par la note")
            form.addRow("Concerne :", self.note_subject)
            self._fill_subjects()
            consent = QHBoxLayout()
            self.consent_date = DateField("Date du consentement", "consent_on")
            self.consent_method = QComboBox()
            self.consent_method.setAccessibleName("Mode de consentement")
            self.consent_method.addItem("— mode de consentement —", None)
            for code, label in rules.CONSENT_METHODS.items():
                self.consent_method.addItem(label, code)
            consent.addWidget(self.consent_date)
            consent.addWidget(self.consent_method)
            consent.addStretch(1)
            form.addRow("Consentement du locataire :", consent)
            self.note_text = QPlainTextEdit()
            self.note_text.setAccessibleName("Texte de la note confidentielle")
            self.note_text.setFixedHeight(70)
            form.addRow("Note :", self.note_text)
            self.note_add = action_button(
                "Enregistrer la note", "Enregistrer la note confidentielle", self.add_note)
            form.addRow(self.note_add)
            for f, w in (("category", self.note_category), ("consent_on", self.consent_date),
                         ("consent_method", self.consent_method), ("text", self.note_text)):
                self.note_errors.register(f, w)
            layout.addWidget(box)
        return page

    def _build_plans(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.plans_view = _table(self.plans_model, "Plans d'apurement", stretch=4)
        layout.addWidget(self.plans_view, 1)
        if self.editable:
            follow = QHBoxLayout()
            follow.addWidget(QLabel("Suivi du plan sélectionné :"))
            self.plan_status = QComboBox()
            self.plan_status.setAccessibleName("Nouveau statut du plan")
            for code, label in rules.PLAN_STATUSES.items():
                self.plan_status.addItem(label, code)
            follow.addWidget(self.plan_status)
            self.plan_update = action_button(
                "Mettre à jour le plan", "Mettre à jour le plan d'apurement", self.update_plan)
            follow.addWidget(self.plan_update)
            follow.addStretch(1)
            layout.addLayout(follow)
            self.plan_error = QLabel()
            self.plan_errors = FieldErrors(self.plan_error)
            layout.addWidget(self.plan_error)
            row = QHBoxLayout()
            self.plan_date = DateField("Date de l'accord", "agreed_on", required=True)
            self.plan_amount = AmountField("Mensualité", "monthly_cents")
            self.plan_months = IntField("Durée en mois", "months")
            self.plan_note = QLineEdit()
            self.plan_note.setAccessibleName("Note du plan")
            self.plan_note.setPlaceholderText("Note")
            self.plan_add = action_button("Ajouter le plan", "Ajouter le plan d'apurement", self.add_plan)
            for w in (QLabel("Accord du"), self.plan_date, QLabel("Mensualité"), self.plan_amount,
                      QLabel("€ sur"), self.plan_months, QLabel("mois"), self.plan_note, self.plan_add):
                row.addWidget(w)
            row.setStretch(7, 1)
            layout.addLayout(row)
            for f, w in (("agreed_on", self.plan_date), ("monthly_cents", self.plan_amount),
                         ("months", self.plan_months), ("note", self.plan_note)):
                self.plan_errors.register(f, w)
        return page

    def _build_decisions(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_table(self.decisions_model, "Décisions de la CAS"), 1)
        return page

    def _build_history(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        if not self.detail.history:
            layout.addWidget(QLabel("Aucune modification enregistrée dans CUS Desk pour ce dossier."))
        layout.addWidget(_table(self.history_model, "Historique des modifications", stretch=4), 1)
        return page

    def _add_lazy(self, title: str, builder) -> QWidget:
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(holder, title)
        self._lazy[holder] = builder
        return holder

    def _on_tab(self, index: int) -> None:
        holder = self.tabs.widget(index)
        builder = self._lazy.pop(holder, None)
        if builder is not None:
            holder.layout().addWidget(builder())
        if self.editable and holder is self.referrals_page:
            self.ensure_partners()

    def ensure_partners(self) -> None:
        if not self.editable or self._partners_loaded:
            return
        self._partners_loaded = True
        try:
            for c in self.service.partners_for(self.detail.agency_id):
                self.partner.addItem(c.label, c.id)
        except CusDeskError as exc:
            show_error(self, exc)

    # ================================================================ fill

    def _fill_subjects(self) -> None:
        """The « Concerne » lists of the note and journal forms (built with
        their tab): the household's members, or the household as a whole."""
        for name in ("note_subject", "journal_subject"):
            combo = getattr(self, name, None)
            if combo is None:
                continue  # that tab is not built yet
            chosen = combo.currentData()
            combo.clear()
            combo.addItem("— tout le ménage —", None)
            for m in self.detail.household.members:
                combo.addItem(f"{m.last_name} {m.first_name} ({m.relationship_label})", m.id)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen else 0)

    def fill(self, d: CaseDetail) -> None:
        self.detail = d
        self._fill_subjects()
        self._fill_header(d)
        self.judicial_button.setEnabled(d.judicial_requested_on is None and d.status != "clos")
        self.judicial_button.setToolTip(
            "Autorisée par une décision de la CAS" if d.judicial_authorised
            else "Nécessite une décision de la CAS sur ce dossier (contrôle collégial)"
        )

        self.problems.set_checked(d.problems)
        self.summary.setPlainText(d.summary)
        idx = self.adviser.findData(d.adviser_id)
        if idx < 0 and d.adviser_id is not None:
            self.adviser.addItem(d.adviser_name, d.adviser_id)
            idx = self.adviser.count() - 1
        self.adviser.setCurrentIndex(max(idx, 0))
        self.caf.setText(d.caf_number or "")
        self.fsl.setText(d.fsl_number or "")
        self.ccapex.setText(d.ccapex_number or "")
        self.worker.setText(d.external_worker_ref or "")
        self.arrears.set_value(d.arrears_cents)
        self.months.set_value(d.arrears_months)
        self.last_payment.set_value(d.last_payment_on)
        if d.lease:
            lz = d.lease
            self.lease_label.setText(
                f"Bail n° <b>{_esc(lz.contract_number)}</b> ({lz.kind_label}) — {_esc(lz.commune)}"
                + (f", {_esc(lz.address)}" if lz.address else "")
                + (f" — entrée le {format_date(lz.start_date)}" if lz.start_date else "")
            )
        self.phone.setText(d.household.phone or "")
        self.members.set_members(d.household.members)
        self.members.add_button.setEnabled(self.editable)

        self.journal_model.set_items(d.journal)
        self.referral_model.set_items(d.referrals)
        self.signalements_model.set_items(d.signalements)
        if self.show_notes:
            self.notes_model.set_items(d.confidential_notes)
        self.plans_model.set_items(d.plans)
        self.decisions_model.set_items(d.decisions)
        if self.full:
            self.history_model.set_items(d.history)
        self.tabs.setTabText(1, f"&Journal ({len(d.journal)})")
        overdue = sum(r.overdue for r in d.referrals)
        self.tabs.setTabText(2, f"&Orientations ({len(d.referrals)}" + (f", {overdue} en retard" if overdue else "")
                             + (f", {len(d.signalements)} signalement(s)" if d.signalements else "") + ")")
        self.errors.clear()
        self._snapshot = self._form_state()

    def _fill_header(self, d: CaseDetail) -> None:
        """The header: who, where, status, the one dated debt, warnings."""
        lines = [
            f"<span style='font-size:15pt'><b>{d.reference}</b> — {_esc(d.holder_name)}</span>",
            f"Agence : <b>{_esc(d.agency_name)}</b> · Statut : <b>{d.status_label}</b>"
            + (f" ({rules.RECOMMENDATIONS.get(d.recommendation, '')})" if d.recommendation else ""),
            # One source for the debt, dated (case_economics.debt_of).
            debt_html(self.economics.view.debt),
            f"Ouvert le {format_date(d.opened_on)}" + (f" par {_esc(d.opened_by_name)}" if d.opened_by_name else "")
            + (f" · Référente : {_esc(d.adviser_name)}" if d.adviser_name else ""),
        ]
        if d.closed_on:
            lines.append(f"Clos le {format_date(d.closed_on)} : {_esc(d.closure_reason or '')}")
        if d.judicial_requested_on:
            lines.append(f"<b>Résiliation judiciaire du bail demandée le {format_date(d.judicial_requested_on)}</b>")
        if self.economics.view.ccapex_warning:
            lines.append(f"<span style='color:#b3261e'><b>⚠ {_esc(self.economics.view.ccapex_warning)}</b></span>")
        self.header.setText("<br>".join(lines))

    def reload(self) -> None:
        try:
            self.fill(self.service.get(self.case_id, audit_read=False))
        except CusDeskError as exc:
            show_error(self, exc)

    def _changed(self) -> None:
        if not self.economics.is_dirty():
            self.economics.reload()
        self.reload()
        self.ctx.bus.data_changed.emit("cases")

    def _apply(self, call: Callable[[], object], errors: FieldErrors | None = None,
               on_conflict: Callable[[ConflictError], bool] | None = None) -> bool:
        """Run one service call on this case. A validation error is shown next
        to its field (in ``errors``), a conflict offers to reload, any other
        refusal is shown; on success this window and the other screens
        refresh. True when the call went through."""
        if errors is not None:
            errors.clear()
        try:
            call()
        except ValidationError as exc:
            if errors is None:
                show_error(self, exc)
            else:
                errors.show(exc)
            return False
        except ConflictError as exc:
            if on_conflict is not None:
                return on_conflict(exc)
            self._conflict(exc)
            return False
        except CusDeskError as exc:
            show_error(self, exc)
            return False
        self._changed()
        return True

    # ================================================================ forms

    def _form_state(self) -> tuple:
        return (
            tuple(self.problems.checked()),
            self.summary.toPlainText(), self.adviser.currentData(), self.caf.text(), self.fsl.text(),
            self.ccapex.text(), self.worker.text(), self.arrears.text(), self.months.text(),
            self.last_payment.text(), self.phone.text(),
            tuple((m[0].text(), m[1].text(), m[2].text(), m[3].currentData()) for m in self.members.rows),
        )

    def _household_state(self, state: tuple) -> tuple:
        return state[10], state[11]

    def is_dirty(self) -> bool:
        return self.editable and ((self._snapshot is not None and self._form_state() != self._snapshot)
                                  or self.economics.is_dirty())

    def case_input(self) -> CaseInput:
        return CaseInput(
            problems=self.problems.checked(),
            summary=self.summary.toPlainText(),
            adviser_id=self.adviser.currentData(),
            caf_number=self.caf.text(), fsl_number=self.fsl.text(), ccapex_number=self.ccapex.text(),
            external_worker_ref=self.worker.text(),
            arrears_cents=self.arrears.value(), arrears_months=self.months.value(),
            last_payment_on=self.last_payment.value(),
        )

    def save(self) -> bool:
        """Save the situation and household forms together (all or nothing)."""
        if not self.editable:
            return False

        def store() -> None:
            data = self.case_input()
            household = None
            if self._household_state(self._form_state()) != self._household_state(self._snapshot):
                household = HouseholdInput(self.members.members(), self.phone.text())
            self.service.save_case_file(self.case_id, data, self.detail.version, household,
                                        self.detail.household.version)

        # The budget and procedure are checked first: a bad amount there
        # stops the whole save before anything is stored.
        economics_dirty = self.economics.is_dirty()
        if economics_dirty and not self.economics.check():
            return False
        if not self._apply(store, self.errors, on_conflict=self._case_conflict):
            return False
        if economics_dirty and not self.economics.save():
            return False
        self._confirm_saved()
        return True

    def _household_change(self) -> HouseholdInput | None:
        if self._household_state(self._form_state()) != self._household_state(self._snapshot):
            return HouseholdInput(self.members.members(), self.phone.text())
        return None

    def _case_conflict(self, exc: ConflictError) -> bool:
        """Someone saved this case meanwhile: who, when, what differs, and a
        deliberate merge or overwrite (#14). True when saved."""
        from cus_desk.services.case_conflict import CaseConflictService
        from cus_desk.ui.cases.conflict_dialog import ConflictDialog

        service = CaseConflictService(self.ctx.db, self.ctx.actor)
        try:
            mine = self.case_input()
            conflict = service.conflict(self.case_id, mine)
        except CusDeskError as other:
            show_error(self, other)
            return False
        dialog = ConflictDialog(conflict, self)
        dialog.exec()
        if dialog.choice == "reload":
            self.reload()
            return False
        if dialog.choice not in ("merge", "overwrite"):
            return False  # back to the form, her input intact
        keep = None if dialog.choice == "overwrite" else dialog.keep_mine()
        household = self._household_change()
        try:
            service.resolve(conflict, mine, keep, household,
                            self.detail.household.version if household is not None else None)
        except ConflictError as again:
            show_error(self, again)
            return False
        except CusDeskError as other:
            show_error(self, other)
            return False
        self._changed()
        return True

    def _confirm_saved(self) -> None:
        """A visible, accessible confirmation: a line under the buttons, and
        the main window's status bar."""
        at = format_datetime(self.service.clock.now())[-5:]
        text = f"Dossier {self.detail.reference} enregistré à {at}."
        self.saved_label.setText(text)
        self.saved_label.setAccessibleDescription(text)
        # Read out by a screen reader, as a message box would be.
        QAccessible.updateAccessibility(QAccessibleEvent(self.saved_label, QAccessible.Event.Alert))
        # Tied to the label: nothing runs if the window is gone by then.
        QTimer.singleShot(10_000, self.saved_label, self.saved_label.clear)
        window = self.parentWidget().window() if self.parentWidget() is not None else None
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 10_000)

    def _conflict(self, exc: ConflictError) -> None:
        box = ConflictBox(self, exc.message)
        box.exec()
        if box.clickedButton() is box.reload_button:
            self.reload()

    def save_current(self) -> None:
        self.save()

    # ================================================================ parts

    def _show_journal_entry(self, current, _previous) -> None:
        if current.isValid():
            entry = self.journal_model.item(current.row())
            text = entry.text
            if entry.corrects_id:
                text = "Correction d'une entrée précédente.\n" + text
            if entry.corrected_by_id:
                text = "Cette entrée a été corrigée (voir la correction plus récente).\n" + text
            self.journal_text.setPlainText(text)

    def start_correction(self) -> None:
        index = self.journal_view.currentIndex()
        if not index.isValid():
            show_info(self, "Sélectionnez d'abord l'entrée du journal à corriger.")
            return
        entry = self.journal_model.item(index.row())
        self._correcting = entry.id
        self.journal_kind.setCurrentIndex(max(0, self.journal_kind.findData(entry.kind)))
        self.journal_date.set_value(entry.occurred_on)
        self.journal_input.setPlainText(entry.text)
        self.correction_label.setText(
            f"Correction de l'entrée du {format_date(entry.occurred_on)} (l'originale reste visible)"
        )
        self.journal_input.setFocus()

    def add_journal_entry(self) -> None:
        if self._apply(lambda: self.service.add_journal_entry(
                self.case_id, self.journal_kind.currentData(), self.journal_date.value(),
                self.journal_input.toPlainText(), corrects_id=self._correcting,
                subject_tenant_id=self.journal_subject.currentData()), self.journal_errors):
            self._correcting = None
            self.correction_label.setText("")
            self.journal_input.clear()
            self.journal_date.set_value(self.service.today())

    def add_referral(self) -> None:
        self.ensure_partners()
        if self._apply(lambda: self.service.add_referral(
                self.case_id, self.partner.currentData(), self.referral_date.value(),
                self.referral_reason.text()), self.referral_errors):
            self.referral_reason.clear()
            self.partner.setCurrentIndex(0)

    def update_referral(self) -> None:
        self.referral_errors.clear()
        index = self.referral_view.currentIndex()
        if not index.isValid():
            show_info(self, "Sélectionnez d'abord l'orientation à mettre à jour dans la liste.")
            return
        referral = self.referral_model.item(index.row())
        if self._apply(lambda: self.service.update_referral(
                referral.id, self.referral_status.currentData(), referral.version,
                result=self.referral_result.currentData(),
                failure_reason=self.referral_failure.currentData(),
                outcome=self.referral_outcome.text() or None), self.referral_errors):
            self.referral_outcome.clear()

    def add_note(self) -> None:
        if self._apply(lambda: self.service.add_confidential_note(
                self.case_id, self.note_category.currentData(), self.note_text.toPlainText(),
                self.consent_date.value(), self.consent_method.currentData(),
                subject_tenant_id=self.note_subject.currentData()), self.note_errors):
            self.note_text.clear()
            self.consent_date.clear()
            self.consent_method.setCurrentIndex(0)

    def add_plan(self) -> None:
        if self._apply(lambda: self.service.add_repayment_plan(
                self.case_id, self.plan_date.value(), self.plan_amount.value(),
                self.plan_months.value(), self.plan_note.text()), self.plan_errors):
            for w in (self.plan_date, self.plan_amount, self.plan_months, self.plan_note):
                w.clear()

    def update_plan(self) -> None:
        index = self.plans_view.currentIndex()
        if not index.isValid():
            show_info(self, "Sélectionnez d'abord le plan d'apurement à mettre à jour.")
            return
        plan = self.plans_model.item(index.row())
        self._apply(lambda: self.service.update_repayment_plan(
            plan.id, self.plan_status.currentData(), plan.version))

    # ================================================================ workflow

    def change_status(self) -> None:
        if self.is_dirty() and not confirm(
            self, "Vous avez des modifications non enregistrées. Les enregistrer avant de changer le statut ?"
        ):
            return
        if self.is_dirty() and not self.save():
            return
        dialog = StatusDialog(self.detail, self)
        if not dialog.exec():
            return
        self._apply(lambda: self.service.change_status(
            self.case_id, dialog.target(), self.detail.version,
            closure_reason=dialog.reason.toPlainText(),
            recommendation=dialog.recommendation.currentData()))

    def request_judicial(self) -> None:
        if not confirm(
            self,
            "Enregistrer la demande de résiliation judiciaire du bail pour ce dossier ?\n"
            "Elle n'est possible que si une décision de la CAS l'autorise.",
        ):
            return
        self._apply(lambda: self.service.request_judicial_termination(self.case_id, self.detail.version))

    # ================================================================ closing

    def reject(self) -> None:  # Esc, Fermer, the window's close button
        if self.is_dirty() and not confirm(
            self, "Des modifications ne sont pas enregistrées. Fermer quand même et les abandonner ?",
            "Modifications non enregistrées",
        ):
            return
        super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.is_dirty() and not confirm(
            self, "Des modifications ne sont pas enregistrées. Fermer quand même et les abandonner ?",
            "Modifications non enregistrées",
        ):
            event.ignore()
            return
        self._snapshot = None  # reject() after this must not ask again
        super().closeEvent(event)


class StatusDialog(QDialog):
    """Choose the next step of the workflow (only the allowed ones)."""

    def __init__(self, detail: CaseDetail, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Statut du dossier {detail.reference}")
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"Statut actuel : <b>{detail.status_label}</b>"))
        self.status = QComboBox()
        self.status.setAccessibleName("Nouveau statut")
        for st in detail.allowed_statuses:
            self.status.addItem(st.label, st.value)
        layout.addRow("Nouveau statut :", self.status)
        self.recommendation = QComboBox()
        self.recommendation.setAccessibleName("Préconisation de la CAS")
        self.recommendation.addItem("—", None)
        for code, label in rules.RECOMMENDATIONS.items():
            self.recommendation.addItem(label, code)
        layout.addRow("Préconisation :", self.recommendation)
        self.reason = QPlainTextEdit()
        self.reason.setAccessibleName("Motif de clôture")
        self.reason.setFixedHeight(60)
        layout.addRow("Motif de clôture :", self.reason)
        buttons = QHBoxLayout()
        ok = QPushButton("Valider")
        ok.setDefault(True)
        ok.clicked.connect(self.accept)
        cancel = QPushButton("Annuler")
        cancel.clicked.connect(self.reject)
        buttons.addStretch(1)
        buttons.addWidget(ok)
        buttons.addWidget(cancel)
        layout.addRow(buttons)
        self.status.currentIndexChanged.connect(self._sync)
        self._sync()

    def target(self) -> str:
        return self.status.currentData()

    def _sync(self) -> None:
        target = self.target()
        self.recommendation.setEnabled(target == "preconisation")
        self.reason.setEnabled(target == "clos")


def _esc(text: str | None) -> str:
    from html import escape

    return escape(text or "")
