"""The demo database gives the partners screens something to show: contacts,
conventions ending soon, flats of sub-let leases, and CCAS / CMS / CLIC /
pôle gérontologique in the demo communes for the seniors process."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from cus_desk.domain.reference import SENIOR_PARTNER_KINDS
from cus_desk.services.auth import actor_for_login
from cus_desk.services.partners import PartnerService
from cus_desk.store.models.core import Lease, Partner
from cus_desk.store.models.partners import PartnerContact, SubletCount, SubletFlat

FICTION = re.compile(r"^(03 53 48|06 39 98) \d\d \d\d$")


def _service(demo_db):
    return PartnerService(demo_db, actor_for_login(demo_db, "cs.metz"))


def test_every_demo_commune_has_a_senior_partner(demo_db):
    svc = _service(demo_db)
    with demo_db.read_session() as session:
        communes = set(session.scalars(select(Lease.commune)))
    for commune in communes:
        picked = svc.pickable(list(SENIOR_PARTNER_KINDS), commune=commune)
        assert picked, commune
        assert all(p.category in SENIOR_PARTNER_KINDS and p.active for p in picked)


def test_conventions_ending_soon_are_flagged(demo_db):
    rows = _service(demo_db).list_partners()
    assert sum(r.expiring_conventions for r in rows) >= 2
    assert any(r.current_conventions and not r.expiring_conventions for r in rows)


def test_demo_phone_numbers_are_fictitious(demo_db):
    with demo_db.read_session() as session:
        phones = list(session.scalars(select(PartnerContact.phone)
                                      .where(PartnerContact.phone.is_not(None))))
        phones += list(session.scalars(select(Partner.phone).where(Partner.phone.is_not(None))))
        emails = list(session.scalars(select(PartnerContact.email)
                                      .where(PartnerContact.email.is_not(None))))
    assert phones and all(FICTION.match(p) for p in phones)
    assert emails and all(e.endswith("@example.org") for e in emails)
    from cus_desk.domain.partners import validate_email, validate_phone
    assert all(validate_email(e) == e for e in emails)  # the demo passes its own checks
    assert all(validate_phone(p) == p for p in phones)


def test_demo_flats_follow_the_sublet_leases(demo_db):
    with demo_db.read_session() as session:
        flats = session.execute(select(SubletFlat, Lease).join(Lease, Lease.id == SubletFlat.lease_id)).all()
        assert flats
        for flat, lease in flats:
            assert flat.kind == lease.kind and flat.commune == lease.commune
            assert flat.agency_id == lease.agency_id
            assert flat.transfer_date is None or flat.transferable
        # The CUS figures are untouched by the demo.
        assert session.scalar(select(func.sum(SubletCount.flat_count)).where(
            SubletCount.table_code == "logiest_2020_structures")) == 217
