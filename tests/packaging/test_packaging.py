"""The Windows recipe's pieces that can be checked anywhere: name and
version read from the package, the licence notices, the installer script's
contract with IT (/SERVER=… writes the machine settings file). The bundle and
the installer themselves are built by .ci/run (Linux) and the Windows
workflow."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

import cus_desk

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "packaging" / "windows"
sys.path.insert(0, str(WINDOWS))
sys.path.insert(0, str(ROOT / "packaging"))
import build_info  # noqa: E402
import collect_licenses  # noqa: E402


def test_name_and_version_come_from_the_package():
    assert build_info.version() == cus_desk.__version__
    assert build_info.app_name() == cus_desk.APP_NAME == "CUS Desk"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert build_info.dist_name() == "cus-desk" and "cus-desk" in scripts


@pytest.mark.parametrize(("text", "expected"), [
    ("0.1.0", (0, 1, 0, 0)), ("2.3", (2, 3, 0, 0)), ("1.2.3.4.5", (1, 2, 3, 4)), ("1.4rc1", (1, 4, 0, 0)),
])
def test_windows_version_numbers(text, expected):
    assert build_info.version_tuple(text) == expected


def test_version_resource_names_each_program():
    pytest.importorskip("pefile")  # PyInstaller's Windows helpers
    resource = build_info.version_resource("cus-desk.exe", "CUS Desk (ligne de commande)")
    text = str(resource)
    assert "cus-desk.exe" in text and cus_desk.__version__ in text and "040C04B0" in text


def test_spec_builds_two_programs_in_one_bundle():
    spec = (WINDOWS / "cus_desk.spec").read_text(encoding="utf-8")
    assert re.search(r"console=False", spec) and re.search(r"console=True", spec)
    assert "COLLECT(gui, cli," in spec
    assert "collect_data_files(\"tzdata\")" in spec
    assert "cus_desk/resources" in spec


def test_licence_notices_cover_every_runtime_dependency(tmp_path):
    rows = collect_licenses.collect(tmp_path)
    names = {collect_licenses.normalise(name) for name, _v, _l in rows}
    for required in ("pyside6-essentials", "pyside6-addons", "shiboken6", "sqlalchemy", "reportlab",
                     "tzdata", "alembic", "openpyxl", "argon2-cffi", "platformdirs"):
        assert required in names
    assert "pytest" not in names and "hypothesis" not in names  # test tools are not shipped
    notices = (tmp_path / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8")
    assert "LGPL-3.0" in notices
    for folder in tmp_path.iterdir():
        if folder.is_dir():
            assert any(folder.iterdir()), folder
    qt = next(tmp_path.glob("pyside6-essentials-*"))
    assert (qt / "LGPL-3.0.txt").read_text(encoding="utf-8").startswith("                   GNU LESSER")


def test_installer_writes_the_machine_settings_file():
    """/SERVER=… → %ProgramData%\\cus-desk\\config.toml, [database] url = "…"
    (the file cus_desk.machine_config reads)."""
    nsi = (WINDOWS / "installer.nsi").read_text(encoding="utf-8")
    assert '${GetOptions} $0 "/SERVER=" $Server' in nsi
    assert 'ReadEnvStr $1 "PROGRAMDATA"' in nsi
    assert '!define CONFIG_DIR_NAME "cus-desk"' in nsi and '"$2\\config.toml"' in nsi
    writes = re.findall(r"^\s*FileWrite \$4 (.+)$", nsi, re.MULTILINE)
    assert writes[-2:] == ['"[database]$\\r$\\n"', "'url = \"$3\"$\\r$\\n'"]
    # the value is escaped as a TOML basic string
    assert '${WordReplace} $Server "\\" "\\\\" "+" $3' in nsi
    assert "${WordReplace} $3 '\"' '\\\"' \"+\" $3" in nsi


def test_installer_is_per_machine_and_keeps_user_data():
    nsi = (WINDOWS / "installer.nsi").read_text(encoding="utf-8")
    assert "RequestExecutionLevel admin" in nsi and "SetShellVarContext all" in nsi
    assert 'InstallDir "$PROGRAMFILES64\\${APP_NAME}"' in nsi
    assert 'CreateShortCut "$SMPROGRAMS\\${APP_NAME}.lnk"' in nsi
    assert 'CreateShortCut "$DESKTOP\\${APP_NAME}.lnk"' in nsi
    uninstall = nsi[nsi.index('Section "Uninstall"'):]
    assert "LOCALAPPDATA" not in uninstall.split("; Left on purpose")[0]
    assert "PROGRAMDATA" not in uninstall.upper().split("; LEFT ON PURPOSE")[0]
    assert 'RMDir "$INSTDIR"' in uninstall  # never /r on the folder itself
