"""Core tables of the foundation: agencies, users, households, tenants,
leases, partners, referrals, settings, reference codes, audit trail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cus_desk.store.models.base import Base, Timestamps, UTCDateTime, Versioned, clock_now


class Agency(Base):
    """Agence (Moselle) or the Délégation territoriale 54 (Nancy)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # "Metz", "DT 54"
    label: Mapped[str] = mapped_column(String(120))  # "Agence de Metz"
    department: Mapped[str] = mapped_column(String(3))  # "57" / "54"
    town: Mapped[str] = mapped_column(String(80))
    # How a partner answers a signalement; entered by an administrator.
    address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))  # domain.roles.Role value
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    # Deferred: never loaded with the row (on a secured server the client
    # roles may not read this column; store.dialect.password_hash reads it).
    password_hash: Mapped[str | None] = mapped_column(String(255), deferred=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # A temporary password (new account, reset) stops working at this instant.
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moves on each password reset: sessions opened before it end (services.base.check_session).
    credentials_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()


class Household(Versioned, Timestamps, Base):
    """Ménage: the people living in one flat under one lease."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()
    referent: Mapped[User | None] = relationship()
    members: Mapped[list[Tenant]] = relationship(
        back_populates="household", order_by="Tenant.position", cascade="all, delete-orphan"
    )
    leases: Mapped[list[Lease]] = relationship(back_populates="household")


class Tenant(Timestamps, Base):
    """Locataire or other occupant of a household."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    # titulaire, cotitulaire, conjoint, enfant, parent, autre
    relationship_kind: Mapped[str] = mapped_column(String(32), default="titulaire")

    household: Mapped[Household] = relationship(back_populates="members")


class Lease(Versioned, Timestamps, Base):
    """Bail. The contract number is the key shared with the landlord's
    management system (arrears extracts match on it)."""

    __tablename__ = "leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_number: Mapped[str] = mapped_column(String(40), unique=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    commune: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # bail_classique, sous_location, bail_glissant
    kind: Mapped[str] = mapped_column(String(32), default="bail_classique")
    monthly_rent_cents: Mapped[int | None] = mapped_column(Integer)

    household: Mapped[Household | None] = relationship(back_populates="leases")
    agency: Mapped[Agency] = relationship()


partner_agencies = Table(
    "partner_agencies",
    Base.metadata,
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
)


class Partner(Versioned, Timestamps, Base):
    """Structure partenaire (association, CCAS, CMS, CLIC...)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable key of entries seeded from resources/ (re-seeding never duplicates).
    seed_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    short_name: Mapped[str | None] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(40))  # domain.reference.PartnerCategory
    address: Mapped[str | None] = mapped_column(String(255))
    commune: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where two entries were merged, the absorbed one points at the survivor.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))

    agencies: Mapped[list[Agency]] = relationship(secondary=partner_agencies)


class Referral(Versioned, Timestamps, Base):
    """Orientation (from a case file) or signalement senior (kind
    ``senior_alert``) sent to a partner structure."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # orientation | senior_alert
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    sent_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str | None] = mapped_column(String(32))  # aboutie | non_aboutie
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partner: Mapped[Partner] = relationship()


class ReferenceCode(Base):
    """Controlled lists drawn from the CUS (CAS functions, senior partner
    kinds...), seeded from resources/reference.json."""

    __tablename__ = "reference_codes"
    __table_args__ = (UniqueConstraint("domain", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now, onupdate=clock_now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """Append-only, hash-chained journal d'audit."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case_id_occurred_at", "case_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: survives user purge
    user_login: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity_type: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    case_id: Mapped[int | None] = mapped_column(Integer)
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
