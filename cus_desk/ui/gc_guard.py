"""Python's cyclic garbage collector runs in whichever thread happens to
allocate when a threshold trips. If that is a worker thread and the garbage
holds Qt wrappers (a dialog, an event, mime data), their C++ objects are
destroyed off the GUI thread and the GUI crashes later. So automatic
collection is switched off and done here, on the GUI thread, on a timer —
the approach Anki takes for the same reason."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds,
        as the automatic collector would, but on this thread."""
        count0, count1, count2 = gc.get_count()
        collected = 0
        if count0 > self.threshold[0]:
            collected = gc.collect(0)
            if count1 > self.threshold[1]:
                collected += gc.collect(1)
                if count2 > self.threshold[2]:
                    collected += gc.collect(2)
        return collected
