"""Storing an arrears extract (extrait d'impayés) of the management system.

Reading the file and parsing its rows are pure and live in
``cus_desk.importing`` (``tables``: CSV/XLSX within bounds, header row found
under title lines; ``arrears``: columns recognised, rows parsed, co-tenants
merged). This module writes: ``store_extract(session, ...)`` inside the
caller's transaction: leases, households, titulaires and co-titulaires
created or updated (matching on the contract number, leading zeros
ignored), one ``ArrearsLine`` per lease. An extract covers the agencies its
lines belong to: importing another file for the same date replaces the
lines of those agencies only (an agency-only file leaves the others).
``cancelled()`` is checked as it goes; the caller's rollback then leaves the
database as it was.

Writes go through SQLAlchemy Core ``executemany`` (25,000 lines in well
under the 3 s goal; see tests/perf/bench_import.py)."""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from typing import Any

from sqlalchemy import Date, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from cus_desk.domain.parsing import normalize_name, spreadsheet_safe
from cus_desk.importing import tables as _tables
from cus_desk.importing.arrears import (  # noqa: F401 - the importer's names, as before
    FIELD_BY_KEY,
    FIELDS,
    FieldSpec,
    HeaderAnalysis,
    MappingRequired,
    ParsedLine,
    RejectedLine,
    analyse,
    contract_key,
    date_in_preamble,
    header_score,
    header_signature,
    mapping_from_headers,
    parse_rows,
    require_columns,
)
from cus_desk.importing.limits import DEFAULT_LIMITS, Limits
from cus_desk.importing.tables import ImportCancelled, ImportRefused, RawTable  # noqa: F401
from cus_desk.store.db import session_clock
from cus_desk.store.models.base import UTCDateTime
from cus_desk.store.models.core import Agency, Household, Lease, Tenant
from cus_desk.store.models.seniors import ArrearsColumnMapping, ArrearsExtract, ArrearsLine

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


def read_table(path: Path | str, sheet: str | None = None, cancelled: Cancelled | None = None,
               limits: Limits | None = None) -> RawTable:
    """The extract as text rows, its header row found under any title lines."""
    return _tables.read_table(path, sheet, cancelled, score=header_score, limits=limits or DEFAULT_LIMITS)


def read_csv_bytes(data: bytes, name: str, limits: Limits | None = None) -> RawTable:
    return _tables.read_csv_bytes(data, name, score=header_score, limits=limits or DEFAULT_LIMITS)


def list_sheets(path: Path | str) -> list[str]:
    return _tables.list_sheets(path)


@dataclass
class ImportResult:
    extract_id: int
    extract_date: date
    source_name: str
    lines_read: int
    imported: int
    rejected: list[RejectedLine] = field(default_factory=list)
    replaced: bool = False
    leases_created: int = 0
    leases_updated: int = 0
    warnings: list[RejectedLine] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)  # the agencies this file covers
    replaced_agencies: list[str] = field(default_factory=list)  # their lines replaced
    kept_agencies: list[str] = field(default_factory=list)  # same date, other agencies: kept
    header_line: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "extract_date": self.extract_date.isoformat(),
            "lines_read": self.lines_read,
            "imported": self.imported,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
            "warnings": [{"line": r.line, "reason": r.reason} for r in self.warnings],
            "agencies": self.agencies,
            "replaced_agencies": self.replaced_agencies,
            "kept_agencies": self.kept_agencies,
        }


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector during a bulk load: the import
    allocates hundreds of thousands of small containers (none cyclic) and
    the collector would otherwise rescan them over and over (a third of the
    import time at 25,000 lines)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -------------------------------------------------------------------- storing

def _agency_key(text: str) -> str:
    norm = normalize_name(text)
    for prefix in ("agence de ", "agence d ", "agence du ", "agence "):
        if norm.startswith(prefix):
            norm = norm[len(prefix):]
            break
    return norm.replace(" ", "")


def agency_lookup(session: Session) -> dict[str, int]:
    """Lenient keys (case, accents, "Agence de ...", spaces) → agency id."""
    lookup: dict[str, int] = {}
    for agency in session.scalars(select(Agency)):
        for text in (agency.name, agency.code, agency.label, agency.town):
            if text:
                lookup.setdefault(_agency_key(text), agency.id)
    return lookup


def store_extract(session: Session, extract_date: date, lines: list[ParsedLine],
                  rejected: list[RejectedLine], *, source_name: str, lines_read: int,
                  actor_id: int | None = None, progress: Progress | None = None,
                  cancelled: Cancelled | None = None, progress_offset: int = 0,
                  progress_total: int | None = None) -> ImportResult:
    """Write one extract inside the caller's transaction (see module doc)."""
    total = progress_total or (progress_offset + len(lines))

    def checkpoint(done: int) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled()
        if progress is not None:
            progress(progress_offset + done, total)

    checkpoint(0)
    rejected = list(rejected)
    now = session_clock(session).now()

    agencies = agency_lookup(session)
    agency_ids: dict[str, int | None] = {}
    lt, ht, tt = Lease.__table__, Household.__table__, Tenant.__table__
    # Plain tuples (index constants below): 25,000 leases are compared per import.
    L_ID, L_HOUSEHOLD, L_AGENCY, L_COMMUNE, L_ADDRESS, L_START, L_RENT, L_VERSION = 0, 2, 3, 4, 5, 6, 7, 8
    lease_rows, iso = _fetch(session, select(
        lt.c.id, lt.c.contract_number, lt.c.household_id, lt.c.agency_id, lt.c.commune,
        lt.c.address, lt.c.start_date, lt.c.monthly_rent_cents, lt.c.version))
    existing = {row[1]: row for row in lease_rows}
    # Leading zeros ignored ("452009" from an XLSX number is "00452009"); an
    # exact match wins when two stored contracts differ only by them.
    by_key: dict[str, tuple] = {}
    for row in lease_rows:
        by_key.setdefault(contract_key(row[1]), row)

    def stored(value: date | None):
        """A parsed date as the raw rows hold it (ISO text on SQLite)."""
        return value.isoformat() if iso and value is not None else value

    def loaded(value):
        return date.fromisoformat(value) if iso and isinstance(value, str) else value

    H_ID, H_LAST, H_FIRST, H_BIRTH = 0, 2, 3, 4
    holders: dict[int, tuple] = {}
    holder_rank: dict[int, tuple[int, int]] = {}
    tenant_rows, _ = _fetch(session, select(
        tt.c.id, tt.c.household_id, tt.c.last_name, tt.c.first_name, tt.c.birth_date, tt.c.position)
        .where(tt.c.relationship_kind == "titulaire"))
    cotenants: dict[int, tuple] = {}
    for row in _fetch(session, select(
            tt.c.id, tt.c.household_id, tt.c.last_name, tt.c.first_name, tt.c.birth_date, tt.c.position)
            .where(tt.c.relationship_kind == "cotitulaire").order_by(tt.c.position, tt.c.id))[0]:
        cotenants.setdefault(row[1], row)
    for row in tenant_rows:
        rank = (row[5] or 0, row[0])  # the first titulaire of a household (lowest position, then id)
        if row[1] not in holder_rank or rank < holder_rank[row[1]]:
            holder_rank[row[1]] = rank
            holders[row[1]] = row
    phones = {row[0]: row for row in _fetch(session, select(ht.c.id, ht.c.phone, ht.c.version))[0]}

    new_lines: list[ParsedLine] = []
    new_agencies: list[int] = []
    # The agencies this file covers: those of its lines (a known lease's as the
    # file says it now, else as stored).
    covered_ids: set[int] = set()
    lease_updates: list[dict] = []
    tenant_updates: list[dict] = []
    tenant_inserts: list[dict] = []
    cotenant_inserts: list[list] = []
    phone_updates: list[dict] = []
    orphan_leases: list[tuple[ParsedLine, int, int]] = []  # existing lease without household
    lease_ids: dict[str, int] = {}
    kept: list[ParsedLine] = []

    for index, line in enumerate(lines, start=1):
        if index % 2000 == 0:
            checkpoint(index // 2)
        agency_id = None
        if line.agency is not None:
            agency_id = agency_ids.get(line.agency, -1)
            if agency_id == -1:
                agency_id = agency_ids[line.agency] = agencies.get(_agency_key(line.agency))
            if agency_id is None:
                rejected.append(RejectedLine(line.line, f"agence « {line.agency} » inconnue"))
                continue
        row = existing.get(line.contract) or by_key.get(contract_key(line.contract))
        if row is not None:
            line.contract = row[1]  # the contract as stored
        if row is None:
            if agency_id is None:
                rejected.append(RejectedLine(line.line, "agence absente (bail inconnu de CUS Desk)" + _why(line)))
                continue
            if line.last_name is None:
                rejected.append(RejectedLine(line.line, "nom du locataire absent (bail inconnu de CUS Desk)" + _why(line)))
                continue
            new_lines.append(line)
            new_agencies.append(agency_id)
            kept.append(line)
            continue
        lease_ids[line.contract] = row[L_ID]
        covered_ids.add(agency_id if agency_id is not None else row[L_AGENCY])
        kept.append(line)
        if ((agency_id is not None and agency_id != row[L_AGENCY])
                or (line.commune is not None and line.commune != row[L_COMMUNE])
                or (line.address is not None and line.address != row[L_ADDRESS])
                or (line.lease_start is not None and stored(line.lease_start) != row[L_START])
                or (line.rent_cents is not None and line.rent_cents != row[L_RENT])):
            lease_updates.append({
                "b_id": row[L_ID], "b_version": row[L_VERSION],
                "agency_id": agency_id if agency_id is not None else row[L_AGENCY],
                "commune": line.commune if line.commune is not None else row[L_COMMUNE],
                "address": line.address if line.address is not None else row[L_ADDRESS],
                "start_date": line.lease_start if line.lease_start is not None else loaded(row[L_START]),
                "monthly_rent_cents": line.rent_cents if line.rent_cents is not None else row[L_RENT],
            })
        household_id = row[L_HOUSEHOLD]
        if household_id is None:
            orphan_leases.append((line, row[L_ID], agency_id or row[L_AGENCY]))
            continue
        if line.cotenant_last_name:
            co = cotenants.get(household_id)
            if co is None:
                cotenant_inserts.append(_cotenant_row(household_id, line, now))
            elif (line.cotenant_last_name, line.cotenant_first_name or "") != (co[H_LAST], co[H_FIRST]) or (
                    line.cotenant_birth_date is not None and stored(line.cotenant_birth_date) != co[H_BIRTH]):
                tenant_updates.append({
                    "b_id": co[H_ID], "last_name": line.cotenant_last_name,
                    "first_name": line.cotenant_first_name or "",
                    "birth_date": line.cotenant_birth_date if line.cotenant_birth_date is not None
                    else loaded(co[H_BIRTH])})
        holder = holders.get(household_id)
        if holder is None:
            if line.last_name is not None:
                tenant_inserts.append(_tenant_row(household_id, line, now))
        else:
            new_last = line.last_name if line.last_name is not None else holder[H_LAST]
            new_first = line.first_name if line.first_name is not None else holder[H_FIRST]
            birth_changed = line.birth_date is not None and stored(line.birth_date) != holder[H_BIRTH]
            if birth_changed or new_last != holder[H_LAST] or new_first != holder[H_FIRST]:
                tenant_updates.append({
                    "b_id": holder[H_ID], "last_name": new_last, "first_name": new_first,
                    "birth_date": line.birth_date if line.birth_date is not None else loaded(holder[H_BIRTH])})
        if line.phone is not None:
            household = phones.get(household_id)
            if household is not None and household[1] != line.phone:
                phone_updates.append({"b_id": household[0], "b_version": household[2],
                                      "phone": line.phone})

    if not kept:
        raise no_valid_line(source_name, rejected)
    checkpoint(len(lines) // 2)
    # New households (one per new lease, plus existing leases that had none).
    household_rows = [
        [agency_id, line.phone, 1, now, now]
        for line, agency_id in zip(new_lines, new_agencies, strict=True)
    ] + [[agency_id, line.phone, 1, now, now] for line, _lease_id, agency_id in orphan_leases]
    household_ids = _bulk_insert(session, ht, _HOUSEHOLD_COLUMNS, household_rows, return_ids=True)
    new_household_ids = household_ids[:len(new_lines)]
    orphan_household_ids = household_ids[len(new_lines):]

    if new_lines:
        lease_rows = [
            [line.contract, hid, agency_id, line.commune or "", line.address, line.lease_start, None,
             "bail_classique", line.rent_cents, 1, now, now]
            for line, hid, agency_id in zip(new_lines, new_household_ids, new_agencies, strict=True)
        ]
        ids = _bulk_insert(session, lt, _LEASE_COLUMNS, lease_rows, return_ids=True)
        for line, lease_id in zip(new_lines, ids, strict=True):
            lease_ids[line.contract] = lease_id
        tenant_inserts.extend(_tenant_row(hid, line, now) for line, hid in zip(new_lines, new_household_ids, strict=True))
        cotenant_inserts.extend(_cotenant_row(hid, line, now)
                                for line, hid in zip(new_lines, new_household_ids, strict=True)
                                if line.cotenant_last_name)
    for (line, orphan_id, _agency), hid in zip(orphan_leases, orphan_household_ids, strict=True):
        session.execute(update(lt).where(lt.c.id == orphan_id).values(household_id=hid, version=lt.c.version + 1))
        if line.last_name is not None:
            tenant_inserts.append(_tenant_row(hid, line, now))
        if line.cotenant_last_name:
            cotenant_inserts.append(_cotenant_row(hid, line, now))
    checkpoint(len(lines) * 3 // 4)

    if lease_updates:
        session.execute(
            update(lt).where(lt.c.id == bindparam("b_id")).where(lt.c.version == bindparam("b_version"))
            .values(agency_id=bindparam("agency_id"), commune=bindparam("commune"),
                    address=bindparam("address"), start_date=bindparam("start_date"),
                    monthly_rent_cents=bindparam("monthly_rent_cents"),
                    version=lt.c.version + 1, updated_at=now),
            lease_updates,
        )
    if tenant_updates:
        session.execute(
            update(tt).where(tt.c.id == bindparam("b_id")).values(
                last_name=bindparam("last_name"), first_name=bindparam("first_name"),
                birth_date=bindparam("birth_date"), updated_at=now),
            tenant_updates,
        )
    if phone_updates:
        session.execute(
            update(ht).where(ht.c.id == bindparam("b_id")).where(ht.c.version == bindparam("b_version"))
            .values(phone=bindparam("phone"), version=ht.c.version + 1, updated_at=now),
            phone_updates,
        )
    _bulk_insert(session, tt, _TENANT_COLUMNS, tenant_inserts + cotenant_inserts)

    rejected.sort(key=lambda r: r.line)
    warnings = [RejectedLine(line.line, text) for line in kept for text in (line.warnings or ())]
    covered_ids.update(new_agencies)
    names = {row[0]: row[1] for row in session.execute(select(Agency.id, Agency.name))}
    report = [{"line": r.line, "reason": r.reason} for r in rejected] + [
        {"line": w.line, "reason": w.reason, "warning": True} for w in warnings]
    replaced, replaced_agencies, kept_agencies = False, [], []
    old = session.execute(select(ArrearsExtract.id, ArrearsExtract.source_name, ArrearsExtract.lines_read,
                                 ArrearsExtract.rejected_json)
                          .where(ArrearsExtract.extract_date == extract_date)).first()
    extract_id = None
    if old is not None:
        replaced = True
        old_agencies = _agencies_of_extract(session, old[0])
        replaced_agencies = sorted(names[a] for a in old_agencies & covered_ids)
        kept_ids = old_agencies - covered_ids
        kept_agencies = sorted(names[a] for a in kept_ids)
        if not kept_ids:
            session.execute(delete(ArrearsLine).where(ArrearsLine.extract_id == old[0]))
            session.execute(delete(ArrearsExtract).where(ArrearsExtract.id == old[0]))
        else:
            # An agency-only file: the other agencies' lines of that date stay.
            extract_id = old[0]
            stale = select(lt.c.id).where(lt.c.agency_id.in_(covered_ids))
            session.execute(delete(ArrearsLine).where(ArrearsLine.extract_id == extract_id,
                                                      ArrearsLine.lease_id.in_(stale)))
            ids = list(lease_ids.values())  # a lease of this file listed under another agency before
            for start in range(0, len(ids), 900):  # bound parameters per statement
                session.execute(delete(ArrearsLine).where(ArrearsLine.extract_id == extract_id,
                                                          ArrearsLine.lease_id.in_(ids[start:start + 900])))
            kept_report = [item for item in json.loads(old[3] or "[]") if item.get("source") != source_name]
            for item in kept_report:
                item.setdefault("source", old[1])
            for item in report:
                item["source"] = source_name
            session.execute(update(ArrearsExtract.__table__).where(ArrearsExtract.id == extract_id).values(
                source_name=_joined_sources(old[1], source_name), imported_at=now, imported_by_id=actor_id,
                lines_read=lines_read + (old[2] or 0),
                rejected_json=json.dumps(kept_report + report, ensure_ascii=False)))
    if extract_id is None:
        extract_id = session.scalar(
            insert(ArrearsExtract.__table__).returning(ArrearsExtract.__table__.c.id),
            {"extract_date": extract_date, "source_name": source_name[:255], "imported_at": now,
             "imported_by_id": actor_id, "lines_read": lines_read, "lines_imported": len(kept),
             "rejected_json": json.dumps(report, ensure_ascii=False)},
        )
    _bulk_insert(session, ArrearsLine.__table__, _LINE_COLUMNS, [
        [extract_id, lease_ids[line.contract], line.balance_cents, line.months_unpaid,
         line.last_payment, line.rent_cents, line.birth_date, line.cotenant_birth_date]
        for line in kept
    ])
    if kept_agencies:
        session.execute(update(ArrearsExtract.__table__).where(ArrearsExtract.id == extract_id).values(
            lines_imported=select(func.count(ArrearsLine.id)).where(ArrearsLine.extract_id == extract_id)
            .scalar_subquery()))
    checkpoint(len(lines))
    session.expire_all()
    return ImportResult(
        extract_id=extract_id, extract_date=extract_date, source_name=source_name,
        lines_read=lines_read, imported=len(kept), rejected=rejected, replaced=replaced,
        leases_created=len(new_lines), leases_updated=len(lease_updates), warnings=warnings,
        agencies=sorted(names[a] for a in covered_ids), replaced_agencies=replaced_agencies,
        kept_agencies=kept_agencies,
    )


def _agencies_of_extract(session: Session, extract_id: int) -> set[int]:
    return set(session.scalars(
        select(Lease.agency_id).distinct().join(ArrearsLine, ArrearsLine.lease_id == Lease.id)
        .where(ArrearsLine.extract_id == extract_id)))


def extract_agencies(session: Session, extract_date: date) -> list[str] | None:
    """Names of the agencies an imported extract of that date covers (None:
    no extract of that date)."""
    extract_id = session.scalar(select(ArrearsExtract.id).where(ArrearsExtract.extract_date == extract_date))
    if extract_id is None:
        return None
    ids = _agencies_of_extract(session, extract_id)
    return sorted(session.scalars(select(Agency.name).where(Agency.id.in_(ids))))


def file_agencies(session: Session, values: list[str]) -> list[str]:
    """The stored agencies an agency column's values name (unknown ones left out)."""
    lookup = agency_lookup(session)
    ids = {lookup.get(_agency_key(v)) for v in values if v}
    ids.discard(None)
    return sorted(session.scalars(select(Agency.name).where(Agency.id.in_(ids))))


def _joined_sources(old: str, new: str) -> str:
    parts = [p for p in (old or "").split(" + ") if p and p != new] + [new]
    return " + ".join(parts)[-255:]


def _fetch(session: Session, stmt) -> tuple[list, bool]:
    """Rows of a plain SELECT as tuples, and whether dates come back as ISO
    text. On SQLite the driver's tuples are read directly (no per-value
    result processing: 25,000 leases are compared on every import)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return [tuple(row) for row in session.execute(stmt)], False
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        return cursor.execute(sql).fetchall(), True
    finally:
        cursor.close()


def no_valid_line(source_name: str, rejected: list[RejectedLine]) -> ImportRefused:
    """Every line rejected: importing would only replace an extract by an
    empty one, so the file is refused as a whole."""
    if not rejected:
        return ImportRefused(f"Le fichier « {source_name} » ne contient aucune ligne de données "
                             "sous les en-têtes : il n'y a rien à importer.")
    first = "; ".join(f"ligne {r.line} : {r.reason}" for r in sorted(rejected, key=lambda r: r.line)[:3])
    return ImportRefused(
        f"Aucune ligne du fichier « {source_name} » n'a pu être lue ({len(rejected)} rejetée(s) ; "
        f"par exemple {first}). Vérifiez qu'il s'agit bien de l'extrait d'impayés et de ses "
        "colonnes, puis recommencez. Rien n'a été importé.")


def _sqlite_datetime(value):
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_date(value):
    return None if value is None else value.isoformat()


_HOUSEHOLD_COLUMNS = ("agency_id", "phone", "version", "created_at", "updated_at")
_LEASE_COLUMNS = ("contract_number", "household_id", "agency_id", "commune", "address", "start_date",
                  "end_date", "kind", "monthly_rent_cents", "version", "created_at", "updated_at")
_TENANT_COLUMNS = ("household_id", "position", "last_name", "first_name", "birth_date",
                   "relationship_kind", "created_at", "updated_at")
_LINE_COLUMNS = ("extract_id", "lease_id", "balance_cents", "months_unpaid", "last_payment_on",
                 "monthly_rent_cents", "holder_birth_date", "cotenant_birth_date")


def _bulk_insert(session: Session, table, columns: tuple[str, ...], rows: list[list],
                 return_ids: bool = False) -> list[int]:
    """Insert many rows (lists of values in ``columns`` order) in one
    ``executemany``; with ``return_ids``, the new primary keys in row order.

    On SQLite the rows go straight to the driver (SQLAlchemy's per-row type
    processing costs more than the insert itself at 25,000 rows), with ids
    taken after the current maximum: safe because write transactions hold
    the write lock from their BEGIN IMMEDIATE. Values are stored exactly as
    SQLAlchemy would store them (ISO dates, naive UTC timestamps). Other
    databases use the portable INSERT ... RETURNING path."""
    if not rows:
        return []
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        dicts = [dict(zip(columns, row, strict=True)) for row in rows]
        if return_ids:
            return list(session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), dicts))
        session.execute(insert(table), dicts)
        return []
    converters = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            converters.append((index, _sqlite_datetime))
        elif isinstance(column_type, Date):
            converters.append((index, _sqlite_date))
    if converters:
        cache: dict = {}
        for row in rows:
            for index, fn in converters:
                raw = row[index]
                if raw is not None:
                    hit = cache.get(raw)
                    if hit is None:
                        hit = cache[raw] = fn(raw)
                    row[index] = hit
    ids: list[int] = []
    names = list(columns)
    if return_ids:
        start = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(start, start + len(rows)))
        names = ["id", *names]
        values = [(i, *row) for i, row in zip(ids, rows, strict=True)]
    else:
        values = [tuple(row) for row in rows]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, values)
    return ids


def _why(line: ParsedLine) -> str:
    """A rejected line's warnings (the name was unreadable...), after its reason."""
    return "".join(f" ; {text}" for text in line.warnings or ())


def _tenant_row(household_id: int, line: ParsedLine, now) -> list:
    return [household_id, 0, line.last_name or "", line.first_name or "", line.birth_date,
            "titulaire", now, now]


def _cotenant_row(household_id: int, line: ParsedLine, now) -> list:
    return [household_id, 1, line.cotenant_last_name or "", line.cotenant_first_name or "",
            line.cotenant_birth_date, "cotitulaire", now, now]


def remembered_mapping(session: Session, signature: str) -> dict[str, str] | None:
    row = session.scalar(select(ArrearsColumnMapping).where(ArrearsColumnMapping.signature == signature))
    return json.loads(row.mapping_json) if row else None


def remember_mapping(session: Session, headers: list[str], mapping: dict[str, int],
                     actor_id: int | None) -> None:
    signature = header_signature(headers)
    value = json.dumps({k: headers[i] for k, i in mapping.items()}, ensure_ascii=False, sort_keys=True)
    row = session.scalar(select(ArrearsColumnMapping).where(ArrearsColumnMapping.signature == signature))
    if row is None:
        session.add(ArrearsColumnMapping(signature=signature, mapping_json=value, created_by_id=actor_id))
    else:
        row.mapping_json = value
        row.created_by_id = actor_id
        row.created_at = session_clock(session).now()
    session.flush()


def rejected_to_csv(rejected: list[RejectedLine], path: Path | str) -> None:
    """The rejected-lines report, readable by Excel (UTF-8 with BOM, ``;``)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Ligne", "Motif du rejet"])
        for item in rejected:
            # The reasons quote cells of the file: never let a spreadsheet run them.
            writer.writerow([item.line, spreadsheet_safe(item.reason)])
