"""Partenaires: the directory of partner structures (search as you type,
filters, the structure's record with contacts, conventions, flats and the
referrals sent to it) and the per-agency view (PDF, XLSX)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import ConflictError, CusDeskError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.partners import PartnerDetail, search_rows
from cus_desk.domain.reference import PARTNER_CATEGORIES
from cus_desk.services import access
from cus_desk.services.partners import PartnerService
from cus_desk.ui.common import confirm, set_accessible, show_error
from cus_desk.ui.partners.dialogs import (
    ContactDialog,
    ConventionDialog,
    FlatDialog,
    MergeDialog,
    PartnerDialog,
)
from cus_desk.ui.partners.models import (
    Column,
    PartnerTableModel,
    RecordTableModel,
    SortProxy,
)
from cus_desk.ui.pdf_preview import PdfPreviewDialog
from cus_desk.ui.workers import run_in_background

TOPIC = "partners"
SEARCH_DELAY_MS = 150


def _table(name: str, model, *, sortable: bool = False, stretch: int = 0) -> QTableView:
    """A read-only list; column ``stretch`` takes the free width, the
    others fit their content."""
    view = QTableView()
    view.setAccessibleName(name)
    if sortable:
        proxy = SortProxy(view)
        proxy.setSourceModel(model)
        view.setModel(proxy)
        view.setSortingEnabled(True)
    else:
        view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _button(text: str, name: str) -> QPushButton:
    return set_accessible(QPushButton(text), name)


class PartnersScreen(QWidget):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = PartnerService(ctx.db, ctx.actor)
        self.can_edit = access.has(ctx.actor, access.Permission.PARTNER_EDIT)
        self.detail: PartnerDetail | None = None
        self.active_dialog = None
        self.last_task = None
        self.can_read = access.has(ctx.actor, access.Permission.PARTNER_READ)
        self._agencies = self.service.agencies() if self.can_read else []
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self._base_rows: list = []  # rows of the current filters, before the text search

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Partenaires")
        self.tabs.addTab(self._build_directory(), "Annuaire")
        self.tabs.addTab(self._build_agency_tab(), "Vue par agence")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.status = QLabel()
        self.status.setAccessibleName("Message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.Copy, self.contacts_view, self.copy_contact)
        ctx.bus.data_changed.connect(self._on_data_changed)
        self.reload()
        self._show_detail(None)

    # --- construction -------------------------------------------------------

    def _agency_filter(self, all_label: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_label, None)
        for a in self._agencies:
            combo.addItem(a.label, a.id)
        return combo

    def _build_directory(self) -> QWidget:
        self.search = set_accessible(QLineEdit(), "Rechercher une structure")
        self.search.setPlaceholderText("Rechercher : nom, sigle, commune, contact…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.agency_filter = set_accessible(self._agency_filter("Toutes les agences"),
                                            "Filtrer par agence")
        self.category_filter = set_accessible(QComboBox(), "Filtrer par catégorie")
        self.category_filter.addItem("Toutes les catégories", None)
        for code, label in PARTNER_CATEGORIES.items():
            self.category_filter.addItem(label, code)
        self.convention_filter = set_accessible(QCheckBox("Convention en cours"),
                                                "Seulement avec une convention en cours")
        self.flats_filter = set_accessible(QCheckBox("Avec logements"),
                                           "Seulement avec des logements loués")
        self.inactive_filter = set_accessible(QCheckBox("Inactives aussi"),
                                              "Afficher aussi les structures désactivées")
        for w in (self.agency_filter, self.category_filter):
            w.currentIndexChanged.connect(self.reload)
        for w in (self.convention_filter, self.flats_filter, self.inactive_filter):
            w.toggled.connect(self.reload)
        self.new_button = _button("&Nouvelle structure", "Nouvelle structure (Ctrl+N)")
        self.new_button.clicked.connect(self.new_item)
        self.new_button.setEnabled(self.can_edit)

        # Two rows, so that the screen fits a 1366-pixel laptop beside the record.
        filters = QVBoxLayout()
        combos, checks = QHBoxLayout(), QHBoxLayout()
        combos.addWidget(self.agency_filter, 1)
        combos.addWidget(self.category_filter, 1)
        for box in (self.convention_filter, self.flats_filter, self.inactive_filter):
            checks.addWidget(box)
        checks.addStretch(1)
        filters.addLayout(combos)
        filters.addLayout(checks)
        self.model = PartnerTableModel(self)
        self.list_view = _table("Liste des structures partenaires", self.model, sortable=True)
        self.list_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.list_view.horizontalHeader()
        # The name is what a user reads first: it keeps its width at 1366×768 (#13);
        # the commune column takes what is left (full texts in tooltips).
        for col, width in ((0, 230), (1, 100), (2, 75), (4, 55), (5, 55), (6, 80)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.list_view.setColumnWidth(col, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.list_view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.count_label = QLabel()
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        self.import_button = _button("&Importer une liste…", "Importer des structures (CSV ou XLSX)")
        self.import_button.setToolTip("Ajoute les structures d'un fichier CSV ou XLSX (colonnes Nom, Type, "
                                      "Commune, Téléphone, Courriel, Communes d'intervention, Agences).")
        self.import_button.clicked.connect(self.import_list)
        self.import_button.setVisible(self.can_edit)
        top.addWidget(self.import_button)
        lay.addLayout(top)
        lay.addLayout(filters)
        lay.addWidget(self.list_view, 1)
        lay.addWidget(self.count_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self._build_detail())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        return splitter

    def _build_detail(self) -> QWidget:
        panel = QWidget()
        lay = QVBoxLayout(panel)
        lay.setContentsMargins(6, 0, 0, 0)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setAccessibleName("Structure sélectionnée")
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.edit_button = _button("&Modifier…", "Modifier la structure")
        self.active_button = _button("Désactiver", "Désactiver ou réactiver la structure")
        self.merge_button = _button("Fusionner…", "Fusionner une fiche en double dans celle-ci")
        self.delete_button = _button("Supprimer", "Supprimer une fiche saisie par erreur")
        self.edit_button.clicked.connect(self.edit_partner)
        self.active_button.clicked.connect(self.toggle_active)
        self.merge_button.clicked.connect(self.merge_partner)
        self.delete_button.clicked.connect(self.delete_partner)
        actions = QHBoxLayout()
        for b in (self.edit_button, self.active_button, self.merge_button, self.delete_button):
            actions.addWidget(b)
        actions.addStretch(1)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        lay.addLayout(actions)

        self.detail_tabs = QTabWidget()
        self.detail_tabs.setAccessibleName("Fiche de la structure")
        # Identity
        ident = QWidget()
        form = QFormLayout(ident)
        self.identity: dict[str, QLabel] = {}
        for key, label in (("category", "Catégorie"), ("agencies", "Agences"),
                           ("communes", "Communes couvertes"), ("address", "Adresse"),
                           ("phone", "Téléphone"), ("email", "E-mail"), ("notes", "Notes"),
                           ("history", "Historique")):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            form.addRow(f"{label} :", value)
            self.identity[key] = value
        self.detail_tabs.addTab(ident, "Fiche")
        # Contacts
        self.contacts_model = RecordTableModel([
            Column("Nom", lambda c: c.name), Column("Fonction", lambda c: c.function),
            Column("Téléphone", lambda c: c.phone), Column("E-mail", lambda c: c.email)], self)
        self.contacts_view = _table("Contacts de la structure", self.contacts_model, stretch=3)
        self.contacts_view.setToolTip("Cliquez sur un téléphone ou un e-mail pour le copier.")
        self.contacts_view.clicked.connect(self._contact_clicked)
        self.detail_tabs.addTab(self._with_buttons(
            self.contacts_view, self.add_contact, self.edit_contact, self.remove_contact,
            hint="Cliquez sur un téléphone ou un e-mail pour le copier."), "Contacts")
        # Conventions
        self.conventions_model = RecordTableModel([
            Column("Type", lambda c: c.kind_label), Column("Agence", lambda c: c.agency),
            Column("Début", lambda c: c.start_date), Column("Fin", lambda c: c.end_date),
            Column("Logts", lambda c: c.flat_count, True), Column("État", lambda c: c.state_label),
            Column("Référence", lambda c: c.document_ref)], self,
            highlight=lambda c: (f"Échéance le {format_date(c.end_date)}" if c.expiring else None))
        self.conventions_view = _table("Conventions", self.conventions_model, stretch=6)
        self.detail_tabs.addTab(self._with_buttons(
            self.conventions_view, self.add_convention, self.edit_convention,
            self.remove_convention), "Conventions")
        # Flats
        self.flats_model = RecordTableModel([
            Column("Commune", lambda f: f.commune), Column("Adresse", lambda f: f.address),
            Column("Agence", lambda f: f.agency), Column("Dispositif", lambda f: f.kind_label),
            Column("Début", lambda f: f.start_date),
            Column("Transférable", lambda f: f.transferable),
            Column("Glissement", lambda f: f.transfer_date)], self)
        self.flats_view = _table("Logements loués à la structure", self.flats_model, stretch=1)
        self.counts_model = RecordTableModel([
            Column("Tableau de la CUS", lambda c: c.table_label), Column("Ligne", lambda c: c.label),
            Column("Logements", lambda c: c.flat_count, True)], self)
        self.counts_view = _table("Chiffres de la CUS", self.counts_model, stretch=1)
        flats_box = self._with_buttons(self.flats_view, self.add_flat, self.edit_flat,
                                       self.remove_flat)
        flats_box.layout().addWidget(QLabel("Chiffres de la CUS (sans adresse) :"))
        flats_box.layout().addWidget(self.counts_view)
        self.detail_tabs.addTab(flats_box, "Logements")
        # Referrals
        self.referrals_model = RecordTableModel([
            Column("Envoi", lambda r: r.sent_on), Column("Type", lambda r: r.kind_label),
            Column("Dossier", lambda r: r.case_reference), Column("Statut", lambda r: r.status_label),
            Column("Résultat", lambda r: r.result_label)], self, bold=lambda r: r.positive)
        self.referrals_view = _table("Orientations et signalements envoyés", self.referrals_model,
                                     stretch=2)
        self.rate_label = QLabel()
        self.rate_label.setAccessibleName("Taux de réponse positive")
        box = QWidget()
        blay = QVBoxLayout(box)
        blay.addWidget(self.rate_label)
        blay.addWidget(self.referrals_view, 1)
        self.detail_tabs.addTab(box, "Orientations")
        lay.addWidget(self.detail_tabs, 1)
        return panel

    def _with_buttons(self, view, add, edit, remove, hint: str = "") -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        row = QHBoxLayout()
        buttons = []
        for text, fn in (("Ajouter…", add), ("Modifier…", edit), ("Retirer", remove)):
            b = _button(text, f"{text.rstrip('…')} ({view.accessibleName()})")
            b.clicked.connect(fn)
            b.setEnabled(self.can_edit)
            row.addWidget(b)
            buttons.append(b)
        row.addStretch(1)
        if hint:
            hint_label = QLabel(hint)
            hint_label.setWordWrap(True)
            row.addWidget(hint_label, 1)
        lay.addLayout(row)
        lay.addWidget(view, 1)
        view.doubleClicked.connect(lambda _i: edit())
        box.child_buttons = buttons
        return box

    def _build_agency_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        top = QHBoxLayout()
        self.view_agency = set_accessible(self._agency_filter("Toutes les agences (bilan CUS)"),
                                          "Agence affichée")
        default = self.ctx.actor.agency_id
        if default is not None:
            self.view_agency.setCurrentIndex(max(0, self.view_agency.findData(default)))
        self.view_agency.currentIndexChanged.connect(self.reload_agency_view)
        self.pdf_button = _button("Aperçu et impression (PDF)…", "Imprimer la vue agence (Ctrl+P)")
        self.xlsx_button = _button("Exporter en XLSX…", "Exporter la vue agence en classeur XLSX")
        self.pdf_button.clicked.connect(self.print_current)
        self.xlsx_button.clicked.connect(self.export_xlsx)
        top.addWidget(QLabel("Agence :"))
        top.addWidget(self.view_agency)
        top.addStretch(1)
        top.addWidget(self.pdf_button)
        top.addWidget(self.xlsx_button)
        lay.addLayout(top)
        self.agency_summary = QLabel()
        self.agency_summary.setWordWrap(True)
        lay.addWidget(self.agency_summary)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.agency_partners_model = RecordTableModel([
            Column("Catégorie", lambda x: x[0]), Column("Structure", lambda x: x[1].display_name),
            Column("Commune", lambda x: x[1].commune or ", ".join(x[1].communes[:2])),
            Column("Téléphone", lambda x: x[1].phone),
            Column("Conv.", lambda x: x[1].current_conventions or None, True),
            Column("Logts", lambda x: x[1].flat_count or None, True)], self,
            highlight=lambda x: ("Convention à échéance" if x[1].expiring_conventions else None))
        self.agency_partners_view = _table("Partenaires de l'agence par catégorie",
                                           self.agency_partners_model, stretch=1)
        split.addWidget(self.agency_partners_view)
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        self.table_choice = set_accessible(QComboBox(), "Tableau d'intermédiation affiché")
        self.table_choice.currentIndexChanged.connect(self._show_table)
        # Table titles are long: let the combo shrink instead of widening the screen.
        self.table_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.table_choice.setMinimumContentsLength(28)
        self.table_note = QLabel()
        self.table_note.setWordWrap(True)
        self.inter_model = RecordTableModel([
            Column("Structure / commune", lambda r: r.label),
            Column("Logements", lambda r: r.flat_count, True)], self,
            bold=lambda r: r.detail == "total")
        self.inter_view = _table("Tableau d'intermédiation locative", self.inter_model)
        rlay.addWidget(QLabel("Intermédiation locative :"))
        rlay.addWidget(self.table_choice)
        rlay.addWidget(self.table_note)
        rlay.addWidget(self.inter_view, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)
        self.agency_view_data = None
        return w

    # --- main-window hooks -----------------------------------------------------

    def on_shown(self) -> None:
        self.reload()

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    def new_item(self) -> None:
        if not self.can_edit:
            self._say("Votre profil permet de consulter l'annuaire, pas de le modifier.")
            return
        self.tabs.setCurrentIndex(0)
        dialog = PartnerDialog(self._create, self._agencies, parent=self)
        if self.ctx.actor.agency_id in dialog.agency_checks:
            dialog.agency_checks[self.ctx.actor.agency_id].setChecked(True)
        self._open(dialog, self._after_partner_saved)

    def import_list(self) -> None:
        """Add the structures of a CSV/XLSX list (the pôle social's annuaire)."""
        if not self.can_edit:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Importer une liste de structures", "",
                                              "Listes (*.csv *.txt *.xlsx);;Tous les fichiers (*)")
        if not path:
            return
        from cus_desk.services.partners_import import PartnerImportService

        service = PartnerImportService(self.ctx.db, self.ctx.actor)

        def done(result) -> None:
            self.last_import = result
            self.ctx.bus.data_changed.emit(TOPIC)
            text = f"{len(result.created)} structure(s) ajoutée(s) depuis « {result.source_name} »."
            if result.rejected:
                text += f"\n{len(result.rejected)} ligne(s) écartée(s) :\n" + "\n".join(
                    f"ligne {r.line} : {r.reason}" for r in result.rejected[:15])
            self._say(text)

        self.task = run_in_background(self, lambda _p: service.import_partners(path), done,
                                      lambda exc: show_error(self, exc), progress_text="Import des structures…")

    def print_current(self) -> None:
        """Ctrl+P: the per-agency document, generated off the GUI thread,
        then previewed (print or save as PDF)."""
        agency_id = self.view_agency.currentData()
        label = self.view_agency.currentText()
        service = self.service
        self.last_task = run_in_background(
            self, lambda _p: _agency_pdf(service, agency_id),
            lambda pdf: self._show_preview(pdf, label),
            on_error=lambda exc: show_error(self, exc),
            progress_text="Préparation du document…")

    # --- directory -----------------------------------------------------------------

    def reload(self) -> None:
        if not self.can_read:
            self._say("Votre profil ne permet pas de consulter l'annuaire des partenaires.")
            return
        try:
            self._base_rows = self.service.list_partners(
                "", agency_id=self.agency_filter.currentData(),
                category=self.category_filter.currentData(),
                with_current_convention=self.convention_filter.isChecked(),
                with_flats=self.flats_filter.isChecked(),
                include_inactive=self.inactive_filter.isChecked())
        except CusDeskError as exc:
            self._say(exc.message)
            return
        self.apply_search()

    def apply_search(self) -> None:
        """Search as you type: the words typed filter the rows already
        loaded for the current filters (reloaded when they or the data
        change)."""
        selected = self.detail.id if self.detail else None
        rows = search_rows(self._base_rows, self.search.text())
        self.model.set_rows(rows)
        n = len(rows)
        self.count_label.setText(f"{n} structure{'s' if n > 1 else ''}")
        if selected is not None:
            self.select_partner(selected, quiet=True)

    def _on_data_changed(self, topic: str) -> None:
        if topic == TOPIC:
            self.reload()
            if self.tabs.currentIndex() == 1:
                self.reload_agency_view()

    def _tab_changed(self, index: int) -> None:
        if index == 1:
            self.reload_agency_view()

    def select_partner(self, partner_id: int, quiet: bool = False) -> bool:
        proxy = self.list_view.model()
        for row in range(proxy.rowCount()):
            src = proxy.mapToSource(proxy.index(row, 0))
            rec = self.model.row_at(src.row())
            if rec is not None and rec.id == partner_id:
                self.list_view.setCurrentIndex(proxy.index(row, 0))
                if quiet and self.detail is not None and self.detail.id == partner_id:
                    self._load_detail(partner_id)
                return True
        if not quiet:
            self._load_detail(partner_id)
        return False

    def _current_changed(self, current: QModelIndex, _previous=None) -> None:
        if not current.isValid():
            return
        proxy = self.list_view.model()
        rec = self.model.row_at(proxy.mapToSource(current).row())
        if rec is not None:
            self._load_detail(rec.id)

    def _load_detail(self, partner_id: int) -> None:
        try:
            self._show_detail(self.service.get(partner_id))
        except CusDeskError as exc:
            self._say(exc.message)
            self._show_detail(None)

    def _show_detail(self, d: PartnerDetail | None) -> None:
        self.detail = d
        editable = bool(d and self.can_edit and not d.merged_into_id)
        for b in (self.edit_button, self.merge_button, self.delete_button):
            b.setEnabled(editable)
        self.active_button.setEnabled(editable)
        for i in range(1, 4):
            for b in getattr(self.detail_tabs.widget(i), "child_buttons", []):
                b.setEnabled(editable)
        if d is None:
            self.title.setText("<h3>Aucune structure sélectionnée</h3>")
            self.subtitle.setText("Choisissez une structure dans la liste.")
            for label in self.identity.values():
                label.clear()
            for m in (self.contacts_model, self.conventions_model, self.flats_model,
                      self.counts_model, self.referrals_model):
                m.set_rows([])
            self.rate_label.clear()
            return
        from html import escape

        self.title.setText(f"<h3>{escape(d.name)}</h3>")
        state = "active" if d.active else "désactivée"
        if d.merged_into_id:
            state = f"fusionnée dans « {d.merged_into_name} »"
        expiring = sum(1 for c in d.conventions if c.expiring)
        extra = f" · ⚠ {expiring} convention(s) à échéance" if expiring else ""
        self.subtitle.setText(f"{d.short_name or ''}{' · ' if d.short_name else ''}"
                              f"{d.category_label} · {state}{extra}")
        self.active_button.setText("Désactiver" if d.active else "Réactiver")
        ident = self.identity
        ident["category"].setText(d.category_label)
        ident["agencies"].setText(", ".join(d.agencies) or "—")
        ident["communes"].setText(", ".join(d.communes) or "—")
        ident["address"].setText(" – ".join(x for x in (d.address, d.commune) if x) or "—")
        ident["phone"].setText(d.phone or "—")
        ident["email"].setText(d.email or "—")
        ident["notes"].setText(d.notes or "—")
        history = []
        if d.seed_key:
            history.append("structure citée par la CUS")
        if d.absorbed:
            history.append("a absorbé : " + ", ".join(d.absorbed))
        if d.merged_into_id:
            history.append(f"fusionnée dans « {d.merged_into_name} »")
        ident["history"].setText("; ".join(history) or "—")
        self.contacts_model.set_rows(d.contacts)
        self.conventions_model.set_rows(d.conventions)
        self.flats_model.set_rows(d.flats)
        self.counts_model.set_rows(d.counts)
        self.referrals_model.set_rows(d.referrals)
        self.rate_label.setText(f"<b>Réponse positive :</b> {d.stats.label}")  # says what is pending

    # --- contacts: click to copy ----------------------------------------------------

    def _contact_clicked(self, index: QModelIndex) -> None:
        if index.column() in (2, 3):
            self.copy_contact(index)

    def copy_contact(self, index: QModelIndex | None = None) -> None:
        index = index if isinstance(index, QModelIndex) else self.contacts_view.currentIndex()
        if not index.isValid():
            return
        col = index.column() if index.column() in (2, 3) else 2
        text = self.contacts_model.data(self.contacts_model.index(index.row(), col))
        if not text:
            return
        QGuiApplication.clipboard().setText(text)
        what = "Téléphone" if col == 2 else "E-mail"
        self._say(f"{what} copié : {text}")

    # --- dialogs ----------------------------------------------------------------------

    def _open(self, dialog, after) -> None:
        self.active_dialog = dialog
        dialog.conflicted.connect(lambda: self._refresh_after_error(ConflictError()))
        dialog.accepted.connect(lambda: after(dialog.result_value))
        dialog.finished.connect(lambda _r: setattr(self, "active_dialog", None))
        dialog.open()

    def _create(self, data):
        return self.service.create(data)

    def _after_partner_saved(self, detail: PartnerDetail) -> None:
        self._show_detail(detail)
        self.ctx.bus.data_changed.emit(TOPIC)  # every partners view reloads, this one too
        self.select_partner(detail.id, quiet=True)
        self._say(f"« {detail.name} » enregistrée.")

    def _after_child_saved(self, detail: PartnerDetail) -> None:
        self._show_detail(detail)
        self.ctx.bus.data_changed.emit(TOPIC)

    def edit_partner(self) -> None:
        d = self.detail
        if d is None:
            return
        self._open(PartnerDialog(lambda data: self.service.update(d.id, data, d.version),
                                 self._agencies, d, parent=self), self._after_partner_saved)

    def toggle_active(self) -> None:
        d = self.detail
        if d is None:
            return
        if d.active and not confirm(
                self, f"Désactiver « {d.name} » ? Elle ne sera plus proposée dans les listes de "
                      "choix ; son historique (orientations, signalements) est conservé."):
            return
        try:
            detail = self.service.set_active(d.id, not d.active, d.version)
        except CusDeskError as exc:
            show_error(self, exc)
            self._refresh_after_error(exc)
            return
        self._after_partner_saved(detail)
        self._say(f"« {detail.name} » {'réactivée' if detail.active else 'désactivée'}.")

    def delete_partner(self) -> None:
        d = self.detail
        if d is None:
            return
        if not confirm(self, f"Supprimer définitivement « {d.name} » ? Réservé à une fiche "
                             "saisie par erreur, sans historique."):
            return
        try:
            self.service.delete(d.id, d.version)
        except CusDeskError as exc:
            show_error(self, exc)
            return
        self._show_detail(None)
        self.ctx.bus.data_changed.emit(TOPIC)
        self.reload()
        self._say(f"« {d.name} » supprimée.")

    def merge_partner(self) -> None:
        d = self.detail
        if d is None:
            return
        candidates = [r for r in self.service.list_partners() if r.id != d.id]

        def save(other_id):
            other = self.service.get(other_id)
            return self.service.merge(d.id, other.id, d.version, other.version)
        self._open(MergeDialog(save, d.name, candidates, parent=self), self._after_partner_saved)

    def _selected(self, view, model):
        index = view.currentIndex()
        return model.record(index.row()) if index.isValid() else None

    def _child_dialog(self, make, record_needed=None) -> None:
        if self.detail is None:
            return
        self._open(make(self.detail), self._after_child_saved)

    def add_contact(self) -> None:
        self._child_dialog(lambda d: ContactDialog(
            lambda data: self.service.add_contact(d.id, data, d.version), parent=self))

    def edit_contact(self) -> None:
        c = self._selected(self.contacts_view, self.contacts_model)
        if c is not None:
            self._child_dialog(lambda d: ContactDialog(
                lambda data: self.service.update_contact(d.id, c.id, data, d.version), c,
                parent=self))

    def remove_contact(self) -> None:
        c = self._selected(self.contacts_view, self.contacts_model)
        if c is not None and confirm(self, f"Retirer le contact « {c.name} » ?"):
            self._child_call(lambda d: self.service.remove_contact(d.id, c.id, d.version))

    def add_convention(self) -> None:
        self._child_dialog(lambda d: ConventionDialog(
            lambda data: self.service.add_convention(d.id, data, d.version), self._agencies,
            default_agency=self.ctx.actor.agency_id, parent=self, today=self.ctx.clock.today()))

    def edit_convention(self) -> None:
        c = self._selected(self.conventions_view, self.conventions_model)
        if c is not None:
            self._child_dialog(lambda d: ConventionDialog(
                lambda data: self.service.update_convention(d.id, c.id, data, d.version),
                self._agencies, c, parent=self, today=self.ctx.clock.today()))

    def remove_convention(self) -> None:
        c = self._selected(self.conventions_view, self.conventions_model)
        if c is not None and confirm(self, f"Retirer la convention « {c.kind_label} » du "
                                           f"{format_date(c.start_date)} ?"):
            self._child_call(lambda d: self.service.remove_convention(d.id, c.id, d.version))

    def add_flat(self) -> None:
        self._child_dialog(lambda d: FlatDialog(
            lambda data: self.service.add_flat(d.id, data, d.version), self._agencies,
            default_agency=self.ctx.actor.agency_id, parent=self, today=self.ctx.clock.today()))

    def edit_flat(self) -> None:
        f = self._selected(self.flats_view, self.flats_model)
        if f is not None:
            self._child_dialog(lambda d: FlatDialog(
                lambda data: self.service.update_flat(d.id, f.id, data, d.version),
                self._agencies, f, parent=self, today=self.ctx.clock.today()))

    def remove_flat(self) -> None:
        f = self._selected(self.flats_view, self.flats_model)
        if f is not None and confirm(self, f"Retirer le logement de {f.commune} ?"):
            self._child_call(lambda d: self.service.remove_flat(d.id, f.id, d.version))

    def _child_call(self, fn) -> None:
        try:
            detail = fn(self.detail)
        except CusDeskError as exc:
            show_error(self, exc)
            self._refresh_after_error(exc)
            return
        self._after_child_saved(detail)

    def _refresh_after_error(self, exc) -> None:
        """After a conflict, show the stored version so the user can redo."""
        if isinstance(exc, ConflictError) and self.detail is not None:
            self._load_detail(self.detail.id)

    # --- per-agency view -------------------------------------------------------------

    def reload_agency_view(self) -> None:
        if not self.can_read:
            return
        try:
            view = self.service.agency_view(self.view_agency.currentData())
        except CusDeskError as exc:
            self._say(exc.message)
            return
        self.agency_view_data = view
        rows = [(label, r) for label, group in view.partners_by_category for r in group]
        self.agency_partners_model.set_rows(rows)
        cus = ""
        if view.cus_flats:
            when = f" au {format_date(view.cus_as_of)}" if view.cus_as_of else ""
            cus = f" · chiffres de la CUS{when} : {view.cus_flats} logement(s) (à part)"
        self.agency_summary.setText(
            f"<b>{view.agency_label}</b> : {view.partner_count} structure(s) partenaire(s) "
            f"active(s) · {len(view.expiring)} convention(s) à échéance · "
            f"{view.recorded_flats} logement(s) loué(s) à des associations suivi(s) dans CUS Desk{cus}")
        self.table_choice.blockSignals(True)
        self.table_choice.clear()
        for i, t in enumerate(view.tables):
            self.table_choice.addItem(f"{t.title} ({t.total})", i)
        self.table_choice.blockSignals(False)
        self._show_table()

    def _show_table(self, *_args) -> None:
        from cus_desk.domain.partners import TableRow

        view = self.agency_view_data
        i = self.table_choice.currentData()
        if view is None or i is None:
            self.inter_model.set_rows([])
            self.table_note.setText("Aucun logement loué à une association pour cette agence.")
            return
        t = view.tables[i]
        self.inter_model.columns[0] = Column(t.key_label, lambda r: r.label)
        self.inter_model.columns[1] = Column(t.value_label, lambda r: r.flat_count, True)
        self.inter_model.set_rows(list(t.rows) + [TableRow("Total", t.total, "total")])
        self.table_note.setText(t.note)

    def export_xlsx(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Exporter en XLSX", "partenaires.xlsx",
                                              "Classeurs Excel (*.xlsx)")
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        agency_id = self.view_agency.currentData()
        service = self.service
        self.last_task = run_in_background(
            self, lambda _p: service.export_xlsx(path, agency_id),
            lambda p: self._say(f"Classeur enregistré : {p}"),
            on_error=lambda exc: show_error(self, exc),
            progress_text="Export en cours…")

    def _show_preview(self, pdf: bytes, label: str) -> None:
        safe = "".join(ch if ch.isalnum() else "-" for ch in label).strip("-").lower()
        dialog = PdfPreviewDialog(pdf, f"partenaires-{safe}.pdf", f"Partenaires – {label}",
                                  noun="la liste des partenaires", parent=self)
        dialog.saved.connect(lambda p: self._say(f"PDF enregistré : {p}"))
        self.active_dialog = dialog
        dialog.open()

    def _say(self, text: str) -> None:
        self.status.setText(text)


def _agency_pdf(service: PartnerService, agency_id: int | None) -> bytes:
    """The per-agency PDF as bytes (worker thread): the service writes it
    into a private temporary folder, removed at once."""
    with tempfile.TemporaryDirectory(prefix="cus-desk-") as folder:
        return service.print_agency(Path(folder) / "partenaires.pdf", agency_id).read_bytes()
