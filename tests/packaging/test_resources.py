"""Resources are package data, found with importlib.resources wherever the
package is installed (a wheel, pip install --user, the PyInstaller bundle)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import cus_desk
from cus_desk import paths

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(cus_desk.__file__).resolve().parent


def test_resources_are_found_inside_the_package():
    assert paths.resources_dir() == PACKAGE / "resources"
    assert (paths.resources_dir() / "reference.json").is_file()
    assert "QListWidget#navigation" in paths.resource_text("style.qss")


def test_every_resource_file_is_declared_as_package_data():
    """A file the globs miss is absent from the wheel: the app would fail
    after pip install, never in a source checkout."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["cus_desk"]
    files = [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "resources").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) >= 6
    missed = [f for f in files if not any(fnmatch.fnmatch(f, g) and "/" not in f[len(g.rsplit("/", 1)[0]) + 1:]
                                          for g in globs)]
    assert missed == []


def test_tzdata_is_a_dependency():
    """Windows has no time-zone database of its own."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in config["project"]["dependencies"]]
    assert "tzdata" in names
    assert "reportlab>=4.0.4" in config["project"]["dependencies"]
