"""The window's start on a secured server whose address names no account:
the person's login and password open her own server account, then her
CUS Desk session (issue 15)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cus_desk.ui import app as app_module
from cus_desk.ui.login import PersonalLoginDialog
from cus_desk.ui.main_window import MainWindow
from tests.server.test_server_rights import PASSWORD, secured, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.gui


def test_the_login_dialog_opens_the_persons_server_account(qtbot, db, secured, world, clock,  # noqa: F811
                                                           tmp_path):
    person = secured["adviser_metz"]
    owner = make_url(db.url)
    bare = f"postgresql+psycopg://{owner.host}:{owner.port}/{owner.database}"
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    shown = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PersonalLoginDialog):
            QTimer.singleShot(20, answer)
            return
        shown.append(dialog.message.text())
        dialog.grab().save(str(tmp_path / f"login{len(shown)}.png"))
        dialog.login.setText(person.login)
        # First a wrong password (refused, asked again), then the right one.
        dialog.password.setText("pas-le-bon-mot" if len(shown) == 1 else PASSWORD)
        if len(shown) == 1:
            QTimer.singleShot(50, answer)
        dialog.ok.click()

    QTimer.singleShot(0, answer)
    startup = app_module.Startup(window, bare, False, clock=clock)
    startup.start()
    qtbot.waitUntil(lambda: startup.ctx is not None or startup.error is not None
                    or not window.isVisible(), timeout=60_000)
    try:
        assert startup.ctx is not None, startup.error
        assert startup.ctx.actor.login == person.login
        assert shown[0] == ""
        assert "incorrect" in shown[1]
        with startup.db.read_session() as s:
            assert s.execute(text("SELECT session_user")).scalar() == person.account
        assert "cus_u_" not in startup.db.display_name or person.account in startup.db.display_name
        assert PASSWORD not in startup.db.display_name
    finally:
        if startup.db is not None:
            startup.db.dispose()
