"""Case files (dossiers CAS) and their parts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cus_desk.store.models.base import Base, Timestamps, Versioned
from cus_desk.store.models.core import Agency, Household, User


class Case(Versioned, Timestamps, Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # CAS-2026-0042
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    # domain.cases.CaseStatus value
    status: Mapped[str] = mapped_column(String(32), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    closure_reason: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    last_activity_on: Mapped[date | None] = mapped_column(Date)
    # External file numbers, each in a field of its own.
    caf_number: Mapped[str | None] = mapped_column(String(40))
    fsl_number: Mapped[str | None] = mapped_column(String(40))
    ccapex_number: Mapped[str | None] = mapped_column(String(40))
    external_worker_ref: Mapped[str | None] = mapped_column(String(200))
    # Arrears snapshot (hand-entered, later filled from extracts).
    arrears_cents: Mapped[int | None] = mapped_column(Integer)
    arrears_months: Mapped[int | None] = mapped_column(Integer)
    last_payment_on: Mapped[date | None] = mapped_column(Date)

    household: Mapped[Household] = relationship()
    agency: Mapped[Agency] = relationship()
    adviser: Mapped[User | None] = relationship(foreign_keys=[adviser_id])
    problems: Mapped[list[CaseProblem]] = relationship(cascade="all, delete-orphan")


class CaseProblem(Base):
    """One problématique of a case (controlled list, domain.cases.Problem)."""

    __tablename__ = "case_problems"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ConfidentialNote(Timestamps, Base):
    """Note confidentielle (santé, violences...). Never printed, never in
    the commission summary, never in CLI output."""

    __tablename__ = "confidential_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))  # sante | violences | autre
    text: Mapped[str] = mapped_column(Text)
    consent_on: Mapped[date | None] = mapped_column(Date)
    consent_method: Mapped[str | None] = mapped_column(String(40))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class JournalEntry(Timestamps, Base):
    """Journal d'actions: entretien, visite, appel, courrier, orientation, note.
    Never edited in place: a correction is a new row pointing at the old."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class RepaymentPlan(Versioned, Timestamps, Base):
    """Plan d'apurement agreed with the household."""

    __tablename__ = "repayment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agreed_on: Mapped[date] = mapped_column(Date)
    monthly_cents: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    # en_cours | respecte | non_respecte | solde
    status: Mapped[str] = mapped_column(String(20), default="en_cours")
    note: Mapped[str] = mapped_column(Text, default="")
