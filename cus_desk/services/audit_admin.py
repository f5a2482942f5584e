"""The administrator's side of the journal d'audit: chain verification,
viewer queries, purge of events older than the retention period.

Verification itself lives in services.audit_verify (keyed chain, legacy
chain, anchors, chain heads). Purge and anchor: the chain is purged from its oldest end only. Before
deleting, the purge appends its own event (so the journal is never empty
and the purge itself is traced), then deletes every event older than the
first one to keep, and stores an *anchor*: the hash of the last deleted
event. Verification starts from the latest anchor instead of the genesis,
so a purged journal still verifies; deleting more old events, altering the
first kept one, or removing/altering an anchor (anchors are chained
together) still breaks it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cus_desk.domain import security as rules
from cus_desk.domain.formatting import PARIS
from cus_desk.domain.security import printable, printable_value
from cus_desk.domain.settings import AUDIT_RETENTION_DAYS
from cus_desk.services import access, audit, audit_verify
from cus_desk.services.audit_verify import ChainReport  # noqa: F401  (re-exported)
from cus_desk.services.base import Service
from cus_desk.services.settings import read_setting
from cus_desk.store.db import Database
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditAnchor


def verify_chain(db: Database) -> ChainReport:
    """Check every link of the journal, the purge anchors and the chain
    heads (services.audit_verify)."""
    return audit_verify.verify_database(db)


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    user_login: str
    action: str
    action_label: str
    entity_type: str
    entity_id: str
    case_id: int | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def details_text(self) -> str:
        parts = []
        for key, value in self.details.items():
            if isinstance(value, list) and len(value) == 2:
                parts.append(f"{key} : {value[0]} → {value[1]}")
            else:
                parts.append(f"{key} : {value}")
        return " ; ".join(parts)

    def as_dict(self) -> dict:
        return {"id": self.id, "date": self.occurred_at.isoformat(), "utilisateur": self.user_login,
                "action": self.action, "objet": self.entity_type, "objet_id": self.entity_id,
                "dossier_id": self.case_id, "details": self.details}


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None  # login (exact) or part of it
    case_id: int | None = None
    date_from: date | None = None  # local (Paris) days, inclusive
    date_to: date | None = None
    action: str | None = None


def _paris_start(day: date) -> datetime:
    return datetime.combine(day, time.min, PARIS).astimezone(UTC)


@dataclass(frozen=True)
class AuditPurgeResult:
    cutoff: datetime
    count: int
    through_event_id: int | None
    dry_run: bool

    @property
    def message(self) -> str:
        if self.count == 0:
            return "Aucun événement du journal d'audit n'est assez ancien pour être purgé."
        verb = "seraient purgés" if self.dry_run else "ont été purgés"
        return f"{self.count} événement(s) du journal d'audit antérieurs au " \
               f"{self.cutoff.astimezone(PARIS).strftime('%d/%m/%Y')} {verb}."


def _purge_bounds(session: Session, cutoff: datetime) -> tuple[int | None, int]:
    """(first id to keep, number of events before it)."""
    first_kept = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.occurred_at >= cutoff))
    query = select(func.count(AuditEvent.id))
    if first_kept is not None:
        query = query.where(AuditEvent.id < first_kept)
    return first_kept, session.scalar(query) or 0


def audit_cutoff(session: Session, now: datetime) -> datetime:
    days = read_setting(session, AUDIT_RETENTION_DAYS)
    return now - timedelta(days=int(days))


class AuditAdminService(Service):
    def verify(self) -> ChainReport:
        access.require(self.actor, access.Permission.AUDIT_READ)
        return verify_chain(self.db)

    def _where(self, flt: AuditFilter):
        clauses = []
        if flt.user:
            text = flt.user.strip()
            clauses.append(or_(AuditEvent.user_login == text,
                               AuditEvent.user_login.like(f"%{text}%")))
        if flt.case_id is not None:
            clauses.append(AuditEvent.case_id == flt.case_id)
        if flt.date_from is not None:
            clauses.append(AuditEvent.occurred_at >= _paris_start(flt.date_from))
        if flt.date_to is not None:
            clauses.append(AuditEvent.occurred_at < _paris_start(flt.date_to + timedelta(days=1)))
        if flt.action:
            clauses.append(AuditEvent.action == flt.action)
        return clauses

    def count(self, flt: AuditFilter = AuditFilter()) -> int:
        access.require(self.actor, access.Permission.AUDIT_READ)
        with self._read() as session:
            return session.scalar(select(func.count(AuditEvent.id)).where(*self._where(flt))) or 0

    def query(self, flt: AuditFilter = AuditFilter(), offset: int = 0,
              limit: int = 200) -> list[AuditRow]:
        """Newest first; filtering and paging happen in SQL."""
        access.require(self.actor, access.Permission.AUDIT_READ)
        with self._read() as session:
            rows = session.scalars(
                select(AuditEvent).where(*self._where(flt))
                .order_by(AuditEvent.id.desc()).offset(offset).limit(limit)
            ).all()
            return [_row(e) for e in rows]

    def users_seen(self) -> list[str]:
        access.require(self.actor, access.Permission.AUDIT_READ)
        with self._read() as session:
            return list(session.scalars(
                select(AuditEvent.user_login).distinct().order_by(AuditEvent.user_login)))

    def purge_preview(self) -> AuditPurgeResult:
        access.require(self.actor, access.Permission.PURGE)
        with self._read() as session:
            cutoff = audit_cutoff(session, self.clock.now())
            first_kept, count = _purge_bounds(session, cutoff)
            return AuditPurgeResult(cutoff, count, (first_kept or 0) - 1 if count else None, True)

    def purge(self) -> AuditPurgeResult:
        access.require(self.actor, access.Permission.PURGE)
        with self._write() as session:
            return purge_audit(session, self.actor, self.clock.now())


def purge_audit(session: Session, actor, now: datetime) -> AuditPurgeResult:
    """Inside a write transaction: delete events older than the retention
    period and re-anchor the chain (see module docstring)."""
    cutoff = audit_cutoff(session, now)
    first_kept, count = _purge_bounds(session, cutoff)
    if count == 0:
        return AuditPurgeResult(cutoff, 0, None, False)
    last_deleted = session.execute(
        select(AuditEvent.id, AuditEvent.hash)
        .where(AuditEvent.id < first_kept if first_kept is not None else AuditEvent.id > -1)
        .order_by(AuditEvent.id.desc()).limit(1)
    ).one()
    # The purge's own event is appended first: it survives and carries on the chain.
    audit.record(session, actor, audit.Action.PURGE, "audit", None, details={
        "evenements_purges": count, "jusqu_au_n": last_deleted.id,
        "anterieurs_au": cutoff.isoformat(timespec="seconds"),
        "ancre": last_deleted.hash,
    })
    session.query(AuditEvent).filter(AuditEvent.id <= last_deleted.id).delete(
        synchronize_session=False)
    prev = session.scalar(select(AuditAnchor.hash).order_by(AuditAnchor.id.desc()).limit(1))
    created = now
    anchor = AuditAnchor(created_at=created, through_event_id=last_deleted.id,
                         last_event_hash=last_deleted.hash, purged_count=count,
                         purged_by=actor.login if actor else "système",
                         prev_hash=prev or audit.GENESIS)
    key = audit.signing_key(session)
    anchor.hash = (audit.keyed_anchor_digest(key, anchor.prev_hash, created, last_deleted.id,
                                             last_deleted.hash, count) if key is not None
                   else rules.anchor_digest(anchor.prev_hash, created, last_deleted.id,
                                            last_deleted.hash, count))
    session.add(anchor)
    session.flush()
    return AuditPurgeResult(cutoff, count, last_deleted.id, False)


def _row(event: AuditEvent) -> AuditRow:
    try:
        details = json.loads(event.details_json or "{}")
    except ValueError:
        details = {"?": event.details_json}
    if not isinstance(details, dict):
        details = {"valeur": details}
    # Whatever was stored (a login typed at the sign-in prompt, a name) is shown
    # with its control characters escaped: no forged line, no terminal codes.
    return AuditRow(event.id, event.occurred_at, printable(event.user_login or ""), printable(event.action),
                    printable(audit.ACTION_LABELS.get(event.action, event.action)),
                    printable(event.entity_type or ""), printable(event.entity_id or ""), event.case_id,
                    printable_value(details))
