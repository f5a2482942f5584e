"""Audit chain verification (intact, tampered), viewer filters, purge with
re-anchoring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services import audit
from cus_desk.services.audit_admin import AuditAdminService, AuditFilter, verify_chain
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditAnchor
from tests.security.conftest import age_audit_events


def _fill(db, actors, n=20):
    with db.write_session() as s:
        for i in range(n):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i % 4 + 1,
                         case_id=i % 4 + 1)
            audit.record(s, actors["social_head"], audit.Action.UPDATE, "case", 7, case_id=7,
                         details={"status": ["ouvert", "suivi"]})


def _ids(db):
    with db.read_session() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_intact_chain_verifies(db, actors):
    _fill(db, actors)
    report = verify_chain(db)
    assert report.ok and report.checked == report.total > 40
    assert "intact" in report.message


def test_altered_event_is_the_first_broken_link(db, actors):
    _fill(db, actors)
    target = _ids(db)[15]
    with db.write_session() as s:
        s.execute(text("UPDATE audit_events SET user_login = 'quelquun' WHERE id = :i"), {"i": target})
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == target
    assert f"n° {target}" in report.message and "modifié" in report.message


def test_deleted_event_is_detected(db, actors):
    _fill(db, actors)
    ids = _ids(db)
    with db.write_session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[10]))
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == ids[11]


def test_deleted_first_event_is_detected(db, actors):
    _fill(db, actors)
    ids = _ids(db)
    with db.write_session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[0]))
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == ids[1]


def test_rehashed_event_without_relinking_is_detected(db, actors):
    """Recomputing the altered event's own hash is not enough: the next link breaks."""
    _fill(db, actors)
    ids = _ids(db)
    with db.write_session() as s:
        e = s.get(AuditEvent, ids[5])
        e.details_json = '{"falsifie": true}'
        e.hash = audit.event_digest(e.prev_hash, e.occurred_at, e.user_id, e.user_login, e.action,
                                    e.entity_type, e.entity_id, e.case_id, e.details_json)
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == ids[6]


def test_viewer_filters(db, actors):
    _fill(db, actors, n=8)
    svc = AuditAdminService(db, actors["admin"])
    by_user = svc.query(AuditFilter(user="pole.social"))
    assert by_user and {r.user_login for r in by_user} == {"pole.social"}
    by_case = svc.query(AuditFilter(case_id=2))
    assert by_case and {r.case_id for r in by_case} == {2}
    assert svc.count(AuditFilter(case_id=2)) == 2
    # The filter's days are French days: "today" is today in Paris, not on
    # the test machine's clock (they differ from 23:00 UTC in winter).
    today = db.clock.today()
    assert svc.query(AuditFilter(date_from=today + timedelta(days=1))) == []
    assert svc.count(AuditFilter(date_from=today - timedelta(days=1), date_to=today)) == svc.count()
    assert svc.query(AuditFilter(action=audit.Action.UPDATE))[0].details_text == "status : ouvert → suivi"
    page = svc.query(AuditFilter(), offset=0, limit=5)
    assert len(page) == 5 and page[0].id > page[-1].id  # newest first
    assert "pole.social" in svc.users_seen()


@pytest.mark.parametrize("who", ["adviser_metz", "social_head", "cas_member", "recovery_metz"])
def test_only_admin_reads_audit(db, actors, who):
    svc = AuditAdminService(db, actors[who])
    for call in (svc.verify, svc.query, svc.count, svc.purge, svc.purge_preview):
        with pytest.raises(AccessDeniedError):
            call()


def test_purge_reanchors_and_still_verifies(db, actors):
    _fill(db, actors)
    ids = _ids(db)
    old_last = ids[29]
    age_audit_events(db, 400, up_to_id=old_last)  # 30 events older than a year
    assert verify_chain(db).ok
    svc = AuditAdminService(db, actors["admin"])
    preview = svc.purge_preview()
    assert preview.count == 30 and preview.dry_run
    assert len(_ids(db)) == len(ids)  # dry run deletes nothing
    result = svc.purge()
    assert result.count == 30 and result.through_event_id == old_last
    remaining = _ids(db)
    assert remaining[0] == old_last + 1 and len(remaining) == len(ids) - 30 + 1  # + purge event
    report = verify_chain(db)
    assert report.ok, report.message
    assert report.anchored_after == old_last and "purge" in report.message
    with db.read_session() as s:
        purge_event = s.scalars(select(AuditEvent).where(AuditEvent.action == "purge")).one()
        assert '"evenements_purges": 30' in purge_event.details_json
    # A second purge right away has nothing to do.
    assert svc.purge().count == 0
    # New events after a purge keep verifying.
    _fill(db, actors, n=2)
    assert verify_chain(db).ok


def test_after_purge_deleting_old_events_or_anchor_is_detected(db, actors, store_copy):
    from cus_desk.store.db import open_database

    _fill(db, actors)
    age_audit_events(db, 400, up_to_id=_ids(db)[19])
    AuditAdminService(db, actors["admin"]).purge()
    db.dispose()

    def variant(name, sql):
        other = open_database(store_copy(name))
        with other.write_session() as s:
            s.execute(text(sql))
        report = verify_chain(other)
        other.dispose()
        return report

    first_kept = variant("intact", "SELECT 1")
    assert first_kept.ok
    r = variant("deleted_first_kept", "DELETE FROM audit_events WHERE id = (SELECT min(id) FROM audit_events)")
    assert not r.ok and "Lien rompu" in r.reason
    r = variant("anchor_removed", "DELETE FROM audit_anchors")
    assert not r.ok
    r = variant("anchor_altered", "UPDATE audit_anchors SET purged_count = 1")
    assert not r.ok and "ancre" in r.reason
    r = variant("anchor_retargeted", "UPDATE audit_anchors SET last_event_hash = (SELECT hash FROM audit_events ORDER BY id LIMIT 1 OFFSET 3)")
    assert not r.ok


def test_purge_when_every_event_is_old(db, actors):
    _fill(db, actors, n=3)
    age_audit_events(db, 800)
    result = AuditAdminService(db, actors["admin"]).purge()
    assert result.count >= 6
    with db.read_session() as s:
        assert s.scalar(select(func.count(AuditEvent.id))) == 1  # the purge's own event
        # One purge anchor (besides the seal written with the first keyed event).
        assert s.scalar(select(func.count(AuditAnchor.id)).where(AuditAnchor.purged_count > 0)) == 1
    assert verify_chain(db).ok
