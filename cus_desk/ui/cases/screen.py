"""Dossiers: the case list with its filters and search box (updates as you
type), opening a case (Enter / double-click), creating one (Ctrl+N)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.cases import PROBLEMS, CaseStatus
from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.roles import Role
from cus_desk.services import access
from cus_desk.services.cases import CaseFilter, CaseService
from cus_desk.ui.cases.models import COLUMNS, PAGE, CaseListModel
from cus_desk.ui.common import show_error
from cus_desk.ui.flow_layout import FlowLayout


class CaseTable(QTableView):
    """Enter opens the current case (the view otherwise starts editing)."""

    def __init__(self, on_open, parent=None) -> None:
        super().__init__(parent)
        self._on_open = on_open

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._on_open()
            return
        super().keyPressEvent(event)


class CasesScreen(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = CaseService(ctx.db, ctx.actor)
        self.can_create = access.has(ctx.actor, access.Permission.CASE_CREATE)
        self._count_task = None
        self._count_generation = 0
        self.open_dialogs: list = []
        self.setAccessibleName("Dossiers CAS")

        layout = QVBoxLayout(self)
        title = QLabel("<h2>Dossiers CAS</h2>")
        layout.addWidget(title)

        # Search + actions
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher : nom, n° de contrat ou référence (CAS-2026-0042)…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Rechercher un dossier")
        self.search.setMaxLength(100)
        top.addWidget(self.search, 1)
        self.new_button = QPushButton("Nouveau dossier…")
        self.new_button.setAccessibleName("Nouveau dossier")
        self.new_button.setToolTip("Ctrl+N")
        self.new_button.setEnabled(self.can_create)
        self.new_button.clicked.connect(self.new_item)
        top.addWidget(self.new_button)
        self.open_button = QPushButton("Ouvrir")
        self.open_button.setAccessibleName("Ouvrir le dossier sélectionné")
        self.open_button.setToolTip("Entrée")
        self.open_button.clicked.connect(self.open_current)
        top.addWidget(self.open_button)
        layout.addLayout(top)

        # Filters: they wrap onto a second line on a narrow screen (#14)
        filters = FlowLayout()
        self.agency = QComboBox()
        self.agency.setAccessibleName("Filtrer par agence")
        self.agency.addItem("Toutes les agences", None)
        self.status = QComboBox()
        self.status.setAccessibleName("Filtrer par statut")
        self.status.addItem("Tous les statuts", None)
        self.status.addItem("En cours (non clos)", "__open__")
        for st in CaseStatus:
            self.status.addItem(st.label, st.value)
        self.problem = QComboBox()
        self.problem.setAccessibleName("Filtrer par problématique")
        self.problem.addItem("Toutes les problématiques", None)
        for code, label in PROBLEMS.items():
            self.problem.addItem(label, code)
        self.adviser = QComboBox()
        self.adviser.setAccessibleName("Filtrer par conseillère")
        self.adviser.addItem("Toutes les conseillères", None)
        self.to_present = QCheckBox("À présenter en CAS")
        self.to_present.setAccessibleName("Seulement les dossiers à présenter en CAS")
        self.overdue = QCheckBox("Orientations en retard")
        self.overdue.setAccessibleName("Seulement les dossiers avec une orientation sans réponse")
        for w in (self.agency, self.status, self.problem, self.adviser):
            filters.addWidget(w)
        filters.addWidget(self.to_present)
        filters.addWidget(self.overdue)
        layout.addLayout(filters)

        # Table
        self.model = CaseListModel(self.service, self)
        self.view = CaseTable(self.open_current)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Liste des dossiers")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for col, width in enumerate((118, 180, 110, 130, 85, 130, 200, 150, 95, 122, 70)):
            self.view.setColumnWidth(col, width)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)  # problématiques take the rest
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self._on_sort_indicator)
        self.view.doubleClicked.connect(lambda _i: self.open_current())
        layout.addWidget(self.view, 1)

        self.count_label = QLabel("")
        self.count_label.setAccessibleName("Nombre de dossiers")
        layout.addWidget(self.count_label)
        self.empty_label = QLabel("")
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.empty_label)

        self.search.textChanged.connect(self._on_search)
        for combo in (self.agency, self.status, self.problem, self.adviser):
            combo.currentIndexChanged.connect(self._apply_filters)
        self.to_present.toggled.connect(self._apply_filters)
        self.overdue.toggled.connect(self._apply_filters)
        self.model.reloaded.connect(self._after_reload)
        self.model.rowsInserted.connect(lambda *_: self._update_count_label())
        ctx.bus.data_changed.connect(self._on_data_changed)

        # Counting all matches is started once typing pauses, so that it never
        # competes with the keystrokes themselves.
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self._start_count)

        self._load_choices()
        self._refresh()

    # ------------------------------------------------------------ hooks

    def on_shown(self) -> None:
        self._refresh()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def new_item(self) -> None:
        if not self.can_create:
            show_error(self, access.DENIED_MESSAGE.format(role=Role(self.ctx.actor.role).label))
            return
        from cus_desk.ui.cases.new_case import NewCaseDialog

        dialog = NewCaseDialog(self.ctx, self)
        if dialog.exec() and dialog.created_id is not None:
            self.ctx.bus.data_changed.emit("cases")
            self.open_case(dialog.created_id)

    # ------------------------------------------------------------ internals

    def _load_choices(self) -> None:
        try:
            for choice in self.service.agencies():
                self.agency.addItem(choice.label, choice.id)
            for choice in self.service.advisers():
                self.adviser.addItem(choice.label, choice.id)
        except CusDeskError as exc:
            show_error(self, exc)

    def current_filter(self) -> CaseFilter:
        status = self.status.currentData()
        return CaseFilter(
            agency_id=self.agency.currentData(),
            status=status if status not in (None, "__open__") else None,
            include_closed=status != "__open__",
            problem=self.problem.currentData(),
            adviser_id=self.adviser.currentData(),
            to_present=self.to_present.isChecked(),
            overdue_only=self.overdue.isChecked(),
            search=self.search.text(),
        )

    def _on_search(self, text: str) -> None:
        try:
            self.model.set_search(text)
        except CusDeskError as exc:
            show_error(self, exc)

    def _apply_filters(self, *_args) -> None:
        self.status.setEnabled(not self.to_present.isChecked())
        self._refresh()

    def _refresh(self) -> None:
        try:
            self.model.set_filter(self.current_filter())
        except CusDeskError as exc:
            self.count_label.setText("")
            self.empty_label.setText(exc.message)

    def _on_sort_indicator(self, column: int, order) -> None:
        if COLUMNS[column][1] is None:  # not sortable: keep the previous indicator
            header = self.view.horizontalHeader()
            header.blockSignals(True)
            key_col = next(i for i, c in enumerate(COLUMNS) if c[1] == self.model.sort_key)
            header.setSortIndicator(key_col, Qt.SortOrder.DescendingOrder if self.model.descending
                                    else Qt.SortOrder.AscendingOrder)
            header.blockSignals(False)

    def _after_reload(self) -> None:
        if self.model.rowCount():
            self.view.selectionModel().setCurrentIndex(
                self.model.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.empty_label.setText("")
        else:
            self.empty_label.setText(
                "Aucun dossier ne correspond. Vérifiez l'orthographe ou retirez des filtres."
                if self.search.text().strip() or self.current_filter() != CaseFilter()
                else "Aucun dossier pour l'instant. Créez-en un avec « Nouveau dossier… » (Ctrl+N)."
            )
        self._total = None
        if not self.model.has_more():
            self._total = self.model.rowCount()
        self._update_count_label()
        if self.model.has_more():
            self._count_timer.start()

    def _update_count_label(self, total: int | None = None) -> None:
        shown = self.model.rowCount()
        if total is None:
            total = getattr(self, "_total", None)
        if total is not None and not self.model.has_more():
            total = shown if total < shown else total
        if total is None:
            text = f"{shown} dossiers affichés" + (" (faites défiler pour la suite)" if self.model.has_more() else "")
        else:
            text = f"{total} dossier{'s' if total > 1 else ''}"
            if shown < total:
                text += f" — {shown} affichés, la suite se charge en faisant défiler"
        self.count_label.setText(text)

    def _start_count(self) -> None:
        """Counting the matches may take a moment on 100,000 cases: done on
        a worker thread; the list is usable meanwhile."""
        if not self.model.has_more():
            return
        from cus_desk.ui.workers import run_in_background

        self._count_generation += 1
        generation, flt = self._count_generation, self.model.filter
        service = self.service

        def done(total: int) -> None:
            if generation == self._count_generation:
                self._total = total
                self._update_count_label()

        self._count_task = run_in_background(self, lambda _p: service.count_cases(flt), done,
                                             on_error=lambda _e: None)

    def selected_case_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.case_id(index.row()) if index.isValid() else None

    def open_current(self) -> None:
        case_id = self.selected_case_id()
        if case_id is None:
            return
        self.open_case(case_id)

    def print_current(self) -> None:
        """Ctrl+P, Fichier › Imprimer: the fiche dossier of the selected case."""
        case_id = self.selected_case_id()
        if case_id is None:
            show_error(self, "Sélectionnez d'abord un dossier dans la liste pour imprimer sa fiche.")
            return
        from cus_desk.ui.print_documents import show_case_note

        self.print_task = show_case_note(self, self.ctx, case_id)

    def open_case(self, case_id: int):
        from cus_desk.ui.cases import open_case

        return open_case(self, self.ctx, case_id)

    def _on_data_changed(self, topic: str) -> None:
        if topic in ("cases", "meetings") and self.isVisible():
            self._refresh()


__all__ = ["CasesScreen", "PAGE"]
