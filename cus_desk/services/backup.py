"""Backups and restore of the SQLite file.

* copies use SQLite's online backup API (a consistent snapshot, safe while
  others read or write), into a temporary file that is checked and then
  renamed, so a copy is never half written;
* at closing, an automatic copy goes to ``paths.backup_dir()``; those are
  rotated, keeping 7 daily and 4 weekly copies; manual copies in that
  folder keep the newest ``backups_manual_keep`` (a setting); the copies
  kept before a restore or a migration, the newest ``ASIDE_KEEP`` of each;
* every copy is refused when the disk lacks room (store.copies), written
  user-only as ``.<name>.part`` then renamed; stale parts of killed copies
  are removed by the next copy in the folder;
* ``restore`` checks the file's integrity and schema version, runs the
  pre-restore checks (``add_pre_restore_check``), takes the store alone
  (store.presence: refused while other processes have it open), keeps the
  current content aside, then copies the backup INTO the live file with
  SQLite's backup API in one transaction: the file is never replaced, so no
  connection can ever write to a file that is no longer the store.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from cus_desk import paths
from cus_desk.domain.clock import Clock
from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.security import backups_to_keep
from cus_desk.domain.settings import BACKUP_FREE_SPACE_PERCENT, BACKUPS_MANUAL_KEEP
from cus_desk.services import access, audit, audit_restore
from cus_desk.services.base import Actor, Service
from cus_desk.services.settings import read_setting
from cus_desk.store import copies, dialect, presence
from cus_desk.store.db import BUSY_TIMEOUT_MS, Database

log = logging.getLogger(__name__)

STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<kind>auto|manuel)-(?P<stamp>\d{8}-\d{6})(?:-\d+)?\.sqlite3$")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime  # local time of the copy (from its name)
    kind: str  # auto | manuel | fichier
    size: int


@dataclass(frozen=True)
class BackupCheck:
    path: Path
    revision: str
    is_head: bool
    users: int


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    kept_aside: Path | None
    revision: str


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def _copy_sqlite(source: Path, target: Path, free_space_percent: int = copies.DEFAULT_FREE_SPACE_PERCENT) -> None:
    """Online-backup ``source`` into ``target``: free space checked, written
    to ``.<name>.part`` (user-only) under the folder's lock, checked, then
    renamed (store.copies)."""
    copies.online_copy(source, target, free_space_percent=free_space_percent)


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1


def sqlite_path_of(url: str) -> Path | None:
    """The file of a SQLite database URL (None for another backend or memory)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a bad URL has no file
        return None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def backup_file_name(db_path: Path, kind: str, when: datetime) -> str:
    """``when``: a wall-clock time (``clock.local_now()``), stamped in the name."""
    return f"{db_path.stem}-{kind}-{when.strftime(STAMP)}.sqlite3"


def list_backups(db_path: Path, folder: Path | None = None) -> list[BackupInfo]:
    """Copies of this database in the backup folder, newest first."""
    folder = folder or paths.backup_dir()
    found: list[BackupInfo] = []
    for entry in folder.glob(f"{db_path.stem}-*.sqlite3"):
        match = _NAME.match(entry.name)
        if not match or match["stem"] != db_path.stem:
            continue
        found.append(BackupInfo(entry, datetime.strptime(match["stamp"], STAMP), match["kind"],
                                entry.stat().st_size))
    found.sort(key=lambda b: (b.created_at, b.path.name), reverse=True)
    return found


def rotate(db_path: Path, folder: Path | None = None) -> list[Path]:
    """Delete automatic copies beyond 7 daily + 4 weekly; returns the deleted."""
    autos = [b for b in list_backups(db_path, folder) if b.kind == "auto"]
    keep = backups_to_keep([b.created_at for b in autos])
    deleted = []
    kept_stamps: set[datetime] = set()
    for info in autos:  # newest first: one file per kept stamp
        if info.created_at in keep and info.created_at not in kept_stamps:
            kept_stamps.add(info.created_at)
            continue
        info.path.unlink(missing_ok=True)
        deleted.append(info.path)
    return deleted


def rotate_manual(db_path: Path, keep: int, folder: Path | None = None) -> list[Path]:
    """Delete the manual copies of the backup folder beyond the ``keep`` newest."""
    manual = [b.path for b in list_backups(db_path, folder) if b.kind == "manuel"]
    return copies.keep_newest(manual, keep)


def backup_at_exit(db: Database) -> Path | None:
    """Automatic copy at closing (called by ui.app), then rotation."""
    if db.path is None or not db.path.exists():
        return None
    with db.read_session() as session:
        percent = read_setting(session, BACKUP_FREE_SPACE_PERCENT)
    with db.write_session() as session:
        audit.record(session, None, audit.Action.BACKUP, "database", None,
                     details={"type": "automatique"})
    target = _unique(paths.backup_dir() / backup_file_name(db.path, "auto", db.clock.local_now()))
    _copy_sqlite(db.path, target, percent)
    rotate(db.path)
    log.info("automatic backup: %s", target)
    return target


def check_backup_file(path: Path | str) -> BackupCheck:
    """Refuse, with a French sentence, a file that is not an intact CUS Desk
    database of a schema version this program knows."""
    from alembic.script import ScriptDirectory

    from cus_desk.store import migrate

    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"Le fichier « {path} » n'existe pas.")
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ValidationError(
                f"Le fichier « {path} » n'est pas une sauvegarde CUS Desk (ce n'est pas une base "
                "SQLite). Rien n'a été remplacé.")
    try:
        con = _connect_ro(path)
        try:
            result = con.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revision = None
            users = 0
            if {"alembic_version", "users", "audit_events"} <= tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
                users = con.execute("SELECT count(*) FROM users").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(
            f"Le fichier « {path} » est endommagé ou illisible ({exc}). Rien n'a été remplacé ; "
            "choisissez une autre sauvegarde.") from exc
    if [r[0] for r in result] != ["ok"]:
        raise ValidationError(
            f"Le fichier « {path} » est endommagé (contrôle d'intégrité : {result[0][0]}). "
            "Rien n'a été remplacé ; choisissez une autre sauvegarde.")
    if revision is None:
        raise ValidationError(
            f"Le fichier « {path} » n'est pas une base CUS Desk. Rien n'a été remplacé.")
    script = ScriptDirectory.from_config(migrate.alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise ValidationError(
            f"La sauvegarde « {path.name} » vient d'une version plus récente de CUS Desk "
            f"(schéma {revision}) : installez cette version pour la restaurer. Rien n'a été remplacé.")
    return BackupCheck(path, revision, revision == migrate.head_revision(), users)


def latest_good_backup(db_path: Path) -> BackupInfo | None:
    """The newest copy of this database that passes ``check_backup_file``."""
    for info in list_backups(db_path):
        try:
            check_backup_file(info.path)
        except ValidationError:
            continue
        return info
    return None


# --- restore ---------------------------------------------------------------------------

# Copies kept before a restore (next to the store), newest first: how many.
ASIDE_KEEP = 3

PreRestoreCheck = Callable[[Path, object], None]
_PRE_RESTORE_CHECKS: list[PreRestoreCheck] = []


def add_pre_restore_check(check: PreRestoreCheck) -> PreRestoreCheck:
    """Register ``check(source, file_check)``, run before any restore (SQLite
    file: ``BackupCheck``; server dump: ``server_backup.DumpCheck``) once the
    file passed its own checks and before anything is touched; it refuses
    by raising a CusDeskError (a French message)."""
    _PRE_RESTORE_CHECKS.append(check)
    return check


def run_pre_restore_checks(source: Path, file_check: object) -> None:
    for check in list(_PRE_RESTORE_CHECKS):
        check(source, file_check)


def _keep_aside(target: Path, clock: Clock) -> Path | None:
    """A copy of the current store next to it, before it is overwritten."""
    if not target.exists():
        return None
    stamp = clock.local_now().strftime(STAMP)
    aside = _unique(target.with_name(f"{target.stem}.avant-restauration-{stamp}{target.suffix}"))
    try:
        _copy_sqlite(target, aside)
    except (sqlite3.DatabaseError, copies.CopyCheckFailed):
        # A damaged current file: keep it aside as it is, byte for byte.
        with copies.folder_lock(target.parent):
            copies.check_free_space(target, target.parent)
            for ext in ("", "-wal", "-shm"):
                side = Path(f"{target}{ext}")
                if side.exists():
                    shutil.copy2(side, Path(f"{aside}{ext}"))
                    copies.private_file(Path(f"{aside}{ext}"))
    return aside


RESTORE_BUSY = (
    "La base est occupée par un autre programme qui y écrit (un outil, une ancienne version de "
    "CUS Desk) : la restauration n'a pas pu la prendre. Fermez-le, puis réessayez. Rien n'a été "
    "remplacé."
)
# How long (seconds) the restore waits for a writer it cannot see.
RESTORE_BUSY_WAIT_S = 30.0


class _StillBusy(Exception):
    pass


def _intact(target: Path) -> bool:
    """Whether SQLite can still copy into ``target`` (else it is replaced)."""
    if not target.exists() or target.stat().st_size == 0:
        return False
    try:
        con = _connect_ro(target)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise WorkflowError(RESTORE_BUSY) from exc
        return False
    except sqlite3.DatabaseError:
        return False
    return bool(row) and row[0] == "ok"


def _restore_into(target: Path, source: Path) -> None:
    """Copy ``source`` into the live file ``target`` (SQLite backup API, one
    step = one transaction on the target, under its write lock). The file
    stays the same file: a connection still open on it (outside CUS Desk)
    reads the restored content at its next transaction and can never write
    to an orphan. A writer holding the target longer than
    ``RESTORE_BUSY_WAIT_S``: refused, nothing replaced."""
    import time

    busy_codes = {getattr(sqlite3, "SQLITE_BUSY", 5), getattr(sqlite3, "SQLITE_LOCKED", 6)}
    since: list[float] = []

    def progress(status, _remaining, _total):
        if status in busy_codes:  # sqlite3 retries a busy step forever: bound it here
            since.append(time.monotonic())
            if since[-1] - since[0] > RESTORE_BUSY_WAIT_S:
                raise _StillBusy()

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            try:
                src.backup(dst, progress=progress)  # pages=-1: all pages in one step, one transaction
            except (_StillBusy, sqlite3.OperationalError) as exc:
                raise WorkflowError(RESTORE_BUSY) from exc
            row = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if not row or row[0] != "ok":  # pragma: no cover - the source was checked just before
        raise WorkflowError("La base restaurée a échoué au contrôle d'intégrité. "
                            "Restaurez-la de nouveau depuis la copie conservée.")


def _replace_damaged(target: Path, source: Path) -> None:
    """A current file SQLite cannot write into (damaged): replaced by a
    checked copy of the source; only ever done while nobody has it open."""
    tmp = target.with_name(f".{target.name}.restauration")
    _copy_sqlite(source, tmp)
    for ext in ("-wal", "-shm"):  # the old file's journal must not be replayed on the new one
        Path(f"{target}{ext}").unlink(missing_ok=True)
    os.replace(tmp, target)


def prepare_restore(target: Path | str, source: Path | str) -> BackupCheck:
    """Every check before a restore touches anything: the file itself, not
    the store over itself, then the pre-restore checks."""
    target, source = Path(target), Path(source)
    check = check_backup_file(source)
    if target.exists() and source.resolve() == target.resolve():
        raise ValidationError("On ne peut pas restaurer une base sur elle-même.")
    run_pre_restore_checks(source, check)
    return check


def restore_file(target: Path | str, source: Path | str, clock: Clock,
                 check: BackupCheck | None = None) -> RestoreResult:
    """Restore the backup ``source`` into the database file ``target``.
    Refused (nothing touched) if the source fails its checks or a pre-restore
    check (``prepare_restore``, unless ``check`` says it was done), or while
    another process has the store open; the current content is kept aside
    first (the newest ``ASIDE_KEEP`` such copies are kept)."""
    target, source = Path(target), Path(source)
    if check is None:
        check = prepare_restore(target, source)
    with presence.exclusive(target):
        intact = _intact(target)
        aside = _keep_aside(target, clock)
        if intact:
            _restore_into(target, source)
        else:  # missing, empty or damaged: nothing SQLite can copy into
            _replace_damaged(target, source)
    copies.rotate_glob(target.parent, f"{target.stem}.avant-restauration-*{target.suffix}", ASIDE_KEEP)
    return RestoreResult(source, aside, check.revision)


def record_restore(db: Database, actor: Actor | None, result: RestoreResult,
                   login: str | None = None, authorisation: str | None = None) -> None:
    """Trace a restore in the restored database (after it was opened)."""
    details = {
        "source": result.restored_from.name,
        "ancienne_base_conservee": result.kept_aside.name if result.kept_aside else None,
        "schema": result.revision,
    }
    if authorisation:
        details["autorisation"] = authorisation
    with db.write_session() as session:
        audit.record(session, actor, audit.Action.RESTORE, "database", None, login=login, details=details)


# --- restoring over a damaged database ---------------------------------------------------

BY_CURRENT_ADMIN = "administrateur de la base actuelle (vérifié en lecture seule)"
BY_BACKUP_ADMIN = "restauration de secours : base actuelle illisible, déverrouillée par un administrateur de la sauvegarde"

DAMAGED_BAD_CREDENTIALS = (
    "Identifiant ou mot de passe incorrect, ou ce compte n'est pas celui d'un administrateur de la "
    "base actuelle : seul un administrateur de la base actuelle peut la remplacer par une sauvegarde. "
    "Rien n'a été remplacé."
)
RECOVERY_BAD_CREDENTIALS = (
    "La base actuelle est illisible : ses comptes ne peuvent pas être vérifiés. La restauration de "
    "secours doit être déverrouillée par un administrateur de la sauvegarde choisie, et ces "
    "identifiants n'ouvrent aucun compte administrateur de cette sauvegarde. Rien n'a été remplacé."
)


def _is_admin(role) -> bool:
    from cus_desk.domain.roles import Role

    return isinstance(role, Role) and access.Permission.BACKUP in access.ROLE_PERMISSIONS.get(role, frozenset())


def authorise_damaged_restore(current: Path | str, source: Path | str, login: str, password: str) -> str:
    """Who may replace a database that cannot be opened normally.

    Always an administrator of the CURRENT store: its accounts are read
    read-only (nothing is written to a damaged file) to check the
    credentials; an account that exists only in the backup is refused. Only
    when even those accounts cannot be read (the file is missing or
    unreadable) does the recovery path open: an administrator account of the
    backup must unlock it, and the restore is then recorded as a recovery in
    the restored store. Returns how the restore was authorised (for the
    audit trail); raises AccessDeniedError otherwise."""
    from cus_desk.domain.errors import AccessDeniedError
    from cus_desk.services import auth

    role = auth.credentials_in_file(Path(current), login, password)
    if role != auth.UNREADABLE:
        if not _is_admin(role):
            raise AccessDeniedError(DAMAGED_BAD_CREDENTIALS)
        return BY_CURRENT_ADMIN
    role = auth.credentials_in_file(Path(source), login, password)
    if not _is_admin(role):
        raise AccessDeniedError(RECOVERY_BAD_CREDENTIALS)
    return BY_BACKUP_ADMIN


def current_accounts_readable(current: Path | str) -> bool:
    """Whether the accounts of the (damaged) current store can still be read:
    tells the user whose credentials a restore will ask for."""
    from cus_desk.services import auth

    return auth.credentials_in_file(Path(current), "", "") != auth.UNREADABLE


def restore_damaged(url: str, source: Path | str, login: str, password: str, clock: Clock,
                    force: bool = False) -> RestoreResult:
    """Restore ``source`` over the damaged SQLite database of ``url`` (not
    open), once ``authorise_damaged_restore`` agrees; the restore, and how it
    was authorised, is audited in the restored store."""
    target = sqlite_path_of(url)
    if target is None:
        raise WorkflowError("Seule une base SQLite (un fichier) peut être restaurée ici.")
    check = prepare_restore(target, source)  # a bad file changes nothing, whoever asks
    authorisation = authorise_damaged_restore(target, source, login, password)
    chain = audit_restore.require_intact_chain(source, force)
    result = restore_file(target, source, clock, check)
    from cus_desk.store.db import open_database

    reopened = open_database(url, clock=clock)
    try:
        audit_restore.adopt_restored_head(reopened, None, chain, login=(login or "").strip()[:64])
        record_restore(reopened, None, result, login=(login or "").strip()[:64], authorisation=authorisation)
    finally:
        reopened.dispose()
    return result


class BackupService(Service):
    def backup(self, target: Path | str | None = None) -> BackupInfo:
        """A copy to ``target`` (a file) or to the backup folder."""
        access.require(self.actor, access.Permission.BACKUP)
        if self.db.path is None:
            return self._server_backup(target)
        if target is None:
            path = _unique(paths.backup_dir() / backup_file_name(self.db.path, "manuel", self.clock.local_now()))
            kind = "manuel"
        else:
            path = Path(target)
            if path.is_dir():
                path = path / backup_file_name(self.db.path, "manuel", self.clock.local_now())
            if not path.parent.is_dir():
                raise ValidationError(f"Le dossier « {path.parent} » n'existe pas.")
            if path.resolve() == self.db.path.resolve():
                raise ValidationError("La sauvegarde ne peut pas remplacer la base elle-même.")
            kind = "fichier"
        with self._read() as session:
            percent = read_setting(session, BACKUP_FREE_SPACE_PERCENT)
            keep = read_setting(session, BACKUPS_MANUAL_KEEP)
        copies.check_free_space(self.db.path, path.parent, percent)  # before anything is recorded
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.BACKUP, "database", None,
                         details={"type": kind, "fichier": path.name})
        try:
            _copy_sqlite(self.db.path, path, percent)
        except OSError as exc:
            raise WorkflowError(f"La sauvegarde n'a pas pu être écrite dans « {path} » "
                                f"({exc.strerror}). Choisissez un autre emplacement.") from exc
        if kind == "manuel":
            rotate_manual(self.db.path, keep)
        return BackupInfo(path, self.clock.local_now().replace(tzinfo=None, microsecond=0), kind,
                          path.stat().st_size)

    def _server_backup(self, target: Path | str | None) -> BackupInfo:
        """A server store: pg_dump (custom format), checked, then named."""
        from cus_desk.services import server_backup

        stamp = self.clock.local_now()
        name = f"{self.db.engine.url.database}-manuel-{stamp.strftime(STAMP)}.dump"
        path = _unique(paths.backup_dir() / name) if target is None else Path(target)
        if path.is_dir():
            path = path / name
        if not path.parent.is_dir():
            raise ValidationError(f"Le dossier « {path.parent} » n'existe pas.")
        with self._read() as session:
            percent = read_setting(session, BACKUP_FREE_SPACE_PERCENT)
            keep = read_setting(session, BACKUPS_MANUAL_KEEP)
            size = int(session.execute(text(dialect.of(session).database_size_sql)).scalar() or 0)
        copies.check_free_space(size, path.parent, percent)  # before anything is recorded
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.BACKUP, "database", None,
                         details={"type": "pg_dump", "fichier": path.name})
        server_backup.dump(self.db.url, path)
        if target is None:
            stem = self.db.engine.url.database
            manual = sorted(paths.backup_dir().glob(f"{stem}-manuel-*.dump"), reverse=True)
            copies.keep_newest(manual, keep)
        return BackupInfo(path, stamp.replace(tzinfo=None, microsecond=0),
                          "manuel" if target is None else "fichier", path.stat().st_size)

    def list(self) -> list[BackupInfo]:
        access.require(self.actor, access.Permission.BACKUP)
        return list_backups(self.db.path) if self.db.path else []

    def check(self, source: Path | str) -> BackupCheck:
        access.require(self.actor, access.Permission.BACKUP)
        return check_backup_file(source)

    def restore(self, source: Path | str, force: bool = False) -> RestoreResult:
        """Close this database, replace its file, reopen and trace it. The
        ``Database`` object must not be used afterwards: reopen it. A copy
        whose journal d'audit is altered needs ``force`` (services.audit_restore)."""
        access.require(self.actor, access.Permission.BACKUP)
        if self.db.path is None:
            return self._server_restore(Path(source))
        check = prepare_restore(self.db.path, source)  # before closing anything
        chain = audit_restore.require_intact_chain(source, force)
        self.db.dispose()  # also ends this process's presence on the store
        try:
            result = restore_file(self.db.path, source, self.clock, check)
        except BaseException:
            self.db.register_presence()  # refused: this window goes on with the store
            raise
        from cus_desk.store.db import open_database

        reopened = open_database(self.db.url, clock=self.clock)
        try:
            audit_restore.adopt_restored_head(reopened, self.actor, chain)
            record_restore(reopened, self.actor, result)
        finally:
            reopened.dispose()
        return result

    def _server_restore(self, source: Path) -> RestoreResult:
        """A server store: pg_restore of a checked dump, in one transaction,
        refused while other workstations are connected."""
        from cus_desk.services import server_backup

        check = server_backup.restore_dump(self.db.url, self.db.engine, source,
                                           before=lambda c: run_pre_restore_checks(source, c))
        result = RestoreResult(source, None, check.revision)
        self.db.engine.dispose()  # the tables were replaced: no pooled connection keeps old plans
        record_restore(self.db, self.actor, result)
        return result
