"""The bootstrap's Linux side: Qt's missing libraries come from ldd, their
Debian packages from apt (or Debian's soname rule, offline), and a launch
after setup runs no pip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import bootstrap  # noqa: E402

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)
"""


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libgssapi_krb5.so.2", "libgssapi-krb5-2"),
    ("libpng16.so.16", "libpng16-16"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libGL.so.1", "libgl1"),
])
def test_debian_package_names_follow_the_soname(soname, package):
    assert bootstrap.soname_package(soname) == package


def test_missing_libraries_are_read_from_ldd(tmp_path, monkeypatch):
    plugin = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"\x7fELF")
    calls = []

    def fake_run(cmd, **_kw):
        calls.append(cmd)
        if cmd[0] == "ldd":
            return subprocess.CompletedProcess(cmd, 0, LDD_OUTPUT, "")
        return subprocess.CompletedProcess(cmd, 0, "libdbus-1.so.3 (libc6,x86-64) => /lib/libdbus-1.so.3\n", "")

    monkeypatch.setattr(bootstrap.subprocess, "run", fake_run)
    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: f"/usr/bin/{name}")
    missing = bootstrap.missing_libraries(tmp_path)
    assert ["ldd", str(plugin)] in calls
    # libcups.so.2 is loaded with dlopen: ldconfig's cache does not have it here
    assert missing == ["libcups.so.2", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]


def test_package_checked_against_apt_lists_with_t64_fallback(monkeypatch):
    known = {"libcups2t64"}

    def fake_run(cmd, **_kw):
        name = cmd[-1]
        ok = cmd[0] == "apt-cache" and name in known
        return subprocess.CompletedProcess(cmd, 0 if ok else 100, "Package: x\n" if ok else "", "")

    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: None if name == "apt-file" else name)
    monkeypatch.setattr(bootstrap.subprocess, "run", fake_run)
    assert bootstrap.debian_package("libcups.so.2") == "libcups2t64"  # Debian 13
    assert bootstrap.debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"  # offline: the rule


def test_launch_after_setup_runs_no_pip(tmp_path, monkeypatch):
    monkeypatch.setattr(bootstrap, "STAMP", tmp_path / "stamp")
    ran = []
    monkeypatch.setattr(bootstrap, "run", lambda cmd, **kw: ran.append(cmd))
    monkeypatch.setattr(bootstrap, "up_to_date", lambda python, extra: (tmp_path / "stamp").exists()
                        and (tmp_path / "stamp").read_text().strip() == bootstrap.install_stamp(extra))
    bootstrap.install(Path(sys.executable), None)
    assert len(ran) == 2  # pip upgrade, pip install -e
    ran.clear()
    bootstrap.install(Path(sys.executable), None)
    assert ran == []


def test_offline_install_failure_says_so_without_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bootstrap, "STAMP", tmp_path / "stamp")
    monkeypatch.setattr(bootstrap, "up_to_date", lambda python, extra: False)

    def offline(cmd, **_kw):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(bootstrap, "run", offline)
    with pytest.raises(SystemExit) as exit_info:
        bootstrap.install(Path(sys.executable), None)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "PyPI" in out and "réseau" in out


def test_stamp_changes_with_the_dependencies():
    assert bootstrap.install_stamp(None) != bootstrap.install_stamp("test")
    assert bootstrap.install_stamp(None) == bootstrap.install_stamp(None)


def test_readme_and_cli_name_the_same_packages_including_xcb():
    import re as _re

    from cus_desk.cli import QT_LIBS_HELP

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = _re.search(r"sudo apt-get install -y --no-install-recommends ([^\n`]+)", readme).group(1)
    packages = set(line.split())
    help_packages = set(_re.search(r"--no-install-recommends ([^\n]+)", QT_LIBS_HELP).group(1).split())
    assert packages == help_packages
    for soname in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
                   "libxkbcommon-x11.so.0", "libxcb-render-util.so.0", "libxcb-image.so.0"):
        assert bootstrap.soname_package(soname) in packages
