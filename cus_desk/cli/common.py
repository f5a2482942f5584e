"""What every headless command shares: which database, who is acting,
JSON output, and French errors instead of tracebacks."""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from cus_desk.domain.errors import CusDeskError

log = logging.getLogger("cus_desk.cli")


class CliError(CusDeskError):
    """A usage error of a command: printed on stderr, exit code 2."""


def database_url(args) -> str:
    from cus_desk import paths
    from cus_desk.store.db import sqlite_url

    raw = getattr(args, "db", None) or os.environ.get("CUS_DESK_DB")
    if getattr(args, "demo", False):
        if raw:
            raise CliError("--demo et --db s'excluent : la démonstration a sa propre base.")
        return sqlite_url(paths.demo_db_path())
    if not raw:
        from cus_desk.machine_config import load_machine_config

        raw = load_machine_config().database_url  # set once per PC by IT
    if not raw:
        return sqlite_url(paths.default_db_path())
    if "://" in raw:
        return raw
    return sqlite_url(os.path.abspath(raw))  # a plain file path


def may_create(url: str, args=None) -> bool:
    """Whether an empty (0-byte) file at ``url`` may become a new store:
    asked with ``--create``, or the per-user store of the first start (a
    file only the program creates)."""
    from cus_desk.store.db import program_owned

    return bool(getattr(args, "create", False)) or program_owned(url)


def program_clock(args):
    """The clock ``main`` created for this run (one per process)."""
    from cus_desk.domain.clock import system_clock

    clock = getattr(args, "clock", None)
    return clock if clock is not None else system_clock()


def open_db(args):
    from cus_desk.domain.errors import ServerPasswordError
    from cus_desk.store.db import open_database, with_password

    if getattr(args, "demo", False):
        from cus_desk.demo import open_demo

        db, note = open_demo(database_url(args), program_clock(args))
        if note:
            sys.stderr.write(f"cus-desk : {note}\n")
        return db
    url = personal_url(database_url(args))
    try:
        db = open_database(url, clock=program_clock(args), create=may_create(url, args))
    except ServerPasswordError:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise
        # The server wants a password that no pgpass file gave: ask, once.
        password = getpass.getpass("Mot de passe du serveur de base de données : ")
        db = open_database(with_password(url, password), clock=program_clock(args),
                           create=may_create(url, args))
    _warn_audit_head(db)
    return db


def _warn_audit_head(db) -> None:
    """The chain heads are checked at open (services.audit_verify)."""
    from cus_desk.services.audit_verify import check_at_open

    warning = check_at_open(db)
    if warning:
        sys.stderr.write(f"cus-desk : attention : {warning}\n")


def personal_url(url: str) -> str:
    """On a server whose address names no account, each person connects
    with her own server account: the one of CUS_DESK_USER, with
    CUS_DESK_PASSWORD (the same password as in CUS Desk)."""
    from cus_desk.store import db

    user = os.environ.get("CUS_DESK_USER")
    if not user:
        return url
    return db.personal_url(url, user.strip(), os.environ.get("CUS_DESK_PASSWORD"))


def login(args, db):
    """The acting user: the demo adviser with --demo, else CUS_DESK_USER /
    CUS_DESK_PASSWORD from the environment, or a prompt on a terminal."""
    from cus_desk.services import auth

    if getattr(args, "demo", False):
        from cus_desk.demo import DEMO_LOGIN

        return auth.actor_for_login(db, DEMO_LOGIN)
    user = os.environ.get("CUS_DESK_USER")
    password = os.environ.get("CUS_DESK_PASSWORD")
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if not user:
        if not interactive:
            raise CliError(
                "Identifiez-vous : définissez CUS_DESK_USER et CUS_DESK_PASSWORD, "
                "ou lancez la commande dans un terminal."
            )
        user = input("Identifiant : ").strip()
    if password is None:
        if not interactive:
            raise CliError("Mot de passe manquant : définissez CUS_DESK_PASSWORD.")
        password = getpass.getpass("Mot de passe : ")
    return auth.authenticate(db, user, password)


def print_json(obj: Any) -> None:
    sys.stdout.reconfigure(encoding="utf-8")
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def run_command(handler: Callable[[Any], int], args) -> int:
    """Run one command; user errors become a French line on stderr, exit 2."""
    try:
        return int(handler(args) or 0)
    except CusDeskError as exc:
        sys.stderr.write(f"cus-desk : {exc.message}\n")
        return 2
    except BrokenPipeError:
        # Output piped into a reader that stopped early (``| head``): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("cus-desk : interrompu.\n")
        return 130
    except Exception:  # noqa: BLE001 - never a traceback for the user
        from cus_desk.logging_setup import configure_logging, log_file_path

        configure_logging()
        log.exception("unexpected error in command")
        sys.stderr.write(
            "cus-desk : erreur inattendue ; le détail est dans le journal "
            f"{log_file_path()}.\n"
        )
        return 1
