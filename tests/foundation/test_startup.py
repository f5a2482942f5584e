"""The GUI start-up sequence: window first, database opened off the GUI
thread, then the first screen; a damaged file leads to the restore offer."""

from __future__ import annotations

import shutil

import pytest

from cus_desk.store.db import open_database, sqlite_url
from cus_desk.ui import app as app_module
from cus_desk.ui.main_window import MainWindow
from tests.frozen_time import frozen_clock

pytestmark = pytest.mark.gui


def _start(qtbot, url, demo=False, clock=None):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    startup = app_module.Startup(window, url, demo, clock=clock or frozen_clock())
    startup.start()
    qtbot.waitUntil(lambda: startup.ctx is not None or startup.error is not None, timeout=60_000)
    return window, startup


def test_demo_start_fills_the_dashboard(qtbot, tmp_path):
    window, startup = _start(qtbot, sqlite_url(tmp_path / "demo.sqlite3"), demo=True)
    assert startup.error is None
    assert startup.ctx.actor.login == "cs.metz"
    assert window.current_key() is not None
    assert "DÉMONSTRATION" in window.db_label.text()
    startup.db.dispose()


def test_damaged_file_is_restored_from_backup_then_opened(qtbot, tmp_path, monkeypatch):
    good = tmp_path / "good.sqlite3"
    open_database(sqlite_url(good)).dispose()
    target = tmp_path / "base.sqlite3"
    target.write_bytes(b"garbage, not a database" * 100)
    offered = []

    def user_accepts_restore(parent, url, error, clock):  # the dialog's "Restaurer" button
        offered.append(error.message)
        shutil.copy(good, target)
        return True

    monkeypatch.setattr("cus_desk.ui.login.offer_restore", user_accepts_restore)
    monkeypatch.setattr(app_module, "obtain_actor", lambda window, db, demo: _admin(db))
    window, startup = _start(qtbot, sqlite_url(target))
    assert offered and "n'est pas une base CUS Desk" in offered[0]
    assert startup.error is None and startup.ctx is not None
    startup.db.dispose()


def test_damaged_file_refused_closes_without_writing(qtbot, tmp_path, monkeypatch):
    target = tmp_path / "base.sqlite3"
    content = b"garbage, not a database" * 100
    target.write_bytes(content)
    monkeypatch.setattr("cus_desk.ui.login.offer_restore", lambda parent, url, error, clock: False)
    window, startup = _start(qtbot, sqlite_url(target))
    assert startup.ctx is None and startup.error is not None
    assert target.read_bytes() == content
    assert not window.isVisible()


def _admin(db):
    from cus_desk.domain.roles import Role
    from cus_desk.services.auth import create_user

    return create_user(db, "admin.test", "Admin", Role.ADMIN, "Mot-de-passe-tres-long-1")


def test_a_stale_demo_is_rebuilt_and_the_status_bar_says_so(qtbot, tmp_path):
    from datetime import date

    url = sqlite_url(tmp_path / "demo.sqlite3")
    window, startup = _start(qtbot, url, demo=True, clock=frozen_clock(date(2026, 10, 1)))
    assert startup.error is None and window.statusBar().currentMessage() == ""
    startup.db.dispose()
    window.close()
    window, startup = _start(qtbot, url, demo=True, clock=frozen_clock(date(2026, 11, 20)))
    assert startup.error is None
    message = window.statusBar().currentMessage()
    assert "recréées pour le 20/11/2026" in message
    startup.db.dispose()
