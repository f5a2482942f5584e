"""Unexpected errors go to a rotating log file in the user log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from cus_desk import paths

_configured = False


def log_file_path() -> Path:
    return paths.log_dir() / "cus-desk.log"


def configure_logging() -> None:
    global _configured
    if _configured:
        return
    from cus_desk.store.copies import create_private_empty

    create_private_empty(log_file_path())  # the log is the user's only (POSIX)
    handler = logging.handlers.RotatingFileHandler(
        log_file_path(), maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _configured = True
