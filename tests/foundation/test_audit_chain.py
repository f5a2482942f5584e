"""Each audit event is chained to the previous one; the change and its
trace are written in one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cus_desk.services import audit
from cus_desk.store.models.core import AuditEvent


def test_events_are_chained(db, actors):
    with db.write_session() as s:
        audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", 1, case_id=1)
        audit.record(s, actors["admin"], audit.Action.EXPORT, "partners", None, details={"n": 3})
    with db.read_session() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash == audit.GENESIS
    for prev, cur in zip(events, events[1:], strict=False):
        assert cur.prev_hash == prev.hash
        assert cur.hash == audit.event_digest(cur.prev_hash, cur.occurred_at, cur.user_id, cur.user_login,
                                              cur.action, cur.entity_type, cur.entity_id, cur.case_id,
                                              cur.details_json)
    assert events[-1].user_login == "admin"


def test_trace_rolls_back_with_the_change(db, actors):
    with db.read_session() as s:
        before = len(s.scalars(select(AuditEvent)).all())
    with pytest.raises(RuntimeError):
        with db.write_session() as s:
            audit.record(s, actors["admin"], audit.Action.UPDATE, "setting", "x")
            raise RuntimeError("failure after the trace")
    with db.read_session() as s:
        assert len(s.scalars(select(AuditEvent)).all()) == before


def test_confidential_fields_only_say_changed():
    diff = audit.diff_fields({"place": "a", "note": "VIH"}, {"place": "b", "note": "cancer"}, {"note"})
    assert diff == {"place": ["a", "b"], "note": audit.CONFIDENTIAL_MARK}
    # known content fields are confidential even when the caller forgets to say so (#11)
    diff = audit.diff_fields({"summary": "a", "members": [["X", "1970-01-01"]]},
                             {"summary": "VIH", "members": []})
    assert diff == {"summary": audit.CONFIDENTIAL_MARK, "members": audit.CONFIDENTIAL_MARK}
    assert "VIH" not in str(diff) and "cancer" not in str(diff)
