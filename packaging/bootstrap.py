#!/usr/bin/env python3
"""One command to install and run CUS Desk, one to install and run the tests.

    python3 packaging/bootstrap.py demo   # install, then launch on demo data
    python3 packaging/bootstrap.py test   # install with test tools, run the whole suite

Works on Windows, macOS and Linux, including a headless Debian machine (CI):
a virtual environment is created in .venv at the repository top; on Linux
the system libraries Qt needs are checked and, as root with apt-get,
installed (otherwise the exact command to run is printed).
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"

# Shared library -> Debian package, for the PySide6 wheels (measured on a bare
# Debian 12; libcups2 is for real printers in the print dialog).
QT_SYSTEM_LIBS = {
    "glib-2.0": "libglib2.0-0",
    "GL": "libgl1",
    "EGL": "libegl1",
    "xkbcommon": "libxkbcommon0",
    "fontconfig": "libfontconfig1",
    "freetype": "libfreetype6",
    "dbus-1": "libdbus-1-3",
    "cups": "libcups2",
}


def say(message: str) -> None:
    print(f"[cus-desk] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    say(" ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kwargs)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(packages: list[str]) -> bool:
    """Install Debian packages when we may (root + apt-get); else False."""
    if not (is_root() and shutil.which("apt-get")):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)
    return True


def ensure_qt_system_libraries() -> None:
    if not sys.platform.startswith("linux"):
        return
    missing = [pkg for lib, pkg in QT_SYSTEM_LIBS.items() if ctypes.util.find_library(lib) is None]
    if not missing:
        return
    say("Bibliothèques système manquantes pour Qt : " + ", ".join(missing))
    if apt_install(missing):
        return
    say("Installez-les puis relancez la même commande :")
    say("  sudo apt-get install -y --no-install-recommends " + " ".join(missing))
    sys.exit(1)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    python = venv_python()
    if python.exists():
        return python
    try:
        run([sys.executable, "-m", "venv", str(VENV)])
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
        # Debian ships venv without ensurepip in a separate package.
        package = f"python3.{sys.version_info.minor}-venv"
        if apt_install([package]) or apt_install(["python3-venv"]):
            run([sys.executable, "-m", "venv", str(VENV)])
        else:
            say(f"Le module venv de Python est incomplet. Installez-le : sudo apt-get install -y {package}")
            sys.exit(1)
    return python


def install(python: Path, extra: str | None) -> None:
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "--quiet", "-e", target])


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("demo", "test", "install"):
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):
        say(f"Python 3.11 ou plus récent est nécessaire (trouvé {sys.version.split()[0]}).")
        return 1
    command, rest = argv[0], argv[1:]
    ensure_qt_system_libraries()
    python = ensure_venv()
    install(python, "test" if command == "test" else None)
    if command == "install":
        return 0
    if command == "demo":
        return subprocess.call([str(python), "-m", "cus_desk", "--demo", *rest])
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
