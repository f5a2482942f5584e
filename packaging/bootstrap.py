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
a virtual environment is created in .venv at the repository top (pip runs
again only when pyproject.toml or the version changed: launching needs no
network); on Linux the system libraries Qt needs are found with ldd on Qt's
plugins and, as root with apt-get, installed (otherwise the exact command to
run is printed).
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"

def say(message: str) -> None:
    print(f"[cus-desk] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    say(" ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kwargs)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(packages: list[str]) -> bool:
    """Install Debian packages when we may (root + apt-get); else False.
    Offline, the package lists already on the machine are used; a failure
    says what to run instead of a traceback."""
    if not (is_root() and shutil.which("apt-get")):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        run(["apt-get", "update", "-qq"], env=env)
    except subprocess.CalledProcessError:
        say("apt-get update a échoué (pas de réseau ?) : on essaie avec les listes déjà présentes.")
    try:
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)
    except subprocess.CalledProcessError:
        say("L'installation des paquets système a échoué (pas d'accès au dépôt Debian ?).")
        say("Quand le réseau sera là : apt-get install -y --no-install-recommends " + " ".join(packages))
        sys.exit(1)
    return True


# --- the system libraries Qt needs (Linux) -----------------------------------
# What Qt loads is read from the installed wheel with ldd: the xcb platform
# plugin (X11), the offscreen one, and the Qt modules CUS Desk uses; ldd
# lists every library they need, transitively. Only what ldd cannot see
# (loaded with dlopen at run time) is named here.
QT_ELF_FILES = (
    "plugins/platforms/libqxcb.so",
    "plugins/platforms/libqoffscreen.so",
    "plugins/xcbglintegrations/*.so",
    "plugins/printsupport/*.so",
    "lib/libQt6Widgets.so.6",
    "lib/libQt6PrintSupport.so.6",
    "lib/libQt6Pdf.so.6",
    "lib/libQt6PdfWidgets.so.6",
)
DLOPENED = ("libdbus-1.so.3", "libcups.so.2")
# Where Debian's package name does not follow the library's soname.
SONAME_PACKAGE = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0",
}


def qt_dir(python: Path) -> Path | None:
    """The Qt folder of the PySide6 wheel installed in the venv."""
    found = glob.glob(str(VENV / "lib" / "python3*" / "site-packages" / "PySide6" / "Qt"))
    return Path(found[0]) if found else None


def missing_libraries(qt: Path) -> list[str]:
    """Sonames that ldd reports 'not found' for Qt's plugins and modules,
    plus the dlopen'ed ones the dynamic loader cannot find."""
    missing: set[str] = set()
    for pattern in QT_ELF_FILES:
        for path in sorted(glob.glob(str(qt / pattern))):
            result = subprocess.run(["ldd", path], capture_output=True, text=True)
            for line in result.stdout.splitlines():
                match = re.match(r"\s*(\S+) => not found", line)
                if match:
                    missing.add(match.group(1))
    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if Path("/sbin/ldconfig").exists() else None)
    known = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout if ldconfig else ""
    for soname in DLOPENED:
        if known and soname not in known:
            missing.add(soname)
    return sorted(missing)


def soname_package(soname: str) -> str:
    """Debian's name for the package of a library, by its naming policy:
    libfoo.so.4 → libfoo4, libfoo-1.so.3 → libfoo-1-3 (lower case, _ → -)."""
    if soname in SONAME_PACKAGE:
        return SONAME_PACKAGE[soname]
    match = re.match(r"lib(.+?)\.so\.(\d+)", soname)
    if not match:
        return soname
    base, major = match.group(1).lower().replace("_", "-"), match.group(2)
    return f"lib{base}-{major}" if base[-1].isdigit() else f"lib{base}{major}"


def debian_package(soname: str) -> str:
    """The package that provides a missing library: apt-file when it is
    installed and indexed, else the soname rule checked against apt's lists
    (with Debian 13's t64 renaming); works offline from the lists on disk."""
    if shutil.which("apt-file"):
        result = subprocess.run(["apt-file", "search", "-l", "-x", f"/{re.escape(soname)}$"],
                                capture_output=True, text=True)
        names = result.stdout.split()
        if result.returncode == 0 and names:
            return names[0]
    guess = soname_package(soname)
    if shutil.which("apt-cache"):
        for candidate in (guess, guess + "t64"):
            shown = subprocess.run(["apt-cache", "show", "--no-all-versions", candidate],
                                   capture_output=True, text=True)
            if shown.returncode == 0 and shown.stdout.strip():
                return candidate
    return guess


def ensure_qt_system_libraries(python: Path) -> None:
    if not sys.platform.startswith("linux"):
        return
    qt = qt_dir(python)
    if qt is None or not shutil.which("ldd"):
        return  # nothing to inspect: Qt itself says what it misses at start-up
    missing = missing_libraries(qt)
    if not missing:
        return
    packages = sorted({debian_package(soname) for soname in missing})
    say("Bibliothèques système manquantes pour Qt : " + ", ".join(missing))
    if apt_install(packages):
        still = missing_libraries(qt)
        if not still:
            return
        say("Toujours introuvables après installation : " + ", ".join(still))
        sys.exit(1)
    say("Installez-les puis relancez la même commande :")
    say("  sudo apt-get install -y --no-install-recommends " + " ".join(packages))
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


STAMP = VENV / ".cus-desk-install"


def install_stamp(extra: str | None) -> str:
    """What the installed environment was made from: the dependencies
    (pyproject.toml), the version, the extra, the Python."""
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", ROOT / "cus_desk" / "__init__.py"):
        digest.update(path.read_bytes())
    digest.update(f"{extra}|{sys.version_info[:2]}".encode())
    return digest.hexdigest()


def up_to_date(python: Path, extra: str | None) -> bool:
    if not STAMP.is_file() or STAMP.read_text(encoding="utf-8").strip() != install_stamp(extra):
        return False
    # the editable install still points here (the folder may have moved)
    probe = subprocess.run([str(python), "-c", "import cus_desk, sys; sys.stdout.write(cus_desk.__file__)"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and Path(probe.stdout).resolve().is_relative_to(ROOT)


def install(python: Path, extra: str | None) -> None:
    """pip only when pyproject.toml or the version changed since the last
    install: launching after setup needs no network."""
    if up_to_date(python, extra) or (extra is None and up_to_date(python, "test")):
        return
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    STAMP.unlink(missing_ok=True)
    try:
        run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(python), "-m", "pip", "install", "--quiet", "-e", target])
    except subprocess.CalledProcessError:
        say("L'installation des paquets Python a échoué : le dépôt de paquets (PyPI) est-il "
            "joignable depuis ce poste ? (proxy, réseau)")
        say("Relancez la même commande une fois le réseau rétabli ; ensuite, le lancement "
            "n'en a plus besoin.")
        sys.exit(1)
    STAMP.write_text(install_stamp(extra) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("demo", "test", "install"):
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):
        say(f"Python 3.11 ou plus récent est nécessaire (trouvé {sys.version.split()[0]}).")
        return 1
    command, rest = argv[0], argv[1:]
    python = ensure_venv()
    install(python, "test" if command == "test" else None)
    ensure_qt_system_libraries(python)
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
