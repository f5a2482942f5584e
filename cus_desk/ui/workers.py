"""Long work off the GUI thread: a QRunnable on the global QThreadPool,
results and errors delivered back on the GUI thread, optional progress
dialog with a cancel button."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget


class Progress:
    """Handed to the work function: report progress, check for cancel.
    Thread-safe: written by the worker, read by the GUI."""

    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self._cancel = threading.Event()

    def report(self, done: int, total: int) -> None:
        self._relay.progress.emit(int(done), int(total))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], relay: _Relay, progress: Progress,
                 ended: threading.Event) -> None:
        super().__init__()
        self.fn, self.relay, self.progress, self.ended = fn, relay, progress, ended

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(self.progress)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)
        finally:
            # This thread lets go of the relay (a QObject) and of the work
            # function (a closure that may hold a widget) before saying it is
            # done; the task holds them too and releases them only after
            # that, on the GUI thread. Otherwise the last reference could
            # drop here, and a Qt object would be destroyed off its thread.
            self.fn = self.relay = self.progress = None
            self.ended.set()


class BackgroundTask(QObject):
    """Handle on a running job. It lives on the GUI thread, so the relay's
    signals, emitted by the worker, are queued to its slots there."""

    finished = Signal()

    def __init__(
        self,
        parent: QWidget | None,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        # Not parented to the widget: if the widget is closed while the job
        # runs, the task must outlive it to receive the job's last signal.
        super().__init__(None)
        self._widget = parent
        self._widget_alive = parent is not None
        if parent is not None:
            parent.destroyed.connect(self._widget_gone)
        self.relay = _Relay()
        self.progress = Progress(self.relay)
        self.job_ended = threading.Event()
        self._fn: Callable[[Progress], Any] | None = None
        self.dialog: QProgressDialog | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self._on_done, self._on_error = on_done, on_error
        self.relay.done.connect(self._done)
        self.relay.failed.connect(self._failed)
        self.relay.progress.connect(self._progress)

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        if self.dialog is not None and total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))

    @Slot()
    def _widget_gone(self) -> None:
        self._widget_alive = False
        self.dialog = None  # deleted with its parent

    @property
    def _can_deliver(self) -> bool:
        """Callbacks touch the widget that asked: not when it is gone."""
        return self._widget is None or self._widget_alive

    def _finish(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self._release()
        self.finished.emit()

    def _release(self) -> None:
        """Forget this task once the worker has let go of its side too."""
        if self.job_ended.is_set():
            self._fn = None
            _running.discard(self)
        else:  # the worker is between its last signal and its end: a moment
            QTimer.singleShot(5, self._release)

    @Slot(object)
    def _done(self, result: Any) -> None:
        self.result = result
        self._finish()
        if self._can_deliver:
            self._on_done(result)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self._finish()
        if not self._can_deliver:
            return
        if self._on_error is not None:
            self._on_error(exc)
        else:
            from cus_desk.ui.common import show_error

            show_error(self._widget, exc)


_running: set[BackgroundTask] = set()


def run_in_background(
    parent: QWidget | None,
    fn: Callable[[Progress], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
    progress_text: str | None = None,
    cancellable: bool = False,
) -> BackgroundTask:
    """Run ``fn(progress)`` on a worker thread; ``on_done(result)`` or
    ``on_error(exc)`` run on the GUI thread. ``fn`` must not touch widgets
    and opens its own database session (services do)."""
    task = BackgroundTask(parent, on_done, on_error)
    _running.add(task)
    if progress_text is not None:
        dialog = QProgressDialog(progress_text, "Annuler" if cancellable else None, 0, 0, parent)
        dialog.setWindowTitle("CUS Desk")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setAccessibleName(progress_text)
        if cancellable:
            dialog.canceled.connect(task.progress.cancel)
        task.dialog = dialog
    task._fn = fn
    QThreadPool.globalInstance().start(_Job(fn, task.relay, task.progress, task.job_ended))
    return task
