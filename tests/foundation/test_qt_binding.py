"""The Qt binding keeps Python's reference counts: thousands of calls of Qt
methods leave the counts of ``None``, ``True`` and ``False`` where they were;
and the GUI refuses to start on a binding that loses them.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` at every Qt
call returning nothing (issue #17): ``None`` is then deallocated and the
process aborts ("Fatal Python error: none_dealloc") after about a thousand
screen changes. Each kind below makes a few thousand calls: enough to see
such a drift at once, far from the ~40,000 references ``None`` holds in a
test run, so the test reports the figures before the interpreter dies.
"""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QTableView

from cus_desk.ui import qt_binding

pytestmark = pytest.mark.gui

CALLS = 3000  # Qt calls per kind
# Nothing in the measured loops keeps or frees a reference: a sound binding
# moves the counts by a few at most (6.11.3: 0 for every kind below). Fewer
# references by more than a few is the defect; more by hundreds would be a
# reference leaked at every call.
LOST_TOLERANCE = 5
GAINED_TOLERANCE = 50

WATCHED = {"None": None, "True": True, "False": False}


def counts() -> dict[str, int]:
    return {name: sys.getrefcount(obj) for name, obj in WATCHED.items()}


class _Model(QAbstractTableModel):
    def rowCount(self, parent=None):  # noqa: N802 - Qt API
        return 0 if parent is not None and parent.isValid() else 3

    def columnCount(self, parent=None):  # noqa: N802 - Qt API
        return 0 if parent is not None and parent.isValid() else 2

    def data(self, index, role=0):
        return None


def _label_set_text():
    label = QLabel()
    texts = ("un", "deux")
    return lambda i: label.setText(texts[i & 1]), 1, label


def _widget_set_enabled():
    label = QLabel()
    return lambda i: label.setEnabled(bool(i & 1)), 1, label


def _process_events():
    return lambda _i: QCoreApplication.processEvents(), 1, None


def _send_posted_events():
    return lambda _i: QCoreApplication.sendPostedEvents(), 1, None


def _model_reset():
    model = _Model()
    view = QTableView()  # a view answering the reset through the Python model
    view.setModel(model)

    def reset(_i):
        model.beginResetModel()
        model.endResetModel()

    return reset, 2, (model, view)


def _bool_getters():
    label = QLabel()  # enabled, not shown: True and False come back
    return lambda _i: (label.isEnabled(), label.isVisible()), 2, label


KINDS = {
    "QLabel.setText": _label_set_text,
    "QWidget.setEnabled": _widget_set_enabled,
    "QCoreApplication.processEvents": _process_events,
    "QCoreApplication.sendPostedEvents": _send_posted_events,
    "model reset (begin/endResetModel)": _model_reset,
    "bool getters (isEnabled/isVisible)": _bool_getters,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_qt_calls_keep_reference_counts(qapp, kind):
    call, calls_per_round, keep = KINDS[kind]()
    rounds = CALLS // calls_per_round
    call(0)  # first call: caches, lazy type set-up
    was_enabled = gc.isenabled()
    gc.disable()  # a collection would free objects holding None
    try:
        before = counts()
        for i in range(rounds):
            call(i)
        after = counts()
    finally:
        if was_enabled:
            gc.enable()
    del keep
    drift = {name: after[name] - before[name] for name in WATCHED}
    print(f"\nPySide6 {PYSIDE_VERSION}, Python {sys.version.split()[0]}: "
          f"{rounds * calls_per_round} calls of {kind}: refcount drift {drift}")
    wrong = {name: d for name, d in drift.items() if not -LOST_TOLERANCE <= d <= GAINED_TOLERANCE}
    assert not wrong, (
        f"PySide6 {PYSIDE_VERSION} on Python {sys.version.split()[0]}: {rounds * calls_per_round} "
        f"calls of {kind} moved reference counts by {wrong} (before {before}, after {after}); "
        "a binding that loses references aborts the application (issue #17)"
    )


# --- the start-up check (cus_desk/ui/qt_binding.py) --------------------------------

def test_startup_check_passes_on_the_installed_binding():
    lost = qt_binding.none_references_lost()
    print(f"\nPySide6 {PYSIDE_VERSION}: {lost} references to None lost in "
          f"{qt_binding.CALLS} calls of the start-up check")
    assert -GAINED_TOLERANCE <= lost <= LOST_TOLERANCE
    assert qt_binding.defect_message() is None


_PY_DECREF = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_DecRef", ctypes.pythonapi))
_PY_INCREF = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_IncRef", ctypes.pythonapi))

needs_mortal_none = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None is immortal (PEP 683): no reference can be lost"
)


@pytest.fixture
def call_losing_a_reference():
    """A call that really drops one reference to None, as the defective
    binding does; every reference taken is given back after the test (a few
    hundred, out of tens of thousands: None is never near deallocation)."""
    assert sys.getrefcount(None) > 20 * qt_binding.CALLS
    lost = 0

    def call() -> None:
        nonlocal lost
        lost += 1
        _PY_DECREF(None)

    yield call
    for _ in range(lost):
        _PY_INCREF(None)


@needs_mortal_none
def test_startup_check_detects_lost_references(call_losing_a_reference, caplog):
    message = qt_binding.defect_message(call_losing_a_reference)
    assert message is not None
    assert f"PySide6 {PYSIDE_VERSION}" in message
    assert f"Python {sys.version.split()[0]}" in message
    assert f"{qt_binding.CALLS} erreurs pour {qt_binding.CALLS} appels" in message
    assert "PySide6-Essentials" in message and "bootstrap.py install" in message  # the way out
    assert "defective Qt binding" in caplog.text


# The real entry point in a child process, whose Qt calls are replaced by one
# that loses a reference at each call: the GUI must say why and exit with 2.
REFUSING_CHILD = textwrap.dedent("""
    import ctypes, sys
    from cus_desk.ui import qt_binding
    decref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_DecRef", ctypes.pythonapi))
    qt_binding._void_qt_call = lambda: (lambda: decref(None))
    from cus_desk.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@needs_mortal_none
def test_gui_refuses_to_start_on_a_defective_binding(tmp_path):
    # --demo --capture: were it not refused, the GUI would log in by itself,
    # save a screenshot and quit (exit 0) rather than wait for a user.
    data_dir = Path(os.environ["CUS_DESK_DATA_DIR"])
    result = subprocess.run(
        [sys.executable, "-c", REFUSING_CHILD, "--demo", "--capture", str(tmp_path / "shot.png")],
        cwd=Path(__file__).resolve().parents[2],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "cus-desk : CUS Desk ne peut pas démarrer" in result.stderr
    assert f"PySide6 {PYSIDE_VERSION}" in result.stderr
    assert not list(data_dir.rglob("*.sqlite3"))  # refused before the database was opened
    log = data_dir.rglob("cus-desk.log")
    assert any("defective Qt binding" in p.read_text(encoding="utf-8") for p in log)


def test_refusal_is_shown_in_a_message_box(qapp, capsys):
    seen = {}

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        seen["title"], seen["text"] = box.windowTitle(), box.text()
        box.done(0)

    QTimer.singleShot(0, read_and_close)
    qt_binding.explain("La version de Qt est défectueuse.", show_box=True)
    assert seen == {"title": "CUS Desk ne peut pas démarrer", "text": "La version de Qt est défectueuse."}
    assert "La version de Qt est défectueuse." in capsys.readouterr().err
