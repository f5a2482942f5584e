"""Case files (dossiers CAS) and their parts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from cus_desk.domain.cases import fold_sql_steps
from cus_desk.store.models.base import Base, Timestamps, Versioned
from cus_desk.store.models.core import Agency, Household, User


class Case(Versioned, Timestamps, Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        # Sort keys of the case list (ORDER BY ... LIMIT walks the index).
        Index("ix_cases_opened_on_id", "opened_on", "id"),
        Index("ix_cases_last_activity_on_id", "last_activity_on", "id"),
        Index("ix_cases_arrears_cents_id", "arrears_cents", "id"),
        Index("ix_cases_holder_name_id", "holder_name", "id"),
        Index("ix_cases_contract_number_id", "contract_number", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # CAS-2026-0042
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    # The lease the rental situation is about (a household may move).
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"), index=True)
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
    # domain.cases.RECOMMENDATIONS code, set on entering "préconisation".
    recommendation: Mapped[str | None] = mapped_column(String(32))
    # Demande de résiliation judiciaire du bail (only under a CAS decision).
    judicial_requested_on: Mapped[date | None] = mapped_column(Date)
    # Denormalised for the fast list (sort/search), maintained by the SQL
    # triggers of migration 0002_cases whenever tenants, leases or the case
    # change; never written by the application.
    holder_name: Mapped[str | None] = mapped_column(String(255))
    contract_number: Mapped[str | None] = mapped_column(String(40))
    commune: Mapped[str | None] = mapped_column(String(120))
    # Folded search text (reference, contracts, members' names), indexed by
    # the FTS5 table case_search.
    search_doc: Mapped[str | None] = mapped_column(Text)

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
    # The household member the note is about (right of access: each person's
    # export holds the notes about them, never another member's).
    subject_tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True)


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
    # The household member the entry is about (None: the household as a whole).
    subject_tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True)


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


class CaseSequence(Base):
    """Last case number given per year: references are never reused, even
    when the last case of a year is purged."""

    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------
# The fast list: an FTS5 trigram index (virtual table ``case_search``, rowid =
# case id, one folded text per case: reference, contract numbers, names of
# every member of the household) and the denormalised list columns of
# ``cases`` (holder_name, contract_number, commune). Both are maintained by
# SQL triggers, so that every writer (this feature, the arrears import, the
# demo, a script) keeps them right. SQLite only; other backends fall back to
# LIKE queries.

CASE_SEARCH_TABLE = "case_search"


def is_case_search_table(name: str) -> bool:
    """For schema comparisons: FTS5 tables are not ORM models."""
    return name == CASE_SEARCH_TABLE or name.startswith(CASE_SEARCH_TABLE + "_")


def _doc_expr(c: str) -> str:
    return (
        f"{c}.reference"
        f" || ' ' || coalesce((SELECT group_concat(l.contract_number, ' ') FROM leases l"
        f" WHERE l.household_id = {c}.household_id OR l.id = {c}.lease_id), '')"
        f" || ' ' || coalesce((SELECT group_concat(t.last_name || ' ' || t.first_name, ' ')"
        f" FROM tenants t WHERE t.household_id = {c}.household_id), '')"
    )


def _refresh_sql(where: str) -> str:
    """Statements (for a trigger body) refreshing the list columns and the
    search text of the cases selected by ``where`` (on alias-free ``cases``)."""
    folds = "".join(
        f"UPDATE cases SET search_doc = {step} WHERE {where};\n"
        for step in fold_sql_steps("search_doc")
    )
    return f"""
    UPDATE cases SET
      holder_name = (SELECT t.last_name || CASE WHEN t.first_name <> '' THEN ' ' || t.first_name ELSE '' END
                     FROM tenants t WHERE t.household_id = cases.household_id
                     ORDER BY t.position, t.id LIMIT 1),
      contract_number = coalesce(
          (SELECT l.contract_number FROM leases l WHERE l.id = cases.lease_id),
          (SELECT l.contract_number FROM leases l WHERE l.household_id = cases.household_id
           ORDER BY l.start_date DESC, l.id DESC LIMIT 1)),
      commune = coalesce(
          (SELECT l.commune FROM leases l WHERE l.id = cases.lease_id),
          (SELECT l.commune FROM leases l WHERE l.household_id = cases.household_id
           ORDER BY l.start_date DESC, l.id DESC LIMIT 1)),
      search_doc = {_doc_expr("cases")}
    WHERE {where};
    {folds}
    DELETE FROM case_search WHERE rowid IN (SELECT id FROM cases WHERE {where});
    INSERT INTO case_search(rowid, doc) SELECT id, search_doc FROM cases WHERE {where};
    """


def _when_cases(where: str) -> str:
    # Tenants and leases are written in bulk by arrears imports, mostly for
    # households without a case file: skip the refresh for those.
    return f" WHEN EXISTS (SELECT 1 FROM cases WHERE {where}) BEGIN"


_TENANT_NEW = "household_id = NEW.household_id"
_TENANT_BOTH = "household_id IN (NEW.household_id, OLD.household_id)"
_TENANT_OLD = "household_id = OLD.household_id"
_LEASE_NEW = "household_id = NEW.household_id OR lease_id = NEW.id"
_LEASE_BOTH = "household_id IN (NEW.household_id, OLD.household_id) OR lease_id = NEW.id"
_LEASE_OLD = "household_id = OLD.household_id OR lease_id = OLD.id"

CASE_SEARCH_TRIGGERS: dict[str, str] = {
    "case_search_cases_ai": "AFTER INSERT ON cases BEGIN"
    + _refresh_sql("id = NEW.id") + "END",
    "case_search_cases_au": "AFTER UPDATE OF reference, household_id, lease_id ON cases BEGIN"
    + _refresh_sql("id = NEW.id") + "END",
    "case_search_cases_ad": "AFTER DELETE ON cases BEGIN "
    "DELETE FROM case_search WHERE rowid = OLD.id; END",
    "case_search_tenants_ai": "AFTER INSERT ON tenants" + _when_cases(_TENANT_NEW)
    + _refresh_sql(_TENANT_NEW) + "END",
    "case_search_tenants_au": "AFTER UPDATE ON tenants" + _when_cases(_TENANT_BOTH)
    + _refresh_sql(_TENANT_BOTH) + "END",
    "case_search_tenants_ad": "AFTER DELETE ON tenants" + _when_cases(_TENANT_OLD)
    + _refresh_sql(_TENANT_OLD) + "END",
    "case_search_leases_ai": "AFTER INSERT ON leases" + _when_cases(_LEASE_NEW)
    + _refresh_sql(_LEASE_NEW) + "END",
    "case_search_leases_au": "AFTER UPDATE ON leases" + _when_cases(_LEASE_BOTH)
    + _refresh_sql(_LEASE_BOTH) + "END",
    "case_search_leases_ad": "AFTER DELETE ON leases" + _when_cases(_LEASE_OLD)
    + _refresh_sql(_LEASE_OLD) + "END",
}

CASE_SEARCH_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5(doc, tokenize='trigram')"
)


def install_case_search(connection) -> bool:
    """Create the FTS table and its triggers if any is missing (a later
    migration that rebuilds ``tenants``/``leases``/``cases`` drops their
    triggers), then rebuild the index. Returns True when something was
    (re)installed. ``connection``: a SQLAlchemy Connection or Session."""
    from sqlalchemy import text

    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name != "sqlite":
        return False
    present = {
        row[0]
        for row in connection.execute(
            text("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                 "AND substr(name, 1, 11) = 'case_search'")
        )
    }
    missing = [n for n in CASE_SEARCH_TRIGGERS if n not in present]
    if CASE_SEARCH_TABLE in present and not missing:
        return False
    connection.execute(text(CASE_SEARCH_CREATE))
    for name in missing:
        connection.execute(text(f"CREATE TRIGGER IF NOT EXISTS {name} {CASE_SEARCH_TRIGGERS[name]}"))
    rebuild_case_search(connection)
    return True


def rebuild_case_search(connection) -> None:
    """Recompute the list columns and the search text of every case."""
    from sqlalchemy import text

    for stmt in _refresh_sql("1 = 1").split(";"):
        if stmt.strip():
            connection.execute(text(stmt))


def _seed_hook(session: Session) -> None:
    install_case_search(session)


from cus_desk.store import seed_hooks  # noqa: E402

if _seed_hook not in seed_hooks.HOOKS:
    seed_hooks.HOOKS.append(_seed_hook)
