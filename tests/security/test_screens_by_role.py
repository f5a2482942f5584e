"""Every role can open every screen of the main window. Where the role may
not see a screen's content, the window says so and why in French — never
an exception in the event loop (pytest-qt fails the test on one) nor an
empty list that looks like missing data."""

from __future__ import annotations

import pytest

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services.auth import actor_for_login
from cus_desk.services.cases import CaseFilter, CaseService
from cus_desk.ui.context import AppContext
from cus_desk.ui.main_window import MainWindow, NoAccessScreen, app_settings
from cus_desk.ui.screens import SCREENS, screen_class

# demo login: the screens its role may not open
CLOSED = {
    "admin": {"cases", "meetings", "seniors"},
    "cs.metz": set(),
    "pole.social": set(),
    "cas.securite": {"seniors"},
    "recouvrement.metz": {"cases"},
}


@pytest.mark.parametrize("login", sorted(CLOSED))
def test_every_screen_opens_for_every_role(qtbot, demo_db, login):
    window = MainWindow()
    qtbot.addWidget(window)
    window.attach(AppContext(db=demo_db, actor=actor_for_login(demo_db, login), demo=True))
    window.show()
    for row, spec in enumerate(SCREENS):
        window.show_screen(spec.key)
        widget = window.stack.currentWidget()
        assert widget.objectName() == f"screen_{spec.key}"
        tooltip = window.nav.item(row).toolTip()
        if spec.key in CLOSED[login]:
            assert isinstance(widget, NoAccessScreen)
            assert "non accessible avec votre profil" in widget.title.text()
            assert widget.explanation.text().startswith(spec.denied_text)
            assert "non accessible" in tooltip
        else:
            assert isinstance(widget, screen_class(spec))
            assert "non accessible" not in tooltip


def test_last_screen_of_another_user_is_not_reopened(qtbot, demo_db):
    app_settings().setValue("main/last_screen", "cases")  # an adviser used this PC before
    window = MainWindow()
    qtbot.addWidget(window)
    window.attach(AppContext(db=demo_db, actor=actor_for_login(demo_db, "admin"), demo=True))
    assert window.current_key() == "dashboard"


@pytest.mark.parametrize("login", ["admin", "recouvrement.metz"])
def test_case_list_refused_in_the_service_with_a_french_reason(demo_db, login):
    service = CaseService(demo_db, actor_for_login(demo_db, login))
    with pytest.raises(AccessDeniedError, match="ne donne pas accès aux dossiers CAS"):
        service.list_cases(CaseFilter(), "reference", False, 0, 50)
