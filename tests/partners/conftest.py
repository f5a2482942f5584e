"""Fixtures of the partners tests: services per role, referral rows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.services.partners import PartnerService
from cus_desk.store.models.core import Agency, Partner, Referral
from tests.frozen_time import TEST_TODAY

TODAY = TEST_TODAY


@pytest.fixture
def svc(db, actors):
    return PartnerService(db, actors["adviser_metz"])


@pytest.fixture
def service_for(db, actors):
    def make(role: str) -> PartnerService:
        return PartnerService(db, actors[role])
    return make


def partner_id(db, seed_key: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(Partner.id).where(Partner.seed_key == seed_key))


def agency_ids(db) -> dict[str, int]:
    with db.read_session() as session:
        return {a.code: a.id for a in session.scalars(select(Agency))}


def add_referrals(db, partner: int, rows: list[tuple[str, str, str | None]]) -> list[int]:
    """rows: (kind, status, result) sent to ``partner``."""
    ids = []
    with db.write_session() as session:
        for i, (kind, status, result) in enumerate(rows):
            r = Referral(kind=kind, partner_id=partner, sent_on=date(2026, 10, 1 + i),
                         reason="motif confidentiel de test", status=status, result=result)
            session.add(r)
            session.flush()
            ids.append(r.id)
    return ids
