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


def test_flats_column_shows_the_cus_figure_apart(qtbot, db, actors):
    from cus_desk.services.partners import FlatInput, PartnerService

    svc = PartnerService(db, actors["social_head"])
    aiem = next(r for r in svc.list_partners("aiem") if r.seed_key == "aiem")
    metz = next(a.id for a in svc.agencies() if a.name == "Metz")
    svc.add_flat(aiem.id, FlatInput("Metz", "sous_location", metz), svc.get(aiem.id).version)
    row = next(r for r in svc.list_partners("aiem") if r.seed_key == "aiem")
    assert (row.flat_count, row.cus_flat_count) == (1, 59)  # not « 60 »
    screen = PartnersScreen(AppContext(db, actors["social_head"]))
    qtbot.addWidget(screen)
    model = screen.model
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10000)
    texts = {model.data(model.index(i, 0)): model.data(model.index(i, 5)) for i in range(model.rowCount())}
    assert texts["AIEM"] == "1 (CUS 2020 : 59)"
