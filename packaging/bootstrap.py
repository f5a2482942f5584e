#!/usr/bin/env python3
"""One command to install and run CUS Desk, one to install and run the tests.

    python3 packaging/bootstrap.py demo   # install, then launch on demo data
    python3 packaging/bootstrap.py test   # install with test tools, run the whole suite
                                          # on SQLite, then on a throw-away PostgreSQL

``test`` runs the suite twice: on SQLite files, then on a real PostgreSQL
server started for the run (tests/pg_server.py: Debian's ``postgresql``
package, installed with apt-get when missing and running as root). Without
PostgreSQL on a developer machine, the second run is NOT done and a message
says so and what to install; where it is required (CI, or
CUS_DESK_REQUIRE_POSTGRESQL=1) that is a failure. CUS_DESK_TEST_BACKENDS
(``sqlite``, ``postgresql`` or ``sqlite,postgresql``) chooses the runs;
CUS_DESK_TEST_PG_URL names an existing server instead of a throw-away one.

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
    return run_tests(python, rest)


PG_MISSING = (
    "PostgreSQL est absent : la série de tests sur PostgreSQL n'a PAS été lancée "
    "(seule la série SQLite a tourné). Pour la lancer, installez le serveur :\n"
    "  Debian/Ubuntu : sudo apt-get install -y postgresql\n"
    "  Fedora        : sudo dnf install -y postgresql-server postgresql-contrib\n"
    "  macOS         : brew install postgresql@15\n"
    "ou indiquez un serveur existant : CUS_DESK_TEST_PG_URL=postgresql://postgres@hote:5432/postgres"
)


def postgresql_required() -> bool:
    """CI (or whoever asks) must test PostgreSQL: its absence is a failure."""
    return bool(os.environ.get("CI") or os.environ.get("CUS_DESK_REQUIRE_POSTGRESQL"))


def postgresql_available() -> bool:
    if os.environ.get("CUS_DESK_TEST_PG_URL"):
        return True
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import pg_server  # tests/pg_server.py (standard library only)

        try:
            pg_server.ensure_binaries(log=say)  # apt-get install as root, else None
            return True
        except pg_server.PgServerError:
            return False
    finally:
        sys.path.pop(0)


def run_tests(python: Path, args: list[str]) -> int:
    backends = [b.strip() for b in os.environ.get(
        "CUS_DESK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
    status = 0
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            say(f"CUS_DESK_TEST_BACKENDS : « {backend} » inconnu (sqlite, postgresql).")
            return 2
        if backend == "postgresql" and not postgresql_available():
            say(PG_MISSING)
            if postgresql_required():
                say("PostgreSQL est exigé ici (CI / CUS_DESK_REQUIRE_POSTGRESQL) : échec.")
                return 1
            continue
        env = dict(os.environ, CUS_DESK_TEST_DB=backend)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        say(f"Tests sur {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}")
        code = subprocess.call([str(python), "-m", "pytest", *args], cwd=ROOT, env=env)
        say(f"Tests sur {backend} : {'réussis' if code == 0 else f'ÉCHEC (code {code})'}")
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
