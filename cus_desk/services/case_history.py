"""The « Historique » tab of a case: its audit trail (reads excluded), with
the people's names and the details written in French (domain.history)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain.history import describe
from cus_desk.services import audit
from cus_desk.store.models.core import AuditEvent, User

LIMIT = 500


def user_names(session: Session) -> tuple[dict[str, str], dict[int, str]]:
    """login → display name, and id → display name."""
    rows = session.execute(select(User.id, User.login, User.display_name)).all()
    return {r.login: r.display_name for r in rows}, {r.id: r.display_name for r in rows}


def history(session: Session, case_id: int) -> tuple:
    """The newest first; the caller has checked FULL access to the case."""
    from cus_desk.services.cases import HistoryView  # cases imports this module

    by_login, by_id = user_names(session)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case_id)
        .where(AuditEvent.action != audit.Action.READ)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(LIMIT)
    )
    views = []
    for e in events:
        details = json.loads(e.details_json or "{}")
        views.append(HistoryView(e.occurred_at, e.user_login, e.action, e.entity_type, details,
                                 user_name=by_login.get(e.user_login, e.user_login),
                                 text=describe(e.entity_type, details, by_id)))
    return tuple(views)
