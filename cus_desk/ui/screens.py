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
    # What a role needs to see this screen's content (services enforce it
    # again); without it the window explains why instead of failing.
    permission: str | None = None  # a services.access.Permission value
    denied_text: str = ""


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("dashboard", "Tableau de bord", "cus_desk.ui.dashboard", "DashboardScreen", "Ctrl+1"),
    ScreenSpec(
        "cases", "Dossiers", "cus_desk.ui.cases.screen", "CasesScreen", "Ctrl+2", "case_list",
        "Les dossiers CAS contiennent des informations sociales (dette, difficultés du ménage, "
        "santé) réservées aux conseillères sociales, au pôle social et, pour la synthèse des "
        "dossiers inscrits à l'ordre du jour d'une séance, aux membres de la CAS.",
    ),
    ScreenSpec(
        "meetings", "Séances CAS", "cus_desk.ui.meetings.screen", "MeetingsScreen", "Ctrl+3",
        "meeting_view",
        "Les séances de la Commission d'Action Sociale et leurs relevés de décisions sont "
        "consultés par les conseillères sociales, le pôle social, les membres de la CAS et le "
        "service recouvrement.",
    ),
    ScreenSpec(
        "seniors", "Seniors 65+", "cus_desk.ui.seniors.screen", "SeniorsScreen", "Ctrl+4",
        "seniors_read",
        "Le repérage des locataires de 65 ans et plus en impayé est réservé aux conseillères "
        "sociales, au pôle social et au service recouvrement. L'administrateur peut importer un "
        "extrait d'impayés en ligne de commande (cus-desk import-arrears) sans en lire le contenu.",
    ),
    ScreenSpec("partners", "Partenaires", "cus_desk.ui.partners.screen", "PartnersScreen", "Ctrl+5",
               "partner_read", "L'annuaire des partenaires n'est pas ouvert à votre profil."),
)


def may_open(spec: ScreenSpec, actor) -> bool:
    # Imported here: the window is shown before the store layer is loaded.
    from cus_desk.services import access

    return spec.permission is None or access.has(actor, access.Permission(spec.permission))


def screen_class(spec: ScreenSpec):
    return getattr(importlib.import_module(spec.module), spec.class_name)
