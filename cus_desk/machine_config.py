"""The machine-wide settings IT deploys once per PC.

A TOML file readable by every user of the PC, written by IT (or by the
installer's silent ``/SERVER=…`` parameter):

    [database]
    url = "postgresql://cusdesk@pg.vivest.local/cusdesk?sslmode=verify-full"

    [audit]
    key_file = "C:/ProgramData/cus-desk/audit.key"   # optional (services.audit_key)

Where: ``%ProgramData%\\cus-desk\\config.toml`` on Windows,
``/etc/cus-desk/config.toml`` on Linux, ``/Library/Application
Support/cus-desk/config.toml`` on macOS; ``CUS_DESK_MACHINE_CONFIG`` names
another file (tests, a portable setup). The store chosen is, in order:
``--db``, ``CUS_DESK_DB``, this file, then the embedded SQLite file."""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cus_desk.domain.errors import DatabaseOpenError

ENV = "CUS_DESK_MACHINE_CONFIG"


def machine_config_path() -> Path:
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("ProgramData", r"C:\ProgramData")) / "cus-desk" / "config.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/cus-desk/config.toml")
    return Path("/etc/cus-desk/config.toml")


@dataclass(frozen=True)
class MachineConfig:
    database_url: str | None = None
    path: Path | None = None
    # The key of the journal d'audit shared by every workstation of the
    # installation (services.audit_key); None: the user data folder's.
    audit_key_file: str | None = None


def load_machine_config() -> MachineConfig:
    path = machine_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return MachineConfig()
    except OSError as exc:
        raise DatabaseOpenError(
            f"Le fichier de configuration du poste « {path} » ne peut pas être lu "
            f"({exc.strerror}). Adressez-vous au service informatique.") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DatabaseOpenError(
            f"Le fichier de configuration du poste « {path} » est mal formé ({exc}). "
            "Adressez-vous au service informatique.") from exc
    url = (data.get("database") or {}).get("url")
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise DatabaseOpenError(
            f"Dans « {path} », [database] url doit être une adresse de base de données "
            "(ex. postgresql://cusdesk@serveur/cusdesk) : adressez-vous au service informatique.")
    key_file = (data.get("audit") or {}).get("key_file")
    if key_file is not None and (not isinstance(key_file, str) or not key_file.strip()):
        raise DatabaseOpenError(
            f"Dans « {path} », [audit] key_file doit être le chemin du fichier de clé du journal "
            "d'audit : adressez-vous au service informatique.")
    return MachineConfig(url.strip() if url else None, path, key_file.strip() if key_file else None)
