"""Demo CAS sessions: two past, closed sessions (September and October) with
their members' presence (quorum reached), decisions entrusted to people or
services from the list, what they created in the case files (orientations,
saisine du FSL, plan d'apurement), the case statuses that followed, the
follow-up and archived relevés; and the November session prepared with the
members of October (presence to record at the meeting), its agenda as
« Proposer… » gives it — the case adjourned in October first — and the
advisers' proposals. Fictitious data."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.formatting import PARIS
from cus_desk.store.models.cases import Case, JournalEntry, RepaymentPlan
from cus_desk.store.models.core import Partner, Referral, partner_agencies
from cus_desk.store.models.meetings import (
    AgendaItem,
    Attendee,
    Decision,
    DecisionFollowUp,
    Meeting,
    MeetingArchive,
)

PLACE = "Siège VIVEST, salle du conseil — Metz"

# (login or name without an account, function, presence at: sept, oct).
# The head of the pôle social chairs; the Metz adviser takes the minutes
# (each attendee has one function); the litigation officer and the CCAS sit
# with a consultative voice. November's presence is recorded at the meeting.
MEMBERS = (
    ("pole.social", "president", ("present", "present")),
    ("cas.securite", "responsable_cellule_securite", ("present", "excuse")),
    ("cas.recouvrement", "responsable_recouvrement", ("present", "present")),
    ("cas.commercialisation", "responsable_commercialisation", ("absent", "present")),
    ("cs.metz", "secretaire_seance", ("present", "present")),
    ("cs.forbach", "conseillere_sociale", ("present", "present")),
    ("cs.thionville", "conseillere_sociale", ("excuse", "present")),
    ("recouvrement.metz", "gestionnaire_contentieux", ("present", "present")),
    ("Nadia Benali (CCAS de Metz)", "partenaire_ccas_cms", (None, "present")),
)

# The responsibles the demo decisions name, as chosen from the list.
RESPONSIBLES = {
    "Gestionnaire contentieux": commission.ResponsibleService.CONTENTIEUX,
    "Service recouvrement": commission.ResponsibleService.RECOUVREMENT,
    "Cellule sécurité": commission.ResponsibleService.CELLULE_SECURITE,
    "Responsable commercialisation": commission.ResponsibleService.COMMERCIALISATION,
    "Responsable du pôle social": commission.ResponsibleService.POLE_SOCIAL,
}

# Decisions per case at a session: (type, text, responsible, due in days, final status, comment)
SEPTEMBER = (
    (("intervention_sociale", "Rencontrer la famille à domicile pour un bilan global (budget, droits CAF).",
      "Conseillère sociale de l'agence", 21, "realisee", "Bilan réalisé le 08/10 : droits CAF à réviser."),
     ("suspension_contentieux", "Suspendre la procédure le temps du bilan.", "Gestionnaire contentieux",
      45, "realisee", "Procédure suspendue.")),
    (("saisine_fsl", "Constituer le dossier FSL maintien avec le ménage.", "Conseillère sociale de l'agence",
      30, "en_cours", "Dossier déposé, en attente de la commission FSL."),),
    (("orientation_partenaire", "Orienter vers l'association d'accompagnement budgétaire.",
      "Conseillère sociale de l'agence", 30, "realisee", "Accompagnement accepté par l'association."),
     ("plan_apurement", "Proposer un plan d'apurement de 12 mois.", "Service recouvrement", 20,
      "realisee", "Plan signé, 80,00 € par mois.")),
    (("visite_domicile", "Visite conjointe avec la cellule sécurité (trouble de voisinage).",
      "Cellule sécurité", 14, "a_faire", ""),),
)
OCTOBER = (
    (("mutation_relogement", "Étudier une mutation vers un logement plus petit (sous-occupation).",
      "Responsable commercialisation", 40, "en_cours", "Deux propositions en cours d'étude."),),
    (("saisine_ccapex", "Saisir la CCAPEX : échec du plan et absence de contact.", "Service recouvrement",
      21, "a_faire", ""),
     ("poursuite_contentieux", "Poursuivre la procédure si aucun contact avant la saisine.",
      "Gestionnaire contentieux", 60, "a_faire", "")),
    (("remise_gracieuse", "Proposer une remise gracieuse à la commission d'admission en pertes : "
      "plan respecté depuis 8 mois.", "Responsable du pôle social", 35, "a_faire", ""),),
    (("signalement_senior", "Signaler au CLIC : locataire de 78 ans, ne répond plus aux courriers.",
      "Conseillère sociale de l'agence", 10, "realisee", "Signalement transmis, visite du CLIC faite."),),
    (("ajournement", "Dossier incomplet : à représenter à la prochaine séance.", "", None, "a_faire", ""),),
)
NOVEMBER_PROPOSALS = (
    "Proposer une intervention sociale (bilan global) avant toute suite contentieuse.",
    "Proposer une saisine du FSL et un plan d'apurement adapté aux ressources.",
    "Faire le point sur la mutation proposée ; envisager un accompagnement au déménagement.",
    "Proposer une visite à domicile conjointe avec la cellule sécurité.",
    "Faire le point sur le plan d'apurement : respecté depuis six mois.",
)


def session_day(year: int, month: int) -> date:
    """The CAS sits on the fourth Thursday of each month; in December on the
    third, before the holidays."""
    first = date(year, month, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + (14 if month == 12 else 21))


def session_days(today: date) -> tuple[date, date, date]:
    """The two sessions held before ``today`` and the next one (the first
    session day strictly after ``today``)."""
    year, month = today.year, today.month
    if session_day(year, month) <= today:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    days = []
    for _ in range(3):
        days.append(session_day(year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    nxt, last, before = days
    return before, last, nxt


def _closing(held_on: date) -> datetime:
    return datetime.combine(held_on, time(17, 0), tzinfo=PARIS).astimezone(UTC)


def populate(session: Session, ctx) -> None:
    today = ctx.today
    users = ctx.users
    cases = list(session.scalars(select(Case).where(Case.status != rules.CASE_CLOSED).order_by(Case.id)))
    rng = ctx.rng("meetings")
    rng.shuffle(cases)
    head = users.get("pole.social")

    def make_meeting(number: int, held_on: date, status: str, column: int | None) -> Meeting:
        """``column`` None: a session in preparation, members copied from the
        last one, presence to record at the meeting."""
        meeting = Meeting(year=held_on.year, number=number, held_on=held_on, place=PLACE,
                          scope_agency_id=None, status=status)
        for login, function, presence in MEMBERS:
            state = presence[column] if column is not None else None
            if column is not None and state is None:
                continue  # not a member of that session
            if column is None and presence[-1] is None:
                continue
            user = users.get(login)
            if user is None and "." in login:
                continue
            meeting.attendees.append(Attendee(
                user_id=user.id if user else None, name=user.display_name if user else login,
                function=function, presence=state, present=commission.invited(state)))
        session.add(meeting)
        session.flush()
        return meeting

    def responsible_of(label: str, case: Case) -> tuple[str, int | None, str | None]:
        if label == "Conseillère sociale de l'agence":
            if case.adviser is not None:
                return case.adviser.display_name, case.adviser.id, None
            return label, None, commission.ResponsibleService.CONSEILLERE_AGENCE.value
        service = RESPONSIBLES.get(label)
        return (service.label, None, service.value) if service else (label, None, None)

    def partner_for(case: Case, category: str | None) -> Partner | None:
        serving = select(partner_agencies.c.partner_id).where(partner_agencies.c.agency_id == case.agency_id)
        query = select(Partner).where(Partner.active.is_(True), Partner.id.in_(serving)).order_by(Partner.id)
        if category:
            query = query.where(Partner.category == category)
        else:
            query = query.where(Partner.category.in_(("insertion", "ccas", "autre")))
        return session.scalar(query.limit(1))

    def create_effect(meeting: Meeting, case: Case, decision: Decision) -> None:
        """What the decision created once confirmed at the session."""
        label = f"{rules.meeting_label(meeting.year, meeting.number)} du {meeting.held_on:%d/%m/%Y}"
        effect = commission.effect_of(decision.type)
        if effect is commission.Effect.PLAN:
            plan = RepaymentPlan(case_id=case.id, agreed_on=meeting.held_on, monthly_cents=8_000, months=12,
                                 status="en_cours", note=f"Plan d'apurement décidé par la {label}.")
            session.add(plan)
            session.flush()
            decision.repayment_plan_id = plan.id
            text = f"Plan d'apurement créé : 80,00 € par mois sur 12 mois (décidé par la {label})."
        elif effect is not None:
            partner = partner_for(case, "fsl" if decision.type == "saisine_fsl" else None)
            if partner is None:
                return
            reason = f"{rules.DecisionType(decision.type).label} décidée par la {label}."
            if effect is commission.Effect.NUMBER_REQUEST:
                reason += " Demande de numéro de dossier : à reporter dans le dossier à réception."
            referral = Referral(kind="orientation", case_id=case.id, lease_id=case.lease_id,
                                partner_id=partner.id, sent_on=meeting.held_on, reason=reason,
                                status="envoyee", created_by_id=head.id if head else None)
            session.add(referral)
            session.flush()
            decision.referral_id = referral.id
            text = f"Orientation créée vers {partner.short_name or partner.name} ({reason})"
        else:
            return
        session.add(JournalEntry(case_id=case.id, kind="orientation" if decision.referral_id else "note",
                                 occurred_on=meeting.held_on, author_id=head.id if head else None, text=text))

    pending: list[tuple[Decision, date, str, str]] = []  # follow-ups not applied yet

    def decide(meeting: Meeting, picked: list[Case], plan) -> None:
        for position, (case, decisions) in enumerate(zip(picked, plan, strict=False), start=1):
            meeting.agenda_items.append(AgendaItem(case_id=case.id, position=position,
                                                   proposal=NOVEMBER_PROPOSALS[position % 5]))
            for dtype, text, responsible, days, status, comment in decisions:
                label, user_id, service = responsible_of(responsible, case) if responsible else ("", None, None)
                due = meeting.held_on + timedelta(days=days) if days is not None else None
                decision = Decision(meeting_id=meeting.id, case_id=case.id, type=dtype, text=text,
                                    responsible=label, responsible_user_id=user_id,
                                    responsible_service=service, due_on=due, status="a_faire",
                                    created_by_id=head.id if head else None)
                session.add(decision)
                session.flush()
                create_effect(meeting, case, decision)
                if status != "a_faire" or comment:
                    on = min(today, (due or meeting.held_on + timedelta(days=15)) - timedelta(days=2))
                    on = max(on, meeting.held_on + timedelta(days=1))
                    pending.append((decision, on, status, comment))
        session.flush()

    def follow_up_until(cutoff: date) -> None:
        """Apply the follow-ups dated up to ``cutoff``: each archived relevé
        shows the follow-up as it stood when its session was closed."""
        for item in [p for p in pending if p[1] <= cutoff]:
            decision, on, status, comment = item
            decision.status = status
            decision.status_changed_on = on if status != "a_faire" else None
            session.add(DecisionFollowUp(decision_id=decision.id, on=on,
                                         author_id=head.id if head else None,
                                         status=status if status != "a_faire" else None,
                                         comment=comment))
            pending.remove(item)
        session.flush()

    def close(meeting: Meeting) -> None:
        from cus_desk.reports.decision_summary import build_releve_pdf
        from cus_desk.services.meetings import MeetingService

        meeting.status = rules.MeetingStatus.CLOTUREE.value
        meeting.closed_at = _closing(meeting.held_on)
        meeting.closed_by_id = head.id if head else None
        # The cases follow the session's decisions (what closing does).
        decided: dict[int, list[str]] = {}
        for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id)):
            decided.setdefault(d.case_id, []).append(d.type)
        for case_id, types in decided.items():
            case = session.get(Case, case_id)
            case.status, recommendation = commission.case_status_after(case.status, types)
            case.recommendation = recommendation or case.recommendation
        session.flush()
        data = MeetingService.releve_data(
            session, meeting, generated_at=meeting.closed_at, version=1)
        pdf = build_releve_pdf(data)
        session.add(MeetingArchive(meeting_id=meeting.id, generated_at=meeting.closed_at,
                                   sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf))
        session.flush()

    # One session a month, numbered by its month: two held, one prepared.
    before_day, last_day, next_day = session_days(today)
    september = make_meeting(before_day.month, before_day, rules.MeetingStatus.EN_COURS.value, 0)
    decide(september, cases[0:4], SEPTEMBER)
    close(september)

    follow_up_until(last_day)

    october = make_meeting(last_day.month, last_day, rules.MeetingStatus.EN_COURS.value, 1)
    decide(october, cases[4:9], OCTOBER)
    close(october)
    follow_up_until(today)

    # November: prepared, members copied from October, agenda as the builder
    # proposes it (the adjourned case first, cases to present, and cases with
    # decisions due), plus the advisers' proposals.
    november = make_meeting(next_day.month, next_day, rules.MeetingStatus.PREPAREE.value, None)
    due: dict[int, list[date]] = {}
    for case_id, due_on in session.execute(
        select(Decision.case_id, Decision.due_on).where(Decision.status.in_(rules.OPEN_FOLLOW_UP),
                                                        Decision.due_on.is_not(None))
    ):
        due.setdefault(case_id, []).append(due_on)
    adjourned: dict[int, list[date]] = {}
    for case_id, held_on in session.execute(
        select(Decision.case_id, Meeting.held_on).join(Meeting, Meeting.id == Decision.meeting_id)
        .where(Decision.type == rules.DecisionType.AJOURNEMENT.value, Decision.status.in_(rules.OPEN_FOLLOW_UP))
    ):
        adjourned.setdefault(case_id, []).append(held_on)
    candidates = [rules.AgendaCandidate(c.id, c.status, c.agency_id, tuple(due.get(c.id, ())),
                                        tuple(adjourned.get(c.id, ())))
                  for c in cases]
    proposals = rules.propose_agenda(candidates, november.held_on, None, set())[:11]
    for position, proposal in enumerate(proposals, start=1):
        november.agenda_items.append(AgendaItem(
            case_id=proposal.case_id, position=position,
            proposal=NOVEMBER_PROPOSALS[(position - 1) % len(NOVEMBER_PROPOSALS)]))
    session.flush()
