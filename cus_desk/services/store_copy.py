"""Moving a pilot's store to the server: ``cus-desk db copy --to URL``.

Every table of the current store is copied, in dependency order, into an
EMPTY target whose schema is built by the migration chain; the target's id
sequences are set after the copied rows; then the row counts of every table
are compared and the audit chain is verified on the target before anything
says "terminé". A target that already holds tables is refused and nothing is
written to it. The source is only read (and the copy is audited there)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, inspect, select

from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.services import access, audit
from cus_desk.services.base import Service
from cus_desk.store.db import Database, make_engine, open_database
from cus_desk.store.models.base import Base
from cus_desk.store.models.security import AuditChainHead

log = logging.getLogger(__name__)

BATCH = 2_000


@dataclass
class CopyReport:
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def message(self) -> str:
        return (f"Copie terminée vers {self.target} : {self.total} ligne(s) dans "
                f"{len(self.rows)} table(s), comptes vérifiés, journal d'audit intact "
                f"({self.audit_events} événement(s)).")


def _refuse_non_empty(url: str, clock) -> str:
    engine = make_engine(url, clock)
    try:
        display = engine.url.render_as_string(hide_password=True)
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            has_version = "alembic_version" in inspect(conn).get_table_names()
    except Exception as exc:  # noqa: BLE001 - any connection failure is the user's to fix
        raise WorkflowError(
            f"La base cible « {url} » ne peut pas être jointe ({exc.__class__.__name__}). "
            "Vérifiez l'adresse, le serveur et vos droits.") from exc
    finally:
        engine.dispose()
    if tables or has_version:
        raise ValidationError(
            f"La base cible {display} n'est pas vide ({len(tables)} table(s)) : la copie "
            "n'écrit que dans une base neuve. Rien n'a été écrit.", "target")
    return display


def copy_store(source: Database, target_url: str, *,
               progress: Callable[[int, int], None] | None = None) -> CopyReport:
    """Copy ``source`` into the empty store at ``target_url`` (see module doc)."""
    from cus_desk.services.audit_admin import verify_chain
    from cus_desk.store import migrate

    if target_url == source.url:
        raise ValidationError("La cible est la base ouverte elle-même.", "target")
    display = _refuse_non_empty(target_url, source.clock)
    engine = make_engine(target_url, source.clock)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    target = open_database(target_url, migrate=False, seed=False, clock=source.clock)
    report = CopyReport(display)
    try:
        tables = Base.metadata.sorted_tables
        with source.read_session() as src:
            counts = {t.name: src.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
        grand_total, done = sum(counts.values()), 0
        with source.read_session() as src, target.write_session() as dst:
            conn = dst.connection()
            # The audit chain head is advanced by a trigger on each copied event:
            # it is set to the source's own row once everything is in.
            head = AuditChainHead.__table__
            for table in tables:
                if table is head:
                    continue
                rows = src.connection().execute(select(table)).mappings()
                batch: list[dict] = []
                for row in rows:
                    batch.append(dict(row))
                    if len(batch) >= BATCH:
                        conn.execute(insert(table), batch)
                        done += len(batch)
                        batch.clear()
                        if progress:
                            progress(done, grand_total)
                if batch:
                    conn.execute(insert(table), batch)
                    done += len(batch)
                    if progress:
                        progress(done, grand_total)
            conn.execute(delete(head))
            head_rows = [dict(r) for r in src.connection().execute(select(head)).mappings()]
            if head_rows:
                conn.execute(insert(head), head_rows)
            from cus_desk.store.sequences import reset_sequences

            reset_sequences(conn, tables)
        with target.read_session() as session:
            for table in tables:
                copied = session.scalar(select(func.count()).select_from(table)) or 0
                if copied != counts[table.name]:
                    raise WorkflowError(
                        f"Copie incomplète : table {table.name}, {copied} ligne(s) sur "
                        f"{counts[table.name]}. La base cible est à supprimer et à recréer.")
                report.rows[table.name] = copied
        chain = verify_chain(target)
        if not chain.ok:
            raise WorkflowError("Le journal d'audit copié ne se vérifie pas : " + chain.message)
        report.audit_events = chain.total
    finally:
        target.dispose()
    return report


class StoreCopyService(Service):
    def copy_to(self, target_url: str, progress=None) -> CopyReport:
        """Administrator only; the copy is recorded in the source's audit trail
        before it starts (the copied journal then ends with it)."""
        access.require(self.actor, access.Permission.BACKUP)
        with self._write() as session:
            audit.record(session, self.actor, audit.Action.BACKUP, "database", None,
                         details={"type": "copie vers un serveur"})
        return copy_store(self.db, target_url, progress=progress)
