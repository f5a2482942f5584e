"""What a CAS decision does: the orientation, the saisine (FSL, CCAPEX:
a request for a file number) or the plan d'apurement it creates in the
case file once confirmed; the case status that follows the decisions when
the session is closed; the adjournments closed when a case is examined
again. Called inside the decision's own transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.formatting import format_cents, format_date
from cus_desk.services import audit
from cus_desk.services.meeting_common import _meeting_label
from cus_desk.store.models.cases import Case, JournalEntry, RepaymentPlan
from cus_desk.store.models.core import Partner, Referral, partner_agencies
from cus_desk.store.models.meetings import AgendaItem, Decision, DecisionFollowUp, Meeting


@dataclass(frozen=True)
class EffectRequest:
    """The confirmed effect of a decision: a partner for an orientation or a
    saisine, a monthly amount and a length for a plan d'apurement."""

    partner_id: int | None = None
    monthly_cents: int | None = None
    months: int | None = None


@dataclass(frozen=True)
class PartnerChoice:
    id: int
    label: str
    suggested: bool


def partner_choices(session: Session, case: Case, type_code: str) -> list[PartnerChoice]:
    """Active partners serving the case's agency (or every agency), the
    categories the decision calls for first (FSL for a saisine du FSL...)."""
    wanted = commission.EFFECT_PARTNER_CATEGORIES.get(rules.DecisionType(type_code), ())
    serving = select(partner_agencies.c.partner_id).where(partner_agencies.c.agency_id == case.agency_id)
    rows = session.scalars(
        select(Partner).where(Partner.active.is_(True), Partner.merged_into_id.is_(None),
                              Partner.id.in_(serving))
    ).all()
    if not rows:
        rows = session.scalars(select(Partner).where(Partner.active.is_(True),
                                                     Partner.merged_into_id.is_(None))).all()
    choices = [PartnerChoice(p.id, p.short_name or p.name, p.category in wanted) for p in rows]
    choices.sort(key=lambda c: (not c.suggested, c.label.casefold()))
    return choices


def validate_effect(type_code: str, request: EffectRequest | None) -> None:
    """Before anything is stored: the values the effect needs."""
    if request is None:
        return
    effect = commission.effect_of(type_code)
    if effect is None:
        raise ValidationError(
            f"Une décision « {rules.DecisionType(type_code).label} » ne crée rien dans le dossier : "
            "n'indiquez ni partenaire ni plan.", "effect")
    if effect is commission.Effect.PLAN:
        commission.validate_plan(request.monthly_cents, request.months)
    elif request.partner_id is None:
        raise ValidationError("Choisissez la structure partenaire à saisir.", "partner")


def apply_effect(session: Session, actor, decision: Decision, meeting: Meeting, case: Case,
                 request: EffectRequest) -> str:
    """Create what the decision implies; returns a French line saying what."""
    validate_effect(decision.type, request)
    if decision.referral_id is not None or decision.repayment_plan_id is not None:
        raise WorkflowError("Cette décision a déjà créé son orientation ou son plan dans le dossier.")
    if case.status == rules.CASE_CLOSED:
        raise WorkflowError(f"Le dossier {case.reference} est clos : rien ne peut y être créé.")
    dtype = rules.DecisionType(decision.type)
    origin = f"décidé{'e' if dtype != rules.DecisionType.PLAN_APUREMENT else ''} par la " \
             f"{_meeting_label(meeting)} du {format_date(meeting.held_on)}"
    effect = commission.effect_of(decision.type)
    if effect is commission.Effect.PLAN:
        plan = RepaymentPlan(case_id=case.id, agreed_on=meeting.held_on, monthly_cents=request.monthly_cents,
                             months=request.months, status="en_cours", note=f"Plan d'apurement {origin}.")
        session.add(plan)
        session.flush()
        decision.repayment_plan_id = plan.id
        line = (f"Plan d'apurement créé : {format_cents(plan.monthly_cents)} par mois sur "
                f"{plan.months} mois ({origin}).")
        entity, entity_id = "repayment_plan", plan.id
    else:
        partner = session.get(Partner, request.partner_id)
        if partner is None or not partner.active:
            raise ValidationError("Cette structure partenaire n'existe pas (ou plus) : choisissez-en une "
                                  "dans la liste.", "partner")
        what = {commission.Effect.REFERRAL: "Orientation"}.get(effect, dtype.label)
        reason = f"{what} {origin}."
        if effect is commission.Effect.NUMBER_REQUEST:
            reason += " Demande de numéro de dossier : à reporter dans le dossier à réception."
        referral = Referral(kind="orientation", case_id=case.id, lease_id=case.lease_id,
                            partner_id=partner.id, sent_on=meeting.held_on,
                            reason=reason, status="envoyee", created_by_id=actor.user_id)
        session.add(referral)
        session.flush()
        decision.referral_id = referral.id
        line = f"{what} créée vers {partner.short_name or partner.name} ({origin})."
        if effect is commission.Effect.NUMBER_REQUEST:
            line += " Numéro de dossier demandé."
        entity, entity_id = "referral", referral.id
    session.add(JournalEntry(case_id=case.id, kind="orientation" if entity == "referral" else "note",
                             occurred_on=meeting.held_on, author_id=actor.user_id, text=line))
    session.flush()
    audit.record(session, actor, audit.Action.CREATE, entity, entity_id, case_id=case.id,
                 details={"decision": decision.id, "effet": effect.value})
    return line


def drop_effect(session: Session, actor, decision: Decision) -> None:
    """Deleting a decision (session still open) removes what it created, as
    long as nobody has worked on it since; otherwise the deletion is refused."""
    if decision.judicial_used_on is not None:
        raise WorkflowError(
            "Une demande de résiliation judiciaire s'appuie sur cette décision : elle ne peut pas "
            "être supprimée.")
    if decision.referral_id is not None:
        referral = session.get(Referral, decision.referral_id)
        if referral is not None:
            if referral.status != "envoyee" or referral.version != 1:
                raise WorkflowError(
                    "L'orientation créée par cette décision a déjà été suivie (réponse, statut) : "
                    "la décision ne peut plus être supprimée. Ajoutez plutôt une décision qui la corrige.")
            decision.referral_id = None
            session.flush()
            session.delete(referral)
            audit.record(session, actor, audit.Action.DELETE, "referral", referral.id,
                         case_id=decision.case_id, details={"decision": decision.id})
    if decision.repayment_plan_id is not None:
        plan = session.get(RepaymentPlan, decision.repayment_plan_id)
        if plan is not None:
            if plan.status != "en_cours" or plan.version != 1:
                raise WorkflowError(
                    "Le plan d'apurement créé par cette décision a déjà été suivi : la décision ne "
                    "peut plus être supprimée.")
            decision.repayment_plan_id = None
            session.flush()
            session.delete(plan)
            audit.record(session, actor, audit.Action.DELETE, "repayment_plan", plan.id,
                         case_id=decision.case_id, details={"decision": decision.id})


# --------------------------------------------------------------------- adjournments


def _reexamined(meeting: Meeting) -> str:
    return f"Dossier réexaminé en {_meeting_label(meeting)} du {format_date(meeting.held_on)}."


def close_adjournments(session: Session, actor, meeting: Meeting, case_id: int) -> int:
    """A case adjourned at an earlier session is examined again: the
    « ajournement — à représenter » follow-up is done."""
    earlier = session.scalars(
        select(Decision).join(Meeting, Meeting.id == Decision.meeting_id).where(
            Decision.case_id == case_id, Decision.meeting_id != meeting.id,
            Decision.type == rules.DecisionType.AJOURNEMENT.value,
            Decision.status.in_(rules.OPEN_FOLLOW_UP), Meeting.held_on <= meeting.held_on)
    ).all()
    for d in earlier:
        old = d.status
        d.status, d.status_changed_on = rules.FollowUpStatus.REALISEE.value, meeting.held_on
        session.add(DecisionFollowUp(decision_id=d.id, on=meeting.held_on, author_id=actor.user_id,
                                     status=d.status, comment=_reexamined(meeting)))
        audit.record(session, actor, audit.Action.UPDATE, "decision", d.id, case_id=case_id,
                     details={"suivi": [old, d.status], "reexamen": meeting.id})
    return len(earlier)


def reopen_adjournments(session: Session, actor, meeting: Meeting, case_id: int) -> None:
    """The last decision of this session on the case was deleted: the
    adjournments it had closed are to do again."""
    remaining = session.scalar(select(Decision.id).where(
        Decision.meeting_id == meeting.id, Decision.case_id == case_id).limit(1))
    if remaining is not None:
        return
    comment = _reexamined(meeting)
    for d, f in session.execute(
        select(Decision, DecisionFollowUp).join(DecisionFollowUp, DecisionFollowUp.decision_id == Decision.id)
        .where(Decision.case_id == case_id, Decision.type == rules.DecisionType.AJOURNEMENT.value,
               Decision.status == rules.FollowUpStatus.REALISEE.value, DecisionFollowUp.comment == comment)
    ).all():
        d.status, d.status_changed_on = rules.FollowUpStatus.A_FAIRE.value, None
        session.delete(f)
        audit.record(session, actor, audit.Action.UPDATE, "decision", d.id, case_id=case_id,
                     details={"suivi": [rules.FollowUpStatus.REALISEE.value, d.status]})


# --------------------------------------------------------------------- case status


def apply_case_statuses(session: Session, actor, meeting: Meeting) -> int:
    """At closing: each case on the agenda follows the session's decisions
    on it (domain.commission.case_status_after). Returns how many moved."""
    types: dict[int, list[str]] = {}
    for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id)):
        types.setdefault(d.case_id, []).append(d.type)
    moved = 0
    case_ids = list(session.scalars(select(AgendaItem.case_id).where(AgendaItem.meeting_id == meeting.id)))
    for case in session.scalars(select(Case).where(Case.id.in_(case_ids))):
        status, recommendation = commission.case_status_after(case.status, types.get(case.id, []))
        if status == case.status and (recommendation is None or recommendation == case.recommendation):
            continue
        before = {"status": case.status, "recommendation": case.recommendation}
        case.status = status
        if recommendation:
            case.recommendation = recommendation
        case.last_activity_on = max(filter(None, (case.last_activity_on, meeting.held_on)))
        moved += 1
        audit.record(session, actor, audit.Action.UPDATE, "case", case.id, case_id=case.id,
                     details={**audit.diff_fields(before, {"status": case.status,
                                                          "recommendation": case.recommendation}),
                              "seance": meeting.id})
    session.flush()
    return moved
