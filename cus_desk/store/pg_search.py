"""The case search on PostgreSQL: the same meaning as SQLite's FTS5 trigram
index (substring, case- and accent-insensitive), kept by the database.

- ``cus_fold(text)``: an IMMUTABLE SQL function applying exactly the folding
  table the SQLite triggers and the query side use (domain.cases.FOLD_PAIRS),
  so both stores store the same ``cases.search_doc`` text;
- trigger functions on ``cases``, ``tenants`` and ``leases`` keep the
  denormalised list columns (holder_name, contract_number, commune) and the
  folded ``search_doc`` up to date, for every writer (the app, an import, a
  script), as the SQLite triggers do;
- a ``pg_trgm`` GIN index on ``cases.search_doc``: ``ILIKE '%word%'`` walks
  it (words of 3 characters and more; shorter ones are filtered on the rows
  found).

Installed by migration 0007_postgresql (``install``); idempotent (CREATE OR
REPLACE), so a later migration that changes the folding calls it again and
then ``rebuild``.
"""

from __future__ import annotations

from cus_desk.domain.cases import FOLD_PAIRS

SEARCH_INDEX = "ix_cases_search_doc_trgm"
FOLD_FUNCTION = "cus_fold"

# The list sorts NULLs as SQLite does (first ascending, last descending:
# store.dialect.nulls_as_smallest); PostgreSQL's default b-tree order puts
# them last ascending, so the model's sort indexes cannot serve those
# ORDER BY ... LIMIT. These can, in both directions (forward and backward).
SORT_INDEXES = {
    f"ix_cases_{column}_id_nf": column
    for column in ("opened_on", "last_activity_on", "arrears_cents", "holder_name",
                   "contract_number")
}

TRIGGERS = {  # name -> (table, timing/events, function)
    "case_search_cases_ai": ("cases", "AFTER INSERT", "cus_case_search_cases"),
    "case_search_cases_au": ("cases", "AFTER UPDATE OF reference, household_id, lease_id",
                             "cus_case_search_cases"),
    "case_search_tenants": ("tenants", "AFTER INSERT OR UPDATE OR DELETE",
                            "cus_case_search_tenants"),
    "case_search_leases": ("leases", "AFTER INSERT OR UPDATE OR DELETE",
                           "cus_case_search_leases"),
}


def is_search_index(name: str | None) -> bool:
    """For schema comparisons: the trigram and NULLS FIRST sort indexes of
    PostgreSQL are not declared by a model."""
    return name == SEARCH_INDEX or name in SORT_INDEXES


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fold_function_sql() -> str:
    singles = [(a, b) for a, b in FOLD_PAIRS if len(a) == 1 and len(b) == 1]
    multi = [(a, b) for a, b in FOLD_PAIRS if not (len(a) == 1 and len(b) == 1)]
    expr = (f"translate(t, {_lit(''.join(a for a, _ in singles))}, "
            f"{_lit(''.join(b for _, b in singles))})")
    for a, b in multi:
        expr = f"replace({expr}, {_lit(a)}, {_lit(b)})"
    return (
        f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(t text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {expr} $$"
    )


def _refresh(where: str) -> str:
    """One UPDATE recomputing the list columns and the search text of the
    cases selected by ``where`` (same expressions as the SQLite triggers,
    string_agg for group_concat)."""
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
      search_doc = {FOLD_FUNCTION}(cases.reference
          || ' ' || coalesce((SELECT string_agg(l.contract_number, ' ') FROM leases l
                              WHERE l.household_id = cases.household_id OR l.id = cases.lease_id), '')
          || ' ' || coalesce((SELECT string_agg(t.last_name || ' ' || t.first_name, ' ')
                              FROM tenants t WHERE t.household_id = cases.household_id), ''))
    WHERE {where}"""


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n  RETURN NULL;\nEND $$"
    )


def trigger_functions_sql() -> list[str]:
    cases = _function("cus_case_search_cases", _refresh("id = NEW.id") + ";")
    # Tenants and leases are written in bulk by arrears imports, mostly for
    # households without a case file: the UPDATE finds no row (index on
    # cases.household_id / lease_id) and costs next to nothing.
    tenants = _function("cus_case_search_tenants", f"""
  IF TG_OP = 'INSERT' THEN
    {_refresh("household_id = NEW.household_id")};
  ELSIF TG_OP = 'UPDATE' THEN
    {_refresh("household_id IN (NEW.household_id, OLD.household_id)")};
  ELSE
    {_refresh("household_id = OLD.household_id")};
  END IF;""")
    leases = _function("cus_case_search_leases", f"""
  IF TG_OP = 'INSERT' THEN
    {_refresh("household_id = NEW.household_id OR lease_id = NEW.id")};
  ELSIF TG_OP = 'UPDATE' THEN
    {_refresh("household_id IN (NEW.household_id, OLD.household_id) OR lease_id = NEW.id")};
  ELSE
    {_refresh("household_id = OLD.household_id OR lease_id = OLD.id")};
  END IF;""")
    return [cases, tenants, leases]


def install(connection) -> None:
    """Create (or replace) the folding function, the trigger functions, the
    triggers and the trigram index, then rebuild every case's columns.
    ``connection``: a SQLAlchemy Connection (Alembic's ``op.get_bind()``)."""
    from sqlalchemy import text

    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    connection.execute(text(fold_function_sql()))
    for stmt in trigger_functions_sql():
        connection.execute(text(stmt))
    for name, (table, events, function) in TRIGGERS.items():
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        connection.execute(text(
            f"CREATE TRIGGER {name} {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        ))
    connection.execute(text(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON cases USING gin (search_doc gin_trgm_ops)"
    ))
    for name, column in SORT_INDEXES.items():
        connection.execute(text(
            f"CREATE INDEX IF NOT EXISTS {name} ON cases ({column} NULLS FIRST, id)"))
    rebuild(connection)


def rebuild(connection) -> None:
    from sqlalchemy import text

    connection.execute(text(_refresh("true")))


def uninstall(connection) -> None:
    from sqlalchemy import text

    connection.execute(text(f"DROP INDEX IF EXISTS {SEARCH_INDEX}"))
    for name in SORT_INDEXES:
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
    for name, (table, _events, _function) in TRIGGERS.items():
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
    for function in ("cus_case_search_cases", "cus_case_search_tenants", "cus_case_search_leases"):
        connection.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
    connection.execute(text(f"DROP FUNCTION IF EXISTS {FOLD_FUNCTION}(text)"))
