"""Who has a SQLite store open: the presence of every CUS Desk process on a
file, so that a restore takes the store exclusively.

Each process that opens a store file (``store.db.open_database``) registers
under the store's *gate* lock: it creates its own lock file in the hidden
folder ``.<store>.postes/`` next to the store and holds an exclusive OS lock
on it (``filelock``: ``flock`` on Linux, ``LockFileEx`` on Windows) until
the store is closed (``Database.dispose``). The OS drops the lock when the
process dies, so a killed process leaves only an unlocked file, which the
next restore removes.

A restore (``exclusive``) takes the gate for its whole duration (nobody can
register meanwhile: an opening waits, then refuses in French), tries each
presence file: a file still locked is a live client, and the restore is
refused with a French message naming how many; otherwise it proceeds alone.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from cus_desk.domain.errors import DatabaseOpenError, WorkflowError

log = logging.getLogger(__name__)

# How long an opening waits for a restore in progress before refusing.
OPEN_WAIT_S = 30.0
# How long a restore waits for an opening (a few milliseconds) to register.
RESTORE_WAIT_S = 5.0

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _gate_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.verrou")


def _folder(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.postes")


class Presence:
    """One process's registration on one store; ``release`` ends it."""

    def __init__(self, lock: FileLock, path: Path) -> None:
        self._lock = lock
        self.path = path

    def release(self) -> None:
        if self._lock is None:
            return
        try:
            self._lock.release()
        finally:
            self._lock = None
            self.path.unlink(missing_ok=True)


def register(db_path: Path, wait_s: float = OPEN_WAIT_S) -> Presence:
    """Mark this process as having ``db_path`` open (waits while a restore
    of it runs; refuses in French after ``wait_s``)."""
    gate = FileLock(str(_gate_path(db_path)), timeout=wait_s, mode=PRIVATE_FILE)
    try:
        gate.acquire()
    except Timeout as exc:
        raise DatabaseOpenError(
            f"La base « {db_path} » est en cours de restauration sur un autre poste ou dans une "
            "autre fenêtre : réessayez dans un instant.") from exc
    except OSError as exc:
        raise DatabaseOpenError(
            f"Le dossier « {db_path.parent} » n'est pas accessible en écriture ({exc.strerror}) : "
            "CUS Desk doit pouvoir y écrire à côté de la base. Vérifiez vos droits.") from exc
    try:
        folder = _folder(db_path)
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        others(db_path)  # on the way, removes the files of processes gone (a CLI run, a kill)
        path = folder / f"{os.getpid()}-{uuid.uuid4().hex}.lock"
        lock = FileLock(str(path), timeout=0, mode=PRIVATE_FILE)
        lock.acquire()
        return Presence(lock, path)
    finally:
        gate.release()


def others(db_path: Path) -> int:
    """How many live registrations there are (the caller holds the gate);
    files of dead processes are removed on the way."""
    folder = _folder(db_path)
    alive = 0
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        probe = FileLock(str(path), timeout=0, mode=PRIVATE_FILE)
        try:
            probe.acquire()
        except Timeout:
            alive += 1
            continue
        probe.release()
        path.unlink(missing_ok=True)  # a process that died with the store open
        log.info("stale presence file removed: %s", path.name)
    return alive


OTHERS_CONNECTED = (
    "{who} cette base ouverte : fermez CUS Desk partout ailleurs (ou attendez la fin du travail "
    "en cours) avant de restaurer. Rien n'a été remplacé."
)


def others_connected(n: int) -> str:
    who = ("Une autre fenêtre ou un autre poste de CUS Desk a" if n == 1
           else f"{n} autres fenêtres ou postes de CUS Desk ont")
    return OTHERS_CONNECTED.format(who=who)


@contextmanager
def exclusive(db_path: Path, wait_s: float = RESTORE_WAIT_S) -> Iterator[None]:
    """Hold ``db_path`` alone: nobody else has it open, nobody can open it
    until the block ends. Refuses (WorkflowError, French) otherwise."""
    gate = FileLock(str(_gate_path(db_path)), timeout=wait_s, mode=PRIVATE_FILE)
    try:
        gate.acquire()
    except Timeout as exc:
        raise WorkflowError(
            "Une autre restauration ou une ouverture de cette base est en cours : réessayez dans "
            "un instant. Rien n'a été remplacé.") from exc
    try:
        n = others(db_path)
        if n:
            raise WorkflowError(others_connected(n))
        yield
    finally:
        gate.release()
