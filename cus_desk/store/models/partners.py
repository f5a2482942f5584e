"""Models of the partners feature (owned by that feature; see docs/architecture.md).

The structure itself is ``core.Partner``; here are its contacts, the
communes it covers, its conventions, the flats let to it (intermédiation
locative) and the CUS figures kept as counts where the CUS gives no
addresses (``SubletCount``)."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from cus_desk.store.models.base import Base, Timestamps
from cus_desk.store.models.core import Agency, Partner


class PartnerContact(Timestamps, Base):
    """Interlocuteur d'une structure (several per structure)."""

    __tablename__ = "partner_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(160))
    function: Mapped[str | None] = mapped_column(String(160))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class PartnerCommune(Base):
    """A commune the structure covers (communes d'intervention)."""

    __tablename__ = "partner_communes"
    __table_args__ = (UniqueConstraint("partner_id", "commune"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    commune: Mapped[str] = mapped_column(String(120), index=True)


class Convention(Timestamps, Base):
    """Convention with a structure (sous-location, bail glissant, CHRS
    éclaté, partenariat, réservation)."""

    __tablename__ = "partner_conventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # domain.partners.CONVENTION_KINDS
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    flat_count: Mapped[int | None] = mapped_column(Integer)
    document_ref: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency | None] = relationship()


class SubletFlat(Timestamps, Base):
    """A flat let to an association (intermédiation locative), recorded
    one by one. The address is optional: never invent one."""

    __tablename__ = "sublet_flats"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    commune: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # domain.partners.SUBLET_KINDS
    start_date: Mapped[date | None] = mapped_column(Date)
    transferable: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer_date: Mapped[date | None] = mapped_column(Date)  # glissement du bail
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"))
    notes: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency | None] = relationship()
    partner: Mapped[Partner] = relationship()


class SubletCount(Timestamps, Base):
    """A figure of the CUS kept as a count: « AIEM 59 logements », « METZ 80
    logements »... Rows of one ``table_code`` form one table of the CUS;
    different tables are different breakdowns and never add up together."""

    __tablename__ = "sublet_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    table_code: Mapped[str] = mapped_column(String(40), index=True)  # domain.partners.COUNT_TABLES
    label: Mapped[str] = mapped_column(String(200))  # the line as the CUS writes it
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    commune: Mapped[str | None] = mapped_column(String(120))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str | None] = mapped_column(String(32))
    transferable: Mapped[bool | None] = mapped_column(Boolean)
    flat_count: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))

    agency: Mapped[Agency | None] = relationship()
    partner: Mapped[Partner | None] = relationship()


# --- seeding from resources/partners_seed.json ------------------------------


@lru_cache(maxsize=1)
def load_partners_seed() -> dict:
    from cus_desk.paths import resources_dir

    with (resources_dir() / "partners_seed.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def _survivor(session: Session, partner: Partner | None) -> Partner | None:
    """Follow merges: figures of an absorbed entry belong to the survivor."""
    seen: set[int] = set()
    while partner is not None and partner.merged_into_id and partner.id not in seen:
        seen.add(partner.id)
        partner = session.get(Partner, partner.merged_into_id)
    return partner


def seed_partners(session: Session) -> None:
    """Idempotent: structures are matched by ``seed_key`` (those the
    foundation seeded from reference.json included) and never duplicated
    nor overwritten; count rows are matched by their own ``seed_key``."""
    data = load_partners_seed()
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    partners = {
        p.seed_key: p
        for p in session.scalars(select(Partner).where(Partner.seed_key.is_not(None)))
    }
    created = False
    for spec in data["partners"]:
        if spec["key"] in partners:
            continue
        partner = Partner(
            seed_key=spec["key"], name=spec["name"], short_name=spec.get("short_name"),
            category=spec["category"], commune=spec.get("commune"), notes=spec.get("notes"),
            active=True,
        )
        partner.agencies = [agencies[c] for c in spec.get("agencies", []) if c in agencies]
        session.add(partner)
        partners[spec["key"]] = partner
        created = True
    if created:
        session.flush()

    have = set(session.scalars(select(SubletCount.seed_key).where(SubletCount.seed_key.is_not(None))))
    for code, table in data["tables"].items():
        as_of = date.fromisoformat(table["as_of"]) if table.get("as_of") else None
        agency = agencies.get(table.get("agency") or "")
        for row in table["rows"]:
            key = f"{code}:{row['key']}"
            if key in have:
                continue
            partner = _survivor(session, partners.get(row.get("partner") or ""))
            session.add(SubletCount(
                seed_key=key, table_code=code, label=row["label"],
                partner_id=partner.id if partner is not None else None,
                commune=row.get("commune"), agency_id=agency.id if agency else None,
                kind=row.get("kind", table.get("kind")),
                transferable=row.get("transferable", table.get("transferable")),
                flat_count=int(row["count"]), as_of=as_of, source=table.get("source"),
            ))
            have.add(key)
    session.flush()


def _register_seed_hook() -> None:
    from cus_desk.store import seed_hooks

    if seed_partners not in seed_hooks.HOOKS:
        seed_hooks.HOOKS.append(seed_partners)


_register_seed_hook()
