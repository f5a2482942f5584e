"""Refuse to run on a Qt binding that loses references to ``None``.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` at every call
of a Qt method returning nothing; after some tens of thousands of calls
(about a thousand screen changes) Python deallocates ``None`` and the
process aborts, losing what the user was typing (issue #17). The project's
pins exclude that release, but an environment can still end up with it
(a manual upgrade, another tool's pins). So the GUI measures at start-up:
a few hundred such calls, about 0.1 ms.
"""

from __future__ import annotations

import gc
import importlib.metadata
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

CALLS = 300


def _void_qt_call() -> Callable[[], object]:
    """A Qt method returning nothing, ready to call (no QApplication needed)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    return lambda: probe.setObjectName("cus-desk-probe")


def none_references_lost(call: Callable[[], object] | None = None, calls: int = CALLS) -> int:
    """How many references to ``None`` ``calls`` calls of ``call`` (by default
    a void Qt method) lose: 0 on a sound binding, ``calls`` on a defective
    one. On Python 3.12 and later ``None`` is immortal and this is always 0."""
    call = call or _void_qt_call()
    call()  # first call outside the measure: lazy set-up
    was_enabled = gc.isenabled()
    gc.disable()  # a collection here would free objects holding None
    try:
        before = sys.getrefcount(None)
        for _ in range(calls):
            call()
        after = sys.getrefcount(None)
    finally:
        if was_enabled:
            gc.enable()
    return before - after


def _pinned_qt() -> str:
    try:
        requires = importlib.metadata.requires("cus-desk") or []
    except importlib.metadata.PackageNotFoundError:  # e.g. a bundle without metadata
        return ""
    pins = [r.split(";")[0].strip() for r in requires if r.lower().startswith("pyside6")]
    return f" ({', '.join(pins)})" if pins else ""


def defect_message(call: Callable[[], object] | None = None) -> str | None:
    """A French explanation if the Qt binding loses references, else None."""
    lost = none_references_lost(call)
    if lost < CALLS // 2:
        return None
    from PySide6 import __version__ as pyside_version

    python_version = sys.version.split()[0]
    log.error("defective Qt binding: PySide6 %s on Python %s lost %d references to None "
              "in %d void calls", pyside_version, python_version, lost, CALLS)
    return (
        f"CUS Desk ne peut pas démarrer : la version de Qt installée (PySide6 {pyside_version}) "
        f"est défectueuse avec Python {python_version}. À chaque action dans la fenêtre, elle "
        f"abîme la mémoire de Python ({lost} erreurs pour {CALLS} appels de contrôle) : "
        "l'application s'arrêterait brutalement au bout de quelques minutes, en perdant la "
        "saisie en cours.\n\n"
        "Remplacez-la en réinstallant CUS Desk avec les versions de PySide6 qu'il prévoit"
        f"{_pinned_qt()} : depuis le dossier de CUS Desk, « python3 packaging/bootstrap.py "
        "install », ou « pip install . » dans son environnement. Pour la version Windows, "
        "demandez au service informatique la version à jour."
    )


def explain(message: str, show_box: bool | None = None) -> None:
    """Say why CUS Desk refuses to start: on stderr, and in a message box
    when someone can answer it (not offscreen)."""
    sys.stderr.write(f"cus-desk : {message}\n")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    if show_box is None:
        show_box = QGuiApplication.platformName() not in ("offscreen", "minimal")
    if show_box:
        box = QMessageBox(QMessageBox.Icon.Critical, "CUS Desk ne peut pas démarrer", message)
        box.setAccessibleName("Message d'erreur")
        box.exec()
