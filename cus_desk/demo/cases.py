"""Demo case files: about 130 cases across the six agencies, in every
status, with journals, referrals to the seeded partner structures (some
overdue), confidential notes recorded with consent, and a few repayment
plans. Every family here is invented; deterministic (ctx.rng("cases"))."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain.cases import RECOMMENDATIONS, format_reference
from cus_desk.domain.roles import Role
from cus_desk.store.models.cases import (
    Case,
    CaseProblem,
    CaseSequence,
    ConfidentialNote,
    JournalEntry,
    RepaymentPlan,
)
from cus_desk.store.models.core import Partner, Referral

CASES_PER_AGENCY = {"metz": 30, "woippy": 18, "thionville": 22, "saint_avold": 16, "forbach": 20,
                    "dt54": 24}

# Status mix (weights): every status present in every agency.
STATUS_WEIGHTS = (("ouvert", 5), ("a_presenter", 4), ("preconisation", 3), ("action_definie", 3),
                  ("en_suivi", 5), ("clos", 3))

PROBLEM_WEIGHTS = (("trouble_voisinage", 3), ("sante_mentale", 3), ("perte_autonomie", 2),
                   ("sur_occupation", 2), ("sous_occupation", 1), ("violences_intrafamiliales", 1),
                   ("incurie_hygiene", 2), ("isolement", 3), ("handicap", 1), ("autre", 1))

SUMMARIES = {
    "trouble_voisinage": "Plaintes répétées du voisinage (bruit nocturne) ; médiation proposée.",
    "sante_mentale": "Locataire en difficulté pour gérer ses démarches ; suivi médical à confirmer.",
    "perte_autonomie": "Perte d'autonomie progressive ; aide à domicile à mettre en place.",
    "sur_occupation": "Logement devenu trop petit après l'arrivée de deux enfants ; demande de mutation.",
    "sous_occupation": "Personne seule dans un T4 depuis le départ des enfants ; relogement envisagé.",
    "violences_intrafamiliales": "Situation familiale signalée ; accompagnement spécialisé en cours.",
    "incurie_hygiene": "Logement encombré constaté lors d'une visite ; risque pour l'immeuble.",
    "isolement": "Peu de liens familiaux, ne répond plus aux courriers.",
    "handicap": "Adaptation du logement (douche) demandée ; dossier MDPH en cours.",
    "autre": "Situation particulière suivie avec le travailleur social de secteur.",
}
ARREARS_ORIGINS = [
    "Impayé apparu après une perte d'emploi",
    "Dette constituée après la suspension des APL",
    "Impayé depuis la séparation du couple",
    "Dette liée à une régularisation de charges",
    "Impayé après une hospitalisation prolongée",
]

JOURNAL_TEXTS = {
    "entretien": ["Entretien au siège de l'agence : point sur le budget, les ressources et les charges.",
                  "Entretien avec le locataire et sa fille : accord pour constituer un dossier FSL.",
                  "Entretien : le ménage accepte un accompagnement budgétaire."],
    "visite_domicile": ["Visite à domicile : logement correctement entretenu, famille présente.",
                        "Visite à domicile : logement encombré, pièces difficiles d'accès.",
                        "Visite à domicile avec le travailleur social du CMS."],
    "appel": ["Appel au locataire : pas de réponse, message laissé.",
              "Appel du locataire : il signale une reprise d'activité le mois prochain.",
              "Appel à la CAF : le droit APL est rétabli à compter du mois prochain."],
    "courrier": ["Courrier de relance envoyé (proposition de rendez-vous).",
                 "Courrier reçu du locataire avec justificatifs de ressources."],
    "note": ["Point avec le chargé de recouvrement : pas de procédure engagée à ce stade.",
             "Dossier à présenter à la prochaine CAS pour avis collégial."],
}

CLOSURE_REASONS = ["Dette soldée et situation stabilisée.", "Relogement dans un logement adapté.",
                   "Départ du logement (fin de bail).", "Relais pris par le travailleur social de secteur."]

CONFIDENTIAL = [
    ("sante", "Suivi au centre médico-psychologique ; rendez-vous mensuel.", "ecrit_signe"),
    ("sante", "Hospitalisation de trois semaines cet automne ; convalescence à domicile.", "oral_entretien"),
    ("violences", "Main courante déposée ; la locataire est accompagnée par une association spécialisée.", None),
    ("autre", "Mesure de protection (curatelle) en cours de mise en place.", None),
]


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def populate(session: Session, ctx) -> None:
    rng = ctx.rng("cases")
    today = ctx.today
    advisers = {u.agency_id: u for u in ctx.users.values() if u.role == Role.SOCIAL_ADVISER.value}
    partners = list(session.scalars(select(Partner).where(Partner.active.is_(True)).order_by(Partner.id)))
    serving = {
        agency.id: [p for p in partners if any(a.id == agency.id for a in p.agencies)] or partners
        for agency in ctx.agencies.values()
    }
    by_agency: dict[int, list[int]] = {}
    for i, hh in enumerate(ctx.households):
        by_agency.setdefault(hh.agency_id, []).append(i)

    planned = []
    for code, count in CASES_PER_AGENCY.items():
        agency = ctx.agencies[code]
        picks = rng.sample(by_agency.get(agency.id, []), min(count, len(by_agency.get(agency.id, []))))
        statuses = [s for s, _ in STATUS_WEIGHTS]  # one of each first, then weighted
        for n, idx in enumerate(picks):
            status = statuses[n] if n < len(statuses) else _weighted(rng, STATUS_WEIGHTS)
            opened = today - timedelta(days=rng.randint(15 if status == "ouvert" else 60, 540))
            planned.append((opened, idx, agency, status))
    planned.sort(key=lambda p: (p[0], p[1]))

    sequences: dict[int, int] = {}
    for opened, idx, agency, status in planned:
        household, lease = ctx.households[idx], ctx.leases[idx]
        adviser = advisers.get(agency.id)
        sequences[opened.year] = sequences.get(opened.year, 0) + 1
        problems = ["impaye_loyer"] if rng.random() < 0.85 else []
        for _ in range(rng.choice([1, 1, 2])):
            p = _weighted(rng, PROBLEM_WEIGHTS)
            if p not in problems:
                problems.append(p)
        other = next((p for p in problems if p != "impaye_loyer"), None)
        arrears = rng.randint(3, 90) * 5000 + rng.choice([0, 25, 50, 99]) if "impaye_loyer" in problems else 0
        months = max(1, arrears // 45000) if arrears else 0
        summary = (rng.choice(ARREARS_ORIGINS) + ". " if "impaye_loyer" in problems else "") + (
            SUMMARIES[other] if other else "Premier impayé chez un locataire ancien ; contact à renouer.")
        case = Case(
            reference=format_reference(opened.year, sequences[opened.year]), year=opened.year,
            sequence=sequences[opened.year], household_id=household.id, lease_id=lease.id,
            agency_id=agency.id, status=status, opened_on=opened,
            opened_by_id=adviser.id if adviser else None, adviser_id=adviser.id if adviser else None,
            summary=summary, version=1,
            caf_number=f"{rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None,
            fsl_number=(f"FSL{agency.department}-{opened.year}-{rng.randint(100, 999)}"
                        if rng.random() < 0.35 else None),
            ccapex_number=(f"CCAPEX-{agency.department}-{rng.randint(1000, 9999)}"
                           if rng.random() < 0.12 else None),
            external_worker_ref=(f"Mme {rng.choice(['Adam', 'Colin', 'Marchal', 'Henry'])}, "
                                 f"CMS de {lease.commune}" if rng.random() < 0.4 else None),
            arrears_cents=arrears or None, arrears_months=months or None,
            last_payment_on=(today - timedelta(days=30 * months + rng.randint(0, 20))) if arrears else None,
        )
        if status in ("preconisation", "action_definie", "en_suivi") or (status == "clos" and rng.random() < 0.5):
            case.recommendation = rng.choice(list(RECOMMENDATIONS))
        case.problems = [CaseProblem(code=p) for p in problems]
        session.add(case)
        session.flush()

        # Journal: a few dated entries between opening and today.
        last = opened
        entries = [("entretien", opened)]
        for _ in range(rng.randint(1, 5)):
            day = opened + timedelta(days=rng.randint(1, max(1, (today - opened).days)))
            entries.append((rng.choice(list(JOURNAL_TEXTS)), day))
        for kind, day in sorted(entries, key=lambda e: e[1]):
            session.add(JournalEntry(case_id=case.id, kind=kind, occurred_on=day,
                                     author_id=adviser.id if adviser else None,
                                     text=rng.choice(JOURNAL_TEXTS[kind])))
            last = max(last, day)

        # Referrals (orientations) to partners serving the agency.
        for _ in range(rng.choice([0, 1, 1, 2])):
            partner = rng.choice(serving[agency.id])
            sent = opened + timedelta(days=rng.randint(5, max(6, (today - opened).days)))
            if sent > today:
                sent = today - timedelta(days=rng.randint(0, 10))
            r_status = rng.choice(["envoyee", "envoyee", "acceptee", "refusee", "sans_reponse", "cloturee"])
            referral = Referral(kind="orientation", case_id=case.id, lease_id=lease.id, partner_id=partner.id,
                                sent_on=sent, reason=rng.choice([
                                    "Accompagnement budgétaire", "Demande d'aide FSL maintien",
                                    "Accompagnement social lié au logement (ASLL)",
                                    "Évaluation de la perte d'autonomie", "Mesure de protection à étudier",
                                ]),
                                status=r_status, status_changed_on=sent, created_by_id=adviser.id if adviser else None,
                                version=1)
            if r_status == "cloturee":
                referral.result = rng.choice(["aboutie", "aboutie", "non_aboutie"])
                if referral.result == "non_aboutie":
                    referral.failure_reason = rng.choice(["refus_menage", "pas_de_place", "injoignable", "autre"])
                referral.closed_on = min(today, sent + timedelta(days=rng.randint(10, 60)))
                referral.status_changed_on = referral.closed_on
                referral.outcome = "Accompagnement mis en place." if referral.result == "aboutie" else "Sans suite."
            session.add(referral)
            session.add(JournalEntry(case_id=case.id, kind="orientation", occurred_on=sent,
                                     author_id=adviser.id if adviser else None,
                                     text=f"Orientation vers {partner.name} : {referral.reason}"))
            last = max(last, sent)

        if other in ("sante_mentale", "violences_intrafamiliales", "perte_autonomie") or rng.random() < 0.1:
            category, text, method = rng.choice(CONFIDENTIAL)
            consent = (opened + timedelta(days=rng.randint(0, 20))) if category == "sante" else None
            session.add(ConfidentialNote(case_id=case.id, category=category, text=text,
                                         consent_on=min(consent, today) if consent else None,
                                         consent_method=method if category == "sante" else None,
                                         author_id=adviser.id if adviser else None))

        if arrears and rng.random() < 0.25:
            agreed = opened + timedelta(days=rng.randint(10, 90))
            agreed = min(agreed, today)
            session.add(RepaymentPlan(case_id=case.id, agreed_on=agreed, version=1,
                                      monthly_cents=max(2000, (arrears // rng.choice([12, 18, 24])) // 100 * 100),
                                      months=rng.choice([12, 18, 24]),
                                      status=rng.choice(["en_cours", "en_cours", "respecte", "non_respecte"]),
                                      note="Plan signé en agence."))
        if status == "clos":
            case.closed_on = min(today, last + timedelta(days=rng.randint(5, 30)))
            case.closure_reason = rng.choice(CLOSURE_REASONS)
            last = case.closed_on
        case.last_activity_on = last
    for year, value in sequences.items():
        session.merge(CaseSequence(year=year, last_value=value))
    session.flush()
    _populate_economics(session, ctx)


def _populate_economics(session: Session, ctx) -> None:
    """Budget et procédure (#14) for the demo's open cases in arrears: a
    budget for most, the first steps of the eviction procedure for the
    larger debts, and one planned assignation without a CCAPEX referral
    (the warning shows). Its own random stream: the cases above stay the same."""
    from cus_desk.store.models.case_economics import CaseEconomics

    rng = ctx.rng("case_economics")
    today = ctx.today
    cases = session.scalars(
        select(Case).where(Case.status.in_(["a_presenter", "en_suivi", "action_definie", "preconisation"]),
                           Case.arrears_cents.is_not(None)).order_by(Case.id)).all()
    warned = False
    for case in cases:
        if rng.random() < 0.2:
            continue
        rent = rng.randint(28, 62) * 1000
        aid = rng.choice([0, 0, rng.randint(8, 25) * 1000])
        row = CaseEconomics(
            case_id=case.id, rent_cents=rent, charges_cents=rng.randint(5, 14) * 1000,
            housing_aid_cents=aid or None, housing_aid_kind=rng.choice(["apl", "al"]) if aid else None,
            resources_cents=rng.randint(60, 210) * 1000,
            other_charges_cents=rng.randint(8, 30) * 1000 if rng.random() < 0.6 else None)
        if case.arrears_cents >= 150_000:
            row.commandement_payer_on = today - timedelta(days=rng.randint(70, 200))
            if not warned:
                row.assignation_on = today + timedelta(days=rng.randint(20, 45))  # planned, no CCAPEX yet
                warned = True
            elif rng.random() < 0.5:
                row.ccapex_referred_on = row.commandement_payer_on + timedelta(days=rng.randint(5, 20))
                row.assignation_on = row.ccapex_referred_on + timedelta(days=rng.randint(65, 90))
                if row.assignation_on > today + timedelta(days=60):
                    row.assignation_on = None
        session.add(row)
    session.flush()
