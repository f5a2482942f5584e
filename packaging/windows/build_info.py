"""Name, version and Windows version resource of the bundle, read from the
package and pyproject.toml (so the executables, the installer and
`cus-desk --version` never disagree). Used by cus_desk.spec and by
packaging/windows/installer_defines.py."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PUBLISHER = "CUS Desk"
DESCRIPTION = "CUS Desk — suivi social des locataires"


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def app_name() -> str:
    sys.path.insert(0, str(ROOT))
    try:
        from cus_desk import APP_NAME
    finally:
        sys.path.remove(str(ROOT))
    return APP_NAME


def version() -> str:
    text = (ROOT / "cus_desk" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def dist_name() -> str:
    """The console program's name: the project's script (cus-desk)."""
    return next(iter(project()["scripts"]))


def version_tuple(text: str) -> tuple[int, int, int, int]:
    """'0.1.0' → (0, 1, 0, 0); '1.2rc1' → (1, 2, 0, 0): Windows wants four numbers."""
    numbers = [int(n) for n in re.match(r"^(\d+(?:\.\d+)*)", text).group(1).split(".")][:4]
    return tuple(numbers + [0] * (4 - len(numbers)))


def version_resource(file_name: str, description: str):
    """A PyInstaller VSVersionInfo (French, Unicode) for one executable."""
    from PyInstaller.utils.win32.versioninfo import (
        FixedFileInfo,
        StringFileInfo,
        StringStruct,
        StringTable,
        VarFileInfo,
        VarStruct,
        VSVersionInfo,
    )

    numbers = version_tuple(version())
    text = version()
    return VSVersionInfo(
        ffi=FixedFileInfo(filevers=numbers, prodvers=numbers, mask=0x3F, flags=0x0,
                          OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),
        kids=[
            StringFileInfo([StringTable("040C04B0", [
                StringStruct("CompanyName", PUBLISHER),
                StringStruct("FileDescription", description),
                StringStruct("FileVersion", text),
                StringStruct("InternalName", Path(file_name).stem),
                StringStruct("LegalCopyright", "Usage interne du bailleur"),
                StringStruct("OriginalFilename", file_name),
                StringStruct("ProductName", app_name()),
                StringStruct("ProductVersion", text),
            ])]),
            VarFileInfo([VarStruct("Translation", [0x040C, 1200])]),
        ],
    )
