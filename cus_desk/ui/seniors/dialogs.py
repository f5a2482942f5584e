"""Dialogs of the seniors screen: extract date (and sheet), column mapping,
import report, observation, signalement, signalement status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.reference import SENIOR_PARTNER_KINDS
from cus_desk.domain.seniors import OBSERVATION_LABELS, RELANCE_MEANS
from cus_desk.ui.common import french_locale, set_accessible
from cus_desk.ui.seniors.models import RejectedLinesModel


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(value: date, name: str, today: date) -> QDateEdit:
    """A past-or-today date field (``today`` from the program's clock)."""
    edit = QDateEdit(_qdate(value))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setLocale(french_locale())
    edit.setMaximumDate(_qdate(today))
    set_accessible(edit, name)
    return edit


class _FormDialog(QDialog):
    """A form whose OK runs ``submit()``; a user error is shown in the
    dialog (which stays open, nothing lost) instead of closing it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setLocale(french_locale())
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setVisible(False)
        set_accessible(self.error_label, "Message d'erreur du formulaire")
        self.layout_.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Valider")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        self.result_value: Any = None
        self.submit: Callable[[], Any] | None = None

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(True)

    def _try_accept(self) -> None:
        try:
            self.result_value = self.submit() if self.submit is not None else None
        except CusDeskError as exc:
            self.show_error(exc.message)
            return
        self.accept()


class ExtractDateDialog(_FormDialog):
    """Extract date (proposed from the file name) and, for a workbook with
    several sheets, the sheet to import."""

    def __init__(self, analysis, notice: Callable[[date], str], parent: QWidget | None = None,
                 *, today: date) -> None:
        """``notice(date)`` says what an import at that date replaces (which
        agencies), "" when nothing."""
        super().__init__("Importer un extrait d'impayés", parent)
        self._notice = notice
        self.setMinimumWidth(480)
        intro = QLabel(f"Fichier : <b>{escape(analysis.source_name)}</b> — {analysis.lines} ligne(s) de données"
                       + (f" (en-têtes trouvés ligne {analysis.header_line})." if analysis.header_line > 1 else ".")
                       + (f"<br>Agences du fichier : {escape(', '.join(analysis.agencies))}."
                          if analysis.agencies else ""))
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.sheet_combo: QComboBox | None = None
        if len(analysis.sheets) > 1:
            self.sheet_combo = QComboBox()
            self.sheet_combo.addItems(analysis.sheets)
            self.sheet_combo.setCurrentText(analysis.sheet or analysis.sheets[0])
            set_accessible(self.sheet_combo, "Feuille du classeur")
            self.form.addRow("&Feuille :", self.sheet_combo)
        proposed = analysis.proposed_date or today
        self.date_edit = date_edit(min(proposed, today), "Date de l'extrait", today)
        self.form.addRow("&Date de l'extrait :", self.date_edit)
        hint = "Date trouvée dans le nom ou l'en-tête du fichier." if analysis.proposed_date else \
            "Aucune date dans le nom ni dans l'en-tête du fichier : indiquez la date de production de l'extrait."
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.form.addRow(self.hint)
        if analysis.missing_recommended:
            from cus_desk.services.seniors import IMPORT_FIELDS

            labels = {f.key: f.label for f in IMPORT_FIELDS}
            missing = ", ".join(f"« {labels[k]} »" for k in analysis.missing_recommended)
            self.missing_label = QLabel(
                f"Colonnes absentes du fichier : {missing}. Les baux déjà connus gardent ces "
                "informations ; les nouveaux baux sans agence ou sans nom seront rejetés.")
            self.missing_label.setWordWrap(True)
            self.missing_label.setStyleSheet("color: #8a5a00;")
            self.form.addRow(self.missing_label)
        self.replace_label = QLabel()
        self.replace_label.setWordWrap(True)
        self.replace_label.setStyleSheet("color: #8a5a00;")
        self.form.addRow(self.replace_label)
        self.date_edit.dateChanged.connect(self._date_changed)
        self._date_changed()
        self.submit = lambda: (self.extract_date(), self.sheet())

    def extract_date(self) -> date:
        return _pydate(self.date_edit.date())

    def sheet(self) -> str | None:
        return self.sheet_combo.currentText() if self.sheet_combo is not None else None

    def _date_changed(self) -> None:
        self.replace_label.setText(self._notice(self.extract_date()))


class MappingDialog(_FormDialog):
    """Which column of the file holds which information, for headers the
    application did not recognise. Remembered for files of the same shape."""

    NONE = "(aucune)"

    def __init__(self, analysis, fields, parent: QWidget | None = None) -> None:
        super().__init__("Colonnes du fichier", parent)
        self.resize(520, 0)
        unknown = ", ".join(f"« {h} »" for h in analysis.unknown) or "aucune"
        intro = QLabel(
            f"Certaines colonnes de « {analysis.source_name} » n'ont pas été reconnues ({unknown}). "
            "Indiquez quelle colonne contient chaque information. Le contrat et le solde sont obligatoires.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.combos: dict[str, QComboBox] = {}
        headers = [h for h in analysis.headers if h]
        for spec in fields:
            combo = QComboBox()
            combo.addItem(self.NONE)
            combo.addItems(headers)
            current = analysis.mapping.get(spec.key)
            if current:
                combo.setCurrentText(current)
            label = spec.label + (" *" if spec.required else "")
            set_accessible(combo, f"Colonne pour {spec.label}")
            self.form.addRow(label + " :", combo)
            self.combos[spec.key] = combo
        self.remember = QCheckBox("&Mémoriser ces correspondances pour les prochains fichiers de cette forme")
        self.remember.setChecked(True)
        self.form.addRow(self.remember)
        self._required = [f.key for f in fields if f.required]
        self._labels = {f.key: f.label for f in fields}
        self.submit = self._collect

    def _collect(self) -> tuple[dict[str, str], bool]:
        mapping = {k: c.currentText() for k, c in self.combos.items() if c.currentText() != self.NONE}
        missing = [self._labels[k] for k in self._required if k not in mapping]
        if missing:
            raise CusDeskError("Choisissez la colonne de : " + ", ".join(missing) + ".")
        used: dict[str, str] = {}
        for key, header in mapping.items():
            if header in used:
                raise CusDeskError(
                    f"La colonne « {header} » est choisie pour « {self._labels[used[header]]} » et pour "
                    f"« {self._labels[key]} » : une colonne ne peut servir qu'une fois.")
            used[header] = key
        return mapping, self.remember.isChecked()


class ImportReportDialog(QDialog):
    """What the import did, and the rejected lines (savable as CSV)."""

    def __init__(self, result, save_csv: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compte rendu d'import")
        self.resize(640, 420)
        self._save_csv = save_csv
        layout = QVBoxLayout(self)
        verb = "remplacé" if result.replaced else "importé"
        text = (f"<b>Extrait du {format_date(result.extract_date)} {verb}.</b><br>"
                f"{result.lines_read} ligne(s) lue(s), {result.imported} ménage(s) importé(s), "
                f"{len(result.rejected)} ligne(s) rejetée(s), {len(result.warnings)} avertissement(s).")
        if result.agencies:
            text += f"<br>Agences du fichier : {escape(', '.join(result.agencies))}."
        if result.kept_agencies:
            text += (f"<br>Lignes remplacées pour : {escape(', '.join(result.replaced_agencies) or 'aucune')} ; "
                     f"conservées pour : {escape(', '.join(result.kept_agencies))}.")
        summary = QLabel(text)
        summary.setWordWrap(True)
        set_accessible(summary, "Résumé de l'import")
        layout.addWidget(summary)
        self.summary = summary
        self.table = QTableView()
        self.table.setModel(RejectedLinesModel(result.rejected, self))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        set_accessible(self.table, "Lignes rejetées")
        if result.rejected:
            hint = QLabel(f"Lignes rejetées (numéros de ligne du fichier ; en-têtes ligne {result.header_line}). "
                          "Corrigez-les dans le fichier puis réimportez-le à la même date : ses lignes "
                          "remplaceront celles des mêmes agences.")
            hint.setWordWrap(True)
            layout.addWidget(hint)
            layout.addWidget(self.table)
        self.warnings_table = QTableView()
        self.warnings_table.setModel(RejectedLinesModel(result.warnings, self, "Avertissement"))
        self.warnings_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.warnings_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.warnings_table.verticalHeader().setVisible(False)
        set_accessible(self.warnings_table, "Avertissements (lignes importées)")
        if result.warnings:
            hint = QLabel("Avertissements : ces lignes sont importées, sans l'information illisible.")
            hint.setWordWrap(True)
            layout.addWidget(hint)
            layout.addWidget(self.warnings_table)
        buttons = QDialogButtonBox()
        self.save_button = QPushButton("&Enregistrer le rapport en CSV…")
        self.save_button.setEnabled(bool(result.rejected))
        self.save_button.clicked.connect(self._ask_save)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText("Fermer")
        buttons.rejected.connect(self.accept)
        close.clicked.connect(self.accept)
        layout.addWidget(buttons)
        self._default_name = f"rejets_{result.extract_date.isoformat()}.csv"

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Enregistrer le rapport", self._default_name,
                                              "Fichiers CSV (*.csv)")
        if path:
            self._save_csv(path)


class ObservationDialog(_FormDialog):
    def __init__(self, tenant: str, observer: str, parent: QWidget | None = None,
                 *, today: date) -> None:
        super().__init__("Nouvelle observation de terrain", parent)
        self.resize(480, 0)
        self.form.addRow(QLabel(f"Locataire : <b>{tenant}</b>"))
        self.kind = QComboBox()
        for code, label in OBSERVATION_LABELS.items():
            self.kind.addItem(label, code.value)
        set_accessible(self.kind, "Type d'observation")
        self.form.addRow("&Constat :", self.kind)
        self.observed_on = date_edit(today, "Date de l'observation", today)
        self.form.addRow("&Date :", self.observed_on)
        self.observer = QLineEdit(observer)
        self.observer.setMaxLength(120)
        set_accessible(self.observer, "Observé par")
        self.form.addRow("&Observé par :", self.observer)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Les faits, sans appréciation : ce qui a été vu ou entendu, quand.")
        self.note.setTabChangesFocus(True)
        set_accessible(self.note, "Faits observés")
        self.form.addRow("&Faits :", self.note)

    def values(self) -> dict:
        return {"kind": self.kind.currentData(), "observed_on": _pydate(self.observed_on.date()),
                "observer": self.observer.text(), "note": self.note.toPlainText()}


class SignalementDialog(_FormDialog):
    """Send a signalement to a CMS, CCAS, CLIC or pôle gérontologique; the
    partners of the tenant's commune come first."""

    def __init__(self, tenant: str, choices: Callable[[str], list], facts: str,
                 parent: QWidget | None = None, *, today: date) -> None:
        super().__init__("Signaler à un partenaire", parent)
        self.resize(520, 0)
        self._choices = choices
        self.form.addRow(QLabel(f"Locataire : <b>{tenant}</b>"))
        self.kind = QComboBox()
        for code, label in SENIOR_PARTNER_KINDS.items():
            self.kind.addItem(label, code)
        set_accessible(self.kind, "Type de partenaire")
        self.form.addRow("&Type :", self.kind)
        self.partner = QComboBox()
        set_accessible(self.partner, "Structure partenaire")
        self.form.addRow("&Structure :", self.partner)
        self.partner_hint = QLabel()
        self.partner_hint.setWordWrap(True)
        self.form.addRow(self.partner_hint)
        self.sent_on = date_edit(today, "Date d'envoi", today)
        self.form.addRow("&Envoyé le :", self.sent_on)
        self.facts = QPlainTextEdit(facts)
        self.facts.setTabChangesFocus(True)
        set_accessible(self.facts, "Motif du signalement")
        self.form.addRow("&Motif :", self.facts)
        self.informed = QComboBox()
        self.informed.addItem("— à indiquer —", None)
        self.informed.addItem("Oui, il a été informé", True)
        self.informed.addItem("Non, il n'a pas été informé", False)
        set_accessible(self.informed, "Le locataire a-t-il été informé du signalement ?")
        self.form.addRow("Locataire &informé * :", self.informed)
        self.informed_note = QLineEdit()
        self.informed_note.setMaxLength(255)
        self.informed_note.setPlaceholderText("Comment, ou pourquoi pas (facultatif)")
        set_accessible(self.informed_note, "Précision sur l'information du locataire")
        self.form.addRow("&Précision :", self.informed_note)
        self.reply_expected = QPlainTextEdit(
            "Un accusé de réception, puis l'indication d'une prise en charge (ou de son impossibilité).")
        self.reply_expected.setTabChangesFocus(True)
        self.reply_expected.setMaximumHeight(60)
        set_accessible(self.reply_expected, "Réponse attendue du partenaire")
        self.form.addRow("&Réponse attendue :", self.reply_expected)
        self.reply_by = QDateEdit(_qdate(today + timedelta(days=15)))
        self.reply_by.setCalendarPopup(True)
        self.reply_by.setDisplayFormat("dd/MM/yyyy")
        self.reply_by.setLocale(french_locale())
        self.reply_by.setMinimumDate(_qdate(today))
        set_accessible(self.reply_by, "Réponse attendue avant le")
        self.form.addRow("Ré&ponse avant le :", self.reply_by)
        self.kind.currentIndexChanged.connect(self._reload_partners)
        self._reload_partners()
        # Start on the first kind the directory knows in the tenant's commune.
        for i in range(self.kind.count()):
            options = self._choices(self.kind.itemData(i))
            if any(c.proposed for c in options):
                self.kind.setCurrentIndex(i)
                break

    def _reload_partners(self) -> None:
        self.partner.clear()
        options = self._choices(self.kind.currentData())
        for c in options:
            label = c.name + (f" ({c.commune})" if c.commune else "")
            if c.proposed:
                label += " — commune du locataire"
            self.partner.addItem(label, c.id)
        kind = self.kind.currentText()
        if not options:
            self.partner_hint.setText(
                f"L'annuaire ne connaît aucune structure « {kind} » : choisissez un autre type de "
                "partenaire, ou demandez au pôle social de l'ajouter dans l'écran Partenaires, puis "
                "revenez ici (rien n'est perdu : l'observation reste enregistrée).")
        elif options[0].proposed:
            self.partner_hint.setText("Structure proposée d'après la commune du locataire.")
        else:
            self.partner_hint.setText(
                f"Aucune structure « {kind} » ne couvre la commune du locataire : choisissez la plus "
                "proche ci-dessous (celles qui servent son agence d'abord), ou un autre type de partenaire ; "
                "le pôle social peut indiquer dans l'écran Partenaires les communes qu'elle couvre.")

    def values(self) -> dict:
        return {"partner_id": self.partner.currentData(), "sent_on": _pydate(self.sent_on.date()),
                "facts": self.facts.toPlainText(), "tenant_informed": self.informed.currentData(),
                "tenant_informed_note": self.informed_note.text(),
                "reply_expected": self.reply_expected.toPlainText(),
                "reply_by": _pydate(self.reply_by.date())}


class StatusDialog(_FormDialog):
    def __init__(self, signalement, parent: QWidget | None = None, *, today: date) -> None:
        super().__init__("Suivi du signalement", parent)
        self.form.addRow(QLabel(f"{signalement.partner_name} — envoyé le {format_date(signalement.sent_on)}, "
                                f"statut actuel : <b>{signalement.status_label}</b>"))
        self.status = QComboBox()
        for code, label in signalement.next_statuses:
            self.status.addItem(label, code)
        set_accessible(self.status, "Nouveau statut")
        self.form.addRow("&Nouveau statut :", self.status)
        self.on_date = date_edit(today, "Date", today)
        self.form.addRow("&Date :", self.on_date)
        self.note = QLineEdit()
        set_accessible(self.note, "Commentaire")
        self.form.addRow("&Commentaire :", self.note)
        self.version = signalement.version

    def values(self) -> dict:
        return {"status": self.status.currentData(), "on_date": _pydate(self.on_date.date()),
                "note": self.note.text()}


class FollowUpDialog(_FormDialog):
    """A relance (date, means, comment), a follow-up comment, or the
    cancellation of a signalement sent by mistake (its reason)."""

    TITLES = {"relance": "Relancer le partenaire", "commentaire": "Commentaire de suivi",
              "annulation": "Annuler le signalement"}

    def __init__(self, signalement, mode: str, parent: QWidget | None = None, *, today: date) -> None:
        super().__init__(self.TITLES[mode], parent)
        self.mode = mode
        self.resize(460, 0)
        self.form.addRow(QLabel(f"{escape(signalement.partner_name)} — envoyé le "
                                f"{format_date(signalement.sent_on)}, statut : <b>{signalement.status_label}</b>"))
        self.on_date = date_edit(today, "Date", today)
        self.means = QComboBox()
        for code, label in RELANCE_MEANS.items():
            self.means.addItem(label, code)
        set_accessible(self.means, "Moyen de la relance")
        if mode != "annulation":
            self.form.addRow("&Date :", self.on_date)
        if mode == "relance":
            self.form.addRow("&Moyen :", self.means)
        if mode == "annulation":
            self.form.addRow(QLabel("Le signalement reste dans l'historique avec ce motif ; il ne compte plus "
                                    "(ni pour le locataire, ni pour le partenaire)."))
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(80)
        label = {"relance": "Commentaire", "commentaire": "Commentaire", "annulation": "Motif de l'annulation"}[mode]
        set_accessible(self.note, label)
        self.form.addRow(f"&{label} :", self.note)
        self.version = signalement.version

    def values(self) -> dict:
        if self.mode == "annulation":
            return {"reason": self.note.toPlainText()}
        values = {"on_date": _pydate(self.on_date.date()), "comment": self.note.toPlainText()}
        if self.mode == "relance":
            values["means"] = self.means.currentData()
        return values


class CorrectionDialog(ObservationDialog):
    """An observation corrected: the form filled with it, and why."""

    def __init__(self, tenant: str, observation, parent: QWidget | None = None, *, today: date) -> None:
        super().__init__(tenant, observation.observer, parent, today=today)
        self.setWindowTitle("Corriger l'observation")
        self.kind.setCurrentIndex(max(0, self.kind.findData(observation.kind)))
        self.observed_on.setDate(_qdate(observation.observed_on))
        self.note.setPlainText(observation.note)
        self.reason = QLineEdit()
        set_accessible(self.reason, "Motif de la correction")
        self.form.addRow("&Motif de la correction :", self.reason)

    def values(self) -> dict:
        return {**super().values(), "reason": self.reason.text()}


__all__ = ["ExtractDateDialog", "MappingDialog", "ImportReportDialog", "ObservationDialog",
           "SignalementDialog", "StatusDialog", "FollowUpDialog", "CorrectionDialog", "Qt"]
