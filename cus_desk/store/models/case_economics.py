"""What a prevention-of-eviction CAS weighs, per case file: the household's
budget around the rent and the dates of the eviction procedure (rules and
formulas: ``domain.case_economics``). One row per case, created on the
first save; its own version column, so that saving it never conflicts with
an edit of the case's other fields."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cus_desk.store.models.base import Base, Timestamps, Versioned


class CaseEconomics(Versioned, Timestamps, Base):
    __tablename__ = "case_economics"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    # Monthly amounts, in cents (None: not known).
    rent_cents: Mapped[int | None] = mapped_column(Integer)  # loyer hors charges
    charges_cents: Mapped[int | None] = mapped_column(Integer)
    housing_aid_cents: Mapped[int | None] = mapped_column(Integer)  # APL / AL
    housing_aid_kind: Mapped[str | None] = mapped_column(String(8))  # domain HousingAid
    resources_cents: Mapped[int | None] = mapped_column(Integer)  # without the housing aid
    other_charges_cents: Mapped[int | None] = mapped_column(Integer)
    # Procédure d'expulsion: a date per stage (a future date: planned).
    commandement_payer_on: Mapped[date | None] = mapped_column(Date)
    assignation_on: Mapped[date | None] = mapped_column(Date)
    audience_on: Mapped[date | None] = mapped_column(Date)
    jugement_on: Mapped[date | None] = mapped_column(Date)
    commandement_quitter_on: Mapped[date | None] = mapped_column(Date)
    concours_force_publique_on: Mapped[date | None] = mapped_column(Date)
    # Saisine de la CCAPEX by the landlord (art. 24, II loi du 6 juillet 1989).
    ccapex_referred_on: Mapped[date | None] = mapped_column(Date)
    # The day the arrears amount typed in the case (cases.arrears_cents) was
    # last changed: the debt panel weighs it against the latest extract.
    arrears_noted_on: Mapped[date | None] = mapped_column(Date)
