"""Séances CAS screen: sessions list, preparation (members, agenda,
proposals), decisions, relevé preview/print, meeting mode (F11) and the
"Suivi des décisions" view. Calls MeetingService only."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.commission import effect_of
from cus_desk.domain.errors import CusDeskError, ValidationError
from cus_desk.domain.formatting import format_datetime
from cus_desk.domain.meetings import MeetingStatus, clean_text
from cus_desk.services import access
from cus_desk.services.meetings import MeetingDetail, MeetingService
from cus_desk.services.reference import ReferenceService
from cus_desk.ui.common import confirm, set_accessible, show_error, show_info
from cus_desk.ui.flow_layout import FlowLayout
from cus_desk.ui.meetings.decision_checks import ask_before_saving
from cus_desk.ui.meetings.dialogs import (
    AddendumDialog,
    AttendeeDialog,
    DecisionDialog,
    MeetingDialog,
    ProposalsDialog,
)
from cus_desk.ui.meetings.follow_up import FollowUpView
from cus_desk.ui.meetings.meeting_mode import MeetingModeWindow
from cus_desk.ui.meetings.models import AgendaModel, AttendeesModel, DecisionsModel, MeetingsModel
from cus_desk.ui.pdf_preview import PdfPreview
from cus_desk.ui.workers import run_in_background


def _table(name: str) -> QTableView:
    view = QTableView()
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    set_accessible(view, name)
    return view


def _button(text: str, name: str, slot) -> QPushButton:
    button = QPushButton(text)
    set_accessible(button, name)
    button.clicked.connect(lambda _=False: slot())
    return button


class MeetingsScreen(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = MeetingService(ctx.db, ctx.actor)
        self.can_manage = access.has(ctx.actor, access.Permission.MEETING_MANAGE)
        self.can_view = access.has(ctx.actor, access.Permission.MEETING_VIEW)
        self.detail: MeetingDetail | None = None
        self.mode_window: MeetingModeWindow | None = None
        self.releve_task = None
        self._releve_for: int | None = None

        self.tabs = QTabWidget()
        set_accessible(self.tabs, "Séances et suivi des décisions")
        self.tabs.addTab(self._build_sessions(), "&Séances")
        self.follow_up = FollowUpView(ctx)
        self.tabs.addTab(self.follow_up, "Suivi des &décisions")
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        ctx.bus.data_changed.connect(self._on_data_changed)
        if self.can_view:
            self.refresh()
        else:
            self.header.setText("Votre profil ne donne pas accès aux séances de CAS.")
        self._update_buttons()

    # ------------------------------------------------------------------ layout

    def _build_sessions(self) -> QWidget:
        page = QWidget()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_l = QVBoxLayout(left)
        left_l.setContentsMargins(0, 0, 0, 0)
        self.new_button = _button("&Nouvelle séance…", "Nouvelle séance", self.new_item)
        left_l.addWidget(self.new_button)
        self.meetings_model = MeetingsModel(self)
        self.meetings_view = _table("Séances de CAS")
        self.meetings_view.setModel(self.meetings_model)
        self.meetings_view.selectionModel().currentRowChanged.connect(lambda *_: self._meeting_selected())
        left_l.addWidget(self.meetings_view, 1)
        splitter.addWidget(left)

        right = QWidget()
        right_l = QVBoxLayout(right)
        right_l.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel("Sélectionnez une séance.")
        self.header.setObjectName("heading")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        set_accessible(self.header, "Séance sélectionnée")
        right_l.addWidget(self.header)
        # Wraps onto a second line rather than widening the window (#14).
        actions = FlowLayout()
        self.edit_button = _button("&Modifier…", "Modifier la date, le lieu ou le périmètre", self.edit_meeting)
        self.start_button = _button("&Ouvrir la séance", "Ouvrir la séance", self.start_meeting)
        self.mode_button = _button("Mode séance (F11)", "Mode séance plein écran", self.toggle_meeting_mode)
        self.close_button = _button("&Clôturer la séance…", "Clôturer la séance", self.close_meeting)
        self.addendum_button = _button("&Rectificatif…", "Ajouter un rectificatif", self.add_addendum)
        self.delete_button = _button("Supprimer", "Supprimer la séance en préparation", self.delete_meeting)
        for b in (self.edit_button, self.start_button, self.mode_button, self.close_button,
                  self.addendum_button, self.delete_button):
            actions.addWidget(b)
        right_l.addLayout(actions)

        self.inner = QTabWidget()
        set_accessible(self.inner, "Détail de la séance")
        self.inner.addTab(self._build_preparation(), "&Préparation")
        self.decisions_model = DecisionsModel(self)
        self.decisions_view = _table("Décisions de la séance")
        self.decisions_view.setModel(self.decisions_model)
        dec_page = QWidget()
        dec_l = QVBoxLayout(dec_page)
        dec_l.addWidget(self.decisions_view, 1)
        self.delete_decision_button = _button("Supprimer la décision", "Supprimer la décision sélectionnée",
                                              self.delete_decision)
        self.edit_decision_button = _button("Modifier la décision…", "Modifier la décision sélectionnée",
                                            self.edit_decision)
        self.decisions_view.doubleClicked.connect(lambda _i: self.edit_decision())
        row = QHBoxLayout()
        hint = QLabel("Les décisions se saisissent en mode séance (F11) ; après la clôture, "
                      "une correction passe par un rectificatif.")
        hint.setWordWrap(True)
        row.addWidget(hint, 1)
        # What a decision recorded « seule » implies, created later once confirmed.
        self.effect_button = _button("Créer dans le dossier…", "Créer l'orientation, la saisine ou le plan "
                                     "que la décision implique", self.create_effect)
        row.addWidget(self.effect_button)
        row.addWidget(self.edit_decision_button)
        row.addWidget(self.delete_decision_button)
        dec_l.addLayout(row)
        self.inner.addTab(dec_page, "Dé&cisions")
        self.preview = PdfPreview("le relevé de décisions")
        # After a rectificatif, every archived version can be shown again
        # (version 1 is the one closed and signed).
        self.version_label = QLabel("&Version :")
        self.version_combo = QComboBox()
        set_accessible(self.version_combo, "Version archivée du relevé")
        self.version_label.setBuddy(self.version_combo)
        self.preview.buttons.insertWidget(0, self.version_label)
        self.preview.buttons.insertWidget(1, self.version_combo)
        self.version_label.hide()
        self.version_combo.hide()
        self.version_combo.currentIndexChanged.connect(self._version_changed)
        self.inner.addTab(self.preview, "Relevé de dé&cisions")
        self.inner.currentChanged.connect(self._inner_changed)
        right_l.addWidget(self.inner, 1)
        splitter.addWidget(right)
        splitter.setSizes([430, 1000])
        layout = QVBoxLayout(page)
        layout.addWidget(splitter)
        return page

    def _build_preparation(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        members = QHBoxLayout()
        self.attendees_model = AttendeesModel(self)
        self.attendees_view = _table("Membres de la séance")
        self.attendees_view.setModel(self.attendees_model)
        self.attendees_view.setMaximumHeight(200)
        members.addWidget(self.attendees_view, 1)
        member_buttons = QVBoxLayout()
        self.add_attendee_button = _button("Ajouter un &membre…", "Ajouter un membre", self.add_attendee)
        # Presence is recorded at the meeting, in three states (issue 14).
        self.present_button = _button("Présen&t(e)", "Membre présent",
                                      lambda: self.set_presence("present"))
        self.excused_button = _button("E&xcusé(e)", "Membre excusé", lambda: self.set_presence("excuse"))
        self.absent_button = _button("A&bsent(e)", "Membre absent", lambda: self.set_presence("absent"))
        self.copy_members_button = _button("Reprendre les membres", "Reprendre les membres de la séance précédente",
                                           self.copy_members)
        self.copy_members_button.setToolTip("Reprendre les membres de la séance précédente (présence non indiquée)")
        self.remove_attendee_button = _button("Retirer le membre", "Retirer le membre", self.remove_attendee)
        grid = QGridLayout()
        for n, b in enumerate((self.add_attendee_button, self.present_button, self.copy_members_button,
                               self.excused_button, self.remove_attendee_button, self.absent_button)):
            grid.addWidget(b, n // 2, n % 2)
        member_buttons.addLayout(grid)
        member_buttons.addStretch(1)
        members.addLayout(member_buttons)
        self.quorum_label = QLabel("")
        self.quorum_label.setWordWrap(True)  # long on a narrow projector: wraps, never widens the window
        set_accessible(self.quorum_label, "Quorum de la séance")
        title = QHBoxLayout()
        title.addWidget(QLabel("<b>Membres</b>"))
        title.addWidget(self.quorum_label, 1)
        layout.addLayout(title)
        layout.addLayout(members)

        agenda_title = QLabel("<b>Ordre du jour</b> (glisser-déposer ou Alt+Haut / Alt+Bas pour réordonner)")
        agenda_title.setWordWrap(True)
        layout.addWidget(agenda_title)
        agenda_row = QHBoxLayout()
        self.agenda_model = AgendaModel(self)
        self.agenda_model.on_reordered = self._reorder
        self.agenda_view = _table("Ordre du jour")
        self.agenda_view.setModel(self.agenda_model)
        self.agenda_view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.agenda_view.setDragEnabled(True)
        self.agenda_view.setAcceptDrops(True)
        self.agenda_view.setDropIndicatorShown(True)
        self.agenda_view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.agenda_view.selectionModel().currentRowChanged.connect(lambda *_: self._agenda_selected())
        self.agenda_view.doubleClicked.connect(lambda _i: self.toggle_meeting_mode())
        agenda_row.addWidget(self.agenda_view, 1)
        agenda_buttons = QVBoxLayout()
        self.propose_button = _button("&Proposer…", "Proposer l'ordre du jour", self.propose_agenda)
        self.add_case_button = _button("Ajouter un &dossier…", "Ajouter un dossier par sa référence",
                                       self.add_case)
        self.up_button = _button("Monter (Alt+Haut)", "Monter le dossier", lambda: self.move_agenda(-1))
        self.down_button = _button("Descendre (Alt+Bas)", "Descendre le dossier", lambda: self.move_agenda(1))
        self.remove_case_button = _button("Retirer le dossier", "Retirer le dossier de l'ordre du jour",
                                          self.remove_case)
        # The ordre du jour / convocation for the members (#14).
        self.convocation_button = _button("Convoca&tion…", "Imprimer la convocation et l'ordre du jour",
                                          self.print_convocation)
        for b in (self.propose_button, self.add_case_button, self.up_button, self.down_button,
                  self.remove_case_button, self.convocation_button):
            agenda_buttons.addWidget(b)
        agenda_buttons.addStretch(1)
        agenda_row.addLayout(agenda_buttons)
        layout.addLayout(agenda_row, 1)
        self.agenda_view.installEventFilter(self)

        self.proposal_label = QLabel("<b>Proposition à la commission</b> (dossier sélectionné)")
        layout.addWidget(self.proposal_label)
        proposal_row = QHBoxLayout()
        self.proposal_edit = QPlainTextEdit()
        self.proposal_edit.setTabChangesFocus(True)
        self.proposal_edit.setMaximumHeight(90)
        self.proposal_edit.setPlaceholderText("La proposition de la conseillère, présentée à la commission")
        set_accessible(self.proposal_edit, "Proposition à la commission")
        proposal_row.addWidget(self.proposal_edit, 1)
        self.save_proposal_button = _button("Enregistrer la\nproposition (Ctrl+S)", "Enregistrer la proposition",
                                            self.save_current)
        proposal_row.addWidget(self.save_proposal_button)
        layout.addLayout(proposal_row)
        return page

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        """Alt+Up / Alt+Down move the selected agenda item."""
        if (obj is self.agenda_view and event.type() == QEvent.Type.KeyPress
                and event.modifiers() & Qt.KeyboardModifier.AltModifier
                and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down)):
            self.move_agenda(-1 if event.key() == Qt.Key.Key_Up else 1)
            return True
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ data

    def on_shown(self) -> None:
        if self.can_view:
            self.refresh()

    def _on_data_changed(self, topic: str) -> None:
        if topic in ("meetings", "cases") and self.can_view and self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        selected = self.detail.id if self.detail else None
        try:
            rows = self.service.list_meetings()
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self.meetings_model.set_rows(rows)
        self.meetings_view.resizeColumnsToContents()
        if rows:
            target = next((i for i, r in enumerate(rows) if r.id == selected), None)
            if target is None:  # default: the next session to hold, else the latest
                upcoming = [i for i, r in enumerate(rows) if r.status != MeetingStatus.CLOTUREE]
                target = upcoming[-1] if upcoming else 0
            self.meetings_view.selectRow(target)
        self._meeting_selected()
        if self.tabs.currentWidget() is self.follow_up:
            self.follow_up.refresh()

    def select_meeting(self, meeting_id: int) -> None:
        for i, r in enumerate(self.meetings_model.rows()):
            if r.id == meeting_id:
                self.meetings_view.selectRow(i)
                return

    def _meeting_selected(self) -> None:
        index = self.meetings_view.currentIndex()
        row = self.meetings_model.row_at(index.row()) if index.isValid() else None
        if row is None:
            self.detail = None
        else:
            try:
                self.detail = self.service.get_meeting(row.id)
            except CusDeskError as exc:
                show_error(self, exc)
                self.detail = None
        self._show_detail()

    def _show_detail(self, keep_case: int | None = None) -> None:
        d = self.detail
        if d is None:
            self.header.setText("Aucune séance sélectionnée. Créez-en une avec « Nouvelle séance » (Ctrl+N).")
            for model in (self.attendees_model, self.agenda_model, self.decisions_model):
                model.set_rows([])
            self.preview.clear()
            self._update_buttons()
            return
        m = d.meeting
        present = sum(1 for a in d.attendees if a.presence == "present")
        self.header.setText(
            f"<h2>{m.label} — {m.held_on:%d/%m/%Y}</h2>"
            f"{m.place or 'Lieu non précisé'} — {m.scope_label} — <b>{m.status_label}</b> — "
            f"{len(d.agenda)} dossier(s), {present} présent(s), {len(d.decisions)} décision(s)"
        )
        q = d.quorum
        if q is not None:
            missing = f" — présence non indiquée pour {q.not_recorded} membre(s)" if q.not_recorded else ""
            color = "#1B5E20" if q.reached else "#B00020"
            self.quorum_label.setText(f"<span style='color:{color}'>{q.label}</span>{missing}")
        self.attendees_model.set_rows(list(d.attendees))
        self.attendees_view.resizeColumnsToContents()
        self.agenda_model.movable = self.can_manage and m.status != MeetingStatus.CLOTUREE
        self.agenda_model.set_rows(list(d.agenda))
        self.agenda_view.resizeColumnsToContents()
        self.agenda_view.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.decisions_model.set_rows(d.decisions)
        self.decisions_view.resizeColumnsToContents()
        if keep_case is not None:
            for i, item in enumerate(d.agenda):
                if item.case_id == keep_case:
                    self.agenda_view.selectRow(i)
        self._agenda_selected()
        self._fill_versions(d)
        if self._releve_for != d.id:
            self.preview.clear("Ouvrez cet onglet pour générer l'aperçu du relevé.")
        if self.inner.currentWidget() is self.preview:
            self.load_releve()
        self._update_buttons()

    def _update_buttons(self) -> None:
        d = self.detail
        status = d.status if d else None
        open_ = status in (MeetingStatus.PREPAREE, MeetingStatus.EN_COURS)
        manage = self.can_manage and d is not None
        self.new_button.setEnabled(self.can_manage)
        self.edit_button.setEnabled(manage and open_)
        self.start_button.setEnabled(manage and status == MeetingStatus.PREPAREE)
        self.close_button.setEnabled(manage and status == MeetingStatus.EN_COURS)
        self.addendum_button.setEnabled(manage and status == MeetingStatus.CLOTUREE)
        self.delete_button.setEnabled(manage and status == MeetingStatus.PREPAREE)
        self.mode_button.setEnabled(d is not None and bool(d.agenda))
        self.convocation_button.setEnabled(d is not None)
        for b in (self.add_attendee_button, self.present_button, self.excused_button, self.absent_button,
                  self.copy_members_button, self.remove_attendee_button, self.propose_button, self.add_case_button, self.up_button, self.down_button,
                  self.remove_case_button, self.save_proposal_button):
            b.setEnabled(manage and open_)
        self.proposal_edit.setReadOnly(not (manage and open_))
        self.delete_decision_button.setEnabled(manage and status == MeetingStatus.EN_COURS)
        self.effect_button.setEnabled(manage and status in (MeetingStatus.EN_COURS, MeetingStatus.CLOTUREE))
        self.edit_decision_button.setEnabled(manage and status == MeetingStatus.EN_COURS)

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.follow_up:
            self.follow_up.refresh()

    def _inner_changed(self, _index: int) -> None:
        if self.inner.currentWidget() is self.preview:
            self.load_releve()

    def _call(self, fn, *args, **kwargs):
        """Run a service call; a user error is shown, never raised."""
        try:
            return fn(*args, **kwargs)
        except CusDeskError as exc:
            show_error(self, exc)
            return None

    def _changed(self, detail: MeetingDetail | None = None, keep_case: int | None = None) -> None:
        self.ctx.bus.data_changed.emit("meetings")
        if detail is not None:
            self.detail = detail
        self.refresh()
        if keep_case is not None:
            self._show_detail(keep_case)

    # ------------------------------------------------------------------ dialogs helper

    def _run_dialog(self, dialog: QDialog, action) -> bool:
        """Show ``dialog`` until ``action(dialog)`` succeeds or the user
        cancels; validation errors appear inside the dialog."""
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                action(dialog)
                return True
            except ValidationError as exc:
                dialog.error.setText(exc.message)
            except CusDeskError as exc:
                show_error(self, exc)
                return False
        return False

    # ------------------------------------------------------------------ session actions

    def new_item(self) -> None:
        if not self.can_manage:
            return
        dialog = MeetingDialog(ReferenceService(self.ctx.db, self.ctx.actor).agencies(), self,
                               today=self.ctx.clock.today())
        created: list[MeetingDetail] = []
        self._run_dialog(dialog, lambda d: created.append(self.service.create_meeting(*d.values())))
        if created:
            self.detail = created[0]
            self._changed()
            self.select_meeting(created[0].id)

    def edit_meeting(self) -> None:
        d = self.detail
        if d is None:
            return
        m = d.meeting
        dialog = MeetingDialog(ReferenceService(self.ctx.db, self.ctx.actor).agencies(), self,
                               today=self.ctx.clock.today(), held_on=m.held_on, place=m.place, scope_agency_id=m.scope_agency_id,
                               title=f"Modifier la séance {m.label}")
        if self._run_dialog(dialog, lambda dlg: self.service.update_meeting(m.id, *dlg.values(), m.version)):
            self._changed()

    def delete_meeting(self) -> None:
        d = self.detail
        if d is None or not confirm(self, f"Supprimer la séance {d.meeting.label} (en préparation) ?"):
            return
        if self._call(self.service.delete_meeting, d.id) is None:
            self.detail = None
            self._changed()

    def start_meeting(self) -> bool:
        d = self.detail
        if d is None:
            return False
        result = self._call(self.service.start_meeting, d.id, d.meeting.version)
        if result is not None:
            self._changed(result)
            return True
        return False

    def close_meeting(self, ask: bool = True) -> None:
        d = self.detail
        if d is None:
            return
        undecided = [a.case_reference for a in d.agenda if not a.decisions]
        question = (f"Clôturer la séance {d.meeting.label} ? Ses décisions ne pourront plus être modifiées "
                    "(seulement complétées par un rectificatif) et le relevé sera archivé.")
        if undecided:
            question += f"\n\nSans décision : {', '.join(undecided)}."
        if ask and not confirm(self, question, "Clôturer la séance"):
            return
        meeting_id, version = d.id, d.meeting.version
        db, actor = self.ctx.db, self.ctx.actor

        def work(_progress):
            return MeetingService(db, actor).close_meeting(meeting_id, version)

        def done(detail):
            self._changed(detail)
            show_info(self, f"Séance {detail.meeting.label} clôturée ; le relevé de décisions est archivé "
                            f"(empreinte SHA-256 {detail.archives[-1].sha256[:16]}…).")

        self.close_task = run_in_background(self, work, done, progress_text="Clôture et archivage du relevé…")

    def add_addendum(self) -> None:
        """The text is checked in the dialog; storing it re-archives the
        relevé (a PDF), which runs on a worker thread."""
        d = self.detail
        if d is None:
            return
        dialog = AddendumDialog(d.decisions, self)
        chosen: list[tuple[str, int | None]] = []

        def check(dlg) -> None:
            text, decision_id = dlg.values()
            clean_text(text, label="Rectificatif", field="text", required=True)
            chosen.append((text, decision_id))

        if not self._run_dialog(dialog, check):
            return
        text, decision_id = chosen[0]
        db, actor, meeting_id = self.ctx.db, self.ctx.actor, d.id

        def work(_progress):
            return MeetingService(db, actor).add_addendum(meeting_id, text, decision_id)

        def done(detail):
            self._releve_for = None
            self._changed(detail)

        self.addendum_task = run_in_background(self, work, done, progress_text="Rectificatif et nouvel archivage du relevé…")

    # ------------------------------------------------------------------ members

    def add_attendee(self) -> None:
        d = self.detail
        if d is None:
            return
        candidates = self._call(self.service.attendee_candidates) or []
        taken = {a.user_id for a in d.attendees if a.user_id}
        dialog = AttendeeDialog([c for c in candidates if c.user_id not in taken], self)
        if self._run_dialog(dialog, lambda dlg: self.service.add_attendee(d.id, *dlg.values())):
            self._changed()

    def _current_attendee(self):
        index = self.attendees_view.currentIndex()
        return self.attendees_model.row_at(index.row()) if index.isValid() else None

    def set_presence(self, presence: str) -> None:
        a = self._current_attendee()
        if a is None:
            show_info(self, "Sélectionnez d'abord un membre dans la liste.")
            return
        row = self.attendees_view.currentIndex().row()
        if self._call(self.service.set_presence, a.id, presence) is not None:
            self._changed()
            # The next member, so that presence is taken down the list by keyboard.
            self.attendees_view.selectRow(min(row + 1, self.attendees_model.rowCount() - 1))

    def copy_members(self) -> None:
        d = self.detail
        if d is None:
            return
        copied = self._call(self.service.copy_previous_members, d.id)
        if copied:
            self._changed()

    def remove_attendee(self) -> None:
        a = self._current_attendee()
        if a is None or not confirm(self, f"Retirer {a.name} des membres de la séance ?"):
            return
        if self._call(self.service.remove_attendee, a.id) is None:
            self._changed()

    # ------------------------------------------------------------------ agenda

    def _current_item(self):
        index = self.agenda_view.currentIndex()
        return self.agenda_model.row_at(index.row()) if index.isValid() else None

    def _agenda_selected(self) -> None:
        item = self._current_item()
        self.proposal_edit.setPlainText(item.proposal if item else "")
        self.proposal_label.setText(
            f"<b>Proposition à la commission</b> — {item.case_reference} ({item.household})" if item
            else "<b>Proposition à la commission</b> (sélectionnez un dossier)"
        )

    def propose_agenda(self) -> None:
        d = self.detail
        if d is None:
            return
        proposals = self._call(self.service.propose_agenda, d.id)
        if proposals is None:
            return
        dialog = ProposalsDialog(proposals, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.add_cases(dialog.chosen())

    def add_cases(self, case_ids: list[int]) -> None:
        d = self.detail
        if d is None:
            return
        for case_id in case_ids:
            if self._call(self.service.add_to_agenda, d.id, case_id) is None:
                break
        self._changed()

    def add_case(self) -> None:
        d = self.detail
        if d is None:
            return
        reference, ok = QInputDialog.getText(self, "Ajouter un dossier", "Référence du dossier (ex. CAS-2026-0042) :")
        if not ok:
            return
        found = self._call(self.service.find_case, reference)
        if found is not None:
            self.add_cases([found.case_id])

    def remove_case(self) -> None:
        item = self._current_item()
        d = self.detail
        if item is None or d is None:
            return
        if not confirm(self, f"Retirer le dossier {item.case_reference} de l'ordre du jour ?"):
            return
        result = self._call(self.service.remove_from_agenda, d.id, item.case_id)
        if result is not None:
            self._changed(result)

    def move_agenda(self, offset: int) -> None:
        index = self.agenda_view.currentIndex()
        if not index.isValid() or not self.agenda_model.movable:
            return
        self.agenda_model.move_row(index.row(), index.row() + offset)

    def _reorder(self, case_ids: list[int]) -> None:
        d = self.detail
        if d is None:
            return
        moved = self._current_item()
        result = self._call(self.service.reorder_agenda, d.id, case_ids)
        if result is not None:
            self.detail = result
            self.ctx.bus.data_changed.emit("meetings")
            self._show_detail(keep_case=moved.case_id if moved else None)
            self.agenda_view.setFocus()

    def save_current(self) -> None:
        """Ctrl+S: save the proposal of the selected agenda item."""
        item, d = self._current_item(), self.detail
        if item is None or d is None or self.proposal_edit.isReadOnly():
            return
        if self._call(self.service.set_proposal, d.id, item.case_id, self.proposal_edit.toPlainText()) is None:
            self.detail = self._call(self.service.get_meeting, d.id) or d
            self.ctx.bus.data_changed.emit("meetings")
            self._show_detail(keep_case=item.case_id)

    # ------------------------------------------------------------------ decisions

    def edit_decision(self) -> None:
        index = self.decisions_view.currentIndex()
        decision = self.decisions_model.row_at(index.row()) if index.isValid() else None
        if decision is None or not self.edit_decision_button.isEnabled():
            return
        dialog = DecisionDialog(decision, self, self._call(self.service.responsible_options) or [])

        def save(dlg) -> None:
            type_code, text, responsible, due = dlg.values()
            extra = ask_before_saving(self, self.service, decision.case_id, decision.case_reference, type_code,
                                      text, with_effect=False)
            if extra is None:
                return
            self.service.update_decision(decision.id, type_code, text, responsible, due, decision.version, **extra)

        if self._run_dialog(dialog, save):
            self._changed()

    def create_effect(self) -> None:
        index = self.decisions_view.currentIndex()
        decision = self.decisions_model.row_at(index.row()) if index.isValid() else None
        if decision is None:
            return
        if effect_of(decision.type) is None:
            show_info(self, f"Une décision « {decision.type_label} » ne crée rien dans le dossier.")
            return
        if decision.referral_id or decision.repayment_plan_id:
            show_info(self, "Cette décision a déjà créé son orientation ou son plan dans le dossier.")
            return
        try:
            extra = ask_before_saving(self, self.service, decision.case_id, decision.case_reference,
                                      decision.type, decision.text)
        except CusDeskError as exc:
            show_error(self, exc)
            return
        if extra and "effect" in extra:
            if self._call(self.service.apply_decision_effect, decision.id, extra["effect"]) is not None:
                self._changed()

    def delete_decision(self) -> None:
        index = self.decisions_view.currentIndex()
        decision = self.decisions_model.row_at(index.row()) if index.isValid() else None
        if decision is None or not confirm(self, f"Supprimer la décision « {decision.type_label} » "
                                                 f"sur {decision.case_reference} ?"):
            return
        if self._call(self.service.delete_decision, decision.id) is None:
            self._changed()

    # ------------------------------------------------------------------ relevé

    def _fill_versions(self, d: MeetingDetail) -> None:
        """The archived versions to choose from, once there are several;
        the latest is selected."""
        several = d.status == MeetingStatus.CLOTUREE and len(d.archives) > 1
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        if several:
            last = len(d.archives)
            for number, archive in enumerate(d.archives, start=1):
                text = f"{number} — {format_datetime(archive.generated_at)}"
                if number == 1:
                    text += " (clôture, signée)"
                elif number == last:
                    text += " (dernière)"
                self.version_combo.addItem(text, number)
            self.version_combo.setCurrentIndex(last - 1)
        self.version_combo.blockSignals(False)
        self.version_label.setVisible(several)
        self.version_combo.setVisible(several)

    def _version_changed(self, _index: int) -> None:
        if self.inner.currentWidget() is self.preview:
            self.load_releve()

    def load_releve(self, then=None) -> None:
        """Generate (or fetch the archived) relevé on a worker thread and
        show it in the preview."""
        d = self.detail
        if d is None:
            return
        meeting_id = d.id
        version = self.version_combo.currentData() if self.version_combo.count() else None
        db, actor = self.ctx.db, self.ctx.actor
        self.preview.clear("Préparation du relevé…")

        def work(_progress):
            return MeetingService(db, actor).releve(meeting_id, version=version)

        def done(releve):
            self._releve_for = releve.meeting_id
            if self.detail is None or self.detail.id != releve.meeting_id:
                return
            archives = self.detail.archives
            if releve.archived:
                known = releve.version is not None and releve.version <= len(archives)
                caption = ("Relevé archivé"
                           + (f" le {format_datetime(archives[releve.version - 1].generated_at)}"
                              if known else "")
                           + f", version {releve.version}"
                           + ("" if releve.latest else " (rectifiée depuis)")
                           + f" — SHA-256 {releve.sha256[:16]}…")
            else:
                caption = "Projet de relevé : la séance n'est pas clôturée."
            self.preview.set_pdf(releve.pdf, releve.file_name, caption)
            if then is not None:
                then()

        def failed(exc):
            self.preview.clear("Le relevé n'a pas pu être préparé.")
            show_error(self, exc)

        self.releve_task = run_in_background(self, work, done, failed)

    def print_current(self) -> None:
        """Ctrl+P: the relevé of the selected session, through the print dialog."""
        if self.detail is None:
            return
        self.tabs.setCurrentIndex(0)
        self.inner.blockSignals(True)
        self.inner.setCurrentWidget(self.preview)
        self.inner.blockSignals(False)
        self.load_releve(then=self.preview.print_dialog)

    def print_convocation(self) -> None:
        """The convocation / ordre du jour of the selected session."""
        if self.detail is None:
            return
        from cus_desk.ui.print_documents import show_convocation

        self.convocation_task = show_convocation(self, self.ctx, self.detail.id)

    # ------------------------------------------------------------------ meeting mode

    def toggle_meeting_mode(self) -> None:
        if self.mode_window is not None:
            self.mode_window.close()
            return
        d = self.detail
        if d is None:
            show_info(self, "Sélectionnez d'abord une séance.")
            return
        if not d.agenda:
            show_info(self, "L'ordre du jour de cette séance est vide : ajoutez des dossiers avant "
                            "de passer en mode séance.")
            return
        if d.status == MeetingStatus.PREPAREE and self.can_manage:
            if confirm(self, f"Ouvrir la séance {d.meeting.label} maintenant ? Les décisions pourront "
                             "alors être saisies.", "Mode séance"):
                if not self.start_meeting():
                    return
        d = self.detail
        item = self._current_item()
        case_ids = [a.case_id for a in d.agenda]
        start = case_ids.index(item.case_id) if item and item.case_id in case_ids else 0
        self.mode_window = MeetingModeWindow(self.ctx, d.id, case_ids, start, self)
        self.mode_window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.mode_window.closed.connect(self._mode_closed)
        self.mode_window.showFullScreen()
        self.mode_window.activateWindow()

    def _mode_closed(self) -> None:
        self.mode_window = None
        if self.can_view:
            self.refresh()
