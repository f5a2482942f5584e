"""Reference data reproduces the CUS (§8.2.3) and is seeded idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from cus_desk.domain.reference import CAS_FUNCTIONS, SENIOR_PARTNER_KINDS
from cus_desk.store.db import open_database
from cus_desk.store.models.core import Agency, Partner, ReferenceCode, partner_agencies
from cus_desk.store.seed import apply_reference_data

SEED_PARTNERS = {  # §8.2.3, "Un partenariat étroit avec les structures d'hébergement"
    "Metz": {"AIEM", "AEA", "CMSEA", "Armée du Salut", "AMLI"},
    "Woippy": {"AIEM", "AEA", "AMLI", "ADOMA"},
    "Thionville": {"Athènes", "AMLI", "Armée du Salut"},
    "Saint-Avold": {"Horizon", "CMSEA"},
    "Forbach": {"ADOMA", "UDAF", "CMSEA"},
}


def _partners_of(session, agency_name):
    rows = session.execute(
        select(Partner.short_name)
        .join(partner_agencies, partner_agencies.c.partner_id == Partner.id)
        .join(Agency, Agency.id == partner_agencies.c.agency_id)
        .where(Agency.name == agency_name, Partner.seed_key.is_not(None))
    )
    return {r[0] for r in rows}


def test_six_agencies(db):
    with db.read_session() as s:
        agencies = {a.name: a.department for a in s.scalars(select(Agency))}
    assert agencies == {"Metz": "57", "Woippy": "57", "Thionville": "57", "Saint-Avold": "57",
                        "Forbach": "57", "DT 54": "54"}


def test_partners_per_agency_match_the_seed(db):
    with db.read_session() as s:
        for agency, expected in SEED_PARTNERS.items():
            assert expected <= _partners_of(s, agency), agency
        dt54 = _partners_of(s, "DT 54")
    assert {"ARS", "ARELIA", "France Horizon", "REALISE", "ADALI", "ENSEMBLE"} <= dt54


def test_cas_functions_and_senior_partner_kinds(db):
    with db.read_session() as s:
        functions = {r.code: r.label for r in s.scalars(select(ReferenceCode).where(ReferenceCode.domain == "cas_function"))}
        kinds = {r.code for r in s.scalars(select(ReferenceCode).where(ReferenceCode.domain == "senior_partner_kind"))}
    assert functions == CAS_FUNCTIONS
    assert functions["responsable_cellule_securite"] == "Responsable de la cellule sécurité"
    assert kinds == set(SENIOR_PARTNER_KINDS) == {"cms", "ccas", "clic", "pole_gerontologique"}


def _counts(database):
    with database.read_session() as s:
        return (s.scalar(select(func.count(Agency.id))), s.scalar(select(func.count(Partner.id))),
                s.scalar(select(func.count(ReferenceCode.id))))


def test_reopening_never_duplicates(db):
    db.dispose()
    counts = []
    for _ in range(3):
        database = open_database(db.url)
        counts.append(_counts(database))
        database.dispose()
    assert counts[0] == counts[1] == counts[2]


def test_reapplying_the_reference_data_never_duplicates(db):
    before = _counts(db)
    for _ in range(2):  # as after a change of the reference files
        with db.write_session() as s:
            apply_reference_data(s)
    assert _counts(db) == before


def test_reseeding_keeps_user_edits(db, db_path):
    with db.write_session() as s:
        aiem = s.scalar(select(Partner).where(Partner.seed_key == "aiem"))
        aiem.notes = "Contact privilégié : Mme X"
        aiem.name = "AIEM (Metz)"
    db.dispose()
    again = open_database(db.url)
    with again.read_session() as s:
        aiem = s.scalar(select(Partner).where(Partner.seed_key == "aiem"))
        assert (aiem.name, aiem.notes) == ("AIEM (Metz)", "Contact privilégié : Mme X")
    again.dispose()
