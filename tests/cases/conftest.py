"""Fixtures of the case-file tests: services for each actor, a partner,
and a helper that opens a case through the real service."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.services.cases import (
    CaseInput,
    CaseService,
    HouseholdInput,
    LeaseInput,
    MemberInput,
    NewCase,
)
from cus_desk.store.models.core import Agency, Partner
from tests.frozen_time import frozen_clock

# These tests are written for 28/11/2026: the program's clock is frozen there.
TODAY = date(2026, 11, 28)


@pytest.fixture
def clock():
    return frozen_clock(TODAY)


def agency_id(db, code: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


@pytest.fixture
def svc(db, actors):
    """svc("adviser_metz") → CaseService for that actor, today pinned."""

    def make(who: str = "adviser_metz") -> CaseService:
        return CaseService(db, actors[who])

    return make


@pytest.fixture
def partner_id(db):
    with db.write_session() as session:
        partner = session.scalar(select(Partner).where(Partner.active.is_(True)).limit(1))
        if partner is None:
            partner = Partner(name="CCAS de Metz (test)", category="ccas", active=True)
            session.add(partner)
            session.flush()
        return partner.id


def new_case_input(db, *, last_name="DUPONT", first_name="Hélène", contract="MZ-000123",
                   agency="metz", commune="Metz", problems=("impaye_loyer",), **case_fields) -> NewCase:
    return NewCase(
        case=CaseInput(problems=list(problems), **case_fields),
        household=HouseholdInput(
            members=[MemberInput(last_name, first_name, date(1970, 5, 17), "titulaire")],
            phone="03 87 00 00 00",
        ),
        lease=LeaseInput(contract_number=contract, agency_id=agency_id(db, agency), commune=commune,
                         address="12 rue des Tilleuls", start_date=date(2015, 3, 1)),
    )


@pytest.fixture
def make_case(db, svc):
    """make_case(**kw) → case id, opened by the Metz adviser (or ``who``)."""
    counter = {"n": 0}

    def make(who: str = "adviser_metz", **kw) -> int:
        counter["n"] += 1
        kw.setdefault("contract", f"MZ-{counter['n']:06d}")
        return svc(who).create_case(new_case_input(db, **kw))

    return make
