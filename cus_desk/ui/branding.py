"""The application's icon, shown in the title bar, the task bar and the
About box (drawn by packaging/make_icon.py)."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon, QPixmap

from cus_desk.paths import resources

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Windows groups task-bar buttons by this id; without it a program started
# by python.exe shows Python's icon there.
APP_USER_MODEL_ID = "CUSDesk.CUSDesk"


def _icon_file(size: int) -> str:
    return str(resources() / "icons" / f"cus-desk-{size}.png")


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(_icon_file(size))
    return icon


def icon_pixmap(size: int) -> QPixmap:
    return QPixmap(_icon_file(size))


def set_windows_app_id() -> None:
    if sys.platform != "win32":
        return
    try:
        import ctypes

        ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(APP_USER_MODEL_ID)
    except (AttributeError, OSError):  # an old Windows: the icon is only less tidy
        pass
