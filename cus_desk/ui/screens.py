"""The navigation entries and the screen classes behind them, imported
lazily (start-up imports only what the first screen needs)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


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


def screen_class(spec: ScreenSpec):
    return getattr(importlib.import_module(spec.module), spec.class_name)
