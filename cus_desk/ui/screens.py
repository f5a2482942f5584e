"""The navigation entries and the screen classes behind them, imported
lazily (start-up imports only what the first screen needs)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str
    module: str
    class_name: str
    shortcut: str


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("dashboard", "Tableau de bord", "cus_desk.ui.dashboard", "DashboardScreen", "Ctrl+1"),
    ScreenSpec("cases", "Dossiers", "cus_desk.ui.cases.screen", "CasesScreen", "Ctrl+2"),
    ScreenSpec("meetings", "Séances CAS", "cus_desk.ui.meetings.screen", "MeetingsScreen", "Ctrl+3"),
    ScreenSpec("seniors", "Seniors 65+", "cus_desk.ui.seniors.screen", "SeniorsScreen", "Ctrl+4"),
    ScreenSpec("partners", "Partenaires", "cus_desk.ui.partners.screen", "PartnersScreen", "Ctrl+5"),
)


class ComingSoonScreen(QWidget):
    """Shown for an entry whose feature is not in this build yet; says so
    plainly instead of pretending to work."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        label = QLabel(f"<h2>{title}</h2><p>Cet écran sera bientôt disponible.</p>")
        label.setAccessibleName(f"{title} : bientôt disponible")
        layout.addWidget(label)
        layout.addStretch(1)


def screen_class(spec: ScreenSpec):
    """The class of a screen, or None when its module is not there."""
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and spec.module.startswith(exc.name):
            return None
        raise
    return getattr(module, spec.class_name, None)
