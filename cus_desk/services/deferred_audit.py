"""A sign-in that does not need the writer's lock.

Checking a password only reads. What a successful sign-in writes (the
« connexion » audit event, the failed-attempts counter back to zero, the
time of the last sign-in) waits for the writer's lock a short while
(``LOGIN_WAIT_MS``); when another writer holds the store longer (a long
import), the sign-in goes on and these writes are **deferred, never
skipped**: they are appended at once to a spool file (one JSON line per
sign-in, user-only, in the user's data folder, one file per store), then
written to the store — with their original time in the details — at the
next write of this process, at its closing, or at the next sign-in of any
later process on that store (whichever comes first). A failed attempt is
never deferred: the lockout counts it before answering, so a busy store
answers it with the French "base occupée" message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url

from cus_desk import paths
from cus_desk.domain.errors import StoreBusyError
from cus_desk.services import audit
from cus_desk.store import copies
from cus_desk.store.db import Database
from cus_desk.store.models.core import User

log = logging.getLogger(__name__)

# How long a sign-in waits for the writer's lock before deferring its writes.
LOGIN_WAIT_MS = 1_500


def spool_path(db: Database) -> Path:
    where = str(db.path.resolve()) if db.path is not None else \
        make_url(db.url).set(password=None).render_as_string(hide_password=True)
    digest = hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]
    return copies.private_dir(paths.data_dir() / "audit-differe") / f"{digest}.jsonl"


def _lock(path: Path, timeout: float) -> FileLock:
    return FileLock(str(path.with_suffix(".verrou")), timeout=timeout, mode=copies.PRIVATE_FILE)


def defer_login(db: Database, user_id: int, login: str, unlock: bool, at) -> None:
    """Keep a successful sign-in's writes for later (durably, at once)."""
    path = spool_path(db)
    line = json.dumps({"user_id": user_id, "login": login, "unlock": unlock,
                       "at": at.isoformat(timespec="seconds")}, ensure_ascii=False)
    with _lock(path, timeout=30):
        copies.create_private_empty(path)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
    log.warning("store busy at sign-in of %s: its audit event is deferred", login)
    if flush not in db.deferred_writes:
        db.deferred_writes.append(flush)


def flush(db: Database, wait_ms: int | None = LOGIN_WAIT_MS) -> int:
    """Write the deferred sign-ins of this store (all of them, in one
    transaction), then empty the spool. Returns how many were written;
    raises StoreBusyError when the store is still busy (kept for later)."""
    from cus_desk.services.auth import actor_of

    path = spool_path(db)
    if not path.exists() or path.stat().st_size == 0:
        if flush in db.deferred_writes:
            db.deferred_writes.remove(flush)
        return 0
    try:
        lock = _lock(path, timeout=5)
        lock.acquire()
    except Timeout:
        return 0  # another process is writing them now
    try:
        entries = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        if entries:
            if flush in db.deferred_writes:
                db.deferred_writes.remove(flush)  # no recursion through write_session
            try:
                with db.write_session(wait_ms=wait_ms, attempts=1) as session:
                    for entry in entries:
                        user = session.get(User, entry["user_id"])
                        if user is None:
                            continue
                        details = {"différé": True, "heure_de_connexion": entry["at"]}
                        if entry.get("unlock"):
                            details["déverrouillage"] = True
                        audit.record(session, actor_of(user), audit.Action.LOGIN, "user", user.id,
                                     details=details)
            except StoreBusyError:
                db.deferred_writes.append(flush)
                raise
        path.write_text("", encoding="utf-8")
        return len(entries)
    finally:
        lock.release()
