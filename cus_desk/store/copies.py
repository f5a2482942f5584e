"""Copies of a SQLite store on disk: written safely, user-only, bounded.

Every copy the program writes (manual and automatic backups, the copy kept
before a migration or a restore) goes through ``online_copy``:

* the folder's lock (``.cus-desk.verrou``, an OS lock held while the copy is
  written) is taken first; under it, any ``.<name>.part`` left in the folder
  is stale — its writer died (killed, power cut) since the OS released its
  lock — and is removed;
* the free space of the target folder is checked first: refused, in
  French, when it is below the store's size times a margin;
* the copy is written to ``.<name>.part`` (user-only), checked, then renamed:
  a copy is never half written under its final name.

``private_file`` / ``private_dir`` / ``restrict_umask``: the store, its
journal files, the copies, exports and logs are readable by their owner only
on Linux/macOS (0600 files, 0700 folders); on Windows the user's profile
folders already are.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from cus_desk.domain.errors import WorkflowError
from cus_desk.store.dialect import BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
FOLDER_LOCK_NAME = ".cus-desk.verrou"
FOLDER_LOCK_WAIT_S = 60.0
# Free space needed before a copy: the store's size × this percentage.
DEFAULT_FREE_SPACE_PERCENT = 200

_POSIX = os.name == "posix"


# --- permissions -----------------------------------------------------------------------

def restrict_umask() -> None:
    """Files and folders this process creates are its user's only (POSIX)."""
    if _POSIX:
        os.umask(0o077)


def private_file(path: Path) -> None:
    if _POSIX:
        try:
            os.chmod(path, PRIVATE_FILE)
        except FileNotFoundError:
            pass


def private_dir(path: Path) -> Path:
    """``path`` created if needed (parents too), user-only when created."""
    if not path.exists():
        path.mkdir(parents=True, mode=PRIVATE_DIR, exist_ok=True)
        if _POSIX:
            os.chmod(path, PRIVATE_DIR)
    return path


def create_private_empty(path: Path) -> None:
    """Create the store file user-only before SQLite writes it (its -wal and
    -shm files then get the same mode: SQLite copies the main file's)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)


# --- free space --------------------------------------------------------------------------

def free_bytes(folder: Path) -> int:
    """The seam for the free-space check: the real free space of ``folder``."""
    return shutil.disk_usage(folder).free


FREE_SPACE_FN: Callable[[Path], int] = free_bytes

NOT_ENOUGH_SPACE = (
    "Espace disque insuffisant dans « {folder} » : {free} Mo libres, il en faut au moins {need} Mo "
    "pour cette copie (taille de la base × {margin} %). Rien n'a été écrit ; libérez de la place "
    "ou choisissez un autre emplacement. Vos données enregistrées ne sont pas touchées."
)


def store_size(path: Path) -> int:
    size = 0
    for p in (path, Path(f"{path}-wal")):
        try:
            size += p.stat().st_size
        except FileNotFoundError:
            pass
    return size


def check_free_space(source: Path | int, folder: Path, percent: int = DEFAULT_FREE_SPACE_PERCENT) -> None:
    """``source``: the store file, or its size in bytes (a server's)."""
    size = source if isinstance(source, int) else store_size(source)
    need = size * percent // 100
    free = FREE_SPACE_FN(folder)
    if free < need:
        mb = 1024 * 1024
        raise WorkflowError(NOT_ENOUGH_SPACE.format(
            folder=folder, free=free // mb, need=-(-need // mb), margin=percent))


# --- the folder's lock and stale parts ------------------------------------------------

_held: dict[Path, FileLock] = {}


@contextmanager
def folder_lock(folder: Path, wait_s: float = FOLDER_LOCK_WAIT_S) -> Iterator[None]:
    """One writer of copies at a time in ``folder`` (all processes); under
    it, stale ``.part`` files of dead writers are removed first."""
    folder = folder.resolve()
    lock = _held.get(folder)
    if lock is None:
        lock = _held.setdefault(folder, FileLock(str(folder / FOLDER_LOCK_NAME), mode=PRIVATE_FILE))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout as exc:
        raise WorkflowError(
            f"Une autre copie est en cours d'écriture dans « {folder} » : réessayez dans un "
            "instant. Rien n'a été écrit.") from exc
    try:
        if lock.lock_counter == 1:  # not re-entered: nobody else is writing here
            clean_stale_parts(folder)
        yield
    finally:
        lock.release()


def part_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def clean_stale_parts(folder: Path) -> list[Path]:
    """Remove the ``.*.part`` copies of writers that died (call under the
    folder's lock: a live writer holds it, so none is being written)."""
    removed = []
    leftovers = [p for pattern in (".*.part", ".*.part-journal", ".*.part-wal", ".*.part-shm")
                 for p in folder.glob(pattern)]
    for entry in leftovers:
        try:
            entry.unlink()
            removed.append(entry)
            log.info("stale partial copy removed: %s", entry)
        except OSError:
            log.warning("could not remove the stale partial copy %s", entry)
    return removed


def clean_stale_parts_now(folder: Path) -> None:
    """At opening: clean if no copy is being written (never waits)."""
    try:
        with folder_lock(folder, wait_s=0):
            pass  # folder_lock cleans on entry
    except WorkflowError:
        pass  # a copy is being written right now: the next one cleans


# --- the copy itself ---------------------------------------------------------------------

class CopyCheckFailed(WorkflowError):
    """The copy just written failed its integrity check (the source is damaged)."""


COPY_FAILED = ("La copie de sauvegarde a échoué au contrôle d'intégrité ; rien n'a été remplacé. "
               "Réessayez.")


def online_copy(source: Path, target: Path, *, free_space_percent: int = DEFAULT_FREE_SPACE_PERCENT,
                pages: int = 4096, check: bool = True,
                progress: Callable[[int, int, int], object] | None = None) -> Path:
    """Online-backup ``source`` into ``target`` (``.part``, checked, renamed;
    user-only), under the target folder's lock, after the free-space check."""
    folder = private_dir(target.parent)
    with folder_lock(folder):
        check_free_space(source, folder, free_space_percent)
        tmp = part_path(target)
        tmp.unlink(missing_ok=True)
        create_private_empty(tmp)
        row = ("ok",)
        try:
            src = sqlite3.connect(str(source), timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                dst = sqlite3.connect(str(tmp))
                try:
                    src.backup(dst, pages=pages, progress=progress)
                    dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
                    if check:
                        row = dst.execute("PRAGMA quick_check").fetchone()
                finally:
                    dst.close()
            finally:
                src.close()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if not row or row[0] != "ok":
            tmp.unlink(missing_ok=True)
            raise CopyCheckFailed(COPY_FAILED)
        private_file(tmp)
        os.replace(tmp, target)
    return target


def keep_newest(paths: list[Path], keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest of ``paths`` (by name stamp order
    given: newest first); returns the deleted."""
    deleted = []
    for path in paths[keep:]:
        path.unlink(missing_ok=True)
        deleted.append(path)
    return deleted


def rotate_glob(folder: Path, pattern: str, keep: int) -> list[Path]:
    """Keep the ``keep`` most recent files of ``folder`` matching ``pattern``
    (names carry a sortable stamp; the modification time breaks ties)."""
    found = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return keep_newest(found, keep)

