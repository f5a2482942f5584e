"""Fixtures of the case-file tests: services for each actor, a partner,
and a helper that opens a case through the real service."""

from __future__ import annotations

import shutil
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
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Agency, Partner

TODAY = date(2026, 11, 28)


@pytest.fixture(scope="session")
def _cases_template(tmp_path_factory):
    """A migrated database with the test accounts, built once (Argon2 hashing
    of six accounts per test would dominate the run time)."""
    from cus_desk.domain.roles import Role
    from cus_desk.services.auth import create_user
    from tests.conftest import TEST_PASSWORD

    path = tmp_path_factory.mktemp("cases_template") / "template.sqlite3"
    database = open_database(sqlite_url(path))
    metz, forbach = agency_id(database, "metz"), agency_id(database, "forbach")
    actors = {
        "admin": create_user(database, "admin", "Alice Admin", Role.ADMIN, TEST_PASSWORD),
        "adviser_metz": create_user(database, "cs.metz", "Camille Conseillère", Role.SOCIAL_ADVISER, TEST_PASSWORD, metz),
        "adviser_forbach": create_user(database, "cs.forbach", "Fanny Forbach", Role.SOCIAL_ADVISER, TEST_PASSWORD, forbach),
        "social_head": create_user(database, "pole.social", "Sophie Responsable", Role.SOCIAL_HEAD, TEST_PASSWORD),
        "cas_member": create_user(database, "cas.securite", "Serge Sécurité", Role.CAS_MEMBER, TEST_PASSWORD),
        "recovery_metz": create_user(database, "recouvrement.metz", "Romain Recouvrement", Role.RECOVERY, TEST_PASSWORD, metz),
    }
    database.dispose()
    return path, actors


@pytest.fixture
def db(db_path, _cases_template):
    """Same as the shared fixture (a real migrated SQLite file), copied from
    a template that already holds the test accounts."""
    shutil.copy(_cases_template[0], db_path)
    database = open_database(sqlite_url(db_path))
    yield database
    database.dispose()


@pytest.fixture
def actors(db, _cases_template):
    return dict(_cases_template[1])


def agency_id(db, code: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(Agency.id).where(Agency.code == code))


@pytest.fixture
def svc(db, actors):
    """svc("adviser_metz") → CaseService for that actor, today pinned."""

    def make(who: str = "adviser_metz") -> CaseService:
        return CaseService(db, actors[who], today=TODAY)

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
