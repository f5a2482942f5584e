"""RGPD retention: what is kept how long, and the purge.

* a closed case, ``CASE_RETENTION_YEARS`` (2) after its last activity, is
  anonymised: its social follow-up (confidential notes, journal, repayment
  plans and any other row hanging from it), free texts (summary, closure
  reason, external numbers, proposals and decision texts, orientation
  reasons and outcomes, rectificatifs about its decisions) are deleted; the
  case is detached from its household (pointed at an empty "anonymised"
  household of its agency) so that what remains — reference, agency, dates,
  status, problem codes, decision types, amounts — is statistics about
  nobody. The members typed into the case (anyone but the titulaire and
  cotitulaire of the landlord's record) are deleted unless another case
  follows the household; its lease and the household with all its people
  go too when nothing else refers to them (an extract line kept, a
  signalement, an observation, a sublet keep the tenancy record);
* an arrears extract (``ArrearsExtract``, with its lines) is deleted
  ``EXTRACT_RETENTION_YEARS`` (3) after its extract date, with the leases,
  households and people only it referred to;
* a closed signalement (``Referral`` of kind ``senior_alert``, status
  ``clos``) is deleted ``SIGNALEMENT_RETENTION_YEARS`` (2) after closing,
  with its status history and the field observations that led to it;
* audit events older than ``AUDIT_RETENTION_DAYS`` (services.audit_admin).

What each purge removes and keeps, per kind of data, is the table
``domain.retention_policy.POLICY``; besides the rows, every copy the program
controls is reached: members typed into a purged case, and leases,
households and people that nothing refers to any more (a purged extract's
50,000 tenants) are deleted; the audit details about what was purged are
redacted (services.audit_redaction); archived relevés are regenerated
without the purged cases (services.purge_copies); after the transaction the
store's files are cleaned (store.dialect ``reclaim_after_purge``) and the
report lists the copies of the store written before the purge.

A dry run lists what would go (no names: references, agencies, dates);
the real run does it in one transaction and writes one audit event with
the counts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from cus_desk.domain import security as rules
from cus_desk.domain.errors import ValidationError
from cus_desk.domain.formatting import format_date
from cus_desk.domain.settings import (
    CASE_RETENTION_YEARS,
    EXTRACT_RETENTION_YEARS,
    SIGNALEMENT_RETENTION_YEARS,
)
from cus_desk.services import access, audit, audit_redaction, purge_copies
from cus_desk.services.audit_admin import _purge_bounds, audit_cutoff, purge_audit
from cus_desk.services.base import Service
from cus_desk.services.settings import read_setting
from cus_desk.store import dialect
from cus_desk.store.db import session_clock
from cus_desk.store.models.base import Base
from cus_desk.store.models.core import Agency, Household, Referral
from cus_desk.store.models.security import RetentionRecord

KIND_CASE = "case"
KIND_EXTRACT = "arrears_extract"
KIND_SIGNALEMENT = "signalement"
KIND_AUDIT = "audit"
PLACEHOLDER = "placeholder_household"

KIND_LABELS = {
    KIND_CASE: "Dossiers clos anonymisés",
    KIND_EXTRACT: "Extraits d'impayés supprimés",
    KIND_SIGNALEMENT: "Signalements clos supprimés",
    KIND_AUDIT: "Événements du journal d'audit purgés",
}

# Case columns holding personal or free-text data, cleared on anonymisation
# (only those the model has).
CASE_PERSONAL_FIELDS = (
    "summary", "closure_reason", "caf_number", "fsl_number", "ccapex_number",
    "external_worker_ref", "last_payment_on", "lease_id", "holder_name", "contract_number",
    "search_doc", "judicial_requested_on",
)
# Tables hanging from a case that are kept (anonymised) for statistics.
CASE_KEPT_TABLES = {"cases", "case_problems", "agenda_items", "decisions", "referrals"}
# Tables a purge deletes from or rewrites (PostgreSQL: vacuumed after it).
PURGED_TABLES = ["cases", "tenants", "households", "leases", "confidential_notes", "journal_entries",
                 "repayment_plans", "decisions", "decision_follow_ups", "agenda_items", "meeting_addenda",
                 "meeting_archives", "referrals", "arrears_lines", "arrears_extracts", "field_observations",
                 "senior_alert_events", "audit_events"]


@dataclass(frozen=True)
class PurgeItem:
    kind: str
    entity_id: int
    label: str  # never a name: reference, agency, dates
    reference_day: date | None


@dataclass
class PurgePlan:
    today: date
    items: list[PurgeItem] = field(default_factory=list)
    audit_events: int = 0

    def count(self, kind: str) -> int:
        if kind == KIND_AUDIT:
            return self.audit_events
        return sum(1 for i in self.items if i.kind == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in KIND_LABELS}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary_lines(self) -> list[str]:
        return [f"{KIND_LABELS[k]} : {n}" for k, n in self.counts.items()]


@dataclass(frozen=True)
class PurgeReport:
    counts: dict[str, int]
    skipped: list[str]  # French sentences (items that could not be purged)
    people_deleted: int = 0  # tenants deleted (typed members, extract tenants nobody else cites)
    leases_deleted: int = 0
    audit_redacted: int = 0  # audit events whose details were blanked
    archives_regenerated: int = 0  # archived relevés re-rendered without the purged cases
    notes: list[str] = field(default_factory=list)  # French: what the file cleaning could not do
    copies: list = field(default_factory=list)  # purge_copies.StoreCopy written before the purge

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary_lines(self) -> list[str]:
        """French lines: what the purge did, copies included."""
        lines = [f"{KIND_LABELS[k]} : {n}" for k, n in self.counts.items()]
        lines.append(f"Personnes supprimées (membres saisis, locataires que plus rien ne cite) : "
                     f"{self.people_deleted}")
        lines.append(f"Baux supprimés : {self.leases_deleted}")
        lines.append(f"Événements du journal d'audit expurgés : {self.audit_redacted}")
        lines.append(f"Relevés de décisions archivés régénérés : {self.archives_regenerated}")
        return lines


# --- finding what is due -------------------------------------------------------


def _due_cases(session: Session, today: date) -> list[PurgeItem]:
    from cus_desk.domain.cases import CaseStatus
    from cus_desk.store.models.cases import Case

    years = read_setting(session, CASE_RETENTION_YEARS)
    done = select(RetentionRecord.entity_id).where(RetentionRecord.entity_type == KIND_CASE)
    rows = session.execute(
        select(Case.id, Case.reference, Case.opened_on, Case.closed_on, Case.last_activity_on,
               Agency.name)
        .join(Agency, Agency.id == Case.agency_id)
        .where(Case.status == CaseStatus.CLOSED.value, Case.id.not_in(done))
        .order_by(Case.id)
    )
    items = []
    for row in rows:
        last = rules.case_last_activity(row.last_activity_on, row.closed_on, row.opened_on)
        if rules.is_due(last, years, today):
            items.append(PurgeItem(
                KIND_CASE, row.id,
                f"Dossier {row.reference} ({row.name}), clos le {format_date(row.closed_on) or '?'}, "
                f"dernière activité le {format_date(last)}", last))
    return items


def _due_extracts(session: Session, today: date) -> list[PurgeItem]:
    try:
        from cus_desk.store.models.seniors import ArrearsExtract
    except ImportError:  # pragma: no cover - seniors feature absent
        return []
    years = read_setting(session, EXTRACT_RETENTION_YEARS)
    limit = rules.years_before(today, years)
    rows = session.execute(
        select(ArrearsExtract.id, ArrearsExtract.extract_date, ArrearsExtract.lines_imported)
        .where(ArrearsExtract.extract_date <= limit).order_by(ArrearsExtract.extract_date)
    )
    return [PurgeItem(KIND_EXTRACT, r.id,
                      f"Extrait d'impayés du {format_date(r.extract_date)} ({r.lines_imported} lignes)",
                      r.extract_date) for r in rows]


def _due_signalements(session: Session, today: date) -> list[PurgeItem]:
    years = read_setting(session, SIGNALEMENT_RETENTION_YEARS)
    limit = rules.years_before(today, years)
    closed_day = func.coalesce(Referral.closed_on, Referral.status_changed_on)
    rows = session.execute(
        select(Referral.id, Referral.sent_on, closed_day.label("closed"), Agency.name)
        .outerjoin(_lease_table(), _lease_table().c.id == Referral.lease_id)
        .outerjoin(Agency, Agency.id == _lease_table().c.agency_id)
        .where(Referral.kind == "senior_alert", Referral.status == "clos",
               closed_day.is_not(None), closed_day <= limit)
        .order_by(Referral.id)
    )
    return [PurgeItem(KIND_SIGNALEMENT, r.id,
                      f"Signalement n° {r.id} ({r.name or 'agence ?'}), envoyé le "
                      f"{format_date(r.sent_on)}, clos le {format_date(r.closed)}", r.closed)
            for r in rows]


def _lease_table():
    return Base.metadata.tables["leases"]


def plan_purge(session: Session, today: date) -> PurgePlan:
    plan = PurgePlan(today)
    plan.items += _due_cases(session, today)
    plan.items += _due_extracts(session, today)
    plan.items += _due_signalements(session, today)
    plan.audit_events = _purge_bounds(session, audit_cutoff(session, session_clock(session).now()))[1]
    return plan


# --- doing it ---------------------------------------------------------------------


def _tables_referencing(table_name: str) -> list:
    """(table, fk column) pairs of every mapped table pointing at ``table_name``."""
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and fk.parent.table is table:
                found.append((table, fk.parent))
    return found


def _placeholder_household(session: Session, agency_id: int) -> int:
    ids = select(RetentionRecord.entity_id).where(RetentionRecord.entity_type == PLACEHOLDER)
    existing = session.scalar(
        select(Household.id).where(Household.id.in_(ids), Household.agency_id == agency_id))
    if existing is not None:
        return existing
    household = Household(agency_id=agency_id, phone=None, referent_id=None)
    session.add(household)
    session.flush()
    session.add(RetentionRecord(entity_type=PLACEHOLDER, entity_id=household.id, mode="placeholder"))
    return household.id


def _anonymise_case(session: Session, case_id: int) -> None:
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import AgendaItem, Decision, DecisionFollowUp

    case = session.get(Case, case_id)
    old_household, old_lease = case.household_id, case.lease_id
    # Social follow-up hanging from the case: deleted (whatever table it is in).
    for table, column in _tables_referencing("cases"):
        if table.name in CASE_KEPT_TABLES:
            continue
        session.execute(delete(table).where(column == case_id))
    decision_ids = select(Decision.id).where(Decision.case_id == case_id)
    purge_copies.blank_addenda(session, decision_ids)
    session.execute(delete(DecisionFollowUp).where(DecisionFollowUp.decision_id.in_(decision_ids)))
    session.execute(update(Decision).where(Decision.case_id == case_id)
                    .values(text="", responsible="", version=Decision.version + 1))
    session.execute(update(AgendaItem).where(AgendaItem.case_id == case_id).values(proposal=""))
    session.execute(update(Referral).where(Referral.case_id == case_id)
                    .values(reason="", outcome=None, version=Referral.version + 1))
    # Personal fields of the case, then detach it from the household.
    for name in CASE_PERSONAL_FIELDS:
        column = Case.__table__.c.get(name)
        if column is not None:
            setattr(case, name, None if column.nullable else "")
    case.household_id = _placeholder_household(session, case.agency_id)
    session.flush()
    session.add(RetentionRecord(entity_type=KIND_CASE, entity_id=case_id, mode="anonymise"))
    return _Released(cases={case_id}, households={old_household},
                     leases={old_lease} if old_lease is not None else set(), own_households={old_household})


# Members a household keeps from the landlord's tenancy record (the extract
# names them); any other member was typed into a case: social follow-up.
TENANCY_MEMBERS = ("titulaire", "cotitulaire")


@dataclass
class _Released:
    """What an item of the purge let go of: checked for deletion at the end."""

    cases: set[int] = field(default_factory=set)
    households: set[int] = field(default_factory=set)  # may go if nothing refers to them
    leases: set[int] = field(default_factory=set)
    own_households: set[int] = field(default_factory=set)  # of an anonymised case: typed members go
    objects: set[tuple[str, str]] = field(default_factory=set)  # (audit entity type, id) to redact

    def add(self, other: _Released | None) -> None:
        if other is None:
            return
        self.cases |= other.cases
        self.households |= other.households
        self.leases |= other.leases
        self.own_households |= other.own_households
        self.objects |= other.objects


# Ids a purge let go of, staged in a temporary table (a purged extract
# releases 50,000 leases: one statement per table, not one per 500 ids).
_CANDIDATES = Table("purge_candidates", MetaData(), Column("kind", String(16), primary_key=True),
                    Column("id", Integer, primary_key=True), prefixes=["TEMPORARY"])


def _stage(session: Session, kind: str, ids) -> Select:
    conn = session.connection()
    conn.execute(delete(_CANDIDATES).where(_CANDIDATES.c.kind == kind))
    rows = [(kind, i) for i in ids if i is not None]
    if rows:  # driver-level executemany: 50,000 rows in milliseconds, not seconds
        mark = dialect.of(conn).placeholder
        conn.exec_driver_sql(f"INSERT INTO purge_candidates (kind, id) VALUES ({mark}, {mark})", rows)
    return select(_CANDIDATES.c.id).where(_CANDIDATES.c.kind == kind)


def _referenced(session: Session, table_name: str, staged: Select, skip: tuple[str, ...] = ()) -> set[int]:
    """The staged ids of ``table_name`` some other row still refers to."""
    found: set[int] = set()
    for table, column in _tables_referencing(table_name):
        if table.name not in skip:
            found.update(session.scalars(select(column).where(column.in_(staged)).distinct()))
    return found


def _sweep(session: Session, released: _Released) -> tuple[int, int]:
    """Delete typed members of anonymised cases' households, then the
    leases and households nothing refers to any more, with their people.
    Returns (people deleted, leases deleted)."""
    from cus_desk.store.models.cases import Case

    tenants = Household.__table__.metadata.tables["tenants"]
    leases = _lease_table()
    households_t = Household.__table__
    _CANDIDATES.create(session.connection(), checkfirst=True)
    people = 0
    # Members typed into a purged case (conjoint, enfants...), unless another
    # (live) case of the household still follows them.
    own = _stage(session, "own", released.own_households)
    followed = set(session.scalars(select(Case.household_id).where(Case.household_id.in_(own)).distinct()))
    own = _stage(session, "own", released.own_households - followed)
    typed = set(session.scalars(select(tenants.c.id).where(
        tenants.c.household_id.in_(own), tenants.c.relationship_kind.not_in(TENANCY_MEMBERS))))
    typed -= _referenced(session, "tenants", _stage(session, "tenant", typed))
    staged = _stage(session, "tenant", typed)
    people += session.execute(delete(tenants).where(tenants.c.id.in_(staged))).rowcount or 0
    released.objects |= {("tenant", str(i)) for i in typed}
    # Leases nothing refers to (no extract line, case, signalement, observation, sublet).
    staged = _stage(session, "lease", released.leases)
    lease_ids = set(released.leases) - _referenced(session, "leases", staged) - {None}
    staged = _stage(session, "lease", lease_ids)
    households = set(released.households) | {
        h for h in session.scalars(select(leases.c.household_id).where(leases.c.id.in_(staged)))
        if h is not None}
    deleted_leases = session.execute(delete(leases).where(leases.c.id.in_(staged))).rowcount or 0
    released.objects |= {("lease", str(i)) for i in lease_ids}
    # Households nothing refers to any more: deleted with their members.
    staged = _stage(session, "household", households)
    gone = households - _referenced(session, "households", staged, skip=("tenants",))
    staged = _stage(session, "household", gone)
    people += session.execute(delete(tenants).where(tenants.c.household_id.in_(staged))).rowcount or 0
    session.execute(delete(households_t).where(households_t.c.id.in_(staged)))
    released.objects |= {("household", str(i)) for i in gone | (released.own_households - followed)}
    _CANDIDATES.drop(session.connection())
    session.expire_all()
    return people, deleted_leases


def _delete_extract(session: Session, extract_id: int) -> None:
    from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

    lease_ids = set(session.scalars(select(ArrearsLine.lease_id).where(ArrearsLine.extract_id == extract_id)))
    session.execute(delete(ArrearsLine).where(ArrearsLine.extract_id == extract_id))
    session.execute(delete(ArrearsExtract).where(ArrearsExtract.id == extract_id))
    session.add(RetentionRecord(entity_type=KIND_EXTRACT, entity_id=extract_id, mode="delete"))
    # The tenants the extract created (or named) go with it when nothing else cites them.
    return _Released(leases=lease_ids, objects={("arrears_extract", str(extract_id))})


def _delete_signalement(session: Session, referral_id: int) -> None:
    referral = session.get(Referral, referral_id)
    closed = referral.closed_on or referral.status_changed_on
    try:
        from cus_desk.store.models.seniors import FieldObservation
    except ImportError:  # pragma: no cover
        FieldObservation = None  # noqa: N806
    objects = {("senior_alert", str(referral_id)), ("referral", str(referral_id))}
    if FieldObservation is not None and referral.lease_id is not None and closed is not None:
        where = (FieldObservation.lease_id == referral.lease_id, FieldObservation.observed_on <= closed)
        objects |= {("field_observation", str(i)) for i in session.scalars(select(FieldObservation.id).where(*where))}
        session.execute(delete(FieldObservation).where(*where))
    lease_id = referral.lease_id
    for table, column in _tables_referencing("referrals"):
        session.execute(delete(table).where(column == referral_id))
    session.execute(delete(Referral).where(Referral.id == referral_id))
    session.add(RetentionRecord(entity_type=KIND_SIGNALEMENT, entity_id=referral_id, mode="delete"))
    return _Released(leases={lease_id} if lease_id is not None else set(), objects=objects)


_ACTIONS = {KIND_CASE: _anonymise_case, KIND_EXTRACT: _delete_extract,
            KIND_SIGNALEMENT: _delete_signalement}


def run_purge(session: Session, actor, today: date) -> PurgeReport:
    plan = plan_purge(session, today)
    counts = {k: 0 for k in KIND_LABELS}
    skipped: list[str] = []
    released = _Released()
    for item in plan.items:
        try:
            with session.begin_nested():
                released.add(_ACTIONS[item.kind](session, item.entity_id))
        except Exception as exc:  # noqa: BLE001 - one item must not block the others
            skipped.append(f"{item.label} : non purgé ({type(exc).__name__}).")
            continue
        counts[item.kind] += 1
    people, leases = _sweep(session, released)
    # Copies inside the store: archived relevés, then the audit details.
    meetings = purge_copies.meetings_showing(session, released.cases)
    archives = purge_copies.regenerate_archives(session, meetings, today)
    redacted = audit_redaction.redact(session, actor, today, case_ids=released.cases,
                                      objects=released.objects)
    counts[KIND_AUDIT] = purge_audit(session, actor, session_clock(session).now()).count if plan.audit_events else 0
    audit.record(session, actor, audit.Action.PURGE, "retention", None, details={
        "date": today.isoformat(), **{k: n for k, n in counts.items()},
        "non_purges": len(skipped), "personnes_supprimees": people, "baux_supprimes": leases,
        "evenements_expurges": redacted, "releves_regeneres": archives})
    return PurgeReport(counts, skipped, people, leases, redacted, len(archives))


class RetentionService(Service):
    def preview(self) -> PurgePlan:
        """Dry run: what a purge would do today."""
        access.require(self.actor, access.Permission.PURGE)
        with self._read() as session:
            return plan_purge(session, self.clock.today())

    def purge(self) -> PurgeReport:
        """The purge (one transaction), then the store's files cleaned, and
        the copies of the store written before it listed (they still hold
        what was purged: ``delete_copies`` offers to remove them)."""
        access.require(self.actor, access.Permission.PURGE)
        with self._write() as session:
            report = run_purge(session, self.actor, self.clock.today())
        removed = report.total + report.people_deleted + report.leases_deleted + report.audit_redacted
        if not removed:  # nothing left the store: the copies hold nothing it purged
            return report
        notes = dialect.of(self.db.engine).reclaim_after_purge(self.db.engine, PURGED_TABLES)
        copies = purge_copies.copies_of_store(self.db)
        return dataclasses.replace(report, notes=notes, copies=copies)

    def delete_copies(self, paths: list) -> list:
        """Delete copies of the store a purge report listed (they hold purged
        data). Returns the deleted paths; traced."""
        access.require(self.actor, access.Permission.PURGE)
        access.require(self.actor, access.Permission.BACKUP)
        known = {c.path.resolve() for c in purge_copies.copies_of_store(self.db)}
        wanted = [p for p in paths if Path(p).resolve() in known]
        if len(wanted) != len(paths):
            raise ValidationError("Seules les copies de la base listées par la purge peuvent être "
                                  "supprimées ici.", "copies")
        deleted = purge_copies.delete_copies(wanted)
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.DELETE, "backup", None,
                         details={"copies_supprimees": [Path(p).name for p in deleted],
                                  "motif": "données purgées"})
        return deleted

    def due_reminder(self) -> str | None:
        """A French sentence for the administrator when a purge is due, else None."""
        if not access.has(self.actor, access.Permission.PURGE):
            return None
        plan = self.preview()
        if plan.total == 0:
            return None
        details = ", ".join(f"{n} {KIND_LABELS[k].lower()}" for k, n in plan.counts.items() if n)
        return ("Une purge RGPD est due : " + details.replace("supprimés", "à supprimer")
                .replace("anonymisés", "à anonymiser").replace("purgés", "à purger")
                + ". Lancez-la depuis Administration › Purge des données.")
