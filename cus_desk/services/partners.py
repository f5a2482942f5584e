"""Use cases of the partners directory: list and search the structures,
see one (contacts, conventions, flats, referrals and their outcome),
create / edit / deactivate / merge, the per-agency view with its PDF and
XLSX. Access rules (PARTNER_READ / PARTNER_EDIT) and the audit trail live
here so that neither the UI nor the CLI can bypass them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from cus_desk.domain import partners as rules
from cus_desk.domain.errors import NotFoundError, ValidationError, WorkflowError
from cus_desk.domain.partners import (
    AgencyView,
    ContactData,
    ConventionData,
    CountData,
    FlatData,
    IntermediationTable,
    PartnerDetail,
    PartnerRow,
    ReferralData,
)
from cus_desk.domain.reference import PARTNER_CATEGORIES
from cus_desk.domain.settings import CONVENTION_EXPIRY_DAYS, ORGANISATION_NAME
from cus_desk.services import access, audit
from cus_desk.services.base import Service, check_version
from cus_desk.services.settings import read_setting
from cus_desk.store.models.core import Agency, Partner, Referral, partner_agencies
from cus_desk.store.models.partners import (
    Convention,
    PartnerCommune,
    PartnerContact,
    SubletCount,
    SubletFlat,
)

P = access.Permission
ENTITY = "partner"
# CUS count tables whose figures are flats currently let to the structure
# (the per-commune table repeats the same flats; transfers are done).
COUNTED_TABLES = ("logiest_2020_structures", "slh_2020_sans_transfert", "slh_2020_avec_transfert")


# --- inputs -------------------------------------------------------------------


@dataclass
class PartnerInput:
    name: str
    category: str
    short_name: str | None = None
    address: str | None = None
    commune: str | None = None
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    agency_ids: list[int] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)


@dataclass
class ContactInput:
    name: str
    function: str | None = None
    phone: str | None = None
    email: str | None = None
    notes: str | None = None


@dataclass
class ConventionInput:
    kind: str
    start_date: date | None
    end_date: date | None = None
    flat_count: int | str | None = None
    document_ref: str | None = None
    notes: str | None = None
    agency_id: int | None = None


@dataclass
class FlatInput:
    commune: str
    kind: str
    agency_id: int | None = None
    address: str | None = None
    start_date: date | None = None
    transferable: bool = False
    transfer_date: date | None = None
    notes: str | None = None


@dataclass(frozen=True)
class AgencyRef:
    id: int
    code: str
    name: str
    label: str


# --- helpers --------------------------------------------------------------------


def _partner_fields(p: Partner) -> dict:
    return {
        "name": p.name, "short_name": p.short_name, "category": p.category,
        "address": p.address, "commune": p.commune, "phone": p.phone, "email": p.email,
        "notes": p.notes, "active": p.active,
        "agencies": sorted(a.name for a in p.agencies),
    }


def _clean_partner(data: PartnerInput) -> dict:
    return {
        "name": rules.clean_text(data.name, "Nom", "name", required=True, max_len=rules.NAME_MAX),
        "short_name": rules.clean_text(data.short_name, "Sigle ou nom court", "short_name",
                                       max_len=rules.SHORT_NAME_MAX),
        "category": rules.validate_category(data.category),
        "address": rules.clean_text(data.address, "Adresse", "address"),
        "commune": rules.clean_text(data.commune, "Commune", "commune", max_len=120),
        "phone": rules.validate_phone(data.phone),
        "email": rules.validate_email(data.email),
        "notes": (data.notes or "").strip() or None,
    }


def _clean_contact(data: ContactInput) -> dict:
    return {
        "name": rules.clean_text(data.name, "Nom du contact", "contact_name", required=True,
                                 max_len=160),
        "function": rules.clean_text(data.function, "Fonction", "function", max_len=160),
        "phone": rules.validate_phone(data.phone, "contact_phone"),
        "email": rules.validate_email(data.email, "contact_email"),
        "notes": (data.notes or "").strip() or None,
    }


def _clean_convention(data: ConventionInput) -> dict:
    kind = rules.validate_convention_kind(data.kind)
    rules.validate_convention_dates(data.start_date, data.end_date)
    return {
        "kind": kind, "start_date": data.start_date, "end_date": data.end_date,
        "flat_count": rules.validate_count(data.flat_count),
        "document_ref": rules.clean_text(data.document_ref, "Référence du document",
                                         "document_ref", max_len=200),
        "notes": (data.notes or "").strip() or None,
        "agency_id": data.agency_id,
    }


def _clean_flat(data: FlatInput) -> dict:
    rules.validate_flat(data.kind, data.commune, data.start_date, data.transferable,
                        data.transfer_date)
    return {
        "commune": rules.clean_text(data.commune, "Commune", "commune", required=True,
                                    max_len=120),
        "address": rules.clean_text(data.address, "Adresse", "address"),
        "agency_id": data.agency_id, "kind": data.kind, "start_date": data.start_date,
        "transferable": bool(data.transferable), "transfer_date": data.transfer_date,
        "notes": (data.notes or "").strip() or None,
    }


def _row_fields(obj, names) -> dict:
    return {n: getattr(obj, n) for n in names}


def _touch(partner: Partner, now: datetime) -> None:
    """A change to a contact, convention or flat is a change of the
    structure's record: bump its version (optimistic locking)."""
    partner.updated_at = now
    flag_modified(partner, "updated_at")  # an UPDATE (and a new version) even at the same instant


class PartnerService(Service):
    """``PartnerService(db, actor)``; "today" is the Paris day of ``db.clock``."""

    @property
    def today(self) -> date:
        return self.clock.today()

    # --- reads -------------------------------------------------------------

    def agencies(self) -> list[AgencyRef]:
        access.require(self.actor, P.PARTNER_READ)
        with self._read() as session:
            return [AgencyRef(a.id, a.code, a.name, a.label)
                    for a in session.scalars(select(Agency).order_by(Agency.id))]

    def expiry_days(self) -> int:
        with self._read() as session:
            return int(read_setting(session, CONVENTION_EXPIRY_DAYS))

    def list_partners(
        self,
        query: str = "",
        *,
        agency_id: int | None = None,
        category: str | None = None,
        with_current_convention: bool = False,
        with_flats: bool = False,
        include_inactive: bool = False,
    ) -> list[PartnerRow]:
        """The directory, filtered. ``query`` matches name, short name,
        commune (own or covered) and contact names, ignoring case and
        accents; every word must match."""
        access.require(self.actor, P.PARTNER_READ)
        with self._read() as session:
            rows = self._rows(session, agency_id=agency_id, category=category,
                              include_inactive=include_inactive)
        rows = [row for row in rows
                if (row.current_conventions or not with_current_convention)
                and (row.flat_count or row.cus_flat_count or not with_flats)]
        return rules.search_rows(rows, query)

    def pickable(self, category_codes=None, commune: str | None = None,
                 agency_id: int | None = None) -> list[PartnerRow]:
        """Active structures other features may pick (orientation,
        signalement senior): merged and deactivated entries never appear.
        ``commune`` keeps those whose own commune or covered communes
        include it (ignoring case, accents and hyphens)."""
        access.require(self.actor, P.PARTNER_READ)
        codes = set(category_codes) if category_codes else None
        with self._read() as session:
            rows = self._rows(session, agency_id=agency_id, category=codes, include_inactive=False)
        key = rules.fold(commune) if commune else None
        out = []
        for row in rows:
            if key is not None and key not in {rules.fold(c) for c in (row.commune, *row.communes) if c}:
                continue
            out.append(row)
        return out

    def _rows(self, session: Session, *, agency_id, category, include_inactive) -> list[PartnerRow]:
        """One query per table, plain columns (no ORM objects): the list is
        rebuilt at each keystroke of the search."""
        cols = (Partner.id, Partner.name, Partner.short_name, Partner.category, Partner.commune,
                Partner.phone, Partner.email, Partner.active, Partner.merged_into_id,
                Partner.seed_key)
        stmt = select(*cols).order_by(Partner.name)
        if not include_inactive:
            stmt = stmt.where(Partner.active.is_(True), Partner.merged_into_id.is_(None))
        if isinstance(category, str) and category:
            stmt = stmt.where(Partner.category == category)
        elif category:  # several categories (pickers)
            stmt = stmt.where(Partner.category.in_(sorted(category)))
        if agency_id is not None:
            stmt = stmt.where(Partner.id.in_(
                select(partner_agencies.c.partner_id).where(partner_agencies.c.agency_id == agency_id)))
        partners = session.execute(stmt).all()
        if not partners:
            return []
        wanted = {p.id for p in partners}
        # Child tables are read whole (the directory is small; no long IN lists).
        agency_names = dict(session.execute(select(Agency.id, Agency.name)).all())
        links: dict[int, list[str]] = defaultdict(list)
        for pid, aid in session.execute(select(partner_agencies.c.partner_id,
                                               partner_agencies.c.agency_id)):
            if pid in wanted:
                links[pid].append(agency_names.get(aid, "?"))
        communes: dict[int, list[str]] = defaultdict(list)
        for pid, c in session.execute(select(PartnerCommune.partner_id, PartnerCommune.commune)
                                      .order_by(PartnerCommune.commune)):
            if pid in wanted:
                communes[pid].append(c)
        contacts: dict[int, list[str]] = defaultdict(list)
        for pid, n in session.execute(select(PartnerContact.partner_id, PartnerContact.name)):
            if pid in wanted:
                contacts[pid].append(n)
        days = int(read_setting(session, CONVENTION_EXPIRY_DAYS))
        today = self.today
        current: dict[int, int] = defaultdict(int)
        expiring: dict[int, int] = defaultdict(int)
        for pid, start, end in session.execute(
                select(Convention.partner_id, Convention.start_date, Convention.end_date)):
            if pid not in wanted:
                continue
            state = rules.convention_state(start, end, today, days)
            if rules.is_current(state):
                current[pid] += 1
            if state == rules.ConventionState.EXPIRING:
                expiring[pid] += 1
        flats: dict[int, int] = defaultdict(int)
        cus_flats: dict[int, int] = defaultdict(int)
        for pid, n in session.execute(select(SubletFlat.partner_id, func.count())
                                      .where(SubletFlat.transfer_date.is_(None))
                                      .group_by(SubletFlat.partner_id)):
            flats[pid] += n
        for pid, n in session.execute(
                select(SubletCount.partner_id, func.sum(SubletCount.flat_count))
                .where(SubletCount.partner_id.is_not(None),
                       SubletCount.table_code.in_(COUNTED_TABLES))
                .group_by(SubletCount.partner_id)):
            cus_flats[pid] += int(n or 0)  # the CUS 2020 figures: shown apart (#13)
        refs: dict[int, list[tuple]] = defaultdict(list)
        for pid, status, result in session.execute(
                select(Referral.partner_id, Referral.status, Referral.result)):
            if pid in wanted:
                refs[pid].append((status, result))
        out = []
        for p in partners:
            stats = rules.referral_stats(refs.get(p.id, []))
            out.append(PartnerRow(
                id=p.id, name=p.name, short_name=p.short_name, category=p.category,
                category_label=rules.category_label(p.category), commune=p.commune,
                phone=p.phone, email=p.email, agencies=tuple(sorted(links.get(p.id, []))),
                communes=tuple(communes.get(p.id, [])), active=p.active,
                merged_into_id=p.merged_into_id, current_conventions=current.get(p.id, 0),
                expiring_conventions=expiring.get(p.id, 0), flat_count=flats.get(p.id, 0),
                referrals_sent=stats.sent, referrals_positive=stats.positive, referrals_pending=stats.pending,
                cus_flat_count=cus_flats.get(p.id, 0),
                contact_names=tuple(contacts.get(p.id, [])), seed_key=p.seed_key,
            ))
        return out

    def get(self, partner_id: int) -> PartnerDetail:
        access.require(self.actor, P.PARTNER_READ)
        with self._read() as session:
            return self._detail(session, self._load(session, partner_id))

    def _load(self, session: Session, partner_id: int) -> Partner:
        partner = session.get(Partner, partner_id)
        if partner is None:
            raise NotFoundError(
                "Cette structure partenaire n'existe plus (elle a peut-être été supprimée). "
                "Actualisez la liste.")
        return partner

    def _detail(self, session: Session, p: Partner) -> PartnerDetail:
        days = int(read_setting(session, CONVENTION_EXPIRY_DAYS))
        today = self.today
        agencies = {a.id: a.name for a in session.scalars(select(Agency))}
        contacts = tuple(
            ContactData(c.id, c.name, c.function, c.phone, c.email, c.notes)
            for c in session.scalars(select(PartnerContact).where(PartnerContact.partner_id == p.id)
                                     .order_by(PartnerContact.position, PartnerContact.id)))
        conventions = tuple(
            self._convention_data(c, agencies, today, days)
            for c in session.scalars(select(Convention).where(Convention.partner_id == p.id)
                                     .order_by(Convention.start_date.desc(), Convention.id)))
        flats = tuple(
            self._flat_data(f, agencies)
            for f in session.scalars(select(SubletFlat).where(SubletFlat.partner_id == p.id)
                                     .order_by(SubletFlat.commune, SubletFlat.id)))
        counts = tuple(
            self._count_data(c, agencies, p.name)
            for c in session.scalars(select(SubletCount).where(SubletCount.partner_id == p.id)
                                     .order_by(SubletCount.table_code, SubletCount.id)))
        referrals = self._referrals(session, p.id)
        merged_name = None
        if p.merged_into_id:
            target = session.get(Partner, p.merged_into_id)
            merged_name = target.name if target else None
        absorbed = tuple(session.scalars(select(Partner.name).where(Partner.merged_into_id == p.id)
                                         .order_by(Partner.name)))
        communes = tuple(session.scalars(select(PartnerCommune.commune)
                                         .where(PartnerCommune.partner_id == p.id)
                                         .order_by(PartnerCommune.commune)))
        return PartnerDetail(
            id=p.id, version=p.version, seed_key=p.seed_key, name=p.name,
            short_name=p.short_name, category=p.category,
            category_label=rules.category_label(p.category), address=p.address,
            commune=p.commune, phone=p.phone, email=p.email, notes=p.notes, active=p.active,
            merged_into_id=p.merged_into_id, merged_into_name=merged_name,
            agency_ids=tuple(sorted(a.id for a in p.agencies)),
            agencies=tuple(sorted(a.name for a in p.agencies)),
            communes=communes, contacts=contacts, conventions=conventions, flats=flats,
            counts=counts, referrals=referrals,
            stats=rules.referral_stats([(r.status, r.result) for r in referrals]),
            absorbed=absorbed,
        )

    @staticmethod
    def _convention_data(c: Convention, agencies, today, days) -> ConventionData:
        state = rules.convention_state(c.start_date, c.end_date, today, days)
        return ConventionData(
            id=c.id, kind=c.kind, kind_label=rules.CONVENTION_KINDS.get(c.kind, c.kind),
            agency=agencies.get(c.agency_id) if c.agency_id else None,
            start_date=c.start_date, end_date=c.end_date, flat_count=c.flat_count,
            document_ref=c.document_ref, notes=c.notes, state=state,
            state_label=rules.CONVENTION_STATE_LABELS[state])

    @staticmethod
    def _flat_data(f: SubletFlat, agencies) -> FlatData:
        return FlatData(
            id=f.id, address=f.address, commune=f.commune,
            agency=agencies.get(f.agency_id) if f.agency_id else None, agency_id=f.agency_id,
            kind=f.kind, kind_label=rules.SUBLET_KINDS.get(f.kind, f.kind),
            start_date=f.start_date, transferable=f.transferable,
            transfer_date=f.transfer_date, notes=f.notes)

    @staticmethod
    def _count_data(c: SubletCount, agencies, partner_name) -> CountData:
        return CountData(
            id=c.id, table_code=c.table_code,
            table_label=rules.COUNT_TABLES.get(c.table_code, c.table_code), label=c.label,
            partner_id=c.partner_id, partner_name=partner_name, commune=c.commune,
            agency=agencies.get(c.agency_id) if c.agency_id else None, kind=c.kind,
            transferable=c.transferable, flat_count=c.flat_count, as_of=c.as_of)

    def _referrals(self, session: Session, partner_id: int) -> tuple[ReferralData, ...]:
        from sqlalchemy import case as sql_case

        from cus_desk.store.models.cases import Case

        # A case reference next to a partner (a shelter, a psychiatric
        # service) says something about that household: shown only to those
        # who may see the case (services.access, the one rule).
        visible = access.visible_cases(self.actor, access.attendance_window(session, self.clock))
        rows = session.execute(
            select(Referral, sql_case((visible, Case.reference), else_=None))
            .outerjoin(Case, Case.id == Referral.case_id)
            .where(Referral.partner_id == partner_id)
            .order_by(Referral.sent_on.desc(), Referral.id.desc()))
        out = []
        for r, reference in rows:
            out.append(ReferralData(
                id=r.id, kind=r.kind, kind_label=rules.REFERRAL_KIND_LABELS.get(r.kind, r.kind),
                sent_on=r.sent_on, case_reference=reference, status=r.status,
                status_label=rules.REFERRAL_STATUS_LABELS.get(r.status, r.status),
                result=r.result,
                result_label=rules.REFERRAL_RESULT_LABELS.get(r.result or "", r.result or ""),
                positive=rules.is_positive(r.status, r.result)))
        return tuple(out)

    def counts(self, table_code: str | None = None) -> list[CountData]:
        """The CUS figures kept as counts (one table or all)."""
        access.require(self.actor, P.PARTNER_READ)
        with self._read() as session:
            agencies = {a.id: a.name for a in session.scalars(select(Agency))}
            names = dict(session.execute(select(Partner.id, Partner.name)).all())
            stmt = select(SubletCount).order_by(SubletCount.table_code, SubletCount.id)
            if table_code:
                stmt = stmt.where(SubletCount.table_code == table_code)
            return [self._count_data(c, agencies, names.get(c.partner_id))
                    for c in session.scalars(stmt)]

    # --- per-agency view ------------------------------------------------------

    def agency_view(self, agency_id: int | None = None) -> AgencyView:
        """Partners of one agency by category, and its intermédiation
        tables (flats per structure and per commune). ``None``: every
        agency, with the CUS 2020 tables as they are."""
        access.require(self.actor, P.PARTNER_READ)
        with self._read() as session:
            return self._agency_view(session, agency_id)

    def _agency_view(self, session: Session, agency_id: int | None) -> AgencyView:
        agencies = {a.id: a for a in session.scalars(select(Agency))}
        if agency_id is not None and agency_id not in agencies:
            raise NotFoundError("Cette agence n'existe pas. Choisissez une agence dans la liste.")
        label = agencies[agency_id].label if agency_id is not None else "Toutes les agences"
        rows = self._rows(session, agency_id=agency_id, category=None, include_inactive=False)
        by_cat: dict[str, list[PartnerRow]] = defaultdict(list)
        for r in rows:
            by_cat[r.category].append(r)
        order = list(PARTNER_CATEGORIES)
        grouped = tuple(
            (rules.category_label(cat), tuple(sorted(by_cat[cat], key=lambda r: rules.fold(r.name))))
            for cat in sorted(by_cat, key=lambda c: order.index(c) if c in order else len(order)))

        names = dict(session.execute(select(Partner.id, Partner.name)).all())
        flat_stmt = select(SubletFlat).where(SubletFlat.transfer_date.is_(None))
        if agency_id is not None:
            flat_stmt = flat_stmt.where(SubletFlat.agency_id == agency_id)
        flats = list(session.scalars(flat_stmt))
        tables: list[IntermediationTable] = []
        if flats:
            tables.append(IntermediationTable(
                "Logements loués aux associations – par structure (fiches logement en cours)",
                "Structure",
                rules.tally([(names.get(f.partner_id, "?"), 1) for f in flats]), counted=True, source="live"))
            tables.append(IntermediationTable(
                "Logements loués aux associations – par commune (fiches logement en cours)",
                "Commune", rules.tally([(f.commune, 1) for f in flats]), source="live"))
        ids = [r.id for r in rows]
        cross_agency: list[IntermediationTable] = []
        if agency_id is not None and ids:
            # The CUS 2020 figures of Logiest are per structure, all agencies
            # together: shown for this agency's structures, labelled as such.
            logiest = list(session.scalars(
                select(SubletCount).where(SubletCount.table_code == "logiest_2020_structures",
                                          SubletCount.partner_id.in_(ids))
                .order_by(SubletCount.id)))
            if logiest:
                cross_agency.append(IntermediationTable(
                    "Logiest – sous-locations 2020 des structures partenaires de l'agence",
                    "Structure", tuple(rules.TableRow(c.label, c.flat_count) for c in logiest),
                    note="Chiffres de la CUS au 31/12/2020 pour chaque structure, toutes "
                         "agences confondues (la CUS ne les répartit pas par agence)."))
        count_stmt = select(SubletCount).order_by(SubletCount.id)
        if agency_id is not None:
            count_stmt = count_stmt.where(SubletCount.agency_id == agency_id)
        by_table: dict[str, list[SubletCount]] = defaultdict(list)
        for c in session.scalars(count_stmt):
            by_table[c.table_code].append(c)
        for code, title in rules.COUNT_TABLES.items():
            items = by_table.get(code)
            if not items:
                continue
            key_label = "Commune" if all(c.commune for c in items) else "Structure"
            as_of = items[0].as_of
            note = f"Chiffres de la CUS au {as_of:%d/%m/%Y}" if as_of else "Chiffres de la CUS"
            tables.append(IntermediationTable(
                title, key_label,
                tuple(rules.TableRow(c.label, c.flat_count) for c in items), note=note,
                value_label=("Nombre de transferts" if code == "slh_2020_transferts_realises"
                             else "Nombre de logements"),
                counted=code in ("logiest_2020_structures", "slh_2020_sans_transfert",
                                 "slh_2020_avec_transfert"), as_of=as_of))

        tables.extend(cross_agency)  # after the agency's own figures
        days = int(read_setting(session, CONVENTION_EXPIRY_DAYS))
        expiring = []
        expired = []
        if ids:
            conventions = session.scalars(select(Convention).where(Convention.partner_id.in_(ids))
                                          .order_by(Convention.end_date)).all()
            for c in conventions:
                data = self._convention_data(c, {a.id: a.name for a in agencies.values()},
                                             self.today, days)
                if data.expiring:
                    expiring.append((names.get(c.partner_id, "?"), data))
                elif data.state == rules.ConventionState.EXPIRED and not any(
                        o.id != c.id and o.partner_id == c.partner_id and o.kind == c.kind
                        and o.agency_id == c.agency_id and o.start_date > c.start_date for o in conventions):
                    expired.append((names.get(c.partner_id, "?"), data))  # not renewed
        return AgencyView(agency_id=agency_id, agency_label=label, today=self.today,
                          partners_by_category=grouped, tables=tuple(tables),
                          expiring=tuple(expiring), expired=tuple(expired))

    # --- writes: the structure --------------------------------------------------

    def create(self, data: PartnerInput) -> PartnerDetail:
        access.require(self.actor, P.PARTNER_EDIT)
        values = _clean_partner(data)
        communes = rules.split_communes("\n".join(data.communes))
        with self._write() as session:
            self._refuse_duplicate(session, values["name"], None)
            partner = Partner(**values, active=True)
            partner.agencies = self._agencies(session, data.agency_ids)
            session.add(partner)
            session.flush()
            for c in communes:
                session.add(PartnerCommune(partner_id=partner.id, commune=c))
            session.flush()
            audit.record(session, self.actor, audit.Action.CREATE, ENTITY, partner.id,
                         details={"name": partner.name, "category": partner.category,
                                  "communes": communes})
            return self._detail(session, partner)

    def update(self, partner_id: int, data: PartnerInput, expected_version: int) -> PartnerDetail:
        access.require(self.actor, P.PARTNER_EDIT)
        values = _clean_partner(data)
        communes = rules.split_communes("\n".join(data.communes))
        with self._write() as session:
            partner = self._editable(session, partner_id, expected_version)
            self._refuse_duplicate(session, values["name"], partner.id)
            before = _partner_fields(partner)
            before_communes = sorted(session.scalars(select(PartnerCommune.commune)
                                                     .where(PartnerCommune.partner_id == partner.id)))
            new_agencies = self._agencies(session, data.agency_ids)
            for key, value in values.items():
                setattr(partner, key, value)
            partner.agencies = new_agencies
            _touch(partner, self.clock.now())
            session.flush()  # one UPDATE, one version step
            session.execute(delete(PartnerCommune).where(PartnerCommune.partner_id == partner.id))
            for c in communes:
                session.add(PartnerCommune(partner_id=partner.id, commune=c))
            session.flush()
            changes = audit.diff_fields(before, _partner_fields(partner))
            if before_communes != sorted(communes):
                changes["communes"] = [before_communes, sorted(communes)]
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, partner.id,
                         details=changes)
            return self._detail(session, partner)

    def set_active(self, partner_id: int, active: bool, expected_version: int) -> PartnerDetail:
        """Deactivate (hidden from pickers, kept in history) or reactivate."""
        access.require(self.actor, P.PARTNER_EDIT)
        with self._write() as session:
            partner = self._load(session, partner_id)
            check_version(expected_version, partner.version)
            if partner.merged_into_id and active:
                raise WorkflowError(
                    "Cette fiche a été fusionnée dans une autre : elle ne peut pas être réactivée. "
                    "Travaillez sur la fiche qui l'a absorbée.")
            if partner.active != active:
                partner.active = active
                session.flush()
                audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, partner.id,
                             details={"active": [not active, active]})
            return self._detail(session, partner)

    def delete(self, partner_id: int, expected_version: int) -> None:
        """Only an entry typed by mistake: never one with referrals, flats
        or CUS figures, nor one drawn from the CUS (deactivate those)."""
        access.require(self.actor, P.PARTNER_EDIT)
        with self._write() as session:
            partner = self._load(session, partner_id)
            check_version(expected_version, partner.version)
            refs = session.scalar(select(func.count()).select_from(Referral)
                                  .where(Referral.partner_id == partner.id))
            if refs:
                raise WorkflowError(
                    f"« {partner.name} » a reçu {refs} orientation(s) ou signalement(s) : "
                    "elle ne peut pas être supprimée, l'historique doit rester. "
                    "Désactivez-la plutôt (elle ne sera plus proposée).")
            if partner.seed_key:
                raise WorkflowError(
                    f"« {partner.name} » vient de la CUS : elle ne peut pas être supprimée. "
                    "Désactivez-la si elle ne travaille plus avec vous.")
            held = (session.scalar(select(func.count()).select_from(SubletFlat)
                                   .where(SubletFlat.partner_id == partner.id))
                    + session.scalar(select(func.count()).select_from(SubletCount)
                                     .where(SubletCount.partner_id == partner.id)))
            absorbed = session.scalar(select(func.count()).select_from(Partner)
                                      .where(Partner.merged_into_id == partner.id))
            if held or absorbed:
                raise WorkflowError(
                    f"« {partner.name} » a des logements ou des fiches fusionnées rattachés : "
                    "elle ne peut pas être supprimée. Désactivez-la plutôt.")
            name = partner.name
            session.delete(partner)
            try:
                session.flush()
            except IntegrityError as exc:
                raise WorkflowError(
                    f"« {name} » est encore utilisée ailleurs dans l'application : "
                    "elle ne peut pas être supprimée. Désactivez-la plutôt.") from exc
            audit.record(session, self.actor, audit.Action.DELETE, ENTITY, partner_id,
                         details={"name": name})

    def merge(self, survivor_id: int, absorbed_id: int, survivor_version: int,
              absorbed_version: int) -> PartnerDetail:
        """Two entries for the same structure: everything of ``absorbed``
        (referrals, contacts, conventions, flats, counts, agencies,
        communes) moves to ``survivor``; ``absorbed`` is deactivated and
        points at the survivor. One transaction, audited."""
        access.require(self.actor, P.PARTNER_EDIT)
        if survivor_id == absorbed_id:
            raise ValidationError("Choisissez deux fiches différentes à fusionner.", "merge")
        with self._write() as session:
            survivor = self._editable(session, survivor_id, survivor_version)
            absorbed = self._editable(session, absorbed_id, absorbed_version)
            moved = {}
            for model, label in ((Referral, "referrals"), (PartnerContact, "contacts"),
                                 (Convention, "conventions"), (SubletFlat, "flats"),
                                 (SubletCount, "counts")):
                result = session.execute(
                    update(model).where(model.partner_id == absorbed.id)
                    .values(partner_id=survivor.id)
                    .execution_options(synchronize_session=False))
                moved[label] = result.rowcount
            # Entries merged earlier into the absorbed one now point at the survivor.
            session.execute(update(Partner).where(Partner.merged_into_id == absorbed.id)
                            .values(merged_into_id=survivor.id)
                            .execution_options(synchronize_session=False))
            have = {rules.fold(c) for c in session.scalars(
                select(PartnerCommune.commune).where(PartnerCommune.partner_id == survivor.id))}
            for pc in list(session.scalars(select(PartnerCommune)
                                           .where(PartnerCommune.partner_id == absorbed.id))):
                if rules.fold(pc.commune) in have:
                    session.delete(pc)
                else:
                    pc.partner_id = survivor.id
                    have.add(rules.fold(pc.commune))
            for agency in absorbed.agencies:
                if agency not in survivor.agencies:
                    survivor.agencies.append(agency)
            for attr in ("short_name", "address", "commune", "phone", "email"):
                if not getattr(survivor, attr) and getattr(absorbed, attr):
                    setattr(survivor, attr, getattr(absorbed, attr))
            if absorbed.notes:
                survivor.notes = "\n".join(
                    x for x in (survivor.notes, f"[Fusion de « {absorbed.name} »] {absorbed.notes}") if x)
            absorbed.active = False
            absorbed.merged_into_id = survivor.id
            _touch(survivor, self.clock.now())
            session.flush()
            session.expire_all()
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, survivor.id,
                         details={"merge": {"absorbed_id": absorbed.id,
                                            "absorbed_name": absorbed.name, "moved": moved}})
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, absorbed.id,
                         details={"merged_into": survivor.id, "active": [True, False]})
            return self._detail(session, session.get(Partner, survivor.id))

    def _editable(self, session: Session, partner_id: int, expected_version: int) -> Partner:
        partner = self._load(session, partner_id)
        check_version(expected_version, partner.version)
        if partner.merged_into_id:
            target = session.get(Partner, partner.merged_into_id)
            raise WorkflowError(
                f"« {partner.name} » a été fusionnée dans « {target.name if target else '?'} » : "
                "modifiez plutôt cette dernière.")
        return partner

    def _agencies(self, session: Session, ids) -> list[Agency]:
        out = []
        for aid in dict.fromkeys(ids or []):
            agency = session.get(Agency, aid)
            if agency is None:
                raise ValidationError("Une des agences choisies n'existe pas : actualisez la fiche.",
                                      "agencies")
            out.append(agency)
        return out

    def _refuse_duplicate(self, session: Session, name: str, own_id: int | None) -> None:
        key = rules.fold(name)
        for pid, other in session.execute(select(Partner.id, Partner.name)
                                          .where(Partner.merged_into_id.is_(None))):
            if pid != own_id and rules.fold(other) == key:
                raise ValidationError(
                    f"Une structure s'appelle déjà « {other} ». Ouvrez sa fiche plutôt que d'en "
                    "créer une seconde (ou fusionnez les deux fiches).", "name")

    # --- writes: contacts, conventions, flats --------------------------------------

    def _child_write(self, partner_id, expected_version, fn, action, entity, details_fn):
        access.require(self.actor, P.PARTNER_EDIT)
        with self._write() as session:
            partner = self._editable(session, partner_id, expected_version)
            child_id, details = fn(session, partner)
            _touch(partner, self.clock.now())
            session.flush()
            audit.record(session, self.actor, action, entity, child_id,
                         details={"partner_id": partner.id, **details_fn(details)})
            return self._detail(session, partner)

    def _child(self, session, model, child_id, partner: Partner):
        obj = session.get(model, child_id)
        if obj is None or obj.partner_id != partner.id:
            raise NotFoundError("Cet élément n'existe plus sur la fiche : actualisez-la.")
        return obj

    def add_contact(self, partner_id: int, data: ContactInput, expected_version: int) -> PartnerDetail:
        values = _clean_contact(data)

        def fn(session, partner):
            position = session.scalar(select(func.coalesce(func.max(PartnerContact.position), -1))
                                      .where(PartnerContact.partner_id == partner.id)) + 1
            contact = PartnerContact(partner_id=partner.id, position=position, **values)
            session.add(contact)
            session.flush()
            return contact.id, values
        return self._child_write(partner_id, expected_version, fn, audit.Action.CREATE,
                                 "partner_contact", lambda v: {"name": v["name"]})

    def update_contact(self, partner_id: int, contact_id: int, data: ContactInput,
                       expected_version: int) -> PartnerDetail:
        values = _clean_contact(data)

        def fn(session, partner):
            contact = self._child(session, PartnerContact, contact_id, partner)
            before = _row_fields(contact, values)
            for k, v in values.items():
                setattr(contact, k, v)
            return contact.id, audit.diff_fields(before, values)
        return self._child_write(partner_id, expected_version, fn, audit.Action.UPDATE,
                                 "partner_contact", lambda d: d)

    def remove_contact(self, partner_id: int, contact_id: int, expected_version: int) -> PartnerDetail:
        def fn(session, partner):
            contact = self._child(session, PartnerContact, contact_id, partner)
            name = contact.name
            session.delete(contact)
            return contact_id, {"name": name}
        return self._child_write(partner_id, expected_version, fn, audit.Action.DELETE,
                                 "partner_contact", lambda d: d)

    def _add_agency_child(self, partner_id: int, model, entity: str, values: dict,
                          expected_version: int) -> PartnerDetail:
        """Add a convention or a flat (rows that name an agency) to a partner."""
        def fn(session, partner):
            if values["agency_id"] is not None:
                self._agencies(session, [values["agency_id"]])
            row = model(partner_id=partner.id, **values)
            session.add(row)
            session.flush()
            return row.id, values
        return self._child_write(partner_id, expected_version, fn, audit.Action.CREATE, entity,
                                 lambda v: {k: str(x) if x is not None else None
                                            for k, x in v.items() if k != "notes"})

    def _update_agency_child(self, partner_id: int, model, child_id: int, entity: str,
                             values: dict, expected_version: int) -> PartnerDetail:
        def fn(session, partner):
            row = self._child(session, model, child_id, partner)
            if values["agency_id"] is not None:
                self._agencies(session, [values["agency_id"]])
            before = _row_fields(row, values)
            for k, v in values.items():
                setattr(row, k, v)
            return row.id, audit.diff_fields(before, values)
        return self._child_write(partner_id, expected_version, fn, audit.Action.UPDATE, entity,
                                 lambda d: d)

    def add_convention(self, partner_id: int, data: ConventionInput,
                       expected_version: int) -> PartnerDetail:
        return self._add_agency_child(partner_id, Convention, "partner_convention",
                                      _clean_convention(data), expected_version)

    def update_convention(self, partner_id: int, convention_id: int, data: ConventionInput,
                          expected_version: int) -> PartnerDetail:
        return self._update_agency_child(partner_id, Convention, convention_id, "partner_convention",
                                         _clean_convention(data), expected_version)

    def remove_convention(self, partner_id: int, convention_id: int,
                          expected_version: int) -> PartnerDetail:
        def fn(session, partner):
            conv = self._child(session, Convention, convention_id, partner)
            details = {"kind": conv.kind, "start_date": str(conv.start_date)}
            session.delete(conv)
            return convention_id, details
        return self._child_write(partner_id, expected_version, fn, audit.Action.DELETE,
                                 "partner_convention", lambda d: d)

    def add_flat(self, partner_id: int, data: FlatInput, expected_version: int) -> PartnerDetail:
        return self._add_agency_child(partner_id, SubletFlat, "sublet_flat", _clean_flat(data),
                                      expected_version)

    def update_flat(self, partner_id: int, flat_id: int, data: FlatInput,
                    expected_version: int) -> PartnerDetail:
        return self._update_agency_child(partner_id, SubletFlat, flat_id, "sublet_flat",
                                         _clean_flat(data), expected_version)

    def remove_flat(self, partner_id: int, flat_id: int, expected_version: int) -> PartnerDetail:
        def fn(session, partner):
            flat = self._child(session, SubletFlat, flat_id, partner)
            details = {"commune": flat.commune, "kind": flat.kind}
            session.delete(flat)
            return flat_id, details
        return self._child_write(partner_id, expected_version, fn, audit.Action.DELETE,
                                 "sublet_flat", lambda d: d)

    # --- exports ---------------------------------------------------------------

    def export_xlsx(self, path: str | Path, agency_id: int | None = None) -> Path:
        """The directory (or one agency's part of it) as a workbook:
        structures, contacts, conventions, flats and the intermédiation
        tables. Audited."""
        access.require(self.actor, P.PARTNER_READ)
        path = Path(path)
        if path.suffix.lower() != ".xlsx":
            raise ValidationError(
                f"Le fichier « {path.name} » doit porter l'extension .xlsx (classeur Excel).",
                "path")
        if not path.parent.is_dir():
            raise ValidationError(
                f"Le dossier « {path.parent} » n'existe pas : choisissez un autre emplacement.",
                "path")
        with self._read() as session:
            view = self._agency_view(session, agency_id)
            rows = [r for _, group in view.partners_by_category for r in group]
            details = [self._detail(session, session.get(Partner, r.id)) for r in rows]
        from cus_desk.reports.partners import write_directory_xlsx

        try:
            write_directory_xlsx(path, view, details)
        except OSError as exc:
            raise ValidationError(
                f"Impossible d'écrire « {path} » ({exc.strerror or exc}). Le fichier est "
                "peut-être ouvert dans Excel : fermez-le ou choisissez un autre nom.",
                "path") from exc
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.EXPORT, ENTITY, None,
                         details={"format": "xlsx", "file": path.name,
                                  "agency": view.agency_label, "partners": len(rows)})
        return path

    def print_agency(self, path: str | Path, agency_id: int | None = None) -> Path:
        """The per-agency PDF (partners by category, intermédiation tables).
        Audited as a print."""
        access.require(self.actor, P.PARTNER_READ)
        path = Path(path)
        if not path.parent.is_dir():
            raise ValidationError(
                f"Le dossier « {path.parent} » n'existe pas : choisissez un autre emplacement.",
                "path")
        with self._read() as session:
            view = self._agency_view(session, agency_id)
            organisation = str(read_setting(session, ORGANISATION_NAME))
        from cus_desk.reports.partners import build_agency_pdf

        try:
            build_agency_pdf(path, view, organisation=organisation, generated_at=self.clock.now())
        except OSError as exc:
            raise ValidationError(
                f"Impossible d'écrire « {path} » ({exc.strerror or exc}). Le fichier est "
                "peut-être ouvert : fermez-le ou choisissez un autre nom.", "path") from exc
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.PRINT, ENTITY, None,
                         details={"document": "partenaires_agence", "agency": view.agency_label,
                                  "file": path.name})
        return path
