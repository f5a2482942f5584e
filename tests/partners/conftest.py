"""Fixtures of the partners tests: services per role, referral rows."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.services.partners import PartnerService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Agency, Partner, Referral

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="session")
def _partners_template(tmp_path_factory):
    """One migrated, seeded database file per run; each test gets a copy
    (the same real SQLite file the shared ``db`` fixture builds, faster)."""
    path = tmp_path_factory.mktemp("partners") / "template.sqlite3"
    database = open_database(sqlite_url(path))
    database.dispose()
    return path


@pytest.fixture
def db(_partners_template, db_path):
    shutil.copy(_partners_template, db_path)
    database = open_database(sqlite_url(db_path))
    yield database
    database.dispose()


@pytest.fixture
def actors(db):
    """Same keys and roles as the shared fixture, without password hashing
    (these tests never log in; Argon2 is slow on purpose)."""
    ids = agency_ids(db)
    spec = {
        "admin": ("admin", "Alice Admin", Role.ADMIN, None),
        "adviser_metz": ("cs.metz", "Camille Conseillère", Role.SOCIAL_ADVISER, ids["metz"]),
        "adviser_forbach": ("cs.forbach", "Fanny Forbach", Role.SOCIAL_ADVISER, ids["forbach"]),
        "social_head": ("pole.social", "Sophie Responsable", Role.SOCIAL_HEAD, None),
        "cas_member": ("cas.securite", "Serge Sécurité", Role.CAS_MEMBER, None),
        "recovery_metz": ("recouvrement.metz", "Romain Recouvrement", Role.RECOVERY, ids["metz"]),
    }
    return {key: create_user(db, login, name, role, None, agency)
            for key, (login, name, role, agency) in spec.items()}


@pytest.fixture
def svc(db, actors):
    return PartnerService(db, actors["adviser_metz"], today=TODAY)


@pytest.fixture
def service_for(db, actors):
    def make(role: str) -> PartnerService:
        return PartnerService(db, actors[role], today=TODAY)
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
