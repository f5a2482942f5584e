"""Printed documents before and for a CAS session (#14):

- ``convocation(meeting_id)``: the ordre du jour / convocation for the
  members, cases by reference and initials only (the agenda cases the actor
  may see, per ``access``; the others are only counted);
- ``case_note(case_id)``: the fiche dossier / note de synthèse of one case,
  at the level ``access`` gives the actor (a SUMMARY prints no situation,
  no resources). Never printed, whatever the level: confidential notes,
  health/violence/family problématiques, the journal's texts.

Each print is audited (``Action.PRINT``: which document, never its content)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from cus_desk.domain import meetings as meeting_rules
from cus_desk.domain.cases import PROBLEMS, is_sensitive_problem
from cus_desk.domain.errors import AccessDeniedError, NotFoundError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.reference import CAS_FUNCTIONS
from cus_desk.domain.settings import ORGANISATION_NAME
from cus_desk.reports.case_documents import (
    CaseNoteData,
    ConvocationData,
    ConvocationItem,
    ConvocationMember,
    build_case_note_pdf,
    build_convocation_pdf,
    long_date,
)
from cus_desk.services import access, audit
from cus_desk.services.access import Permission
from cus_desk.services.base import Service
from cus_desk.services.case_economics import CaseEconomicsService
from cus_desk.services.cases import CaseService
from cus_desk.services.settings import read_setting
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import Agency, User
from cus_desk.store.models.meetings import AgendaItem, Decision, Meeting

MEETING_NOT_FOUND = "Cette séance n'existe pas (ou plus). Actualisez la liste des séances."


@dataclass(frozen=True)
class PrintedDocument:
    file_name: str
    title: str
    pdf: bytes


def initials(last_name: str, first_name: str) -> str:
    """« D. J.-P. » for DUPONT Jean-Pierre: what a convocation may name."""
    def one(text: str) -> str:
        return "-".join(part.strip()[0].upper() + "." for part in text.split("-") if part.strip())

    return " ".join(p for p in (one(last_name), one(first_name)) if p) or "—"


class CasePrintoutService(Service):
    """``CasePrintoutService(db, actor)``."""

    def convocation(self, meeting_id: int) -> PrintedDocument:
        access.require(self.actor, Permission.MEETING_VIEW)
        with self._write() as session:
            meeting = session.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFoundError(MEETING_NOT_FOUND)
            window = access.attendance_window(session, self.clock)
            if not access.may_read_meeting(session, self.actor, meeting.id, window):
                raise AccessDeniedError(access.MEETING_DENIED)
            case_ids = [i.case_id for i in meeting.agenda_items]
            visible = set(session.scalars(
                select(Case.id).where(Case.id.in_(case_ids), access.visible_cases(self.actor, window))
            )) if case_ids else set()
            names = dict(session.execute(select(User.id, User.display_name)).all())
            agencies = {a.id: a.label for a in session.scalars(select(Agency))}
            items = []
            for item in meeting.agenda_items:
                if item.case_id not in visible:
                    continue
                case = session.get(Case, item.case_id)
                holder = _holder(case)
                items.append(ConvocationItem(
                    len(items) + 1, case.reference,
                    initials(holder.last_name, holder.first_name) if holder else "—",
                    agencies.get(case.agency_id, ""), names.get(case.adviser_id, "") if case.adviser_id else ""))
            follow_ups = session.scalar(
                select(func.count(Decision.id)).join(Meeting, Meeting.id == Decision.meeting_id)
                .join(Case, Case.id == Decision.case_id)
                .where(Meeting.held_on < meeting.held_on,
                       Decision.status.in_([meeting_rules.FollowUpStatus.A_FAIRE.value,
                                            meeting_rules.FollowUpStatus.EN_COURS.value]),
                       access.follow_up_cases(self.actor, window))
            ) or 0
            scope = ("Séance centrale (toutes agences)" if meeting.scope_agency_id is None
                     else agencies.get(meeting.scope_agency_id, ""))
            label = meeting_rules.meeting_label(meeting.year, meeting.number)
            data = ConvocationData(
                organisation=read_setting(session, ORGANISATION_NAME), meeting_label=label,
                held_on=meeting.held_on, place=meeting.place, scope_label=scope,
                generated_at=self.clock.now(),
                members=tuple(ConvocationMember(a.name or names.get(a.user_id, ""),
                                                CAS_FUNCTIONS.get(a.function, a.function))
                              for a in meeting.attendees),
                items=tuple(items), follow_up_count=follow_ups, hidden_items=len(case_ids) - len(items),
            )
            audit.record(session, self.actor, audit.Action.PRINT, "meeting", meeting.id,
                         details={"document": "convocation", "dossiers": sorted(visible)})
        pdf = build_convocation_pdf(data)
        return PrintedDocument(f"convocation-CAS-{meeting.number}-{meeting.year}.pdf",
                               f"Convocation — {label} du {long_date(meeting.held_on)}", pdf)

    def case_note(self, case_id: int) -> PrintedDocument:
        """The fiche dossier at the actor's level of access (refusals are
        traced by CaseService.get)."""
        detail = CaseService(self.db, self.actor).get(case_id)
        economics = CaseEconomicsService(self.db, self.actor).get(case_id)
        full = detail.access == "full"
        with self._write() as session:
            organisation = read_setting(session, ORGANISATION_NAME)
            agenda, proposal = "", ""
            upcoming = session.execute(
                select(Meeting, AgendaItem).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
                .where(AgendaItem.case_id == case_id,
                       Meeting.status != meeting_rules.MeetingStatus.CLOTUREE.value)
                .order_by(Meeting.held_on).limit(1)
            ).first()
            if upcoming is not None:
                meeting, item = upcoming
                agenda = (f"Inscrit à l'ordre du jour de la "
                          f"{meeting_rules.meeting_label(meeting.year, meeting.number)} du "
                          f"{long_date(meeting.held_on)}")
                proposal = item.proposal or ""
            audit.record(session, self.actor, audit.Action.PRINT, "case", case_id, case_id=case_id,
                         details={"document": "fiche_dossier",
                                  "acces": "complet" if full else "synthese"})
        members = detail.household.members
        occupants = ""
        if full and members:
            occupants = f"{len(members)} personne{'s' if len(members) > 1 else ''}"
        debt = economics.debt
        data = CaseNoteData(
            organisation=organisation, reference=detail.reference,
            household=(f"{members[0].last_name.upper()} {members[0].first_name}".strip() if members else "—"),
            agency=detail.agency_name, status_label=detail.status_label, adviser=detail.adviser_name,
            opened_on=detail.opened_on, generated_at=self.clock.now(), full=full,
            # Never printed: health, violence and family problématiques.
            problems=tuple(PROBLEMS.get(p, p) for p in detail.problems if not is_sensitive_problem(p)),
            occupants=occupants,
            debt=debt.text, debt_other=" ".join(part for part in (
                f"{debt.months} mois d'impayés." if debt.months else "",
                f"Dernier paiement le {format_date(debt.last_payment_on)}." if debt.last_payment_on else "",
                debt.other) if part),
            budget_lines=economics.lines,
            procedure=tuple((s.label, format_date(s.on) + (" (prévue)" if s.planned else ""))
                            for s in economics.stages if s.on is not None)
            + ((("Saisine de la CCAPEX", format_date(economics.input.ccapex_referred_on)),)
               if economics.input.ccapex_referred_on else ()),
            procedure_stage=economics.current_stage, ccapex_warning=economics.ccapex_warning or "",
            plans=tuple(f"{format_date(p.agreed_on)} — {_money(p.monthly_cents)} par mois sur {p.months} mois "
                        f"— {p.status_label}" for p in detail.plans),
            referrals=tuple(f"{r.partner_name} — envoyée le {format_date(r.sent_on)} — {r.status_label}"
                            + (f" ({r.result_label})" if r.result else "") for r in detail.referrals),
            decisions=tuple((d.meeting_label, _decision_label(d.type), d.text, _status_label(d.status))
                            for d in detail.decisions),
            agenda=agenda, proposal=proposal,
        )
        return PrintedDocument(f"fiche-{detail.reference}.pdf", f"Fiche dossier {detail.reference}",
                               build_case_note_pdf(data))


def _holder(case: Case):
    members = list(case.household.members) if case.household is not None else []
    for m in members:
        if m.relationship_kind == "titulaire":
            return m
    return members[0] if members else None


def _money(cents: int) -> str:
    from cus_desk.domain.formatting import format_cents

    return format_cents(cents)


def _decision_label(code: str) -> str:
    try:
        return meeting_rules.DecisionType(code).label
    except ValueError:
        return code.replace("_", " ")


def _status_label(code: str) -> str:
    try:
        return meeting_rules.FollowUpStatus(code).label
    except ValueError:
        return code.replace("_", " ")
