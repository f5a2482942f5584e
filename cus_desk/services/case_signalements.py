"""The signalements (65+ tenants in arrears, CUS §9.3) of a case's household,
shown in the case file: an adviser opening the file sees what was already
sent to a CCAS, CMS, CLIC or pôle gérontologique and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from cus_desk.domain.seniors import ALERT_STATUS_LABELS, AlertStatus, signalement_reference
from cus_desk.store.models.core import Lease, Referral

SENIOR_ALERT = "senior_alert"
_EVENT_LABELS = {"relance": "Relance", "commentaire": "Suivi", "annulation": "Annulation", "statut": "Statut"}


@dataclass(frozen=True)
class CaseSignalementView:
    id: int
    reference: str
    sent_on: date
    partner_name: str
    status: str
    status_changed_on: date | None
    reason: str
    last_event: str  # « Relance le 02/12/2026 (téléphone) », or ""

    @property
    def status_label(self) -> str:
        try:
            return ALERT_STATUS_LABELS[AlertStatus(self.status)]
        except ValueError:
            return self.status


def household_signalements(session: Session, case_id: int, household_id: int | None) -> tuple[CaseSignalementView, ...]:
    """Signalements linked to the case, or about a lease of its household.
    The caller has checked full access to the case."""
    from cus_desk.domain.formatting import format_date
    from cus_desk.store.models.seniors import SeniorAlertEvent

    where = [Referral.case_id == case_id]
    if household_id is not None:
        where.append(Referral.lease_id.in_(select(Lease.id).where(Lease.household_id == household_id)))
    alerts = session.scalars(
        select(Referral).options(joinedload(Referral.partner)).where(Referral.kind == SENIOR_ALERT)
        .where(or_(*where)).order_by(Referral.sent_on.desc(), Referral.id.desc())).all()
    if not alerts:
        return ()
    last: dict[int, SeniorAlertEvent] = {}
    for event in session.scalars(select(SeniorAlertEvent).where(
            SeniorAlertEvent.referral_id.in_([a.id for a in alerts]))
            .order_by(SeniorAlertEvent.on_date, SeniorAlertEvent.id)):
        last[event.referral_id] = event
    views = []
    for alert in alerts:
        event = last.get(alert.id)
        text = ""
        if event is not None and event.kind != "statut":
            text = f"{_EVENT_LABELS.get(event.kind, event.kind)} le {format_date(event.on_date)}"
            if event.means:
                text += f" ({event.means})"
        views.append(CaseSignalementView(
            id=alert.id, reference=signalement_reference(alert.sent_on, alert.id), sent_on=alert.sent_on,
            partner_name=alert.partner.name, status=alert.status, status_changed_on=alert.status_changed_on,
            reason=alert.reason or "", last_event=text))
    return tuple(views)
