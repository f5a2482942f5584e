"""Issue 14: every screen and the séance window fit 1024×768, 1280×720,
1366×768 and 1920×1080 at 100 %, and 1920×1080 at 150 % (a subprocess with
QT_SCALE_FACTOR=1.5: 1280×720 logical pixels, the fonts and icons really
scaled). Screenshots of each go to ``$CUS_DESK_SCREENSHOTS`` or, without
it, to this run's temporary folder (printed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from cus_desk.demo import DEMO_LOGIN
from cus_desk.ui.main_window import default_size
from tests import screen_fit

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shots(tmp_path_factory, monkeypatch):
    folder = os.environ.get("CUS_DESK_SCREENSHOTS") or str(tmp_path_factory.mktemp("screenshots"))
    monkeypatch.setenv("CUS_DESK_SCREENSHOTS", folder)
    print(f"\ncaptures d'écran : {folder}")
    return Path(folder)


@pytest.mark.parametrize("login", [DEMO_LOGIN, "pole.social"])
def test_every_screen_and_the_seance_fit_every_size(qtbot, demo_db, shots, login):
    db, window = screen_fit.open_windows(demo_db.url, login)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    found: list[str] = []
    for width, height in screen_fit.SIZES:
        for key in ("dashboard", "cases", "meetings", "seniors", "partners"):
            window.show_screen(key)
            found += [f"{width}×{height} {key} : {p}" for p in screen_fit.problems(window, width, height)]
            screen_fit.shoot(window, f"{login}_{key}_{width}x{height}")
    mode = screen_fit.seance_window(window)
    assert mode is not None, "the demo has a session with an agenda"
    qtbot.addWidget(mode)
    for width, height in screen_fit.SIZES:
        found += [f"{width}×{height} mode séance : {p}" for p in screen_fit.problems(mode, width, height)]
        screen_fit.shoot(mode, f"{login}_seance_{width}x{height}")
        for n in range(3):  # no card's text cut off, whatever the case on screen
            mode.index = n
            mode.load()
            found += [f"{width}×{height} mode séance, dossier {n + 1} : « {name} » coupé"
                      for name in screen_fit.clipped_labels(mode)]
        mode.index = 0
        mode.load()
        # the summary is read without a horizontal scroll bar
        found += [f"{width}×{height} mode séance : défilement horizontal"
                  for area in mode.findChildren(QAbstractScrollArea)
                  if area.horizontalScrollBar().isVisible()]
    mode.close()
    db.dispose()
    assert not found, "\n".join(found)


def test_the_seance_keeps_two_columns_on_a_wide_screen_and_one_on_a_narrow_one(qtbot, demo_db):
    db, window = screen_fit.open_windows(demo_db.url, DEMO_LOGIN)
    qtbot.addWidget(window)
    mode = screen_fit.seance_window(window)
    qtbot.addWidget(mode)
    mode.resize(1920, 1080)
    QApplication.processEvents()
    assert mode._columns == 2 and mode.scale == 1.0
    mode.resize(640, 480)
    QApplication.processEvents()
    assert mode._columns == 1 and mode.scale < 1.0
    mode.close()
    db.dispose()


@pytest.mark.parametrize("screen,expected", [
    ((1366, 728), (1229, 655)),    # 1366×768 less a 40-px task bar
    ((1280, 680), (1152, 612)),    # 1920×1080 at 150 %
    ((1024, 728), (921, 655)),
    ((2560, 1400), (1600, 1000)),
])
def test_the_first_window_is_a_share_of_the_screen(screen, expected):
    size = default_size(QRect(0, 0, *screen))
    assert (size.width(), size.height()) == expected


@pytest.mark.sqlite_only(reason="the subprocess opens the demo file")
def test_everything_fits_1920x1080_at_150_percent(demo_db, shots):
    env = dict(os.environ, QT_SCALE_FACTOR="1.5", QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "tests.screen_fit", demo_db.url, DEMO_LOGIN, "1920", "1080"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.stdout.startswith("ratio 1.5 logical 1280x720"), result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert (shots / "seance_1920x1080_x1.5.png").exists()


@pytest.mark.parametrize("screen", [(1366, 728), (1280, 680), (1024, 728)])
def test_a_size_chosen_for_a_large_screen_is_capped(screen):
    from cus_desk.ui.screen_size import capped

    area = QRect(0, 0, *screen)
    size = capped(1100, 760, area)
    assert size.width() <= area.width() and size.height() <= area.height()
    assert capped(600, 400, area).toTuple() == (600, 400)  # a small window keeps its size


def test_the_case_windows_open_within_the_screen(qtbot, db, actors):
    """The offscreen screen is 800×600: the case file (1100×760 wanted) and
    the new-case form (900×720) open within it."""
    from cus_desk.services.cases import CaseService
    from cus_desk.ui.cases.case_dialog import CaseDialog
    from cus_desk.ui.cases.new_case import NewCaseDialog
    from cus_desk.ui.context import AppContext
    from tests.cases.conftest import new_case_input

    area = QApplication.primaryScreen().availableGeometry()
    ctx = AppContext(db, actors["adviser_metz"])
    case_id = CaseService(db, actors["adviser_metz"]).create_case(new_case_input(db))
    for dialog in (CaseDialog(ctx, case_id), NewCaseDialog(ctx)):
        qtbot.addWidget(dialog)
        assert dialog.width() <= area.width() and dialog.height() <= area.height(), (
            type(dialog).__name__, dialog.size(), area)

