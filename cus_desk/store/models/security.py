"""Models of the security feature: anchors left by audit purges and the
register of what the RGPD retention purge already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cus_desk.store.models.base import Base, UTCDateTime, clock_now


class AuditAnchor(Base):
    """Left by each purge of old audit events: the hash of the last deleted
    event, from which the remaining chain must start. Anchors are chained
    among themselves (``prev_hash`` → ``hash``) so that one cannot be
    altered or removed without verification noticing."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now)
    through_event_id: Mapped[int] = mapped_column(Integer)  # last deleted event id
    last_event_hash: Mapped[str] = mapped_column(String(64))  # its hash
    purged_count: Mapped[int] = mapped_column(Integer)
    purged_by: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RetentionRecord(Base):
    """One item handled by the retention purge (a case anonymised, an
    extract or a signalement deleted); holds no personal data."""

    __tablename__ = "retention_records"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20))  # anonymise | delete
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock_now)


class AuditChainHead(Base):
    """One row (id 1): the last audit event appended and how many were ever
    appended. Advanced by a database trigger on every insert into
    ``audit_events`` (migration 0013_audit_chain_head); on PostgreSQL the
    trigger's function runs as the owner (SECURITY DEFINER), so client roles
    that may only read this table still advance it, and deleting the last
    events afterwards is seen by ``audit verify``."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer, default=0)  # events ever appended (purged included)
