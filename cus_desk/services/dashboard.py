"""Figures for the Tableau de bord, limited to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from cus_desk.domain.roles import Role
from cus_desk.domain.settings import REFERRAL_OVERDUE_DAYS
from cus_desk.services import access
from cus_desk.services.base import Service
from cus_desk.services.settings import read_setting
from cus_desk.store.models.cases import Case
from cus_desk.store.models.core import Agency, Partner, Referral
from cus_desk.store.models.meetings import AgendaItem, Decision, Meeting


@dataclass
class NextMeeting:
    number: int
    year: int
    held_on: date
    place: str
    agenda_size: int


@dataclass
class Dashboard:
    scope_label: str
    cases_by_status: dict[str, int] = field(default_factory=dict)
    cases_visible: bool = False
    overdue_referrals: int = 0
    open_decisions: int = 0
    overdue_decisions: int = 0
    next_meeting: NextMeeting | None = None
    active_partners: int = 0
    seniors_visible: bool = False
    seniors_extract_date: date | None = None
    seniors_by_status: dict[str, int] = field(default_factory=dict)
    seniors_first_arrears: int = 0
    signalement_reminders: int = 0
    expiring_conventions: list[tuple[str, date | None]] = field(default_factory=list)
    expired_conventions: list[tuple[str, date | None]] = field(default_factory=list)  # not renewed
    meetings_visible: bool = False
    admin_visible: bool = False
    last_backup_at: datetime | None = None
    backup_count: int = 0
    purge_reminder: str | None = None


class DashboardService(Service):
    def summary(self) -> Dashboard:
        today = self.clock.today()
        role = self.actor.role
        with self._read() as session:
            agency_filter = None
            scope = "Toutes les agences"
            if role is Role.SOCIAL_ADVISER and self.actor.agency_id is not None:
                agency_filter = self.actor.agency_id
                agency = session.get(Agency, agency_filter)
                scope = agency.label if agency else scope
            board = Dashboard(scope_label=scope)
            # Every figure counts only what the one visibility rule lets the
            # actor see (services.access): the files she holds for the case
            # figures, the decisions she may follow up for the CAS figures.
            window = access.attendance_window(session, self.clock)
            held = access.visible_cases(self.actor, window, minimum=access.CaseAccess.FULL)
            if role in (Role.SOCIAL_ADVISER, Role.SOCIAL_HEAD):
                board.cases_visible = True
                query = select(Case.status, func.count()).where(held).group_by(Case.status)
                board.cases_by_status = dict(session.execute(query).all())
                overdue_days = read_setting(session, REFERRAL_OVERDUE_DAYS)
                ref_query = (
                    select(func.count(Referral.id))
                    .join(Case, Case.id == Referral.case_id)
                    .where(Referral.kind == "orientation", Referral.status == "envoyee",
                           Referral.sent_on <= today - timedelta(days=overdue_days))
                    .where(held)
                )
                board.overdue_referrals = session.scalar(ref_query) or 0
            if access.has(self.actor, access.Permission.MEETING_VIEW):
                board.meetings_visible = True
                open_q = (select(func.count(Decision.id)).join(Case, Case.id == Decision.case_id)
                          .where(Decision.status.in_(("a_faire", "en_cours")))
                          .where(access.follow_up_cases(self.actor, window)))
                board.open_decisions = session.scalar(open_q) or 0
                board.overdue_decisions = session.scalar(open_q.where(Decision.due_on < today)) or 0
                # The next session to run is the earliest one not closed yet,
                # even when its date has passed (it still has to be held or closed).
                upcoming = session.scalars(
                    select(Meeting).where(Meeting.status != "cloturee")
                    .order_by(Meeting.held_on).limit(1)
                ).first()
                if upcoming is not None:
                    size = session.scalar(
                        select(func.count(AgendaItem.id)).where(AgendaItem.meeting_id == upcoming.id)
                    ) or 0
                    board.next_meeting = NextMeeting(upcoming.number, upcoming.year, upcoming.held_on,
                                                     upcoming.place, size)
            board.active_partners = session.scalar(
                select(func.count(Partner.id)).where(Partner.active.is_(True))
            ) or 0
        if access.has(self.actor, access.Permission.SENIORS_READ):
            from cus_desk.services.seniors import SeniorsService

            seniors = SeniorsService(self.db, self.actor)
            listing = seniors.list_seniors()
            board.seniors_visible = True
            board.seniors_extract_date = listing.extract_date
            board.seniors_by_status = dict(listing.count_by_status)
            board.seniors_first_arrears = listing.first_arrears_count
            board.signalement_reminders = len(seniors.reminders())
        if access.has(self.actor, access.Permission.PARTNER_READ):
            from cus_desk.services.partners import PartnerService

            view = PartnerService(self.db, self.actor).agency_view(agency_filter)
            board.expiring_conventions = [(name, data.end_date) for name, data in view.expiring]
            board.expired_conventions = [(name, data.end_date) for name, data in view.expired]
        if access.has(self.actor, access.Permission.BACKUP):
            from cus_desk.services.backup import BackupService
            from cus_desk.services.retention import RetentionService

            board.admin_visible = True
            backups = BackupService(self.db, self.actor).list()
            board.backup_count = len(backups)
            board.last_backup_at = max((b.created_at for b in backups), default=None)
            if access.has(self.actor, access.Permission.PURGE):
                board.purge_reminder = RetentionService(self.db, self.actor).due_reminder()
        return board
