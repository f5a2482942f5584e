"""Séances de CAS, attendees, agenda, decisions and their follow-up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cus_desk.store.models.base import Base, Timestamps, UTCDateTime, Versioned


class Meeting(Versioned, Timestamps, Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)  # sequential per year
    held_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # None = central
    status: Mapped[str] = mapped_column(String(20))  # preparee | en_cours | cloturee
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    attendees: Mapped[list[Attendee]] = relationship(
        cascade="all, delete-orphan", order_by="Attendee.id"
    )
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        cascade="all, delete-orphan", order_by="AgendaItem.position"
    )


class Attendee(Base):
    __tablename__ = "attendees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    function: Mapped[str] = mapped_column(String(60))  # reference code cas_function
    # Invited and not excused nor absent (the access rule reads it);
    # mirrors ``presence``, recorded at the meeting.
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    # domain.commission.Presence: present | excuse | absent; None = not recorded yet.
    presence: Mapped[str | None] = mapped_column(String(12))


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # The adviser's proposal for the commission (shown in the commission summary).
    proposal: Mapped[str] = mapped_column(Text, default="")
    # Who put the case on the agenda (the adviser presenting it).
    presented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Decision(Versioned, Timestamps, Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[str] = mapped_column(String(48))  # domain decision type code
    text: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(200), default="")  # label as shown
    # The responsible chosen from the list: an account, or a service
    # (domain.commission.ResponsibleService) — « mes décisions à suivre ».
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    responsible_service: Mapped[str | None] = mapped_column(String(40))
    # What the decision created in the case file, once confirmed.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    repayment_plan_id: Mapped[int | None] = mapped_column(ForeignKey("repayment_plans.id"))
    # The day a demande de résiliation judiciaire was recorded on the
    # strength of this decision (None: it grounds no demand).
    judicial_used_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="a_faire")
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DecisionFollowUp(Timestamps, Base):
    """Dated comment (and optional status change) on a decision."""

    __tablename__ = "decision_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")


class MeetingAddendum(Timestamps, Base):
    """Correction to a closed session (its decisions are locked)."""

    __tablename__ = "meeting_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)


class MeetingArchive(Base):
    """The relevé de décisions as printed at closing (or after an addendum)."""

    __tablename__ = "meeting_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
