"""Demo accounts, households, tenants and leases across the six agencies."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain.roles import Role
from cus_desk.services.auth import hash_password
from cus_desk.store.models.core import Agency, Household, Lease, Tenant, User

HOUSEHOLDS_PER_AGENCY = {"metz": 140, "woippy": 90, "thionville": 100, "saint_avold": 80,
                         "forbach": 90, "dt54": 100}

COMMUNES = {
    "metz": ["Metz", "Metz", "Metz", "Montigny-lès-Metz", "Ars-sur-Moselle", "Talange", "Hagondange"],
    "woippy": ["Woippy", "Woippy", "Rombas", "Maizières-lès-Metz"],
    "thionville": ["Thionville", "Thionville", "Florange", "Fameck", "Uckange", "Hayange"],
    "saint_avold": ["Saint-Avold", "Saint-Avold", "Creutzwald", "Boulay-Moselle", "Hombourg-Haut"],
    "forbach": ["Forbach", "Forbach", "Stiring-Wendel", "Freyming-Merlebach", "Petite-Rosselle",
                "Farébersviller"],
    "dt54": ["Nancy", "Nancy", "Jarville-la-Malgrange", "Vandœuvre-lès-Nancy", "Haucourt-Moulaine",
             "Villers-lès-Nancy"],
}

STREETS = ["rue des Tilleuls", "rue de la Paix", "allée des Peupliers", "rue Victor-Hugo",
           "rue Pasteur", "avenue de Lorraine", "rue des Jardins", "rue du Moulin",
           "impasse des Lilas", "rue Jean-Jaurès", "rue des Écoles", "rue de la Gare",
           "rue Saint-Exupéry", "place de la Fontaine", "rue des Vosges", "rue de Verdun"]

SURNAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
            "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David",
            "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
            "Rousseau", "Vincent", "Muller", "Schmitt", "Weber", "Meyer", "Klein", "Wagner",
            "Becker", "Hoffmann", "Schneider", "Fischer", "Kieffer", "Kremer", "Jung", "Mathis",
            "Haddad", "Benali", "Mansouri", "Yilmaz", "Kaya", "Nguyen", "Da Silva", "Ferreira",
            "Rossi", "Esposito", "Kowalski", "Nowak", "Diallo", "Traoré", "Camara", "Mendy",
            "Gérard", "Chevalier", "François", "Garnier", "Faure", "André", "Mercier", "Blanc"]
FIRST_F = ["Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Christine", "Monique",
           "Françoise", "Jacqueline", "Sandrine", "Céline", "Aurélie", "Julie", "Laura", "Sarah",
           "Léa", "Inès", "Fatima", "Yasmina", "Ayşe", "Élise", "Odile", "Germaine", "Simone"]
FIRST_M = ["Jean", "Michel", "Philippe", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre",
           "Daniel", "Bernard", "Éric", "Laurent", "Julien", "Thomas", "Kevin", "Mehdi",
           "Karim", "Mustafa", "Lucas", "Hugo", "René", "Gérard", "Roger", "Marcel"]

STAFF = [
    # login, name, role, agency code
    ("admin", "Administrateur Démo", Role.ADMIN, None),
    ("cs.metz", "Claire Démo (Metz)", Role.SOCIAL_ADVISER, "metz"),
    ("cs.woippy", "Wendy Démo (Woippy)", Role.SOCIAL_ADVISER, "woippy"),
    ("cs.thionville", "Thérèse Démo (Thionville)", Role.SOCIAL_ADVISER, "thionville"),
    ("cs.saint-avold", "Sabine Démo (Saint-Avold)", Role.SOCIAL_ADVISER, "saint_avold"),
    ("cs.forbach", "Florence Démo (Forbach)", Role.SOCIAL_ADVISER, "forbach"),
    ("cs.nancy", "Nadia Démo (DT 54)", Role.SOCIAL_ADVISER, "dt54"),
    ("pole.social", "Paule Démo (pôle social)", Role.SOCIAL_HEAD, None),
    ("cas.securite", "Serge Démo (sécurité)", Role.CAS_MEMBER, None),
    ("cas.recouvrement", "Rachel Démo (recouvrement)", Role.CAS_MEMBER, None),
    ("cas.commercialisation", "Cédric Démo (commercialisation)", Role.CAS_MEMBER, None),
    ("recouvrement.metz", "Romain Démo (recouvrement Metz)", Role.RECOVERY, "metz"),
    ("recouvrement.forbach", "Régine Démo (recouvrement Forbach)", Role.RECOVERY, "forbach"),
]


# Fictitious contact details: 03 53 01 xx xx is reserved by ARCEP for
# fiction in the north-east, example.org by the IETF.
AGENCY_CONTACTS = {
    "metz": ("12 rue des Clercs\n57000 Metz", "03 53 01 10 00"),
    "woippy": ("3 place Jean-Perrin\n57140 Woippy", "03 53 01 20 00"),
    "thionville": ("8 boulevard Foch\n57100 Thionville", "03 53 01 30 00"),
    "saint_avold": ("21 rue Poincaré\n57500 Saint-Avold", "03 53 01 40 00"),
    "forbach": ("5 avenue Saint-Rémy\n57600 Forbach", "03 53 01 50 00"),
    "dt54": ("40 rue Saint-Georges\n54000 Nancy", "03 53 01 60 00"),
}


def fictitious_phone(rng) -> str:
    # 06 39 98 xx xx is reserved by ARCEP for fiction.
    return f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def populate(session: Session, ctx) -> None:
    rng = ctx.rng("core")
    ctx.agencies = {a.code: a for a in session.scalars(select(Agency))}
    for code, (address, phone) in AGENCY_CONTACTS.items():
        agency = ctx.agencies[code]
        agency.address, agency.phone = address, phone
        agency.email = f"social.{code.replace('_', '-')}@example.org"
    password_hash = hash_password("demo")  # one hash: Argon2 is slow on purpose
    for login, name, role, agency in STAFF:
        user = User(login=login, display_name=name, role=role.value,
                    agency_id=ctx.agencies[agency].id if agency else None,
                    password_hash=password_hash, active=True)
        session.add(user)
        ctx.users[login] = user
    session.flush()

    advisers = {u.agency_id: u for u in ctx.users.values() if u.role == Role.SOCIAL_ADVISER.value}
    serial = 0
    for code, count in HOUSEHOLDS_PER_AGENCY.items():
        agency = ctx.agencies[code]
        dept = agency.department
        for _ in range(count):
            serial += 1
            commune = rng.choice(COMMUNES[code])
            household = Household(agency_id=agency.id, phone=fictitious_phone(rng),
                                  referent_id=advisers[agency.id].id, version=1)
            session.add(household)
            senior = rng.random() < 0.22
            surname = rng.choice(SURNAMES)
            if senior:
                birth = ctx.today - timedelta(days=rng.randint(65 * 365 + 20, 92 * 365))
                start = date(rng.randint(1975, 2012), rng.randint(1, 12), 1)
            else:
                birth = ctx.today - timedelta(days=rng.randint(20 * 365, 64 * 365))
                start = date(max(birth.year + 19, rng.randint(1995, 2025)), rng.randint(1, 12), 1)
                if start > ctx.today:
                    start = date(ctx.today.year - 1, 1, 1)
            female = rng.random() < 0.6
            members = [Tenant(last_name=surname.upper(), first_name=rng.choice(FIRST_F if female else FIRST_M),
                              birth_date=birth, relationship_kind="titulaire", position=0)]
            if rng.random() < 0.45:
                partner_birth = birth + timedelta(days=rng.randint(-2500, 2500))
                members.append(Tenant(last_name=surname.upper(),
                                      first_name=rng.choice(FIRST_M if female else FIRST_F),
                                      birth_date=min(partner_birth, ctx.today - timedelta(days=18 * 365)),
                                      relationship_kind="cotitulaire", position=1))
            if not senior:
                for _ in range(rng.choice([0, 0, 1, 2, 3])):
                    members.append(Tenant(last_name=surname.upper(), first_name=rng.choice(FIRST_F + FIRST_M),
                                          birth_date=ctx.today - timedelta(days=rng.randint(365, 17 * 365)),
                                          relationship_kind="enfant", position=len(members)))
            household.members = members
            kind = "bail_classique" if rng.random() < 0.92 else rng.choice(["sous_location", "bail_glissant"])
            lease = Lease(
                contract_number=f"{dept}-{serial:06d}-{rng.randint(1, 3):02d}",
                household=household, agency_id=agency.id, commune=commune,
                address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {commune}",
                start_date=start, kind=kind,
                monthly_rent_cents=rng.randint(320, 820) * 100 + rng.choice([0, 50, 25, 75]),
                version=1,
            )
            session.add(lease)
            ctx.households.append(household)
            ctx.leases.append(lease)
    session.flush()
