"""RGPD purge with a dry-run preview (administrator)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from cus_desk.services.retention import PurgePlan, RetentionService
from cus_desk.ui.common import confirm, set_accessible, show_error
from cus_desk.ui.workers import run_in_background


class PurgeDialog(QDialog):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.svc = RetentionService(ctx.db, ctx.actor)
        self.plan: PurgePlan | None = None
        self.setWindowTitle("Purge des données (RGPD)")
        intro = QLabel("Les durées de conservation se règlent dans Administration › Réglages. "
                       "Aperçu de ce que la purge ferait aujourd'hui (rien n'est encore modifié) :")
        intro.setWordWrap(True)
        self.summary = QLabel("Calcul de l'aperçu…")
        self.summary.setWordWrap(True)
        self.details = set_accessible(QPlainTextEdit(), "Éléments à purger")
        self.details.setReadOnly(True)
        self.purge_button = QPushButton("&Purger maintenant")
        self.purge_button.setEnabled(False)
        self.purge_button.clicked.connect(lambda: self.run_purge())
        # After a purge: the backups and copies written before it still hold
        # what was purged; the administrator may delete them.
        self.copies_button = QPushButton("Supprimer les &copies antérieures")
        self.copies_button.setVisible(False)
        self.copies_button.clicked.connect(lambda: self.delete_copies())
        self.copies: list = []
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.copies_button)
        row.addWidget(self.purge_button)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        layout.addLayout(row)
        self.resize(760, 480)
        self.task = run_in_background(self, lambda _p: self.svc.preview(), self.show_plan,
                                      lambda exc: show_error(self, exc))

    def show_plan(self, plan: PurgePlan) -> None:
        self.plan = plan
        if plan.total == 0:
            self.summary.setText("Rien à purger aujourd'hui.")
        else:
            self.summary.setText("\n".join(plan.summary_lines()))
        self.details.setPlainText("\n".join(item.label for item in plan.items))
        self.purge_button.setEnabled(plan.total > 0)

    def run_purge(self):
        if self.plan is None or self.plan.total == 0:
            return None
        if not confirm(self, f"Purger définitivement {self.plan.total} élément(s) ? "
                             "Cette opération ne peut pas être annulée (sauf en restaurant une "
                             "sauvegarde).", "Purger"):
            return None
        self.purge_button.setEnabled(False)

        def done(report) -> None:
            self.summary.setText("Purge effectuée.\n" + "\n".join(report.summary_lines()))
            details = list(report.skipped) + list(report.notes)
            self.copies = [c.path for c in report.copies]
            if self.copies:
                details.append(f"{len(self.copies)} sauvegarde(s) ou copie(s) de la base, écrite(s) avant "
                               "la purge, contiennent encore les données purgées :")
                details += [f"  {path}" for path in self.copies]
                self.copies_button.setText(f"Supprimer les &copies antérieures ({len(self.copies)})")
                self.copies_button.setVisible(True)
            self.details.setPlainText("\n".join(details))
            self.ctx.bus.data_changed.emit("cases")

        self.task = run_in_background(self, lambda _p: self.svc.purge(), done,
                                      lambda exc: show_error(self, exc),
                                      progress_text="Purge en cours…")
        return self.task

    def delete_copies(self):
        if not self.copies:
            return None
        if not confirm(self, f"Supprimer définitivement {len(self.copies)} sauvegarde(s) ou copie(s) "
                             "de la base écrite(s) avant la purge ? Vous ne pourrez plus restaurer "
                             "l'état d'avant la purge.", "Supprimer"):
            return None
        paths = list(self.copies)
        self.copies_button.setEnabled(False)

        def done(deleted) -> None:
            self.copies = [p for p in self.copies if p not in deleted]
            self.copies_button.setVisible(bool(self.copies))
            self.copies_button.setEnabled(True)
            self.details.setPlainText(f"{len(deleted)} copie(s) supprimée(s).")

        def failed(exc) -> None:
            self.copies_button.setEnabled(True)
            show_error(self, exc)

        self.task = run_in_background(self, lambda _p: self.svc.delete_copies(paths), done, failed,
                                      progress_text="Suppression des copies…")
        return self.task
