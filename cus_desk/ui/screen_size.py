"""First sizes of windows that fit the screen they open on (#14): a size
chosen for 1920×1080 never leaves a window taller than a 1366×768 laptop
or a 1920×1080 screen at 150 % (1280×720 logical pixels)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def available(widget: QWidget) -> QRect:
    """The free area (without task bars) of the screen ``widget`` is on."""
    anchor = widget.parentWidget() or widget
    screen = QWidget.screen(anchor) or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)


def capped(width: int, height: int, area: QRect) -> QSize:
    """``width``×``height``, but at most 95 % × 92 % of ``area``."""
    return QSize(min(width, int(area.width() * 0.95)), min(height, int(area.height() * 0.92)))


def initial_size(widget: QWidget, width: int, height: int) -> None:
    widget.resize(capped(width, height, available(widget)))
