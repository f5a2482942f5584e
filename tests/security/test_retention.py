"""RGPD purge: dry run lists without names and changes nothing; the real
run anonymises old closed cases, deletes old extracts and signalements,
purges old audit events, writes one audit event with counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.domain.settings import CASE_RETENTION_YEARS
from cus_desk.services import audit
from cus_desk.services.audit_admin import verify_chain
from cus_desk.services.retention import (
    KIND_AUDIT,
    KIND_CASE,
    KIND_EXTRACT,
    KIND_SIGNALEMENT,
    RetentionService,
)
from cus_desk.services.settings import SettingsService
from cus_desk.store.models.core import Household, Referral, Tenant
from tests.frozen_time import frozen_clock
from tests.security import builders as b
from tests.security.conftest import age_audit_events, events

# These tests are written for 28/11/2026: the program's clock is frozen there.
TODAY = date(2026, 11, 28)


@pytest.fixture
def clock():
    return frozen_clock(TODAY)


@pytest.fixture
def data(db, actors):
    with db.write_session() as s:
        old_hh, _ = b.household(s, "metz", "OUBLIABLE", "Jeannette", with_lease=False)
        old = b.case(s, old_hh, status="clos", opened_on=date(2022, 1, 10), closed_on=date(2024, 6, 1),
                     last_activity_on=date(2024, 6, 1), secret="Diagnostic très confidentiel")
        b.meeting_with(s, old, held_on=date(2022, 3, 1))
        b.orientation(s, old)
        tenant_hh, tenant_lease = b.household(s, "metz", "LOCATAIRE", "Toujours")
        old_with_lease = b.case(s, tenant_hh, status="clos", closed_on=date(2023, 1, 5))
        recent_hh, _ = b.household(s, "metz", "RECENT", "Rita")
        recent = b.case(s, recent_hh, status="clos", closed_on=date(2025, 1, 5))
        open_hh, _ = b.household(s, "forbach", "OUVERT", "Oscar")
        still_open = b.case(s, open_hh, status="en_suivi", opened_on=date(2019, 1, 1))
        senior_hh, senior_lease = b.household(s, "forbach", "SENIOR", "Suzanne", birth=date(1950, 1, 1))
        old_alert = b.signalement(s, senior_lease, sent_on=date(2023, 1, 10), closed_on=date(2024, 10, 1))
        new_alert = b.signalement(s, senior_lease, sent_on=date(2025, 3, 1), closed_on=date(2025, 6, 1))
        open_alert = b.signalement(s, tenant_lease, status="envoye", sent_on=date(2022, 1, 1))
        old_extract = b.extract(s, date(2023, 10, 31), [senior_lease, tenant_lease])
        new_extract = b.extract(s, date(2024, 1, 31), [senior_lease])
        ids = dict(old=old.id, old_with_lease=old_with_lease.id, recent=recent.id, open=still_open.id,
                   old_hh=old_hh.id, tenant_hh=tenant_hh.id, old_alert=old_alert.id,
                   new_alert=new_alert.id, open_alert=open_alert.id, old_extract=old_extract.id,
                   new_extract=new_extract.id)
    return ids


def _dump(db):
    """Every row of every table, in key order (the same on both stores)."""
    from cus_desk.store.models import Base

    lines = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(table.select().order_by(*order)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


def test_dry_run_lists_due_items_without_names_and_changes_nothing(db, actors, data):
    before = _dump(db)
    plan = RetentionService(db, actors["admin"]).preview()
    assert plan.count(KIND_CASE) == 2
    assert {i.entity_id for i in plan.items if i.kind == KIND_CASE} == {data["old"], data["old_with_lease"]}
    assert [i.entity_id for i in plan.items if i.kind == KIND_SIGNALEMENT] == [data["old_alert"]]
    assert [i.entity_id for i in plan.items if i.kind == KIND_EXTRACT] == [data["old_extract"]]
    labels = " ".join(i.label for i in plan.items)
    for name in ("OUBLIABLE", "Jeannette", "LOCATAIRE", "SENIOR", "C-0"):
        assert name not in labels
    assert "Dossier CAS-2022-" in labels and "Metz" in labels and "01/06/2024" in labels
    assert _dump(db) == before


def test_real_purge(db, actors, data):
    report = RetentionService(db, actors["admin"]).purge()
    assert report.counts[KIND_CASE] == 2 and report.counts[KIND_EXTRACT] == 1
    assert report.counts[KIND_SIGNALEMENT] == 1 and report.skipped == []
    dump = _dump(db)
    for gone in ("OUBLIABLE", "Jeannette", "Diagnostic très confidentiel",
                 "Accord FSL pour Mme", "Dossier FSL déposé", "Orientation pour violences",
                 "Proposition : FSL"):
        assert gone not in dump, gone
    from cus_desk.store.models.cases import Case, CaseProblem, ConfidentialNote, JournalEntry
    from cus_desk.store.models.meetings import Decision
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine, SeniorAlertEvent

    with db.read_session() as s:
        old = s.get(Case, data["old"])
        assert old.summary == "" and old.caf_number is None and old.closure_reason is None
        assert old.reference.startswith("CAS-2022-") and old.arrears_cents == 123456  # statistics stay
        assert s.scalar(select(func.count()).select_from(Tenant).join(Household).where(
            Household.id == old.household_id)) == 0
        assert s.get(Household, data["old_hh"]) is None  # no lease: deleted with its members
        assert s.get(Household, data["tenant_hh"]) is not None  # still a tenant: kept
        assert s.get(Case, data["old_with_lease"]).household_id != data["tenant_hh"]
        assert s.scalars(select(CaseProblem.code).where(CaseProblem.case_id == data["old"])).all() == ["impayes"]
        assert s.scalar(select(func.count()).select_from(ConfidentialNote).where(
            ConfidentialNote.case_id == data["old"])) == 0
        assert s.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.case_id == data["old"])) == 0
        assert s.scalar(select(Decision.type).where(Decision.case_id == data["old"])) == "fsl"
        # untouched: recent closed case, open case
        assert s.get(Case, data["recent"]).summary == "Synthèse sociale détaillée"
        assert s.get(Case, data["open"]).caf_number == "CAF123456"
        assert s.scalar(select(func.count()).select_from(ConfidentialNote).where(
            ConfidentialNote.case_id == data["recent"])) == 1
        # signalements and extracts
        assert s.get(Referral, data["old_alert"]) is None
        assert s.scalar(select(func.count()).select_from(SeniorAlertEvent).where(
            SeniorAlertEvent.referral_id == data["old_alert"])) == 0
        assert s.get(Referral, data["new_alert"]) is not None
        assert s.get(Referral, data["open_alert"]) is not None
        assert s.get(ArrearsExtract, data["old_extract"]) is None
        assert s.scalar(select(func.count()).select_from(ArrearsLine).where(
            ArrearsLine.extract_id == data["old_extract"])) == 0
        assert s.get(ArrearsExtract, data["new_extract"]) is not None
    purge = [e for e in events(db, audit.Action.PURGE) if e[2] == "retention"]
    assert purge[-1][0] == "admin"
    assert purge[-1][4]["case"] == 2 and purge[-1][4]["signalement"] == 1
    assert verify_chain(db).ok
    # Nothing is due any more, and running again changes nothing.
    assert RetentionService(db, actors["admin"]).preview().total == 0
    assert RetentionService(db, actors["admin"]).purge().total == 0


def test_retention_setting_is_honoured(db, actors, data):
    SettingsService(db, actors["admin"]).set(CASE_RETENTION_YEARS, 4)
    plan = RetentionService(db, actors["admin"]).preview()
    assert [i.entity_id for i in plan.items if i.kind == KIND_CASE] == []
    SettingsService(db, actors["admin"]).set(CASE_RETENTION_YEARS, 1)
    plan = RetentionService(db, actors["admin"]).preview()
    assert data["recent"] in {i.entity_id for i in plan.items if i.kind == KIND_CASE}


def test_purge_includes_old_audit_events(db, actors, data):
    with db.write_session() as s:
        for _ in range(5):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", data["old"], case_id=data["old"])
    age_audit_events(db, 400)
    svc = RetentionService(db, actors["admin"])
    plan = svc.preview()
    assert plan.count(KIND_AUDIT) >= 5
    report = svc.purge()
    assert report.counts[KIND_AUDIT] == plan.count(KIND_AUDIT)
    assert verify_chain(db).ok


def test_reminder(db, actors, data):
    text = RetentionService(db, actors["admin"]).due_reminder()
    assert "purge RGPD est due" in text and "2 dossiers clos à anonymiser" in text
    assert RetentionService(db, actors["adviser_metz"]).due_reminder() is None
    RetentionService(db, actors["admin"]).purge()
    assert RetentionService(db, actors["admin"]).due_reminder() is None


@pytest.mark.parametrize("who", ["adviser_metz", "social_head", "cas_member", "recovery_metz"])
def test_only_admin_purges(db, actors, data, who):
    svc = RetentionService(db, actors[who])
    with pytest.raises(AccessDeniedError):
        svc.preview()
    with pytest.raises(AccessDeniedError):
        svc.purge()
