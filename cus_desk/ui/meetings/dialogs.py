"""Small dialogs of the CAS sessions screen. They collect values; the
screen calls the service and shows errors next to the field at fault."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.commission import Presence
from cus_desk.domain.reference import CAS_FUNCTIONS
from cus_desk.services.agenda_proposals import duration_summary
from cus_desk.ui.common import french_locale, set_accessible


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class ErrorLabel(QLabel):
    def __init__(self) -> None:
        super().__init__("")
        self.setStyleSheet("color: #B00020")
        self.setWordWrap(True)
        set_accessible(self, "Erreur de saisie")


class MeetingDialog(QDialog):
    """New session, or the date/place/scope of a session in preparation."""

    def __init__(self, agencies, parent: QWidget | None = None, *, today: date, held_on: date | None = None,
                 place: str = "", scope_agency_id: int | None = None, title: str = "Nouvelle séance de CAS") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.date_edit = QDateEdit()
        self.date_edit.setLocale(french_locale())
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setCalendarPopup(True)
        day = held_on or today
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        set_accessible(self.date_edit, "Date de la séance")
        self.place_edit = QLineEdit(place)
        self.place_edit.setMaxLength(200)
        self.place_edit.setPlaceholderText("ex. Siège, salle du conseil — Metz")
        set_accessible(self.place_edit, "Lieu de la séance")
        self.scope_combo = QComboBox()
        self.scope_combo.addItem("Séance centrale (toutes agences)", None)
        for a in agencies:
            self.scope_combo.addItem(a.label, a.id)
        self.scope_combo.setCurrentIndex(max(0, self.scope_combo.findData(scope_agency_id)))
        set_accessible(self.scope_combo, "Périmètre de la séance")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("&Date :", self.date_edit)
        form.addRow("&Lieu :", self.place_edit)
        form.addRow("&Périmètre :", self.scope_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Enregistrer"))

    def values(self) -> tuple[date, str, int | None]:
        q = self.date_edit.date()
        return date(q.year(), q.month(), q.day()), self.place_edit.text(), self.scope_combo.currentData()


class AttendeeDialog(QDialog):
    OTHER = -1

    def __init__(self, candidates, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ajouter un membre")
        self.candidates = {c.user_id: c for c in candidates}
        self.user_combo = QComboBox()
        self.user_combo.addItem("Autre personne (sans compte)", self.OTHER)
        for c in candidates:
            self.user_combo.addItem(f"{c.name} — {c.role_label}", c.user_id)
        set_accessible(self.user_combo, "Compte du membre")
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(120)
        set_accessible(self.name_edit, "Nom du membre")
        self.function_combo = QComboBox()
        for code, label in CAS_FUNCTIONS.items():
            self.function_combo.addItem(label, code)
        set_accessible(self.function_combo, "Fonction à la CAS")
        # Presence is recorded at the meeting: « non indiquée » until then.
        self.presence_combo = QComboBox()
        self.presence_combo.addItem("Non indiquée (à la séance)", None)
        for presence in Presence:
            self.presence_combo.addItem(presence.label, presence.value)
        set_accessible(self.presence_combo, "Présence du membre")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("&Compte :", self.user_combo)
        form.addRow("&Nom :", self.name_edit)
        form.addRow("&Fonction :", self.function_combo)
        form.addRow("&Présence :", self.presence_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Ajouter"))
        self.user_combo.currentIndexChanged.connect(self._user_changed)
        if candidates:
            self.user_combo.setCurrentIndex(1)
            self._user_changed()

    def _user_changed(self) -> None:
        uid = self.user_combo.currentData()
        candidate = self.candidates.get(uid)
        self.name_edit.setEnabled(candidate is None)
        if candidate is not None:
            self.name_edit.setText(candidate.name)
            self.function_combo.setCurrentIndex(self.function_combo.findData(candidate.suggested_function))
        else:
            self.name_edit.clear()

    def values(self) -> tuple[str, str, None, int | None, str | None]:
        """Arguments of ``add_attendee`` after the session id."""
        uid = self.user_combo.currentData()
        return (self.name_edit.text(), self.function_combo.currentData(), None,
                None if uid == self.OTHER else uid, self.presence_combo.currentData())


class ProposalsDialog(QDialog):
    """The agenda builder's proposals; the adviser ticks the ones to add."""

    def __init__(self, proposals, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Proposer l'ordre du jour")
        self.resize(720, 420)
        self.list = QListWidget()
        set_accessible(self.list, "Dossiers proposés pour l'ordre du jour")
        self.proposals = list(proposals)
        for p in proposals:
            item = QListWidgetItem(f"{p.case_reference} — {p.household} — {p.agency} : {', '.join(p.reasons)}"
                                   f" — {p.minutes} min")
            item.setData(Qt.ItemDataRole.UserRole, p.case_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        # The time the ticked cases will take, kept up to date.
        self.total_label = QLabel("")
        self.total_label.setObjectName("heading")
        set_accessible(self.total_label, "Durée estimée de l'ordre du jour")
        self.list.itemChanged.connect(lambda _item: self._update_total())
        self._update_total()
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Dossiers ajournés à représenter, dossiers « à présenter en CAS » et dossiers dont une "
            "décision arrive à échéance au plus tard le jour de la séance, avec le temps estimé de "
            "chacun (réglages). Décochez ceux à ne pas inscrire."
            if proposals else "Aucun dossier à proposer : rien n'est « à présenter en CAS » "
            "et aucune décision n'arrive à échéance d'ici la séance."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.total_label)
        layout.addWidget(_buttons(self, "Inscrire à l'ordre du jour"))

    def _update_total(self) -> None:
        chosen = set(self.chosen())
        self.total_label.setText("Sélection : " + duration_summary(
            [p for p in self.proposals if p.case_id in chosen]))

    def chosen(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]


class AddendumDialog(QDialog):
    def __init__(self, decisions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ajouter un rectificatif")
        self.resize(620, 320)
        self.decision_combo = QComboBox()
        self.decision_combo.addItem("La séance en général", None)
        for d in decisions:
            self.decision_combo.addItem(f"{d.case_reference} — {d.type_label}", d.id)
        set_accessible(self.decision_combo, "Décision concernée")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setTabChangesFocus(True)
        set_accessible(self.text_edit, "Texte du rectificatif")
        self.error = ErrorLabel()
        intro = QLabel("La séance est clôturée : ses décisions ne changent plus. Le rectificatif "
                       "(auteur, date, texte) figurera sur le relevé réimprimé.")
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Concerne :", self.decision_combo)
        form.addRow("&Texte :", self.text_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Ajouter le rectificatif"))

    def values(self) -> tuple[str, int | None]:
        return self.text_edit.toPlainText(), self.decision_combo.currentData()


class DecisionDialog(QDialog):
    """Correct a decision before the session is closed."""

    def __init__(self, decision, parent: QWidget | None = None, responsibles: list | None = None) -> None:
        super().__init__(parent)
        from cus_desk.domain.meetings import DecisionType

        self.setWindowTitle(f"Modifier la décision — {decision.case_reference}")
        self.resize(620, 360)
        self.type_combo = QComboBox()
        for t in DecisionType:
            self.type_combo.addItem(t.label, t.value)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(decision.type)))
        set_accessible(self.type_combo, "Type de décision")
        self.text_edit = QPlainTextEdit(decision.text)
        self.text_edit.setTabChangesFocus(True)
        set_accessible(self.text_edit, "Texte de la décision")
        # A person or a service from the list linked to accounts (issue 14).
        self.responsible_combo = QComboBox()
        self.responsible_combo.addItem("— Aucun (ajournement) —", "")
        for option in responsibles or []:
            self.responsible_combo.addItem(f"{option.label} — {option.detail}", option.ref)
        current = max(0, self.responsible_combo.findData(
            f"user:{decision.responsible_user_id}" if decision.responsible_user_id
            else f"service:{decision.responsible_service}" if decision.responsible_service else ""))
        self.responsible_combo.setCurrentIndex(current)
        set_accessible(self.responsible_combo, "Responsable de la décision")
        self.due_edit = QLineEdit(decision.due_on.strftime("%d/%m/%Y") if decision.due_on else "")
        self.due_edit.setPlaceholderText("jj/mm/aaaa")
        set_accessible(self.due_edit, "Échéance de la décision")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("&Type :", self.type_combo)
        form.addRow("Te&xte :", self.text_edit)
        form.addRow("&Responsable :", self.responsible_combo)
        form.addRow("É&chéance :", self.due_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Enregistrer"))

    def values(self) -> tuple[str, str, str, date | None]:
        from cus_desk.ui.meetings.meeting_mode import parse_french_date

        return (self.type_combo.currentData(), self.text_edit.toPlainText(), self.responsible_combo.currentData(),
                parse_french_date(self.due_edit.text()))
