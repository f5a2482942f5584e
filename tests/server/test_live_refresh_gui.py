"""Two clients on one server: what one saves appears on the other's open
screen within two seconds, without touching it."""

from __future__ import annotations

import time

import pytest

from cus_desk.services.partners import PartnerInput, PartnerService
from cus_desk.store.db import open_database
from cus_desk.ui.context import AppContext
from cus_desk.ui.live_refresh import SERVER_LOST, LiveRefresh
from cus_desk.ui.partners.screen import PartnersScreen

pytestmark = pytest.mark.gui


def _names(screen) -> set[str]:
    model = screen.model
    return {model.index(r, 0).data() for r in range(model.rowCount())}


def test_a_partner_saved_on_one_client_appears_on_the_other(qtbot, db, actors, clock):
    # Client B: its own connection pool, its own window, listening.
    other = open_database(db.url, clock=clock)
    ctx_b = AppContext(db=other, actor=actors["social_head"])
    screen = PartnersScreen(ctx_b)
    qtbot.addWidget(screen)
    screen.show()
    live = LiveRefresh(ctx_b)
    live.listener._own = "client-b"  # this process plays both clients
    live.start()
    try:
        assert live.listener.listening.wait(5)
        assert "CCAS de Hayange (nouveau)" not in _names(screen)
        # Client A saves.
        started = time.monotonic()
        PartnerService(db, actors["adviser_metz"]).create(PartnerInput("CCAS de Hayange (nouveau)", "ccas"))
        qtbot.waitUntil(lambda: "CCAS de Hayange (nouveau)" in _names(screen), timeout=2_000)
        assert time.monotonic() - started < 2.0
    finally:
        live.stop()
        other.dispose()


def test_the_status_bar_says_when_the_server_is_lost_and_back(qtbot, db, actors):
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    live = LiveRefresh(AppContext(db=db, actor=actors["social_head"]), window)
    live.connection_changed.emit(True)
    assert window.statusBar().currentMessage() == ""  # the first connection is no news
    live.connection_changed.emit(False)
    assert window.statusBar().currentMessage() == SERVER_LOST
    live.connection_changed.emit(True)
    assert "rétablie" in window.statusBar().currentMessage()
