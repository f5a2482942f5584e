"""Pages that say « n / N »: reportlab draws a page before it knows how
many there will be, so the pages are kept and decorated in a second pass."""

from __future__ import annotations

from collections.abc import Callable


def numbered_canvas(decorate: Callable[..., None]):
    """A canvas class for ``doc.build(..., canvasmaker=…)`` that calls
    ``decorate(canvas, total)`` on every page once the total is known."""
    from reportlab.pdfgen import canvas as rl_canvas

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab API
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                decorate(self, total)
                super().showPage()
            super().save()

    return NumberedCanvas
