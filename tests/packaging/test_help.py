"""Help at F1: the French guide, opened at the page of the screen on
display, the user's own role guide under Aide › Guide (pytest-qt, offscreen)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from cus_desk.domain.roles import Role
from cus_desk.ui import help as help_ui
from cus_desk.ui.context import AppContext
from cus_desk.ui.main_window import MainWindow
from cus_desk.ui.screens import SCREENS

HELP_DIR = help_ui.help_dir()


def test_every_screen_and_role_has_its_page():
    for spec in SCREENS:
        assert help_ui.page_for_screen(spec.key) == f"ecran-{spec.key}.md"
    for role in Role:
        assert help_ui.page_for_role(role) == f"role-{role.value}.md"
    assert help_ui.page_for_screen("unknown") == help_ui.INDEX
    assert help_ui.page_for_role(None) == help_ui.INDEX


def test_every_link_in_the_guide_leads_to_a_page():
    pages = {p.name for p in HELP_DIR.glob("*.md")}
    listed = {p for p, _ in help_ui.ROLE_PAGES + help_ui.TASK_PAGES + help_ui.SCREEN_PAGES}
    assert listed | {help_ui.INDEX} == pages
    for page in pages:
        text = (HELP_DIR / page).read_text(encoding="utf-8")
        assert text.startswith("# "), page
        for target in re.findall(r"\]\(([^)]+)\)", text):
            assert target in pages, f"{page}: broken link {target}"


def test_the_guide_covers_the_four_tasks():
    index = (HELP_DIR / help_ui.INDEX).read_text(encoding="utf-8")
    for page, _title in help_ui.TASK_PAGES:
        assert f"({page})" in index
    assert "Importer un extrait" in (HELP_DIR / "tache-importer-extrait.md").read_text(encoding="utf-8")
    assert "Signaler…" in (HELP_DIR / "tache-signalement.md").read_text(encoding="utf-8")


@pytest.fixture
def window(qtbot, db, actors):
    win = MainWindow()
    qtbot.addWidget(win)
    win.attach(AppContext(db=db, actor=actors["adviser_metz"]))
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.mark.gui
def test_f1_opens_the_help_of_the_screen_on_display(qtbot, window):
    window.show_screen("seniors")
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.help_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.current_page() == "ecran-seniors.md"
    assert "Seniors 65+" in dialog.browser.toPlainText()
    assert dialog.topics.currentItem().text() == "Écran Seniors 65+"
    # another screen, F1 again: the same dialog, at that screen's page
    window.show_screen("meetings")
    window.actions_by_name["help"].trigger()
    assert window.help_dialog is dialog
    assert dialog.current_page() == "ecran-meetings.md"
    assert "Commission d'Action Sociale" in dialog.browser.toPlainText()


@pytest.mark.gui
def test_guide_menu_opens_the_users_role_guide_and_links_work(qtbot, window):
    menu_texts = [a.text() for a in window.help_menu.actions()]
    assert "&Guide de l'utilisateur" in menu_texts and "&Aide sur cet écran" in menu_texts
    window.actions_by_name["guide"].trigger()
    dialog = window.help_dialog
    assert dialog.current_page() == "role-conseillere_sociale.md"
    assert dialog.topics.item(1).text() == "Mon guide"
    assert dialog.windowTitle() == "Aide — Guide de la conseillère sociale — CUS Desk"
    assert "Guide de la conseillère sociale" in dialog.browser.toPlainText()
    # follow a link inside the page, then come back
    dialog.browser.setSource(dialog.browser.source().resolved("tache-preparer-cas.md"))
    assert "Ordre du jour" in dialog.browser.toPlainText()
    assert dialog.back_button.isEnabled()
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert dialog.current_page() == "role-conseillere_sociale.md"
    # a topic chosen on the left
    row = next(r for r in range(dialog.topics.count())
               if dialog.topics.item(r).text() == "Envoyer un signalement")
    dialog.topics.setCurrentRow(row)
    assert dialog.current_page() == "tache-signalement.md"
    assert "fiche de signalement" in dialog.browser.toPlainText()


@pytest.mark.gui
def test_window_and_about_box_show_the_icon_and_name(qtbot, window):
    from cus_desk.ui.about import AboutDialog

    assert window.windowTitle() == "CUS Desk"
    assert not window.windowIcon().isNull()
    assert {s.width() for s in window.windowIcon().availableSizes()} >= {16, 32, 48, 256}
    assert window.brand_name.text() == "CUS Desk"  # above the navigation
    about = AboutDialog("test.sqlite3", window)
    qtbot.addWidget(about)
    assert not about.icon.pixmap().isNull()
    assert "CUS Desk" in about.text.text()


def test_the_guide_is_package_data():
    from cus_desk import paths

    assert paths.resource_text("help/index.md").startswith("# Aide de CUS Desk")
