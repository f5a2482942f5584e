"""Tableau de bord: the figures an adviser looks at first thing."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from cus_desk.domain.formatting import format_date
from cus_desk.domain.seniors import SENIOR_STATUS_LABELS, SeniorStatus
from cus_desk.services import access
from cus_desk.services.dashboard import DashboardService

CASE_STATUS_LABELS = {
    "ouvert": "Ouverts",
    "a_presenter": "À présenter en CAS",
    "preconisation": "Préconisation",
    "action_definie": "Action définie",
    "en_suivi": "En suivi",
    "clos": "Clos",
}


class Card(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        self.title = QLabel(f"<b>{title}</b>")
        self.body = QLabel("")
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setAccessibleName(title)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addStretch(1)


class DashboardScreen(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        outer = QVBoxLayout(self)
        self.heading = QLabel("")
        self.heading.setObjectName("heading")
        outer.addWidget(self.heading)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)
        self.cases_card = Card("Dossiers CAS")
        self.meeting_card = Card("Prochaine séance de CAS")
        self.followup_card = Card("Suivi des décisions")
        self.partners_card = Card("Partenaires")
        self.seniors_card = Card("Seniors 65+ en impayé")
        self.admin_card = Card("Administration")
        cards = [self.cases_card, self.meeting_card, self.followup_card, self.partners_card]
        if access.has(ctx.actor, access.Permission.SENIORS_READ):
            cards.insert(1, self.seniors_card)
        if access.has(ctx.actor, access.Permission.BACKUP):
            cards.insert(0, self.admin_card)
        for i, card in enumerate(cards):
            self.grid.addWidget(card, i // 2, i % 2)
        self.grid.setRowStretch(3, 1)
        ctx.bus.data_changed.connect(self._on_data_changed)
        self.refresh()

    def on_shown(self) -> None:
        self.refresh()

    def _on_data_changed(self, _topic: str) -> None:
        # Hidden, it is refreshed when shown again (on_shown): computing it
        # after every save elsewhere would freeze the other screens.
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        board = DashboardService(self.ctx.db, self.ctx.actor).summary()
        self.heading.setText(f"<h2>Tableau de bord — {board.scope_label}</h2>")
        if board.cases_visible:
            lines = [f"{label} : <b>{board.cases_by_status.get(code, 0)}</b>"
                     for code, label in CASE_STATUS_LABELS.items()]
            lines.append(f"Orientations sans réponse en retard : <b>{board.overdue_referrals}</b>")
            self.cases_card.body.setText("<br>".join(lines))
        else:
            self.cases_card.body.setText("Votre profil ne donne pas accès aux dossiers.")
        if not board.meetings_visible:
            self.meeting_card.body.setText("Votre profil ne donne pas accès aux séances.")
        elif board.next_meeting is not None:
            m = board.next_meeting
            self.meeting_card.body.setText(
                f"Séance n° {m.number}/{m.year} du <b>{format_date(m.held_on)}</b>"
                + (f" — {m.place}" if m.place else "")
                + f"<br>{m.agenda_size} dossier(s) à l'ordre du jour"
            )
        else:
            self.meeting_card.body.setText("Aucune séance préparée.")
        if board.meetings_visible:
            self.followup_card.body.setText(
                f"Décisions ouvertes : <b>{board.open_decisions}</b><br>"
                f"dont en retard : <b>{board.overdue_decisions}</b>"
            )
        else:
            self.followup_card.body.setText("Votre profil ne donne pas accès aux décisions.")
        if board.admin_visible:
            last = (f"{board.last_backup_at:%d/%m/%Y à %H:%M}" if board.last_backup_at
                    else "aucune")
            lines = [f"Dernière sauvegarde : <b>{last}</b> ({board.backup_count} conservée(s))"]
            if board.purge_reminder:
                lines.append(f"<span style='color:#b03a2e'>{escape(board.purge_reminder)}</span>")
            else:
                lines.append("Aucune purge RGPD à faire.")
            self.admin_card.body.setText("<br>".join(lines))
        partners = [f"Structures partenaires actives : <b>{board.active_partners}</b>"]
        if board.expiring_conventions:
            partners.append(f"Conventions arrivant à échéance : <b>{len(board.expiring_conventions)}</b>")
            partners += [f"&nbsp;&nbsp;• {escape(name)} — fin le {format_date(end)}"
                         for name, end in board.expiring_conventions[:5]]
        if board.expired_conventions:
            partners.append(f"<span style='color:#b03a2e'>Conventions échues non renouvelées : "
                            f"<b>{len(board.expired_conventions)}</b></span>")
            partners += [f"&nbsp;&nbsp;• {escape(name)} — échue depuis le {format_date(end)}"
                         for name, end in board.expired_conventions[:5]]
        self.partners_card.body.setText("<br>".join(partners))
        if board.seniors_visible:
            if board.seniors_extract_date is None:
                self.seniors_card.body.setText("Aucun extrait d'impayés importé.")
            else:
                lines = [f"Extrait du <b>{format_date(board.seniors_extract_date)}</b>",
                         f"<span style='color:#b03a2e'>Premiers impayés : <b>{board.seniors_first_arrears}</b></span>"]
                lines += [f"{SENIOR_STATUS_LABELS[st]} : <b>{board.seniors_by_status.get(st.value, 0)}</b>"
                          for st in SeniorStatus]
                lines.append(f"Signalements à relancer : <b>{board.signalement_reminders}</b>")
                self.seniors_card.body.setText("<br>".join(lines))
