"""Backups and restore (administrator)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from cus_desk import paths
from cus_desk.services import audit_restore
from cus_desk.services.backup import BackupService
from cus_desk.ui.admin.models import RowsModel
from cus_desk.ui.common import choose, confirm, set_accessible, show_error, show_info
from cus_desk.ui.workers import run_in_background

KIND_LABELS = {"auto": "automatique (fermeture)", "manuel": "manuelle", "fichier": "fichier"}

BACKUP_COLUMNS = [
    ("Date", lambda b: b.created_at.strftime("%d/%m/%Y %H:%M")),
    ("Type", lambda b: KIND_LABELS.get(b.kind, b.kind)),
    ("Taille", lambda b: f"{max(1, b.size // 1024):,} Kio".replace(",", "\u202f")),
    ("Fichier", lambda b: b.path.name),
]


class BackupsDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = BackupService(ctx.db, ctx.actor)
        self.restored = False
        self.restore_task = None
        self.setWindowTitle("Sauvegardes")
        intro = QLabel(f"Une copie est faite automatiquement à chaque fermeture (7 quotidiennes et "
                       f"4 hebdomadaires sont gardées) dans {paths.backup_dir()}.")
        intro.setWordWrap(True)
        self.model = RowsModel(BACKUP_COLUMNS, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        set_accessible(self.table, "Sauvegardes disponibles")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        self.backup_button = QPushButton("&Sauvegarder maintenant")
        self.backup_button.clicked.connect(lambda: self.backup_now())
        to_file = QPushButton("Sauvegarder &dans un fichier…")
        to_file.clicked.connect(self.backup_to_file)
        self.restore_button = QPushButton("&Restaurer la sauvegarde choisie…")
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        from_file = QPushButton("Restaurer depuis un &fichier…")
        from_file.clicked.connect(self.restore_from_file)
        for b in (self.backup_button, to_file, self.restore_button, from_file):
            row.addWidget(b)
        row.addStretch(1)
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(row)
        self.reload()
        self.resize(820, 440)

    def reload(self) -> None:
        self.model.set_rows(self.svc.list())
        self.restore_button.setEnabled(bool(self.model.rows))

    def backup_now(self, target=None):
        self.status.setText("Sauvegarde en cours…")
        self.backup_button.setEnabled(False)

        def done(info) -> None:
            self.backup_button.setEnabled(True)
            self.status.setText(f"Sauvegarde écrite : {info.path}")
            self.reload()

        def failed(exc) -> None:
            self.backup_button.setEnabled(True)
            self.status.setText("")
            show_error(self, exc)

        return run_in_background(self, lambda _p: self.svc.backup(target), done, failed,
                                 progress_text="Sauvegarde de la base…")

    def backup_to_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Sauvegarder la base dans…",
                                              str(paths.backup_dir()), "Base CUS Desk (*.sqlite3)")
        if name:
            self.backup_now(name)

    def restore_selected(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.setText("Choisissez d'abord une sauvegarde dans la liste.")
            return None
        return self.restore(self.model.row(rows[0].row()).path)

    def restore_from_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Restaurer une sauvegarde",
                                              str(paths.backup_dir()), "Base CUS Desk (*.sqlite3)")
        if name:
            self.restore(name)

    def confirm_altered_journal(self, source, report) -> bool | None:
        """False: the copy's journal d'audit is intact. When it is not, the
        administrator is warned and must confirm: True (restore anyway),
        None (cancelled)."""
        if report.ok:
            return False
        answer = choose(self, audit_restore.warning_text(source, report) + "\n\nRestaurer quand même ? "
                        "La restauration sera notée dans le journal d'audit.",
                        [("force", "Restaurer quand même"), ("cancel", "Annuler")],
                        default="cancel", escape="cancel", title="Journal d'audit altéré")
        return True if answer == "force" else None

    def restore(self, source):
        """Check the file, then verify its journal d'audit off the GUI thread
        (a year of events takes seconds); ``restore_task`` is the restore
        itself once confirmed. Returns the verification's task."""
        self.restore_task = None
        try:
            check = self.svc.check(source)
        except Exception as exc:  # noqa: BLE001 - shown in French
            show_error(self, exc)
            return None
        return run_in_background(self, lambda _p: audit_restore.backup_chain_report(source),
                                 lambda report: self._confirm_and_restore(source, check, report),
                                 lambda exc: show_error(self, exc),
                                 progress_text="Vérification du journal d'audit de la sauvegarde…")

    def _confirm_and_restore(self, source, check, report) -> None:
        force = self.confirm_altered_journal(source, report)
        if force is None:
            return
        if not confirm(self, f"Restaurer « {check.path.name} » ? Tout ce qui a été saisi depuis "
                             "cette sauvegarde sera perdu (la base actuelle est conservée à côté). "
                             "CUS Desk se fermera ensuite : relancez-le.", "Restaurer"):
            return

        def done(result) -> None:
            self.restored = True
            show_info(self, f"La base a été restaurée depuis « {result.restored_from.name} ». "
                            f"L'ancienne est conservée : {result.kept_aside}.\n\n"
                            "CUS Desk va se fermer ; relancez-le.", "Restauration terminée")
            self.accept()
            app = QApplication.instance()
            if app is not None:
                app.closeAllWindows()

        self.restore_task = run_in_background(self, lambda _p: self.svc.restore(source, force=force), done,
                                              lambda exc: show_error(self, exc),
                                              progress_text="Restauration de la base…")
