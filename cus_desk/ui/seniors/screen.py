"""Seniors 65+ en impayé: import of arrears extracts (file dialog or drag
and drop), the list of tenants at risk with filters and counts, and the
tenant's detail — balance history, field observations, signalements."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.domain.seniors import AGE_BAND_LABELS, RELANCE_MEANS, SENIOR_STATUS_LABELS, age_band
from cus_desk.services import access
from cus_desk.services.seniors import (
    IMPORT_FIELDS,
    ImportCancelled,
    SeniorsService,
    save_rejected_csv,
)
from cus_desk.ui.common import set_accessible, show_error, show_info
from cus_desk.ui.pdf_preview import PdfPreviewDialog
from cus_desk.ui.seniors.dialogs import (
    CorrectionDialog,
    ExtractDateDialog,
    FollowUpDialog,
    ImportReportDialog,
    MappingDialog,
    ObservationDialog,
    SignalementDialog,
    StatusDialog,
)
from cus_desk.ui.seniors.models import ROW_ROLE, SORT_ROLE, SeniorsTableModel
from cus_desk.ui.seniors.widgets import Sparkline
from cus_desk.ui.workers import run_in_background

P = access.Permission
IMPORTABLE = (".csv", ".txt", ".xlsx", ".xlsm")
REMINDER_FILTER = "__relance__"


_FIRST_STYLE = "background:#fdecea; color:#8c1d18; padding:6px; border-radius:4px; font-weight:bold;"
_UNKNOWN_STYLE = "background:#fff4e0; color:#6b4500; padding:6px; border-radius:4px;"


def _event_text(e) -> str:
    """One step of a signalement's history, as the detail lists it."""
    when = format_date(e.on_date)
    if e.kind == "relance":
        means = RELANCE_MEANS.get(e.means or "", e.means or "").lower()
        return f"Relance ({means}) le {when}" + (f" : {e.note}" if e.note else "")
    if e.kind == "commentaire":
        return f"Commentaire du {when} : {e.note}"
    if e.kind == "annulation":
        return f"Annulé le {when} : {e.note}"
    return f"{e.label.lower()} le {when}"


class SeniorsFilterProxy(QSortFilterProxyModel):
    """Filters of the list (agency, status, premier impayé, age band, text)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.agency_id: int | None = None
        self.status: str | None = None
        self.first_only = False
        self.band: str | None = None
        self.text = ""
        self.setSortRole(SORT_ROLE)

    def set_filters(self, **values: Any) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            for key, value in values.items():
                setattr(self, key, value)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            for key, value in values.items():
                setattr(self, key, value)
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        r = self.sourceModel().row_at(source_row)
        if r is None:
            return False
        if self.agency_id is not None and r.agency_id != self.agency_id:
            return False
        if self.status == REMINDER_FILTER:
            if r.reminder_due is None:
                return False
        elif self.status is not None and r.status != self.status:
            return False
        if self.first_only and not r.first_arrears:
            return False
        if self.band is not None and age_band(r.age) != self.band:
            return False
        if self.text:
            hay = f"{r.contract} {r.last_name} {r.first_name} {r.commune}".lower()
            if self.text.lower() not in hay:
                return False
        return True


class SeniorsScreen(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = SeniorsService(ctx.db, ctx.actor)
        self.can_read = access.has(ctx.actor, P.SENIORS_READ)
        self.can_import = access.has(ctx.actor, P.ARREARS_IMPORT)
        self.can_edit = access.has(ctx.actor, P.SENIORS_EDIT)
        self.listing = None
        self.detail = None
        self.last_import = None
        self.fiche_dialog = None
        self.report_dialog = None
        self.task = None
        self._generation = 0
        self.setAcceptDrops(self.can_import)
        self._build()
        ctx.bus.data_changed.connect(self._on_data_changed)
        if self.can_read:
            self.refresh()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("<h2>Seniors 65+ en impayé</h2>")
        top.addWidget(title)
        self.extract_label = QLabel()
        set_accessible(self.extract_label, "Extrait affiché")
        self.extract_label.setWordWrap(True)  # wraps on a 1024-px screen (#14)
        top.addWidget(self.extract_label, 1)
        self.import_button = QPushButton("&Importer un extrait…")
        self.import_button.setToolTip("Fichier CSV ou XLSX du logiciel de gestion (vous pouvez aussi "
                                      "le glisser-déposer sur cet écran).")
        set_accessible(self.import_button, "Importer un extrait d'impayés")
        self.import_button.clicked.connect(self.choose_file)
        self.import_button.setVisible(self.can_import)
        top.addWidget(self.import_button)
        self.export_button = QPushButton("E&xporter la liste (XLSX)…")
        self.export_button.setToolTip("Les lignes affichées, avec les filtres de l'écran, pour la revue "
                                      "mensuelle avec la responsable du recouvrement.")
        set_accessible(self.export_button, "Exporter la liste affichée en XLSX")
        self.export_button.clicked.connect(self.export_list)
        self.export_button.setVisible(self.can_read)
        top.addWidget(self.export_button)
        root.addLayout(top)

        if not self.can_read:
            note = QLabel(
                "Votre profil permet d'importer les extraits d'impayés (bouton ci-dessus ou "
                "glisser-déposer), pas de consulter la liste des locataires." if self.can_import else
                "Votre profil ne donne pas accès à la liste des seniors en impayé. Adressez-vous à la "
                "responsable du pôle social si vous en avez besoin.")
            note.setWordWrap(True)
            root.addWidget(note)
            root.addStretch(1)
            self.table = None
            return

        filters = QHBoxLayout()
        self.agency_combo = QComboBox()
        self.agency_combo.addItem("Toutes les agences", None)
        for agency_id, name in self.service.agencies():
            self.agency_combo.addItem(name, agency_id)
        set_accessible(self.agency_combo, "Filtrer par agence")
        self.status_combo = QComboBox()
        self.status_combo.addItem("Tous les statuts", None)
        for code, label in SENIOR_STATUS_LABELS.items():
            self.status_combo.addItem(label, code.value)
        self.status_combo.addItem("Relance à faire", REMINDER_FILTER)
        self.status_combo.setItemData(self.status_combo.count() - 1, "Signalements restés sans réponse du partenaire", Qt.ItemDataRole.ToolTipRole)
        set_accessible(self.status_combo, "Filtrer par statut")
        self.band_combo = QComboBox()
        self.band_combo.addItem("Tous les âges", None)
        for code, label in AGE_BAND_LABELS.items():
            self.band_combo.addItem(label, code)
        set_accessible(self.band_combo, "Filtrer par tranche d'âge")
        self.first_check = QCheckBox("Premier &impayé seulement")
        set_accessible(self.first_check, "Premier impayé seulement")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher (contrat, nom, commune)…")
        self.search.setClearButtonEnabled(True)
        set_accessible(self.search, "Rechercher un locataire")
        for w, label in ((self.agency_combo, "&Agence :"), (self.status_combo, "&Statut :"),
                         (self.band_combo, "Â&ge :")):
            lab = QLabel(label)
            lab.setBuddy(w)
            filters.addWidget(lab)
            filters.addWidget(w)
        filters.addWidget(self.first_check)
        filters.addWidget(self.search, 1)
        root.addLayout(filters)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.counts_label.setTextFormat(Qt.TextFormat.RichText)
        set_accessible(self.counts_label, "Effectifs par agence et par statut")
        root.addWidget(self.counts_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.model = SeniorsTableModel(self)
        self.proxy = SeniorsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        set_accessible(self.table, "Locataires de 65 ans et plus en impayé")
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        splitter.addWidget(self.table)
        splitter.addWidget(self._build_detail())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([900, 520])
        root.addWidget(splitter, 1)

        self.agency_combo.currentIndexChanged.connect(self._apply_filters)
        self.status_combo.currentIndexChanged.connect(self._apply_filters)
        self.band_combo.currentIndexChanged.connect(self._apply_filters)
        self.first_check.toggled.connect(self._apply_filters)
        self.search.textChanged.connect(self._apply_filters)
        if self.ctx.actor.agency_id is not None:
            index = self.agency_combo.findData(self.ctx.actor.agency_id)
            if index >= 0:
                self.agency_combo.setCurrentIndex(index)
        QShortcut(QKeySequence("Ctrl+I"), self, activated=self.choose_file)

    def _build_detail(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        self.detail_title = QLabel("Sélectionnez un locataire dans la liste.")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextFormat(Qt.TextFormat.RichText)
        set_accessible(self.detail_title, "Locataire sélectionné")
        layout.addWidget(self.detail_title)
        self.first_banner = QLabel("PREMIER IMPAYÉ")
        self.first_banner.setWordWrap(True)
        self.first_banner.setStyleSheet(_FIRST_STYLE)
        self.first_banner.setVisible(False)
        layout.addWidget(self.first_banner)
        self.info = QFormLayout()
        self.info_labels: dict[str, QLabel] = {}
        for key, label in (("age", "Âge"), ("address", "Adresse"), ("phone", "Téléphone"),
                           ("agency", "Agence"), ("lease", "Bail"), ("balance", "Situation"),
                           ("status", "Statut")):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            set_accessible(value, label)
            self.info.addRow(f"{label} :", value)
            self.info_labels[key] = value
        layout.addLayout(self.info)
        layout.addWidget(QLabel("Évolution du solde (extraits successifs) :"))
        self.sparkline = Sparkline()
        layout.addWidget(self.sparkline)

        obs_box = QGroupBox("Observations de terrain")
        obs_layout = QVBoxLayout(obs_box)
        self.observations = QListWidget()
        self.observations.setWordWrap(True)
        self.observations.setMinimumHeight(90)
        set_accessible(self.observations, "Observations de terrain")
        obs_layout.addWidget(self.observations)
        self.observe_button = QPushButton("&Nouvelle observation…")
        self.observe_button.clicked.connect(self.new_observation)
        self.observe_button.setVisible(self.can_edit)
        self.correct_button = QPushButton("Co&rriger l'observation…")
        self.correct_button.setToolTip("Une nouvelle version de l'observation sélectionnée ; l'ancienne "
                                       "reste dans l'historique.")
        self.correct_button.clicked.connect(self.correct_observation)
        self.correct_button.setVisible(self.can_edit)
        self.observations.currentRowChanged.connect(self._update_buttons)
        obs_row = QHBoxLayout()
        obs_row.addWidget(self.observe_button)
        obs_row.addWidget(self.correct_button)
        obs_layout.addLayout(obs_row)
        layout.addWidget(obs_box, 1)

        sig_box = QGroupBox("Signalements")
        sig_layout = QVBoxLayout(sig_box)
        self.signalements = QListWidget()
        self.signalements.setWordWrap(True)
        self.signalements.setMinimumHeight(90)
        set_accessible(self.signalements, "Signalements")
        self.signalements.currentRowChanged.connect(self._update_buttons)
        sig_layout.addWidget(self.signalements)
        buttons = QGridLayout()
        self.signal_button = QPushButton("&Signaler…")
        self.signal_button.clicked.connect(self.new_signalement)
        self.status_button = QPushButton("S&uivi…")
        self.status_button.clicked.connect(self.change_status)
        self.fiche_button = QPushButton("&Fiche PDF…")
        self.fiche_button.clicked.connect(self.print_current)
        self.case_button = QPushButton("Ouvrir le &dossier")
        self.case_button.setToolTip("Ouvre (ou crée) le dossier CAS de ce ménage.")
        self.case_button.clicked.connect(self.open_case)
        self.relance_button = QPushButton("Re&lancer…")
        self.relance_button.clicked.connect(lambda: self.follow_up("relance"))
        self.comment_button = QPushButton("Co&mmentaire…")
        self.comment_button.clicked.connect(lambda: self.follow_up("commentaire"))
        self.cancel_button = QPushButton("Annuler le si&gnalement…")
        self.cancel_button.clicked.connect(lambda: self.follow_up("annulation"))
        for i, b in enumerate((self.signal_button, self.status_button, self.relance_button, self.comment_button,
                               self.fiche_button, self.case_button, self.cancel_button)):
            buttons.addWidget(b, i // 2, i % 2)
        for b in (self.signal_button, self.status_button, self.case_button, self.relance_button,
                  self.comment_button, self.cancel_button):
            b.setVisible(self.can_edit)
        sig_layout.addLayout(buttons)
        layout.addWidget(sig_box, 1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(380)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        self._update_buttons()
        return scroll

    # ------------------------------------------------------------- list
    def on_shown(self) -> None:
        if self.can_read:
            self.refresh()

    def focus_search(self) -> None:
        if self.can_read:
            self.search.setFocus()
            self.search.selectAll()

    def new_item(self) -> None:
        self.new_observation()

    def refresh(self, select_lease: int | None = None) -> None:
        """Reload the list off the GUI thread (a newer reload wins)."""
        if not self.can_read:
            return
        self._generation += 1
        generation = self._generation
        keep = select_lease if select_lease is not None else (self.detail.lease_id if self.detail else None)
        self.task = run_in_background(
            self, lambda _p: self.service.list_seniors(),
            lambda listing: self._set_listing(listing, generation, keep),
            self._error)

    def _set_listing(self, listing, generation: int, keep: int | None) -> None:
        if generation != self._generation:
            return
        self.listing = listing
        self.model.set_rows(listing.rows)
        if listing.extract_date is None:
            self.extract_label.setText("Aucun extrait importé : importez l'extrait du mois pour voir la liste.")
        else:
            self.extract_label.setText(
                f"Extrait du {format_date(listing.extract_date)} — {listing.total} locataire(s), "
                f"dont {listing.first_arrears_count} premier(s) impayé(s)")
        agencies = " · ".join(f"{name} : {n}" for name, n in sorted(listing.count_by_agency.items()))
        statuses = " · ".join(f"{label} : {listing.count_by_status.get(code.value, 0)}"
                              for code, label in SENIOR_STATUS_LABELS.items())
        reminders = sum(1 for r in listing.rows if r.reminder_due is not None)
        if reminders:
            statuses += f" · <span style='color:#b3261e'>Relances à faire : {reminders}</span>"
        self.counts_label.setText(f"<b>Par agence</b> — {agencies or 'aucun'}<br><b>Par statut</b> — {statuses}")
        if keep is None or not self.select_lease(keep):
            if self.proxy.rowCount():
                self.table.selectRow(0)

    def _apply_filters(self) -> None:
        # One agency chosen: its column says nothing, give the room to the others.
        self.table.setColumnHidden(3, self.agency_combo.currentData() is not None)
        self.proxy.set_filters(
            agency_id=self.agency_combo.currentData(), status=self.status_combo.currentData(),
            band=self.band_combo.currentData(), first_only=self.first_check.isChecked(),
            text=self.search.text().strip())

    def visible_rows(self) -> list:
        return [self.proxy.data(self.proxy.index(i, 0), ROW_ROLE) for i in range(self.proxy.rowCount())]

    def select_lease(self, lease_id: int) -> bool:
        for i in range(self.proxy.rowCount()):
            row = self.proxy.data(self.proxy.index(i, 0), ROW_ROLE)
            if row.lease_id == lease_id:
                self.table.selectRow(i)
                self.table.scrollTo(self.proxy.index(i, 0))
                return True
        return False

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.proxy.data(current, ROW_ROLE) if current.isValid() else None
        if row is None:
            return
        self.show_detail(row.lease_id)

    # ----------------------------------------------------------- detail
    def show_detail(self, lease_id: int) -> None:
        try:
            self.detail = d = self.service.detail(lease_id)
        except CusDeskError as exc:
            self._error(exc)
            return
        name = f"{d.last_name} {d.first_name}".strip() or "(nom inconnu)"
        self.detail_title.setText(f"<h3>{name}</h3>Contrat {d.contract}")
        if d.first_arrears:
            self.first_banner.setText(f"PREMIER IMPAYÉ — {d.first_arrears_reason} : c'est le cas pour lequel "
                                      "le signalement existe.")
            self.first_banner.setStyleSheet(_FIRST_STYLE)
        elif d.history_unknown and d.balance_cents and d.balance_cents > 0:
            self.first_banner.setText("Premier impayé ? " + d.first_arrears_reason[:1].upper()
                                      + d.first_arrears_reason[1:] + ".")
            self.first_banner.setStyleSheet(_UNKNOWN_STYLE)
        self.first_banner.setVisible(d.first_arrears or (d.history_unknown and bool(d.balance_cents)
                                                         and d.balance_cents > 0))
        self.info_labels["age"].setText(
            (f"{d.age} ans" if d.age is not None else "inconnu")
            + (f" (né(e) le {format_date(d.birth_date)})" if d.birth_date else "")
            + (f" — cotitulaire né(e) le {format_date(d.cotenant_birth_date)}" if d.cotenant_birth_date else ""))
        address = d.address or ""
        if d.commune and d.commune.lower() not in address.lower():
            address = ", ".join(x for x in (address, d.commune) if x)
        self.info_labels["address"].setText(address or "—")
        self.info_labels["phone"].setText(d.phone or "—")
        self.info_labels["agency"].setText(d.agency)
        self.info_labels["lease"].setText(
            f"depuis le {format_date(d.lease_start)}" if d.lease_start else "date d'entrée inconnue")
        if d.balance_cents is None:
            self.info_labels["balance"].setText("Dans aucun extrait")
        else:
            parts = [f"Solde {format_cents(d.balance_cents)}"]
            if d.months_unpaid is not None:
                parts.append(f"{d.months_unpaid} mois d'impayés")
            if d.last_payment_on:
                parts.append(f"dernier paiement le {format_date(d.last_payment_on)}")
            self.info_labels["balance"].setText(", ".join(parts) + f" (extrait du {format_date(d.extract_date)})")
        self.info_labels["status"].setText(d.status_label)
        self.sparkline.set_history(d.history)
        self.observations.clear()
        for o in d.observations:
            corrected = f"\n(corrigée : {o.correction_reason})" if o.correction_reason else ""
            item = QListWidgetItem(f"{format_date(o.observed_on)} — {o.kind_label} ({o.observer})\n{o.note}{corrected}")
            item.setData(Qt.ItemDataRole.UserRole, o.id)
            self.observations.addItem(item)
        if not d.observations:
            self.observations.addItem("Aucune observation.")
        self.signalements.clear()
        for s in d.signalements:
            steps = ", ".join(_event_text(e) for e in s.events if e.kind == "statut")
            text = f"{s.partner_kind_label} — {s.partner_name} : {s.status_label}\n{steps}"
            if s.reply_by and s.status in ("envoye", "accuse_reception"):
                text += f"\nRéponse attendue avant le {format_date(s.reply_by)}"
            for e in s.events:
                if e.kind != "statut":
                    text += "\n" + _event_text(e)
            if s.reminder_due:
                text += f"\nSans réponse : relance à faire depuis le {format_date(s.reminder_due)}"
            if s.case_id:
                text += "\nDossier CAS lié"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            self.signalements.addItem(item)
        if d.signalements:
            self.signalements.setCurrentRow(0)
        self._update_buttons()

    def current_signalement(self):
        if self.detail is None:
            return None
        item = self.signalements.currentItem()
        referral_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((s for s in self.detail.signalements if s.id == referral_id), None)

    def _update_buttons(self, *_args) -> None:
        has_detail = self.detail is not None
        sig = self.current_signalement()
        self.observe_button.setEnabled(has_detail)
        self.signal_button.setEnabled(has_detail)
        self.status_button.setEnabled(sig is not None and bool(sig.next_statuses))
        is_open = sig is not None and sig.status in ("envoye", "accuse_reception", "pris_en_charge")
        self.relance_button.setEnabled(is_open)
        self.comment_button.setEnabled(sig is not None and sig.status != "annule")
        self.cancel_button.setEnabled(is_open)
        self.correct_button.setEnabled(self.current_observation() is not None)
        self.fiche_button.setEnabled(sig is not None)
        self.case_button.setEnabled(sig is not None)

    # ----------------------------------------------- observations, signalements
    def _exec(self, dialog: QDialog) -> int:
        """Run a dialog modally (tests replace this to drive the dialog)."""
        return dialog.exec()

    def _tenant_name(self) -> str:
        d = self.detail
        return f"{d.last_name} {d.first_name} (contrat {d.contract})".strip()

    def new_observation(self) -> None:
        if self.detail is None or not self.can_edit:
            return
        lease_id = self.detail.lease_id
        dialog = ObservationDialog(self._tenant_name(), self.ctx.actor.display_name, self,
                                  today=self.ctx.clock.today())
        dialog.submit = lambda: self.service.add_observation(lease_id, **dialog.values())
        if self._exec(dialog) == QDialog.DialogCode.Accepted:
            self._changed(lease_id)

    def new_signalement(self) -> None:
        if self.detail is None or not self.can_edit:
            return
        d = self.detail
        facts = "\n".join(f"{format_date(o.observed_on)} : {o.kind_label.lower()}." for o in reversed(d.observations))
        if d.balance_cents:
            facts += (("\n" if facts else "") + f"Impayé de {format_cents(d.balance_cents)}"
                      + (" (premier impayé d'un locataire ancien)." if d.first_arrears
                         else " (historique des impayés inconnu)." if d.history_unknown else "."))
        cache: dict[str, list] = {}

        def choices(kind: str) -> list:
            if kind not in cache:
                cache[kind] = self.service.partner_choices(d.lease_id, kind)
            return cache[kind]

        try:
            dialog = SignalementDialog(self._tenant_name(), choices, facts, self,
                                       today=self.ctx.clock.today())
        except CusDeskError as exc:
            self._error(exc)
            return

        def submit():
            values = dialog.values()
            if values["partner_id"] is None:
                raise CusDeskError("Choisissez la structure à qui adresser le signalement.")
            return self.service.send_signalement(
                d.lease_id, values["partner_id"], values["sent_on"], values["facts"],
                tenant_informed=values["tenant_informed"], tenant_informed_note=values["tenant_informed_note"],
                reply_expected=values["reply_expected"], reply_by=values["reply_by"])

        dialog.submit = submit
        if self._exec(dialog) == QDialog.DialogCode.Accepted:
            self._changed(d.lease_id)

    def change_status(self) -> None:
        sig = self.current_signalement()
        if sig is None or not sig.next_statuses:
            return
        dialog = StatusDialog(sig, self, today=self.ctx.clock.today())
        dialog.submit = lambda: self.service.set_signalement_status(
            sig.id, expected_version=sig.version, **dialog.values())
        if self._exec(dialog) == QDialog.DialogCode.Accepted:
            self._changed(sig.lease_id)

    def current_observation(self):
        if self.detail is None:
            return None
        item = self.observations.currentItem()
        obs_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((o for o in self.detail.observations if o.id == obs_id), None)

    def follow_up(self, mode: str) -> None:
        """A relance, a follow-up comment or the cancellation of the selected signalement."""
        sig = self.current_signalement()
        if sig is None or not self.can_edit:
            return
        dialog = FollowUpDialog(sig, mode, self, today=self.ctx.clock.today())
        if mode == "relance":
            dialog.submit = lambda: self.service.add_relance(sig.id, expected_version=sig.version, **dialog.values())
        elif mode == "commentaire":
            dialog.submit = lambda: self.service.add_follow_up_comment(
                sig.id, expected_version=sig.version, **dialog.values())
        else:
            dialog.submit = lambda: self.service.cancel_signalement(
                sig.id, expected_version=sig.version, **dialog.values())
        if self._exec(dialog) == QDialog.DialogCode.Accepted:
            self._changed(sig.lease_id)

    def correct_observation(self) -> None:
        obs = self.current_observation()
        if obs is None or not self.can_edit:
            return
        lease_id = self.detail.lease_id
        dialog = CorrectionDialog(self._tenant_name(), obs, self, today=self.ctx.clock.today())
        dialog.submit = lambda: self.service.correct_observation(obs.id, **dialog.values())
        if self._exec(dialog) == QDialog.DialogCode.Accepted:
            self._changed(lease_id)

    def _changed(self, lease_id: int) -> None:
        self.show_detail(lease_id)
        self.ctx.bus.data_changed.emit("seniors")
        self.refresh(select_lease=lease_id)

    def print_current(self) -> None:
        """Fiche de signalement of the selected signalement (Ctrl+P):
        preview, print, save as PDF."""
        sig = self.current_signalement()
        if sig is None:
            show_info(self, "Sélectionnez un signalement pour imprimer sa fiche.")
            return
        d = self.detail
        file_name = f"fiche_signalement_{d.contract}_{sig.sent_on.isoformat()}.pdf"
        caption = (f"Fiche de signalement — {d.last_name} {d.first_name} → {sig.partner_name} "
                   f"(envoyé le {format_date(sig.sent_on)})")
        self.task = run_in_background(
            self, lambda _p: self.service.fiche_pdf(sig.id),
            lambda pdf: self._show_fiche(pdf, file_name, caption), self._error,
            progress_text="Préparation de la fiche de signalement…")

    def _show_fiche(self, pdf: bytes, file_name: str, caption: str) -> None:
        dialog = PdfPreviewDialog(pdf, file_name, "Fiche de signalement", caption,
                                  noun="la fiche de signalement", parent=self)
        self.fiche_dialog = dialog
        self._exec(dialog)

    def open_case(self) -> None:
        """Open (or create) the case file of the signalement's household."""
        sig = self.current_signalement()
        if sig is None:
            return
        try:
            from cus_desk.ui.cases import open_case
        except ImportError:
            self._error("La gestion des dossiers n'est pas disponible dans cette version.")
            return
        try:
            existing, arrears = self.service.case_opening(sig.id)
        except CusDeskError as exc:
            self._error(exc)
            return
        if existing is None and not self._confirm(
                f"Aucun dossier n'est ouvert pour ce ménage. Ouvrir un dossier d'accompagnement pour "
                f"{self._tenant_name()} ?\n\n{arrears}\nLe dossier reprendra cet impayé et sera lié au "
                f"signalement à {sig.partner_name}."):
            return
        try:
            case_id = self.service.case_for_signalement(sig.id)
        except CusDeskError as exc:
            self._error(exc)
            return
        self.ctx.bus.data_changed.emit("cases")
        self.show_detail(sig.lease_id)
        open_case(self, self.ctx, case_id)

    # ------------------------------------------------------------ import
    def choose_file(self) -> None:
        if not self.can_import:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Importer un extrait d'impayés", "",
            "Extraits (*.csv *.txt *.xlsx *.xlsm);;Tous les fichiers (*)")
        if path:
            self.import_file(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self.can_import and self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = self._dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_file(path)

    @staticmethod
    def _dropped_path(mime) -> str | None:
        if not mime.hasUrls():
            return None
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if len(files) != 1 or Path(files[0]).suffix.lower() not in IMPORTABLE:
            return None
        return files[0]

    def import_file(self, path: str) -> None:
        """Sheet (for a workbook with several), analysis of the headers
        (mapping dialog when needed), extract date, then the import itself
        off the GUI thread with a cancellable progress dialog."""
        try:
            sheets = self.service.sheets(path)
        except CusDeskError as exc:
            self._error(exc)
            return
        sheet = None
        if len(sheets) > 1:
            sheet = self._ask_sheet(sheets)
            if sheet is None:
                return
        self.task = run_in_background(
            self, lambda _p: self.service.analyse_file(path, sheet),
            lambda analysis: self._after_analysis(path, sheet, analysis), self._error,
            progress_text="Lecture du fichier…")

    def _ask_sheet(self, sheets: list[str]) -> str | None:
        sheet, ok = QInputDialog.getItem(self, "Feuille du classeur",
                                         "Ce classeur a plusieurs feuilles : laquelle contient l'extrait ?",
                                         sheets, 0, False)
        return sheet if ok else None

    def _after_analysis(self, path: str, sheet: str | None, analysis) -> None:
        mapping, remember = None, False
        if analysis.needs_mapping:
            dialog = MappingDialog(analysis, IMPORT_FIELDS, self)
            if self._exec(dialog) != QDialog.DialogCode.Accepted:
                return
            mapping, remember = dialog.result_value
        elif analysis.remembered:
            mapping = None  # the service applies the remembered mapping itself
        dialog = ExtractDateDialog(analysis, lambda d: self.service.replacement_notice(d, analysis.agencies), self,
                                   today=self.ctx.clock.today())
        if self._exec(dialog) != QDialog.DialogCode.Accepted:
            return
        extract_date, _sheet = dialog.result_value
        self.start_import(path, extract_date, sheet=sheet, mapping=mapping, remember=remember)

    def start_import(self, path: str, extract_date: date, *, sheet: str | None = None,
                     mapping: dict[str, str] | None = None, remember: bool = False):
        def work(progress):
            return self.service.import_arrears(
                path, extract_date, sheet=sheet, mapping=mapping, remember_mapping=remember,
                progress=progress.report, cancelled=lambda: progress.cancelled)

        self.task = run_in_background(self, work, self._import_done, self._import_failed,
                                      progress_text="Import de l'extrait d'impayés…", cancellable=True)
        return self.task

    def _import_done(self, result) -> None:
        self.last_import = result
        self.ctx.bus.data_changed.emit("seniors")
        if self.can_read:
            self.refresh()
        dialog = ImportReportDialog(result, self._save_rejected, self)
        self.report_dialog = dialog
        self._exec(dialog)

    def _save_rejected(self, path: str) -> None:
        try:
            save_rejected_csv(self.last_import.rejected, path)
        except OSError as exc:
            self._error(f"Le rapport n'a pas pu être enregistré dans « {path} » ({exc.strerror}). "
                        "Choisissez un autre dossier.")

    def _import_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ImportCancelled):
            show_info(self, exc.message)
            return
        self._error(exc)

    # ------------------------------------------------------------ export
    def export_list(self) -> None:
        """The rows on screen (with its filters) as an XLSX workbook."""
        rows = self.visible_rows()
        if not rows:
            show_info(self, "La liste affichée est vide : il n'y a rien à exporter. Élargissez les filtres.")
            return
        when = self.listing.extract_date.isoformat() if self.listing and self.listing.extract_date else "liste"
        path, _ = QFileDialog.getSaveFileName(self, "Exporter la liste des seniors", f"seniors_65_{when}.xlsx",
                                              "Classeurs Excel (*.xlsx)")
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        ids, filters = [r.lease_id for r in rows], self.filters_text()

        def work(_progress):
            data = self.service.seniors_xlsx(ids, filters)
            target = Path(path)
            part = target.with_name(target.name + ".part")
            part.write_bytes(data)
            part.replace(target)  # never a half-written workbook under the chosen name
            return target

        def done(target):
            self.exported_path = target
            show_info(self, f"{len(ids)} ligne(s) exportée(s) dans « {target} ».")

        def failed(exc):
            if isinstance(exc, OSError):
                self._error(f"Le classeur n'a pas pu être enregistré dans « {path} » "
                            f"({exc.strerror or exc}). Choisissez un autre dossier.")
            else:
                self._error(exc)

        self.task = run_in_background(self, work, done, failed, progress_text="Export de la liste…")

    def filters_text(self) -> str:
        """The screen's filters, in French (written above the exported rows)."""
        parts = []
        if self.agency_combo.currentData() is not None:
            parts.append(f"agence {self.agency_combo.currentText()}")
        if self.status_combo.currentData() is not None:
            parts.append(f"statut « {self.status_combo.currentText()} »")
        if self.band_combo.currentData() is not None:
            parts.append(self.band_combo.currentText().lower())
        if self.first_check.isChecked():
            parts.append("premiers impayés seulement")
        if self.search.text().strip():
            parts.append(f"recherche « {self.search.text().strip()} »")
        return " ; ".join(parts) or "aucun (toute la liste)"

    # ------------------------------------------------------------ misc
    def _confirm(self, question: str) -> bool:
        from cus_desk.ui.common import confirm

        return confirm(self, question)

    def _error(self, exc: BaseException | str) -> None:
        show_error(self, exc)

    def _on_data_changed(self, topic: str) -> None:
        if topic in ("seniors", "partners") and self.can_read and self.isVisible():
            self.refresh()
