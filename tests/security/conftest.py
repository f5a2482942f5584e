"""Fixtures of the security tests."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from cus_desk.store.models.core import AuditEvent


def age_audit_events(db, days: int, up_to_id: int | None = None) -> None:
    """Pretend the first events happened ``days`` ago, re-sealing the chain
    (as if they had really been written then)."""
    from sqlalchemy import select

    from cus_desk.services import audit

    with db.write_session() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        prev = None
        for e in events:
            if up_to_id is None or e.id <= up_to_id:
                e.occurred_at = e.occurred_at - timedelta(days=days)
            if prev is not None:
                e.prev_hash = prev
            e.hash = audit.event_digest(e.prev_hash, e.occurred_at, e.user_id, e.user_login,
                                        e.action, e.entity_type, e.entity_id, e.case_id,
                                        e.details_json)
            s.flush()
            prev = e.hash
        # The heads (database trigger's row, signed file) follow the rewritten history.
        from cus_desk.services import audit_head, audit_key
        from cus_desk.store.models.security import AuditChainHead

        s.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=prev))
        audit_head.reset_head(s, audit_key.load_key(), "test")


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Cheap Argon2 parameters for test accounts (the machine is shared);
    verification reads the parameters from each stored hash, so the code
    under test is unchanged."""
    from argon2 import PasswordHasher

    from cus_desk.services import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def admin(actors):
    return actors["admin"]


def events(db, action=None):
    from sqlalchemy import select

    with db.read_session() as s:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return [(e.user_login, e.action, e.entity_type, e.entity_id, json.loads(e.details_json))
                for e in s.scalars(q)]


_ = update
