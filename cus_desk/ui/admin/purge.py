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

from cus_desk.services.retention import KIND_LABELS, PurgePlan, RetentionService
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
        close = QPushButton("Fermer")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
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
            lines = [f"{KIND_LABELS[k]} : {n}" for k, n in report.counts.items()]
            self.summary.setText("Purge effectuée.\n" + "\n".join(lines))
            self.details.setPlainText("\n".join(report.skipped))
            self.ctx.bus.data_changed.emit("cases")

        self.task = run_in_background(self, lambda _p: self.svc.purge(), done,
                                      lambda exc: show_error(self, exc),
                                      progress_text="Purge en cours…")
        return self.task
