"""Does a window fit a screen? Shared by tests/foundation/test_screen_sizes.py
and, run as a script, its subprocess at 150 % (QT_SCALE_FACTOR=1.5).

A window fits a (logical) size when its minimum size hint is within it and,
resized to it, no control is pushed out of the window or squeezed below its
own minimum (a clipped header, a cut card). Controls inside a scrolling area
are allowed to scroll out of sight: that is what the area is for.
Screenshots go to ``$CUS_DESK_SCREENSHOTS`` (a folder) when set."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = ((1024, 768), (1280, 720), (1366, 768), (1920, 1080))
KEY_CLASSES = ("QPushButton", "QLineEdit", "QComboBox", "QCheckBox", "QLabel", "QTabBar",
               "QTableView", "QListWidget", "QPlainTextEdit", "QTextEdit")


def problems(window, width: int, height: int) -> list[str]:
    """What does not fit when ``window`` is ``width``×``height`` (logical)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

    found: list[str] = []
    hint = window.minimumSizeHint()
    if hint.width() > width or hint.height() > height:
        found.append(f"taille minimale {hint.width()}×{hint.height()} > {width}×{height}")
    window.resize(width, height)
    QApplication.processEvents()
    if window.width() > width or window.height() > height:
        found.append(f"fenêtre {window.width()}×{window.height()} plus grande que {width}×{height}")
    inside = QRect(0, 0, window.width(), window.height())
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or type(widget).__name__ not in KEY_CLASSES:
            continue
        parent = widget.parentWidget()
        scrolled = False
        while parent is not None and parent is not window:
            if isinstance(parent, QAbstractScrollArea):
                scrolled = True
                break
            parent = parent.parentWidget()
        if scrolled:
            continue
        name = widget.accessibleName() or widget.objectName() or type(widget).__name__
        text = getattr(widget, "text", lambda: "")()
        label = f"{type(widget).__name__} « {(name or text)[:40]} »"
        rect = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
        if not inside.contains(rect):
            found.append(f"{label} sort de la fenêtre ({rect.getRect()} hors de {width}×{height})")
        minimum = widget.minimumSizeHint()
        if widget.width() + 1 < min(minimum.width(), widget.maximumWidth()):
            found.append(f"{label} écrasé : {widget.width()} px < {minimum.width()} px")
    return found


def clipped_labels(mode) -> list[str]:
    """The summary cards of the séance whose text is cut off (a wrapped
    label given less height than its text needs)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):  # the layouts settle in a few passes
        QApplication.processEvents()
    return [label.accessibleName() for label in (mode.debt, mode.plans, mode.proposal, mode.previous,
                                                  mode.journal, mode.current)
            if label.isVisible() and label.height() < label.heightForWidth(label.width())]


def shoot(window, name: str) -> Path | None:
    folder = os.environ.get("CUS_DESK_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    return path


def open_windows(url: str, login: str):
    """The main window on every screen in turn, then the séance window of
    the latest session with an agenda."""
    from cus_desk.services.auth import actor_for_login
    from cus_desk.store.db import open_database
    from cus_desk.ui.context import AppContext
    from cus_desk.ui.main_window import MainWindow
    from tests.frozen_time import frozen_clock

    db = open_database(url, clock=frozen_clock())
    window = MainWindow()
    window.attach(AppContext(db=db, actor=actor_for_login(db, login), demo=True))
    return db, window


def main() -> int:
    """``python -m tests.screen_fit URL LOGIN WIDTH HEIGHT`` with
    QT_SCALE_FACTOR set: prints one line per problem, exit 1 if any."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    url, login, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    app = QApplication(sys.argv[:1])
    ratio = app.devicePixelRatio()
    logical = (round(width / ratio), round(height / ratio))
    print(f"ratio {ratio} logical {logical[0]}x{logical[1]}")
    db, window = open_windows(url, login)
    window.show()
    found = []
    for key in ("dashboard", "cases", "meetings", "seniors", "partners"):
        window.show_screen(key)
        found += [f"{key} : {p}" for p in problems(window, *logical)]
        shoot(window, f"main_{key}_{width}x{height}_x{ratio:g}")
    mode = seance_window(window)
    if mode is not None:
        found += [f"mode séance : {p}" for p in problems(mode, *logical)]
        shoot(mode, f"seance_{width}x{height}_x{ratio:g}")
        mode.close()
    for line in found:
        print(line)
    window.close()
    db.dispose()
    return 1 if found else 0


def seance_window(window):
    from PySide6.QtWidgets import QApplication

    from cus_desk.ui.meetings.meeting_mode import MeetingModeWindow

    window.show_screen("meetings")
    screen = window.stack.currentWidget()
    detail = screen.detail
    if detail is None or not detail.agenda:
        return None
    mode = MeetingModeWindow(screen.ctx, detail.id, [a.case_id for a in detail.agenda], 0)
    mode.show()
    QApplication.processEvents()
    return mode


if __name__ == "__main__":
    sys.exit(main())
