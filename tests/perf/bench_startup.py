"""Start-up benchmark: time from process start to (a) the main window shown
and (b) the first screen filled with data from the database, each against
the floor of an empty PySide6 QMainWindow shown in the same run.

    python tests/perf/bench_startup.py [--runs 7]

Goals (issue #2): (a) <= 1.5x the floor, (b) <= 3x. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = r"""
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1280, 800); w.show(); app.processEvents()
print("shown", flush=True)
"""

APP = r"""
import sys
from PySide6.QtWidgets import QApplication
import cus_desk.ui.main_window as mw
import cus_desk.ui.app as app_module

_show = mw.MainWindow.show
def show(self):
    _show(self)
    QApplication.processEvents()
    print("shown", flush=True)
mw.MainWindow.show = show

_opened = app_module.Startup._opened
def opened(self, db):
    _opened(self, db)
    QApplication.processEvents()
    print("filled", flush=True)
    QApplication.instance().quit()
app_module.Startup._opened = opened
sys.exit(app_module.run_gui(sys.argv[1], demo=True))
"""


def timed(script: str, *args: str, env: dict) -> dict[str, float]:
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        marks[line.strip()] = time.perf_counter() - t0
    proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"child failed with {proc.returncode}")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    data = Path(tempfile.mkdtemp(prefix="cus-bench-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CUS_DESK_DATA_DIR=str(data),
               XDG_CONFIG_HOME=str(data / "config"))
    from cus_desk.demo import ensure_demo
    from cus_desk.paths import demo_db_path
    from cus_desk.store.db import open_database, sqlite_url

    os.environ.update(CUS_DESK_DATA_DIR=str(data))
    url = sqlite_url(demo_db_path())
    db = open_database(url)
    ensure_demo(db)  # built once, outside the timings
    db.dispose()

    floor, shown, filled = [], [], []
    for _ in range(runs):  # interleaved, so that machine noise hits both alike
        floor.append(timed(FLOOR, env=env)["shown"])
        marks = timed(APP, url, env=env)
        shown.append(marks["shown"])
        filled.append(marks["filled"])
    f, a, b = (statistics.median(x) for x in (floor, shown, filled))
    print(f"runs: {runs} (medians, process start -> event)")
    print(f"floor  empty QMainWindow shown     : {f * 1000:7.0f} ms")
    print(f"(a)    CUS Desk main window shown  : {a * 1000:7.0f} ms   ratio {a / f:4.2f}  (goal <= 1.5)")
    print(f"(b)    first screen filled (demo)  : {b * 1000:7.0f} ms   ratio {b / f:4.2f}  (goal <= 3)")


if __name__ == "__main__":
    main()
