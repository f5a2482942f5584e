"""Small widgets of the seniors screen."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cus_desk.domain.formatting import format_cents, format_date


class Sparkline(QWidget):
    """Balance history of a lease, oldest to newest: a line over the
    extracts, a dashed zero line, the points owed in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[date, int]] = []
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Évolution du solde")

    def sizeHint(self) -> QSize:
        return QSize(260, 64)

    def set_history(self, points: list[tuple[date, int]]) -> None:
        self._points = list(points)
        text = " ; ".join(f"{format_date(d)} : {format_cents(c)}" for d, c in self._points)
        self.setToolTip(text or "Aucun extrait")
        self.setAccessibleDescription(text or "Aucun extrait")
        self.update()

    def points(self) -> list[tuple[date, int]]:
        return list(self._points)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        painter.fillRect(self.rect(), self.palette().base())
        if not self._points:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Aucun extrait importé pour ce bail")
            return
        values = [c for _, c in self._points]
        low, high = min(0, *values), max(0, *values)
        span = (high - low) or 1
        n = len(values)

        def at(i: int, value: int) -> QPointF:
            x = rect.left() + (rect.width() * i / (n - 1) if n > 1 else rect.width() / 2)
            y = rect.bottom() - (value - low) / span * rect.height()
            return QPointF(x, y)

        zero = at(0, 0).y()
        painter.setPen(QPen(QColor("#9e9e9e"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(rect.left(), zero), QPointF(rect.right(), zero))
        path = QPainterPath(at(0, values[0]))
        for i, v in enumerate(values[1:], start=1):
            path.lineTo(at(i, v))
        painter.setPen(QPen(QColor("#1f3a5f"), 2))
        painter.drawPath(path)
        for i, v in enumerate(values):
            painter.setBrush(QColor("#b3261e") if v > 0 else QColor("#2e7d32"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(at(i, v), 3.5, 3.5)
