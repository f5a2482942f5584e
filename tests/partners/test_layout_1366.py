"""At 1366×768 the partner's name is readable in the list (#13): it used
to shrink to « … » while the fixed columns kept their width."""

from __future__ import annotations

import pytest

from cus_desk.ui.context import AppContext
from cus_desk.ui.partners.screen import PartnersScreen

pytestmark = pytest.mark.gui


def test_the_name_column_keeps_its_width_on_a_small_screen(qtbot, db, actors):
    screen = PartnersScreen(AppContext(db, actors["social_head"]))
    qtbot.addWidget(screen)
    screen.resize(1366 - 200, 700)  # the main window's navigation takes about 200 px
    screen.show()
    qtbot.waitExposed(screen)
    width = screen.list_view.columnWidth(0)
    assert width >= 220
    name = "Association Est Accompagnement"  # a CUS partner's full name
    assert screen.list_view.fontMetrics().horizontalAdvance(name) < width
