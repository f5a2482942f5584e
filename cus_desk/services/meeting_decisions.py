"""Recording the decisions of a CAS session: quorum first, a responsible
chosen from a list linked to accounts (a person or a service), a motivated
and confirmed demande de résiliation judiciaire, the effect a decision has
in the case file once confirmed, and « mes décisions à suivre »."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain import commission
from cus_desk.domain import meetings as rules
from cus_desk.domain.errors import NotFoundError, ValidationError, WorkflowError
from cus_desk.domain.roles import Role
from cus_desk.services import access, audit, decision_effects
from cus_desk.services.access import Permission
from cus_desk.services.base import check_version, traces_refusals
from cus_desk.services.decision_effects import EffectRequest, PartnerChoice
from cus_desk.services.meeting_common import (
    DECISION_NOT_FOUND,
    DecisionView,
    _decision_view,
    _get_case,
    _get_meeting,
)
from cus_desk.services.meeting_members import require_quorum
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import User
from cus_desk.store.models.meetings import Decision, Meeting


@dataclass(frozen=True)
class ResponsibleOption:
    ref: str  # "user:12" or "service:recouvrement"
    label: str
    detail: str  # role of the person, or "Service"


def responsible_options(session: Session) -> list[ResponsibleOption]:
    services = [ResponsibleOption(f"service:{s.value}", s.label, "Service")
                for s in commission.ResponsibleService]
    people = [ResponsibleOption(f"user:{u.id}", u.display_name, Role(u.role).label)
              for u in session.scalars(
                  select(User).where(User.active.is_(True), User.role != Role.ADMIN.value)
                  .order_by(User.display_name))]
    return services + people


def resolve_responsible(session: Session, value: str, required: bool) -> tuple[str, int | None, str | None]:
    """(label, user id, service code) of the responsible chosen: a ref
    (``user:12``, ``service:pole_social``) or the label of an option."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError("Le champ « Responsable » est obligatoire : choisissez une personne "
                                  "ou un service dans la liste.", "responsible")
        return "", None, None
    options = responsible_options(session)
    by_ref = {o.ref: o for o in options}
    option = by_ref.get(text)
    if option is None:
        folded = text.casefold()
        matches = [o for o in options if o.label.casefold() == folded]
        if len(matches) > 1:
            raise ValidationError(f"Plusieurs comptes s'appellent « {text} » : choisissez dans la liste.",
                                  "responsible")
        option = matches[0] if matches else None
    if option is None:
        raise ValidationError(commission.RESPONSIBLE_UNKNOWN.format(text=text[:80]), "responsible")
    kind, _, key = option.ref.partition(":")
    if kind == "user":
        return option.label, int(key), None
    return option.label, None, key


class MeetingDecisions:
    """Mixed into ``MeetingService`` (same actor, clock and sessions)."""

    # ------------------------------------------------------------------ lists

    def responsible_options(self) -> list[ResponsibleOption]:
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._read() as session:
            return responsible_options(session)

    def responsibles(self) -> list[str]:
        """The labels a responsible may take (services, then people)."""
        access.require(self.actor, Permission.DECISION_FOLLOW_UP)
        with self._read() as session:
            return [o.label for o in responsible_options(session)]

    def effect_partners(self, case_id: int, type_code: str) -> list[PartnerChoice]:
        access.require(self.actor, Permission.MEETING_MANAGE)
        rules.parse_decision_type(type_code)
        with self._read() as session:
            return decision_effects.partner_choices(session, _get_case(session, case_id), type_code)

    def my_decisions(self, include_closed: bool = False) -> list[DecisionView]:
        """« Mes décisions à suivre »: the decisions entrusted to me, or to a
        service I answer for, among those I may follow up (services.access)."""
        access.require(self.actor, Permission.DECISION_FOLLOW_UP)
        with self._read() as session:
            query = (select(Decision, Meeting, Case)
                     .join(Meeting, Meeting.id == Decision.meeting_id)
                     .join(Case, Case.id == Decision.case_id)
                     .where(self._follow_up_condition(session))
                     .where((Decision.responsible_user_id == self.actor.user_id)
                            | Decision.responsible_service.is_not(None)))
            if not include_closed:
                query = query.where(Decision.status.in_(rules.OPEN_FOLLOW_UP))
            users: dict[int, str] = {}
            views = [
                _decision_view(session, d, m, c, self.today, users=users, with_follow_ups=True)
                for d, m, c in session.execute(query).all()
                if d.responsible_user_id == self.actor.user_id or commission.service_holds(
                    d.responsible_service, self.actor.role, self.actor.agency_id, c.agency_id)
            ]
        views.sort(key=lambda v: (*rules.follow_up_sort_key(v.due_on, v.status, v.responsible, self.today),
                                  v.id))
        return views

    # ------------------------------------------------------------------ writes

    @traces_refusals
    def add_decision(self, meeting_id: int, case_id: int, type_code: str, text: str = "",
                     responsible: str = "", due_on: date | None = None, *, confirmed: bool = False,
                     effect: EffectRequest | None = None) -> DecisionView:
        """Record a decision during the session (quorum reached). A demande
        de résiliation judiciaire needs a motivation and ``confirmed``; an
        ``effect`` (confirmed by the user) creates the orientation, saisine
        or plan the decision implies, in the same transaction."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        dtype, text = self._validate_decision(type_code, text, confirmed)
        decision_effects.validate_effect(dtype.value, effect)
        with self._write() as session:
            meeting = _get_meeting(session, meeting_id)
            rules.check_decision_entry(meeting.status)
            if not any(i.case_id == case_id for i in meeting.agenda_items):
                raise ValidationError(
                    "Ce dossier n'est pas à l'ordre du jour de la séance : ajoutez-le d'abord.", "case"
                )
            rules.validate_due_date(due_on, meeting.held_on)
            case = _get_case(session, case_id)
            self._require_decide(session, meeting.id, case.id)
            label, user_id, service = resolve_responsible(
                session, responsible, required=dtype != rules.DecisionType.AJOURNEMENT)
            require_quorum(session, meeting, "saisie d'une décision")
            decision = Decision(
                meeting_id=meeting.id, case_id=case.id, type=dtype.value, text=text,
                responsible=label, responsible_user_id=user_id, responsible_service=service,
                due_on=due_on, status=rules.FollowUpStatus.A_FAIRE.value,
                created_by_id=self.actor.user_id,
            )
            session.add(decision)
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, "decision", decision.id,
                         case_id=case.id, details={"seance": meeting.id, "type": dtype.value,
                                                   "responsable": label,
                                                   "echeance": due_on.isoformat() if due_on else None})
            decision_effects.close_adjournments(session, self.actor, meeting, case.id)
            if effect is not None:
                decision_effects.apply_effect(session, self.actor, decision, meeting, case, effect)
            return _decision_view(session, decision, meeting, case, self.today)

    @traces_refusals
    def apply_decision_effect(self, decision_id: int, effect: EffectRequest) -> DecisionView:
        """Create, after the fact, what a decision implies (confirmed later)."""
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            decision = session.get(Decision, decision_id)
            if decision is None:
                raise NotFoundError(DECISION_NOT_FOUND)
            meeting = _get_meeting(session, decision.meeting_id)
            self._require_decide(session, meeting.id, decision.case_id)
            case = _get_case(session, decision.case_id)
            decision_effects.apply_effect(session, self.actor, decision, meeting, case, effect)
            return _decision_view(session, decision, meeting, case, self.today)

    @traces_refusals
    def update_decision(self, decision_id: int, type_code: str, text: str, responsible: str,
                        due_on: date | None, expected_version: int | None, *,
                        confirmed: bool = False) -> DecisionView:
        access.require(self.actor, Permission.MEETING_MANAGE)
        dtype, text = self._validate_decision(type_code, text, confirmed)
        with self._write() as session:
            decision = session.get(Decision, decision_id)
            if decision is None:
                raise NotFoundError(DECISION_NOT_FOUND)
            meeting = _get_meeting(session, decision.meeting_id)
            self._require_decide(session, meeting.id, decision.case_id)
            rules.check_editable(meeting.status, "ses décisions")
            check_version(expected_version, decision.version)
            rules.validate_due_date(due_on, meeting.held_on)
            if dtype.value != decision.type and (decision.referral_id or decision.repayment_plan_id):
                raise WorkflowError(
                    "Cette décision a créé une orientation ou un plan dans le dossier : son type ne "
                    "change plus. Supprimez-la puis saisissez la bonne décision.")
            label, user_id, service = resolve_responsible(
                session, responsible, required=dtype != rules.DecisionType.AJOURNEMENT)
            require_quorum(session, meeting, "modification d'une décision")
            before = {"type": decision.type, "texte": decision.text, "responsable": decision.responsible,
                      "echeance": decision.due_on}
            decision.type, decision.text = dtype.value, text
            decision.responsible, decision.due_on = label, due_on
            decision.responsible_user_id, decision.responsible_service = user_id, service
            session.flush()
            audit.record(session, self.actor, audit.Action.UPDATE, "decision", decision.id,
                         case_id=decision.case_id,
                         details=audit.diff_fields(before, {"type": dtype.value, "texte": text,
                                                            "responsable": label,
                                                            "echeance": due_on}))
            return _decision_view(session, decision, meeting, session.get(Case, decision.case_id), self.today)

    @traces_refusals
    def delete_decision(self, decision_id: int) -> None:
        access.require(self.actor, Permission.MEETING_MANAGE)
        with self._write() as session:
            decision = session.get(Decision, decision_id)
            if decision is None:
                raise NotFoundError(DECISION_NOT_FOUND)
            meeting = _get_meeting(session, decision.meeting_id)
            self._require_decide(session, meeting.id, decision.case_id)
            rules.check_editable(meeting.status, "ses décisions")
            decision_effects.drop_effect(session, self.actor, decision)
            session.delete(decision)
            session.flush()
            decision_effects.reopen_adjournments(session, self.actor, meeting, decision.case_id)
            audit.record(session, self.actor, audit.Action.DELETE, "decision", decision_id,
                         case_id=decision.case_id, details={"type": decision.type})

    @staticmethod
    def _validate_decision(type_code: str, text: str, confirmed: bool = False):
        dtype = rules.parse_decision_type(type_code or "")
        text = rules.clean_text(text, label="Texte de la décision", field="text",
                                required=dtype == rules.DecisionType.AUTRE)
        commission.check_grave_decision(dtype.value, text, confirmed)
        return dtype, text
