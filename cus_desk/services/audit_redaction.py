"""Redaction of the journal d'audit's details for purged data, the chain
staying verifiable.

An event's hash covers its details, so blanking them would break
``audit verify``. A redaction therefore:

1. records, for every event it blanks, the event's hash and a digest of
   everything that stays readable (id, links, time, user, action, object,
   case id) in one new event of the chain (action ``purge``, object
   ``audit_redaction``), appended after them under the chain's lock;
2. replaces the details of those events by a fixed marker
   (``{"expurge": "<date>"}``).

Verification (services.audit_admin) recomputes the hash of every event as
before, except for an event whose details are the marker *and* that a
redaction event of the chain lists: its stored hash must be the one the
redaction recorded, and its readable fields must match the recorded digest.
So blanking details is only possible through a chained redaction event
(forging one means re-chaining, which the chain detects), and nothing else
of a redacted event can be altered unseen. The hash function of the chain
itself (services.audit) is not touched: this works for any chain digest,
keyed or not.

What stays of a purged case in the trail: who did what, when, on which
object (by id) — what a log is for — never what was written."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from cus_desk.services import audit
from cus_desk.store.models.core import AuditEvent

REDACTION_ENTITY = "audit_redaction"
MARK_KEY = "expurge"


def marker(day: date) -> str:
    return json.dumps({MARK_KEY: f"purge RGPD du {day.isoformat()}"}, ensure_ascii=False)


def is_marker(details_json: str | None) -> bool:
    try:
        value = json.loads(details_json or "")
    except ValueError:
        return False
    return isinstance(value, dict) and set(value) == {MARK_KEY}


def fields_digest(event_id: int, prev_hash: str, hash_: str, occurred_at, user_id, user_login: str,
                  action: str, entity_type: str, entity_id: str, case_id) -> str:
    """Digest of what stays readable of a redacted event."""
    payload = json.dumps([event_id, prev_hash, hash_, occurred_at.isoformat(timespec="microseconds"),
                          user_id, user_login, action, entity_type, entity_id, case_id],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _row_digest(row) -> str:
    return fields_digest(row.id, row.prev_hash, row.hash, row.occurred_at, row.user_id, row.user_login,
                         row.action, row.entity_type, row.entity_id, row.case_id)


def redact(session: Session, actor, day: date, *, case_ids: set[int] = frozenset(),
           objects: set[tuple[str, str]] = frozenset()) -> int:
    """Inside the purge's write transaction: blank the details of every
    event about ``case_ids`` (by case) or ``objects`` ((entity type, id)).
    Returns the number of events redacted."""
    if not case_ids and not objects:
        return 0
    # One query per bounded list of ids (a purged extract releases 50,000
    # leases: the trail names few of them, found first by object type).
    clauses = []
    ids = sorted(case_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        clauses.append(or_(AuditEvent.case_id.in_(chunk), and_(
            AuditEvent.entity_type == "case", AuditEvent.entity_id.in_([str(i) for i in chunk]))))
    by_type: dict[str, set[str]] = {}
    for kind, entity_id in objects:
        by_type.setdefault(kind, set()).add(str(entity_id))
    for kind, values in by_type.items():
        present = set(session.scalars(select(AuditEvent.entity_id).where(AuditEvent.entity_type == kind)
                                      .distinct()))
        wanted = sorted(values & present)
        for start in range(0, len(wanted), 500):
            clauses.append(and_(AuditEvent.entity_type == kind,
                                AuditEvent.entity_id.in_(wanted[start:start + 500])))
    found = {}
    for clause in clauses:
        for r in session.execute(
                select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.occurred_at,
                       AuditEvent.user_id, AuditEvent.user_login, AuditEvent.action, AuditEvent.entity_type,
                       AuditEvent.entity_id, AuditEvent.case_id, AuditEvent.details_json).where(clause)):
            found[r.id] = r
    rows = [found[i] for i in sorted(found) if not is_marker(found[i].details_json)]
    if not rows:
        return 0
    entries = {str(r.id): [r.hash, _row_digest(r)] for r in rows}
    mark = marker(day)
    row_ids = [r.id for r in rows]
    for start in range(0, len(row_ids), 500):
        session.execute(update(AuditEvent).where(AuditEvent.id.in_(row_ids[start:start + 500]))
                        .values(details_json=mark).execution_options(synchronize_session=False))
    audit.record(session, actor, audit.Action.PURGE, REDACTION_ENTITY, None,
                 details={"evenements_expurges": entries, "le": day.isoformat()})
    return len(rows)


def recorded_redactions(session: Session) -> dict[int, tuple[str, str]]:
    """event id -> (hash, fields digest) as recorded by the chain's redaction events."""
    found: dict[int, tuple[str, str]] = {}
    for details_json, in session.execute(
            select(AuditEvent.details_json).where(AuditEvent.action == audit.Action.PURGE,
                                                  AuditEvent.entity_type == REDACTION_ENTITY)
            .order_by(AuditEvent.id)):
        try:
            entries: dict[str, Any] = json.loads(details_json).get("evenements_expurges", {})
        except (ValueError, AttributeError):
            continue  # an altered redaction event: its own hash check reports it
        for key, value in entries.items():
            try:
                found[int(key)] = (str(value[0]), str(value[1]))
            except (ValueError, TypeError, IndexError):
                continue
    return found


def redacted_hash(row, recorded: dict[int, tuple[str, str]]) -> str | None:
    """For an event whose details are the redaction marker: the hash the
    chain vouches for (the one recorded at redaction) when its readable
    fields are intact; "" when they were altered; None when the event is
    not a recorded redaction (verified as any other event)."""
    entry = recorded.get(row.id)
    if entry is None or not is_marker(row.details_json):
        return None
    recorded_hash, digest = entry
    if row.hash != recorded_hash or _row_digest(row) != digest:
        return ""
    return recorded_hash
