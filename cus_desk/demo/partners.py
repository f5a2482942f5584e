"""Demo data of the partners directory: contacts and conventions for the
structures of the CUS (some conventions ending soon), the flats of the demo
leases let to associations (sous-location, bail glissant), and fictitious
CCAS / CMS / CLIC / pôle gérontologique in the demo communes so that the
seniors process has someone to signal to.

Everything here is invented: names are generic, phone numbers are in the
03 53 48 xx xx range reserved by ARCEP for fiction, e-mails use the
reserved example.org domain."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.demo.core import COMMUNES
from cus_desk.domain.partners import fold
from cus_desk.store.models.core import Partner
from cus_desk.store.models.partners import Convention, PartnerCommune, PartnerContact, SubletFlat

DEMO_NOTE = "Structure fictive (base de démonstration)."

# Fictitious local institutions per agency: (category, name, main commune).
INSTITUTIONS = {
    "metz": [("cms", "CMS de Metz-Borny (démo)", "Metz"),
             ("clic", "CLIC du Pays messin (démo)", "Metz"),
             ("pole_gerontologique", "Pôle gérontologique de Metz (démo)", "Metz")],
    "woippy": [("ccas", "CCAS de Woippy (démo)", "Woippy"),
               ("cms", "CMS de Woippy (démo)", "Woippy"),
               ("clic", "CLIC Rives de Moselle (démo)", "Maizières-lès-Metz")],
    "thionville": [("ccas", "CCAS de Thionville (démo)", "Thionville"),
                   ("cms", "CMS de Thionville (démo)", "Thionville"),
                   ("pole_gerontologique", "Pôle gérontologique du Val de Fensch (démo)",
                    "Hayange")],
    "saint_avold": [("ccas", "CCAS de Saint-Avold (démo)", "Saint-Avold"),
                    ("cms", "CMS de Saint-Avold (démo)", "Saint-Avold"),
                    ("clic", "CLIC du Warndt (démo)", "Creutzwald")],
    "forbach": [("ccas", "CCAS de Forbach (démo)", "Forbach"),
                ("cms", "CMS de Forbach (démo)", "Forbach"),
                ("pole_gerontologique", "Pôle gérontologique de Forbach (démo)", "Forbach")],
    "dt54": [("ccas", "CCAS de Nancy (démo)", "Nancy"),
             ("cms", "CMS de Nancy-Haussonville (démo)", "Nancy"),
             ("clic", "CLIC du Grand Nancy (démo)", "Vandœuvre-lès-Nancy"),
             ("pole_gerontologique", "Pôle gérontologique de Nancy (démo)", "Nancy")],
}

# Contacts and conventions on structures named by the CUS (seed keys).
FUNCTIONS = ["Cheffe de service", "Directeur", "Travailleuse sociale", "Référente logement",
             "Secrétariat", "Coordinatrice"]
FIRST = ["Anne", "Claire", "Julien", "Sophie", "Marc", "Nadia", "Paul", "Laura", "Karim", "Inès"]
LAST = ["Démo", "Exemple", "Fictif", "Témoin", "Modèle"]
CONVENTIONS = [
    # seed key, kind, start, months until end (None: open-ended; negative: ended), flats
    ("aiem", "sous_location", date(2021, 1, 1), 2, 12),  # ends soon
    ("cmsea", "partenariat", date(2023, 3, 1), 1, None),  # ends soon
    ("udaf", "sous_location", date(2020, 7, 1), 20, 8),
    ("amli", "bail_glissant", date(2022, 9, 1), None, 5),
    ("ars", "chrs_eclate", date(2015, 1, 1), None, 42),
    ("ars", "bail_glissant", date(2019, 6, 1), 3, 1),  # ends within 90 days
    ("arelia", "chrs_eclate", date(2016, 1, 1), 14, 6),
    ("france_horizon", "bail_glissant", date(2020, 2, 1), -2, 1),  # ended
    ("adali", "reservation", date(2022, 1, 1), 30, 5),
    ("horizon", "partenariat", date(2024, 4, 1), 16, None),
    ("athenes", "sous_location", date(2023, 10, 1), 2, 2),
]


def _phone(rng) -> str:
    return f"03 53 48 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _email(name: str) -> str:
    slug = "".join(ch for ch in fold(name) if ch.isalnum() or ch == ".")[:24] or "contact"
    return f"{slug}@example.org"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return date(year, month % 12 + 1, min(day.day, 28))


def populate(session: Session, ctx) -> None:
    rng = ctx.rng("partners")
    seeded = {p.seed_key: p for p in session.scalars(select(Partner).where(Partner.seed_key.is_not(None)))}

    # Institutions for the seniors process, in the demo communes.
    for code, items in INSTITUTIONS.items():
        agency = ctx.agencies[code]
        for category, name, commune in items:
            partner = Partner(name=name, short_name=name.split(" (")[0], category=category,
                              commune=commune, phone=_phone(rng), email=_email(name),
                              notes=DEMO_NOTE, active=True, version=1)
            partner.agencies = [agency]
            session.add(partner)
            session.flush()
            for c in dict.fromkeys(COMMUNES[code]):
                session.add(PartnerCommune(partner_id=partner.id, commune=c))
            session.add(PartnerContact(partner_id=partner.id, position=0,
                                       name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                       function="Accueil", phone=_phone(rng),
                                       email=_email(f"accueil{partner.id}")))
    ccas_metz = seeded.get("ccas_metz")
    if ccas_metz is not None:
        ccas_metz.phone = ccas_metz.phone or _phone(rng)
        ccas_metz.agencies = list({*ccas_metz.agencies, ctx.agencies["metz"]})
        for c in ("Metz", "Montigny-lès-Metz"):
            session.add(PartnerCommune(partner_id=ccas_metz.id, commune=c))

    # Contacts of the structures the CUS names.
    for key, partner in sorted(seeded.items()):
        if rng.random() < 0.35:
            continue
        for position in range(rng.choice([1, 1, 2, 3])):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            session.add(PartnerContact(
                partner_id=partner.id, position=position, name=f"{first} {last}",
                function=rng.choice(FUNCTIONS), phone=_phone(rng),
                email=_email(f"{first}.{last}.{key}") if rng.random() < 0.8 else None))
        if not partner.phone:
            partner.phone = _phone(rng)

    # Conventions, some ending within the flag window.
    for key, kind, start, months, flats in CONVENTIONS:
        partner = seeded.get(key)
        if partner is None:
            continue
        end = None
        if months is not None:
            end = ctx.today + timedelta(days=30 * months - rng.randint(0, 10))
        agency = partner.agencies[0] if partner.agencies else None
        session.add(Convention(partner_id=partner.id, kind=kind, start_date=start, end_date=end,
                               flat_count=flats, agency_id=agency.id if agency else None,
                               document_ref=f"CONV-{start.year}-{key.upper()[:8]}"))

    # Flats of the demo leases let to associations.
    by_agency: dict[int, list[Partner]] = {}
    for partner in seeded.values():
        if partner.category in ("hebergement", "insertion", "refugies", "jeunes_travailleurs",
                                "handicap", "tutelle"):
            for agency in partner.agencies:
                by_agency.setdefault(agency.id, []).append(partner)
    for lease in ctx.leases:
        if lease.kind not in ("sous_location", "bail_glissant"):
            continue
        candidates = sorted(by_agency.get(lease.agency_id, []), key=lambda p: p.seed_key)
        if not candidates:
            continue
        partner = rng.choice(candidates)
        sliding = lease.kind == "bail_glissant"
        start = lease.start_date or date(2020, 1, 1)
        transferred = sliding and rng.random() < 0.3
        session.add(SubletFlat(
            partner_id=partner.id, agency_id=lease.agency_id, commune=lease.commune,
            address=lease.address, kind=lease.kind, start_date=start, transferable=sliding,
            transfer_date=(min(ctx.today, _add_months(start, 18)) if transferred else None),
            lease_id=lease.id))
    session.flush()
