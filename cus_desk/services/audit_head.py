"""The signed head of the audit chain, kept outside the store.

Deleting the *last* events of a hash chain leaves a shorter chain that is
still perfectly linked. So after every committed write that appended audit
events, the chain head — last event id, its digest, how many events were
ever appended — is signed with the installation's key (HMAC-SHA256,
services.audit_key) into a small file next to the store file
(``<store>.audit-head``, one JSON line per head; a copy goes to the
application log each time the file is compacted). ``audit verify``
(services.audit_verify) checks every head of that file against the store:
"the last N events are missing", "every event was deleted".

Each write appends one line (an append is cheap; replacing a file costs
a rename per write). Every line is a head the store must still contain,
and ``audit verify`` checks them all. When the file reaches ``COMPACT_AT``
lines and the previous head is confirmed present in the store, the file is
replaced by the latest head alone. When the previous head is *not* found
(the store was tampered with between two writes), the new line is marked
``alerte`` and the file is never compacted again, so that a later write
never launders a deletion; the mismatch is logged.

A server store has no file: its head is the ``audit_chain_head`` table,
advanced by a database trigger (migration 0010) that client roles cannot
bypass."""

from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from cus_desk.store import dialect
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditAnchor, AuditChainHead

log = logging.getLogger(__name__)

SUFFIX = ".audit-head"
COMPACT_AT = 64
_PENDING = "cus_audit_head"  # session.info: an event was appended in this transaction
_WRITE = "cus_audit_head_write"  # session.info: (path, line, replace) to write after commit


@dataclass(frozen=True)
class SignedHead:
    last_id: int | None
    last_hash: str | None
    total: int
    key_id: str
    written_at: str
    mac: str
    line_no: int = 0
    alert: bool = False  # written after the previous head was found missing

    def payload(self) -> bytes:
        return json.dumps([self.last_id, self.last_hash, self.total], separators=(",", ":")).encode()

    def signed_by(self, key) -> bool:
        return key is not None and hmac.compare_digest(key.mac(self.payload()), self.mac)

    def as_line(self) -> str:
        data = {"dernier_n": self.last_id, "empreinte": self.last_hash, "total": self.total,
                "cle": self.key_id, "ecrit_le": self.written_at, "mac": self.mac}
        if self.alert:
            data["alerte"] = True
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def head_path(store_file: Path) -> Path:
    return Path(f"{store_file}{SUFFIX}")


def head_path_of(session: Session) -> Path | None:
    store = dialect.of(session).store_file(session)
    return head_path(store) if store is not None else None


def read_heads(path: Path) -> list[SignedHead | None] | None:
    """The heads of ``path`` (None for a line that cannot be read); None if
    there is no head file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return [_parse(line, no) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _parse(line: str, no: int) -> SignedHead | None:
    try:
        d = json.loads(line)
        return SignedHead(d["dernier_n"], d["empreinte"], int(d["total"]), str(d["cle"]),
                          str(d["ecrit_le"]), str(d["mac"]), no, bool(d.get("alerte")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def current_head(session: Session) -> AuditChainHead | None:
    """The head kept by the database trigger (None on a store without it)."""
    return session.get(AuditChainHead, 1)


def sign(key, last_id: int | None, last_hash: str | None, total: int, written_at: str) -> SignedHead:
    unsigned = SignedHead(last_id, last_hash, total, key.key_id, written_at, "")
    return SignedHead(last_id, last_hash, total, key.key_id, written_at, key.mac(unsigned.payload()))


def head_found(session: Session, head: SignedHead) -> bool:
    """``head`` is still in the store: its last event with the same digest,
    or that event was removed by a purge (a keyed anchor covers it)."""
    if head.last_id is None:
        return True
    stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == head.last_id))
    if stored is not None:
        return stored == head.last_hash
    purged_through = session.scalar(
        select(func.max(AuditAnchor.through_event_id)).where(AuditAnchor.purged_count > 0))
    return purged_through is not None and head.last_id <= purged_through


def note_appended(session: Session) -> None:
    session.info[_PENDING] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    from cus_desk.services.audit import _KEY_INFO

    key = session.info.get(_KEY_INFO)
    path = head_path_of(session)
    if key is None or path is None:
        return
    session.flush()
    # Only the last line is parsed here (verification reads them all).
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.splitlines()
    last = _parse(lines[-1], len(lines)) if lines else None
    previous = lines
    # One round trip: the head the trigger advanced, and the digest stored
    # now under the previous signed head's event id.
    prev_id = last.last_id if last is not None and last.last_id is not None else -1
    row = session.execute(
        select(AuditChainHead.last_id, AuditChainHead.last_hash, AuditChainHead.total,
               select(AuditEvent.hash).where(AuditEvent.id == prev_id).scalar_subquery())
        .where(AuditChainHead.id == 1)).one_or_none()
    if row is None:
        return
    from cus_desk.store.db import session_clock

    alert = False
    if previous:
        # Under the store's write lock: the previous head must still be there.
        found = (last is not None and (last.last_id is None or row[3] == last.last_hash
                                       or (row[3] is None and head_found(session, last))))
        if last is None or not last.signed_by(key) or not found:
            alert = True
            log.error("Journal d'audit : la tête de chaîne précédente (%s) ne se retrouve plus "
                      "dans la base ; elle est conservée et la nouvelle lui est ajoutée. "
                      "Lancez « cus-desk audit verify ».", path)
    # Compacted only when nothing is amiss: earlier evidence of tampering is kept.
    replace = (not previous or len(previous) >= COMPACT_AT) and not alert and '"alerte"' not in text
    head = sign(key, row.last_id, row.last_hash, row.total,
                session_clock(session).now().isoformat(timespec="seconds"))
    if alert:
        head = SignedHead(head.last_id, head.last_hash, head.total, head.key_id, head.written_at,
                          head.mac, alert=True)
    session.info[_WRITE] = (path, head.as_line(), replace)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    from cus_desk.services.audit import _KEY_INFO

    session.info.pop(_KEY_INFO, None)
    pending = session.info.pop(_WRITE, None)
    if pending is None:
        return
    path, line, replace = pending
    try:
        write_head_line(path, line, replace)
    except OSError as exc:  # the change is committed: say so, never fail it
        log.error("Journal d'audit : tête de chaîne non écrite dans %s (%s).", path, exc)
        return
    if replace:
        # A copy in the application log (user log folder), at each compaction:
        # one more place, outside the store, where the head can be read back.
        log.info("Tête du journal d'audit (%s) : %s", path.name, line.strip())


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    from cus_desk.services.audit import _KEY_INFO

    for name in (_PENDING, _WRITE, _KEY_INFO):
        session.info.pop(name, None)


def write_head_line(path: Path, line: str, replace: bool) -> None:
    if replace:
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(line)
        os.replace(tmp, path)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(line)


def reset_head(session: Session, key, written_at: str) -> Path | None:
    """Make the head file say what the store holds now (after a restore the
    administrator confirmed): the store's own head, signed. Returns the path."""
    path = head_path_of(session)
    row = current_head(session)
    if path is None:
        return None
    if row is None or key is None:
        path.unlink(missing_ok=True)
        return path
    write_head_line(path, sign(key, row.last_id, row.last_hash, row.total, written_at).as_line(), True)
    log.warning("Journal d'audit : tête de chaîne réinitialisée sur la base telle qu'elle est (%s, n° %s).",
                path, row.last_id)
    return path
