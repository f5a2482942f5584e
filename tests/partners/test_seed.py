"""The directory is pre-filled from the CUS (resources/partners_seed.json)
and reproduces its totals; seeding is idempotent and never duplicates the
structures the foundation seeded from reference.json."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from cus_desk.paths import resources_dir
from cus_desk.services.partners import PartnerService
from cus_desk.store.db import open_database
from cus_desk.store.models.core import Agency, Partner
from cus_desk.store.models.partners import SubletCount, seed_partners
from tests.partners.conftest import partner_id


def _sum(session, table_code, **where):
    stmt = select(func.sum(SubletCount.flat_count), func.count()).where(
        SubletCount.table_code == table_code)
    for key, value in where.items():
        stmt = stmt.where(getattr(SubletCount, key) == value)
    return tuple(session.execute(stmt).one())


def test_seed_reproduces_the_cus_totals(db):
    with db.read_session() as session:
        # §8.2.5: 217 sous-locations with 25 structures...
        assert _sum(session, "logiest_2020_structures") == (217, 25)
        structures = session.scalars(select(SubletCount.partner_id)
                                     .where(SubletCount.table_code == "logiest_2020_structures"))
        assert len(set(structures)) == 25  # 25 distinct structures, each a Partner
        # ... in 25 communes, 217 as well.
        assert _sum(session, "logiest_2020_communes") == (217, 25)
        communes = list(session.scalars(select(SubletCount.commune)
                                        .where(SubletCount.table_code == "logiest_2020_communes")))
        assert len(set(communes)) == 25 and None not in communes
        # DT 54: 69 flats without lease transfer, 2 with.
        assert _sum(session, "slh_2020_sans_transfert") == (69, 8)
        assert _sum(session, "slh_2020_avec_transfert") == (2, 2)
        dt54 = session.scalar(select(Agency.id).where(Agency.code == "dt54"))
        assert _sum(session, "slh_2020_sans_transfert", agency_id=dt54, transferable=False) == (69, 8)
        assert _sum(session, "slh_2020_avec_transfert", agency_id=dt54, transferable=True,
                    kind="bail_glissant") == (2, 2)


def test_dt54_associations_carry_their_flats(db):
    expected = {"arelia": 6, "ars": 9 + 33, "ohs_eva": 5, "realise": 6, "france_horizon": 2,
                "ensemble": 3, "adali": 5}
    with db.read_session() as session:
        for key, n in expected.items():
            got = session.scalar(select(func.sum(SubletCount.flat_count)).where(
                SubletCount.table_code == "slh_2020_sans_transfert",
                SubletCount.partner_id == partner_id(db, key)))
            assert got == n, key
        labels = set(session.scalars(select(SubletCount.label)
                                     .where(SubletCount.table_code == "slh_2020_sans_transfert")))
        assert "A.R.S. rue de Graffigny (4017)" in labels and "A.R.S." in labels
        sliding = dict(session.execute(
            select(Partner.seed_key, SubletCount.flat_count)
            .join(Partner, Partner.id == SubletCount.partner_id)
            .where(SubletCount.table_code == "slh_2020_avec_transfert")).all())
        assert sliding == {"ars": 1, "france_horizon": 1}


def test_counts_have_no_invented_addresses(db):
    with db.read_session() as session:
        # Counts are stored as counts: no address column, and no flat rows created.
        assert not hasattr(SubletCount, "address")
        from cus_desk.store.models.partners import SubletFlat
        assert session.scalar(select(func.count()).select_from(SubletFlat)) == 0


def test_agency_partners_of_8_2_3(db, actors):
    data = json.loads((resources_dir() / "partners_seed.json").read_text(encoding="utf-8"))
    svc = PartnerService(db, actors["social_head"])
    agencies = {a.code: a.id for a in svc.agencies()}
    for code, keys in data["agency_partners_8_2_3"].items():
        listed = {r.seed_key for r in svc.list_partners(agency_id=agencies[code])}
        assert set(keys) <= listed, code
    metz = {r.short_name for r in svc.list_partners(agency_id=agencies["metz"])}
    assert {"AIEM", "AEA", "CMSEA", "Armée du Salut", "AMLI"} <= metz
    forbach = {r.short_name for r in svc.list_partners(agency_id=agencies["forbach"])}
    assert {"ADOMA", "UDAF", "CMSEA"} <= forbach


def test_foundation_partners_are_matched_not_duplicated(db):
    reference = json.loads((resources_dir() / "reference.json").read_text(encoding="utf-8"))
    with db.read_session() as session:
        for spec in reference["partners"]:
            n = session.scalar(select(func.count()).select_from(Partner)
                               .where(Partner.seed_key == spec["key"]))
            assert n == 1, spec["key"]
        names = [n.casefold() for n in session.scalars(select(Partner.name))]
        assert len(names) == len(set(names))  # no structure twice under the same name
        # The AIEM of the §8.2.5 table is the foundation's AIEM.
        aiem = session.scalar(select(SubletCount.partner_id).where(
            SubletCount.seed_key == "logiest_2020_structures:aiem"))
        assert aiem == session.scalar(select(Partner.id).where(Partner.seed_key == "aiem"))


def test_reopening_and_rerunning_the_hook_is_idempotent(db, db_path):
    with db.read_session() as session:
        before = (session.scalar(select(func.count()).select_from(Partner)),
                  session.scalar(select(func.count()).select_from(SubletCount)))
    db.dispose()
    again = open_database(db.url)
    with again.write_session() as session:
        seed_partners(session)
    with again.read_session() as session:
        after = (session.scalar(select(func.count()).select_from(Partner)),
                 session.scalar(select(func.count()).select_from(SubletCount)))
    again.dispose()
    assert after == before


def test_user_edits_survive_reseeding(db, db_path, actors):
    svc = PartnerService(db, actors["social_head"])
    pid = partner_id(db, "afast")
    detail = svc.get(pid)
    from cus_desk.services.partners import PartnerInput
    svc.update(pid, PartnerInput(name="AFAST – Association d'aide", category="insertion"),
               detail.version)
    db.dispose()
    again = open_database(db.url)
    got = PartnerService(again, actors["social_head"]).get(pid)
    again.dispose()
    assert (got.name, got.category) == ("AFAST – Association d'aide", "insertion")


def test_seeding_after_a_merge_does_not_recreate_the_absorbed_entry(db, db_path, actors):
    svc = PartnerService(db, actors["social_head"])
    a, b = svc.get(partner_id(db, "france_horizon")), svc.get(partner_id(db, "france_horizon_cada"))
    svc.merge(a.id, b.id, a.version, b.version)
    db.dispose()
    again = open_database(db.url)
    with again.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Partner)
                              .where(Partner.name.like("FRANCE HORIZON%"))) == 2
        owners = set(session.scalars(select(SubletCount.partner_id).where(
            SubletCount.seed_key.like("%france_horizon%"))))
    again.dispose()
    assert owners == {a.id}
