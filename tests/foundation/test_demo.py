"""The demo database: realistic volume across the six agencies, sound file,
deterministic content."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from cus_desk.demo import DEMO_LOGIN, ensure_demo
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Agency, Household, Lease, Tenant, User


@pytest.mark.sqlite_only(reason="SQLite integrity and foreign-key checks of the demo file "
                                "(a server enforces foreign keys on every write)")
def test_demo_database_is_sound(demo_template):
    con = sqlite3.connect(demo_template)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def test_demo_volume_across_agencies(demo_db):
    with demo_db.read_session() as s:
        assert s.scalar(select(func.count(Household.id))) >= 300
        per_agency = dict(s.execute(select(Agency.code, func.count(Lease.id)).join(Lease).group_by(Agency.code)).all())
        assert set(per_agency) == {"metz", "woippy", "thionville", "saint_avold", "forbach", "dt54"}
        assert min(per_agency.values()) >= 50
        assert s.scalar(select(User).where(User.login == DEMO_LOGIN)).role == "conseillere_sociale"


def test_demo_is_deterministic_and_built_once(tmp_path):
    def fingerprint(path):
        db = open_database(sqlite_url(path))
        ensure_demo(db)
        ensure_demo(db)  # second call: nothing added
        with db.read_session() as s:
            rows = s.execute(select(Tenant.last_name, Tenant.first_name, Tenant.birth_date).order_by(Tenant.id)).all()
            leases = s.execute(select(Lease.contract_number, Lease.commune).order_by(Lease.id)).all()
        db.dispose()
        return rows, leases

    assert fingerprint(tmp_path / "a.sqlite3") == fingerprint(tmp_path / "b.sqlite3")
