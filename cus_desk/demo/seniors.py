"""Demo data of the seniors feature: four monthly arrears extracts over the
demo leases (so that balance trends and "premier impayé" show), field
observations and signalements at every stage. All fictitious."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain.formatting import age_on
from cus_desk.domain.reference import SENIOR_PARTNER_KINDS
from cus_desk.store.models.core import Partner, Referral
from cus_desk.store.models.seniors import (
    ArrearsExtract,
    ArrearsLine,
    FieldObservation,
    SeniorAlertEvent,
    SeniorAlertInfo,
)

OBSERVATIONS = [
    ("ne_repond_plus", "Ne répond plus aux appels ni aux courriers de relance depuis deux mois."),
    ("ne_repond_plus", "Avis de passage laissés trois fois, aucun rappel ; voisins sans nouvelles récentes."),
    ("changement_attitude", "Venue à l'agence désorientée, ne se souvenait plus du montant de son loyer."),
    ("changement_attitude", "Ton inhabituellement agressif au téléphone, tient des propos confus."),
    ("changement_attitude", "A refusé l'accès au logement pour l'entretien de la chaudière, d'habitude très coopérant."),
    ("autre", "Courrier non retiré depuis plusieurs semaines, boîte aux lettres pleine."),
    ("autre", "Logement très encombré constaté lors de l'intervention du plombier."),
]
OBSERVERS = ["Gardien de la résidence", "Chargé de recouvrement amiable", "Agent d'accueil de l'agence",
             "Technicien de proximité"]


def _month_ends(today: date, count: int) -> list[date]:
    ends = []
    cursor = today.replace(day=1) - timedelta(days=1)
    for _ in range(count):
        ends.append(cursor)
        cursor = cursor.replace(day=1) - timedelta(days=1)
    return list(reversed(ends))


def populate(session: Session, ctx) -> None:
    rng = ctx.rng("seniors")
    dates = _month_ends(ctx.today, 4)  # e.g. 31/07, 31/08, 30/09, 31/10
    recovery = ctx.users.get("recouvrement.metz") or next(iter(ctx.users.values()))
    extracts = [ArrearsExtract(extract_date=d, source_name=f"impayes_{d.isoformat()}.csv",
                               imported_by_id=recovery.id, rejected_json="[]") for d in dates]
    for e in extracts:
        session.add(e)
    session.flush()

    senior_cases: list = []  # leases of 65+ tenants in arrears in the latest extract
    for lease in ctx.leases:
        members = lease.household.members if lease.household else []
        holder = next((m for m in members if m.relationship_kind == "titulaire"), None)
        cotenant = next((m for m in members if m.relationship_kind == "cotitulaire"), None)
        birth = holder.birth_date if holder else None
        cobirth = cotenant.birth_date if cotenant else None
        rent = lease.monthly_rent_cents or 50000
        senior = any(b is not None and age_on(b, dates[-1]) >= 65 for b in (birth, cobirth))
        roll = rng.random()
        long_lease = lease.start_date is not None and age_on(lease.start_date, dates[-1]) >= 5
        if senior and long_lease and roll < 0.22:
            profile = "first"  # premier impayé: never in arrears before the last extract
        elif senior and roll < 0.50:
            profile = "chronic"
        elif not senior and roll < 0.16:
            profile = "chronic"
        elif roll < 0.60:
            profile = "credit" if rng.random() < 0.3 else "clear"
        else:
            profile = "clear"
        balances, months = [], []
        owed = rng.randint(1, 3) * rent if profile == "chronic" else 0
        for i, _d in enumerate(dates):
            if profile == "first":
                value = 0 if i < len(dates) - 1 else rent * rng.choice([1, 1, 2]) + rng.randint(0, 9000)
            elif profile == "chronic":
                owed = max(rent // 2, owed + rng.choice([-1, 0, 1, 1]) * rent // 2 + rng.randint(-3000, 3000))
                value = owed
            elif profile == "credit":
                value = -rng.randint(500, 12000)
            else:
                value = 0
            balances.append(value)
            months.append(0 if value <= 0 else max(1, round(value / rent)))
        for extract, value, month in zip(extracts, balances, months, strict=True):
            session.add(ArrearsLine(
                extract_id=extract.id, lease_id=lease.id, balance_cents=value, months_unpaid=month,
                last_payment_on=extract.extract_date - timedelta(days=rng.randint(3, 25 if value <= 0 else 95)),
                monthly_rent_cents=rent, holder_birth_date=birth, cotenant_birth_date=cobirth))
        if senior and balances[-1] > 0:
            senior_cases.append((lease, profile))
    for e in extracts:
        e.lines_read = e.lines_imported = len(ctx.leases)
    # The last extract had two unreadable lines (shows the rejected-lines report).
    extracts[-1].lines_read += 2
    extracts[-1].rejected_json = json.dumps([
        {"line": 17, "reason": "date de naissance : date impossible « 31/02/1951 »"},
        {"line": 203, "reason": "solde : montant illisible « 12,3,40 »"},
    ], ensure_ascii=False)
    session.flush()

    partners: dict[tuple[int, str], list[Partner]] = {}
    for p in session.scalars(select(Partner).where(Partner.category.in_(list(SENIOR_PARTNER_KINDS)),
                                                   Partner.active.is_(True))):
        for agency in p.agencies:
            partners.setdefault((agency.id, p.category), []).append(p)
    any_partner = {k: v for k, v in partners.items()}

    rng.shuffle(senior_cases)
    stages = ["envoye_late", "envoye", "accuse_reception", "pris_en_charge", "pris_en_charge", "clos"]
    for index, (lease, _profile) in enumerate(senior_cases):
        if index % 3 == 2:
            continue  # à surveiller: nothing observed yet
        kind, note = OBSERVATIONS[index % len(OBSERVATIONS)]
        observed = ctx.today - timedelta(days=rng.randint(46, 70) if index % 3 == 0 else rng.randint(1, 40))
        session.add(FieldObservation(lease_id=lease.id, kind=kind, observed_on=min(observed, ctx.today),
                                     observer=rng.choice(OBSERVERS), note=note, recorded_by_id=recovery.id))
        if index % 3 != 0 or index // 3 >= len(stages) * 2:
            continue  # à signaler
        stage = stages[(index // 3) % len(stages)]
        category = list(SENIOR_PARTNER_KINDS)[index % 4]
        choices = any_partner.get((lease.agency_id, category)) or next(
            (v for (a, _c), v in any_partner.items() if a == lease.agency_id), None)
        if not choices:
            continue
        partner = choices[0]
        sent = ctx.today - timedelta(days=30 if stage == "envoye_late" else rng.randint(3, 10) if stage == "envoye" else rng.randint(20, 45))
        status = "envoye" if stage.startswith("envoye") else stage
        referral = Referral(kind="senior_alert", lease_id=lease.id, partner_id=partner.id, sent_on=sent,
                            reason="Impayé et " + OBSERVATIONS[index % len(OBSERVATIONS)][1][0].lower()
                            + OBSERVATIONS[index % len(OBSERVATIONS)][1][1:],
                            status=status, status_changed_on=sent, created_by_id=recovery.id, version=1)
        session.add(referral)
        session.flush()
        session.add(SeniorAlertInfo(
            referral_id=referral.id, tenant_informed=index % 3 != 2,
            tenant_informed_note="" if index % 3 != 2 else "Injoignable avant l'envoi ; un courrier l'en informe.",
            reply_expected="Une prise de contact avec la personne et un retour à l'agence.",
            reply_by=sent + timedelta(days=15)))
        events = [("envoye", sent)]
        step = sent
        for s in ("accuse_reception", "pris_en_charge", "clos"):
            if ["envoye", "accuse_reception", "pris_en_charge", "clos"].index(status) < \
                    ["envoye", "accuse_reception", "pris_en_charge", "clos"].index(s):
                break
            step = min(step + timedelta(days=rng.randint(2, 9)), ctx.today)
            events.append((s, step))
        referral.status_changed_on = events[-1][1]
        if status == "clos":
            referral.closed_on = events[-1][1]
            referral.outcome = "Aide à domicile mise en place, plan d'apurement signé."
            referral.result = "aboutie"
        for s, on in events:
            session.add(SeniorAlertEvent(referral_id=referral.id, status=s, on_date=on,
                                         recorded_by_id=recovery.id))
    session.flush()
