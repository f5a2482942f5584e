"""Background work returns on the GUI thread, errors too, cancel is seen."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QWidget

from cus_desk.domain.errors import ValidationError
from cus_desk.ui.workers import run_in_background

pytestmark = pytest.mark.gui


def test_result_comes_back_on_gui_thread(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    gui = threading.get_ident()
    seen = {}

    def work(progress):
        seen["worker"] = threading.get_ident()
        progress.report(1, 2)
        return 42

    def done(value):
        seen["value"], seen["done_thread"] = value, threading.get_ident()

    run_in_background(parent, work, done, progress_text="Calcul…")
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen["value"] == 42
    assert seen["worker"] != gui and seen["done_thread"] == gui


def test_error_is_delivered(qtbot):
    errors = []
    task = run_in_background(None, lambda p: (_ for _ in ()).throw(ValidationError("Date invalide")),
                             lambda v: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValidationError) and task.error is errors[0]


def test_cancel_is_visible_to_the_worker(qtbot):
    started, release = threading.Event(), threading.Event()
    results = []

    def work(progress):
        started.set()
        release.wait(5)
        return progress.cancelled

    task = run_in_background(None, work, results.append, cancellable=True)
    started.wait(5)
    task.progress.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == [True]


def test_widget_closed_while_the_job_runs(qtbot):
    """The result of a job whose window was closed meanwhile is dropped
    quietly instead of reaching a deleted widget."""
    from PySide6.QtWidgets import QLabel

    label = QLabel("avant")
    release = threading.Event()
    delivered = []

    def work(progress):
        release.wait(5)
        return "après"

    task = run_in_background(label, work, lambda v: (delivered.append(v), label.setText(v)),
                             progress_text="Calcul…")
    label.deleteLater()
    qtbot.waitUntil(lambda: not task._widget_alive, timeout=5000)
    release.set()
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert delivered == [] and task.result == "après"


def test_application_collects_garbage_on_the_gui_thread(qtbot):
    import gc

    from cus_desk.ui.app import make_application

    app = make_application()
    guard = app.gc_guard
    try:
        assert guard.timer.isActive()
        assert not gc.isenabled()  # no collection triggered by a worker thread's allocations
        garbage = []
        for _ in range(guard.threshold[0] + 10):
            cycle = []
            cycle.append(cycle)
            garbage.append(cycle)
        del garbage, cycle
        assert gc.get_count()[0] > guard.threshold[0]
        assert guard.check() > 0  # what the GUI-thread timer does
    finally:
        # The test session collects between tests itself (conftest); a timer
        # left running would collect in the middle of later tests.
        guard.timer.stop()
        del app.gc_guard


def test_job_objects_are_released_and_on_the_gui_thread(qtbot):
    """The relay (a QObject) and the work function (a closure that may hold a
    widget) are released once the job is over — before, about half of them
    stayed alive with the finished job — and never destroyed by the worker
    thread, even when the GUI delivers the result before the worker has
    returned."""
    import gc

    from PySide6.QtCore import QThreadPool

    from cus_desk.ui import workers

    gui = threading.get_ident()
    destroyed_in: list[int] = []
    delivered: list[int] = []

    class Holder(QWidget):  # what a closure of a screen typically captures
        pass

    for i in range(60):
        holder = Holder()
        holder.destroyed.connect(lambda *_: destroyed_in.append(threading.get_ident()))

        def work(_progress, held=holder, n=i):
            return n if held is not None else -1

        task = run_in_background(None, work, delivered.append)
        task.relay.destroyed.connect(lambda *_: destroyed_in.append(threading.get_ident()))
        del holder, work, task
    qtbot.waitUntil(lambda: len(delivered) == 60, timeout=10_000)
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.waitUntil(lambda: not workers._running, timeout=5000)
    gc.collect()
    assert sorted(delivered) == list(range(60))
    assert len(destroyed_in) == 120 and set(destroyed_in) == {gui}
