"""Changes announce themselves.

Every write transaction knows which tables it touched (ORM flushes and
INSERT/UPDATE/DELETE statements run through the session); this module turns
them into the topics the screens listen to ("cases", "meetings", "seniors",
"partners", "users", "settings"). On a PostgreSQL server the topics are sent
with ``pg_notify`` inside the same transaction — PostgreSQL delivers them at
commit only, never for a rolled-back write — so that every other client's
open screens refresh (``store.listen``). One place, whatever wrote: a
screen, a CLI command, a background import.
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy import event, text
from sqlalchemy.orm import Session

CHANNEL = "cus_desk_changes"

# A client's own notifications come back to it too; its screens already
# refreshed through the local bus, so its listener skips them.
CLIENT_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

TOPIC_BY_TABLE: dict[str, tuple[str, ...]] = {
    **{t: ("cases",) for t in ("cases", "case_problems", "confidential_notes", "journal_entries",
                                "repayment_plans", "case_economics", "households", "tenants", "leases")},
    # An orientation belongs to a case; a signalement (senior_alert) to the seniors list.
    "referrals": ("cases", "seniors"),
    **{t: ("meetings",) for t in ("meetings", "attendees", "agenda_items", "decisions",
                                   "decision_follow_ups", "meeting_addenda", "meeting_archives")},
    **{t: ("partners",) for t in ("partners", "partner_contacts", "partner_communes",
                                   "partner_conventions", "sublet_flats", "sublet_counts")},
    **{t: ("seniors",) for t in ("arrears_extracts", "arrears_lines", "field_observations",
                                  "senior_alert_events")},
    "users": ("users",),
    "agencies": ("agencies",),
    "settings": ("settings",),
}

_KEY = "cus_changed_topics"
_COMMITTED = "cus_committed_topics"


def changed_topics(session: Session) -> set[str]:
    """The topics this session's transaction has changed so far."""
    return session.info.setdefault(_KEY, set())


def _note_tables(session: Session, tables) -> None:
    topics = changed_topics(session)
    for name in tables:
        topics.update(TOPIC_BY_TABLE.get(name, ()))


@event.listens_for(Session, "before_flush")
def _on_flush(session, _context, _instances) -> None:
    tables = {obj.__table__.name for obj in (*session.new, *session.dirty, *session.deleted)
              if hasattr(obj, "__table__")}
    _note_tables(session, tables)


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            _note_tables(state.session, (table.name,))


@event.listens_for(Session, "before_commit")
def _announce(session) -> None:
    session.flush()  # commit flushes after this hook: note what is still pending first
    topics = session.info.pop(_KEY, None)
    if not topics:
        return
    session.info[_COMMITTED] = topics
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return  # one PC: the local bus is enough
    for topic in sorted(topics):
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": f"{topic}|{CLIENT_ID}"})


@event.listens_for(Session, "after_commit")
def _caches_follow_commits(session) -> None:
    topics = session.info.pop(_COMMITTED, None)
    if topics:
        session.info.get("changed", lambda _topics: None)(topics)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(_KEY, None)


def parse_payload(payload: str) -> tuple[str, str]:
    """``(topic, client id)`` of a notification's payload."""
    topic, _, client = payload.partition("|")
    return topic, client
