"""Where CUS Desk keeps its files (per user, per platform)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from cus_desk import APP_NAME

_APP_DIR_NAME = "cus-desk"


def data_dir() -> Path:
    override = os.environ.get("CUS_DESK_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(_APP_DIR_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    override = os.environ.get("CUS_DESK_DATA_DIR")
    path = (
        Path(override) / "logs"
        if override
        else Path(platformdirs.user_log_dir(_APP_DIR_NAME, False))
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def backup_dir() -> Path:
    path = data_dir() / "sauvegardes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    return data_dir() / "cus-desk.sqlite3"


def demo_db_path() -> Path:
    return data_dir() / "cus-desk-demo.sqlite3"


def resources_dir() -> Path:
    """resources/ lives at the repository top (a source checkout, an editable
    install, a PyInstaller bundle) or under share/ (a wheel install)."""
    import sys

    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "resources", Path(sys.prefix) / "share" / "cus-desk" / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{APP_NAME}: dossier resources introuvable")
