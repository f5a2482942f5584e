"""The main window, driven as a user would (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from cus_desk.ui.context import AppContext
from cus_desk.ui.main_window import MainWindow, app_settings
from cus_desk.ui.screens import SCREENS

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, db, actors):
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=db, actor=actors["adviser_metz"]))
    win.show()
    return win


def test_navigation_shows_each_screen(qtbot, window):
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert titles == ["Tableau de bord", "Dossiers", "Séances CAS", "Seniors 65+", "Partenaires"]
    for row, spec in enumerate(SCREENS):
        rect = window.nav.visualItemRect(window.nav.item(row))
        qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert window.stack.currentWidget().objectName() == f"screen_{spec.key}"
        assert window.current_key() == spec.key


def test_shortcuts_switch_screens(qtbot, window):
    window.activateWindow()
    for spec in SCREENS:
        action = window.findChild(type(window.actions_by_name["new"]), f"action_show_{spec.key}")
        assert action.shortcut() == QKeySequence(spec.shortcut)
        action.trigger()
        assert window.current_key() == spec.key


def test_standard_shortcuts_in_menus(window):
    actions = window.actions_by_name
    assert actions["new"].shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert actions["search"].shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert actions["save"].shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert actions["print"].shortcut() == QKeySequence(QKeySequence.StandardKey.Print)
    assert actions["meeting_mode"].shortcut() == QKeySequence("F11")
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[:3] == ["&Fichier", "&Affichage", "Aid&e"]


def test_status_bar_names_database_and_user(window, db):
    assert db.display_name in window.db_label.text()
    assert "Camille Conseillère" in window.user_label.text()
    assert "Conseillère sociale" in window.user_label.text()
    assert "Metz" in window.user_label.text()


def test_dashboard_shows_figures_from_the_database(window):
    window.show_screen("dashboard")
    screen = window.stack.currentWidget()
    assert "Agence de Metz" in screen.heading.text()
    assert "Structures partenaires actives" in screen.partners_card.body.text()


def test_dashboard_refreshes_on_changes_only_when_shown(window, db):
    from cus_desk.store.models.core import Partner

    window.show_screen("dashboard")
    dashboard = window.stack.currentWidget()
    before = dashboard.partners_card.body.text()
    window.show_screen("cases")
    with db.write_session() as session:
        session.add(Partner(name="Association Nouvelle", category="insertion", active=True))
    window.ctx.bus.data_changed.emit("partners")
    assert dashboard.partners_card.body.text() == before  # hidden: not recomputed
    window.show_screen("dashboard")
    after = dashboard.partners_card.body.text()
    assert after != before  # shown again: up to date
    with db.write_session() as session:
        session.add(Partner(name="Association Suivante", category="insertion", active=True))
    window.ctx.bus.data_changed.emit("partners")
    assert dashboard.partners_card.body.text() != after  # visible: refreshed at once


def test_geometry_and_last_screen_are_kept(qtbot, db, actors):
    first = MainWindow()
    qtbot.addWidget(first)
    first.attach(AppContext(db=db, actor=actors["social_head"]))
    first.resize(700, 500)
    first.show_screen("partners")
    first.close()
    assert app_settings().value("main/last_screen") == "partners"
    second = MainWindow()
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (700, 500)
    second.attach(AppContext(db=db, actor=actors["social_head"]))
    assert second.current_key() == "partners"


def test_about_dialog(qtbot, window, monkeypatch):
    from cus_desk import __version__
    from cus_desk.ui import about

    shown = {}

    def fake_exec(dialog):  # inspect the real dialog instead of blocking on it
        shown["text"] = dialog.text.text()
        return 0

    monkeypatch.setattr(about.AboutDialog, "exec", fake_exec)
    window.actions_by_name["about"].trigger()
    assert __version__ in shown["text"]
    assert "Dossier des données" in shown["text"]


def test_dashboard_on_demo_data_shows_every_feature(qtbot, demo_db):
    from cus_desk.demo import DEMO_LOGIN
    from cus_desk.services.auth import actor_for_login

    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=demo_db, actor=actor_for_login(demo_db, DEMO_LOGIN), demo=True))
    win.show_screen("dashboard")
    screen = win.stack.currentWidget()
    assert "DÉMONSTRATION" in win.db_label.text()
    cases_text = screen.cases_card.body.text()
    assert "À présenter en CAS" in cases_text and "<b>0</b>" not in cases_text.split("<br>")[0]
    assert "Premiers impayés" in screen.seniors_card.body.text()
    assert "Séance n°" in screen.meeting_card.body.text()


def test_dashboard_hides_cases_from_recovery(qtbot, db, actors):
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=db, actor=actors["recovery_metz"]))
    screen = win.screen("dashboard")
    assert "ne donne pas accès aux dossiers" in screen.cases_card.body.text()
    assert "Aucun extrait" in screen.seniors_card.body.text()


def test_dashboard_for_the_administrator(qtbot, db, actors):
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=db, actor=actors["admin"]))
    screen = win.screen("dashboard")
    assert "ne donne pas accès aux dossiers" in screen.cases_card.body.text()
    assert "ne donne pas accès aux séances" in screen.meeting_card.body.text()
    assert "ne donne pas accès aux décisions" in screen.followup_card.body.text()
    assert "Dernière sauvegarde : <b>aucune</b>" in screen.admin_card.body.text()
