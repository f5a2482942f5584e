"""Where CUS Desk keeps its files (per user, per platform)."""

from __future__ import annotations

import importlib.resources
import os
from importlib.resources.abc import Traversable
from pathlib import Path

import platformdirs

from cus_desk import APP_NAME

_APP_DIR_NAME = "cus-desk"


def data_dir() -> Path:
    override = os.environ.get("CUS_DESK_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(_APP_DIR_NAME, False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # the user's only (POSIX)
    return path


def log_dir() -> Path:
    override = os.environ.get("CUS_DESK_DATA_DIR")
    path = (
        Path(override) / "logs"
        if override
        else Path(platformdirs.user_log_dir(_APP_DIR_NAME, False))
    )
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # the user's only (POSIX)
    return path


def backup_dir() -> Path:
    path = data_dir() / "sauvegardes"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # the user's only (POSIX)
    return path


def default_db_path() -> Path:
    return data_dir() / "cus-desk.sqlite3"


def demo_db_path() -> Path:
    return data_dir() / "cus-desk-demo.sqlite3"


def resources() -> Traversable:
    """The package data folder ``cus_desk/resources`` (reference data, style,
    fonts, icons, help), found through ``importlib.resources`` wherever the
    package is: a source checkout, an editable, ``--user`` or system install,
    a PyInstaller bundle."""
    return importlib.resources.files("cus_desk") / "resources"


def resources_dir() -> Path:
    """The same folder as a real directory (reportlab and Qt want file paths;
    every way CUS Desk is installed keeps package data as plain files)."""
    folder = resources()
    path = Path(str(folder))
    if not isinstance(folder, Path) or not path.is_dir():
        raise FileNotFoundError(
            f"{APP_NAME} : dossier des ressources introuvable ({folder}) ; réinstallez l'application."
        )
    return path


def resource_text(name: str) -> str:
    """A text resource by its path under resources/ (e.g. ``help/guide.md``)."""
    node = resources()
    for part in name.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")
