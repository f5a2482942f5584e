"""Models of the seniors feature: arrears extracts (extraits d'impayés),
one line per lease per extract (the balance history), field observations,
the status history of signalements, remembered column mappings.

Signalements themselves are ``core.Referral`` rows of kind ``senior_alert``
(the partners feature reads them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cus_desk.store.models.base import Base, Timestamps, UTCDateTime, clock_now


class ArrearsExtract(Base):
    """One monthly extract of the management system, identified by its
    extract date (re-importing the same date replaces it)."""

    __tablename__ = "arrears_extracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    extract_date: Mapped[date] = mapped_column(Date, unique=True)
    source_name: Mapped[str] = mapped_column(String(255), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    lines_imported: Mapped[int] = mapped_column(Integer, default=0)
    # Rejected lines as JSON [{"line": n, "reason": "..."}] (kept for the report).
    rejected_json: Mapped[str] = mapped_column(Text, default="[]")

    lines: Mapped[list[ArrearsLine]] = relationship(
        back_populates="extract", cascade="all, delete-orphan", passive_deletes=True
    )


class ArrearsLine(Base):
    """A lease's situation in one extract. Birth dates are the extract's
    (the risk rule is judged on what the extract said at that date)."""

    __tablename__ = "arrears_lines"
    __table_args__ = (UniqueConstraint("extract_id", "lease_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    extract_id: Mapped[int] = mapped_column(
        ForeignKey("arrears_extracts.id", ondelete="CASCADE")
    )
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), index=True)
    balance_cents: Mapped[int] = mapped_column(Integer)  # > 0 owed, < 0 credit
    months_unpaid: Mapped[int | None] = mapped_column(Integer)
    last_payment_on: Mapped[date | None] = mapped_column(Date)
    monthly_rent_cents: Mapped[int | None] = mapped_column(Integer)
    holder_birth_date: Mapped[date | None] = mapped_column(Date)
    cotenant_birth_date: Mapped[date | None] = mapped_column(Date)

    extract: Mapped[ArrearsExtract] = relationship(back_populates="lines")


class FieldObservation(Timestamps, Base):
    """Observation de terrain: what recovery staff or an adviser noticed
    (changement d'attitude, ne répond plus aux sollicitations...)."""

    __tablename__ = "field_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # domain.seniors.ObservationKind
    observed_on: Mapped[date] = mapped_column(Date)
    observer: Mapped[str] = mapped_column(String(120))  # who observed (free text)
    note: Mapped[str] = mapped_column(Text, default="")  # factual
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A correction is a new version: it names the observation it corrects,
    # which stays (hidden from the detail, kept for the audit trail).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("field_observations.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)


class SeniorAlertEvent(Base):
    """Dated status history of a signalement (envoyé, accusé de réception,
    pris en charge, clos); the Referral row holds the current status."""

    __tablename__ = "senior_alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    # "statut" (a status change), "relance" (a reminder sent: ``means``),
    # "commentaire" (follow-up), "annulation" (cancelled by mistake: ``note`` = why).
    kind: Mapped[str] = mapped_column(String(20), default="statut", server_default="statut")
    means: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now)


class SeniorAlertInfo(Base):
    """What the fiche de signalement tells the partner beyond the referral:
    whether the tenant was told, the reply expected and by when."""

    __tablename__ = "senior_alert_info"

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True)
    tenant_informed: Mapped[bool] = mapped_column(Boolean)
    tenant_informed_note: Mapped[str] = mapped_column(String(255), default="")
    reply_expected: Mapped[str] = mapped_column(Text, default="")
    reply_by: Mapped[date | None] = mapped_column(Date)


class ArrearsColumnMapping(Base):
    """A column mapping chosen by a user for files of one shape (the set of
    normalised headers), reused for the next file of that shape."""

    __tablename__ = "arrears_column_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), unique=True)
    mapping_json: Mapped[str] = mapped_column(Text)  # {field: header as in the file}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
