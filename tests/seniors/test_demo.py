"""The demo database shows the feature: seniors in arrears, premier impayé,
observations and signalements at every stage."""

from __future__ import annotations

from datetime import date

from cus_desk.services.auth import actor_for_login
from cus_desk.services.seniors import SeniorsService


def test_demo_has_seniors_at_every_stage(demo_db):
    service = SeniorsService(demo_db, actor_for_login(demo_db, "pole.social"))
    listing = service.list_seniors()
    assert listing.extract_date == date(2026, 10, 31)
    assert listing.total >= 40
    assert listing.first_arrears_count >= 10
    assert set(listing.count_by_status) == {"a_surveiller", "a_signaler", "signale", "pris_en_charge", "clos"}
    assert len(listing.count_by_agency) == 6
    assert service.reminders()  # one signalement without answer for 30 days
    first = next(r for r in listing.rows if r.first_arrears)
    detail = service.detail(first.lease_id)
    assert len(detail.history) == 4 and detail.history[-1][1] > 0 and detail.history[0][1] <= 0
    assert len(service.extracts()) == 4
