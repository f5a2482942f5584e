"""Demonstration database: realistic, clearly fictitious, deterministic.

Every person, phone number and address here is invented (phone numbers are
in the ranges reserved for fiction). Each feature fills its part in its own
module; ``build_demo`` runs them in order in one transaction.

The demo lives in the present: every date is laid out relative to the day
it is built (``db.clock.today()``) — the last CAS a few weeks ago, the next
one ahead, an extract of last month-end — and is deterministic for a given
day. A demo older than ``DEMO_MAX_AGE_DAYS`` is rebuilt at launch (it never
holds real data)."""

from __future__ import annotations

import importlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from cus_desk.store.db import Database
from cus_desk.store.models.core import Agency, Household, Lease, Setting, User

DEMO_LOGIN = "cs.metz"
DEMO_PASSWORD = "demo"
DEMO_VERSION = 1
_MARK = "demo_version"
_BUILT_ON = "demo_built_on"
DEMO_MAX_AGE_DAYS = 21

FEATURE_MODULES = (
    "cus_desk.demo.partners",
    "cus_desk.demo.cases",
    "cus_desk.demo.meetings",
    "cus_desk.demo.seniors",
)


@dataclass
class DemoContext:
    today: date  # the day the demo is built for
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        # One stream per module: a change in one part leaves the others stable.
        return random.Random(f"cus-desk-demo/{name}")


def build_demo(db: Database) -> DemoContext:
    from cus_desk.demo import core

    ctx = DemoContext(today=db.clock.today())
    with db.write_session() as session:
        core.populate(session, ctx)
        session.flush()
        for name in FEATURE_MODULES:
            importlib.import_module(name).populate(session, ctx)
            session.flush()
        session.merge(Setting(key=_MARK, value_json=json.dumps(DEMO_VERSION)))
        session.merge(Setting(key=_BUILT_ON, value_json=json.dumps(ctx.today.isoformat())))
    return ctx


def is_demo_built(session: Session) -> bool:
    return session.get(Setting, _MARK) is not None


def demo_built_on(session: Session) -> date | None:
    row = session.get(Setting, _BUILT_ON)
    return date.fromisoformat(json.loads(row.value_json)) if row is not None else None


def ensure_demo(db: Database) -> None:
    """Build the demo in an empty database (nothing if it is there)."""
    with db.read_session() as session:
        if is_demo_built(session):
            return
    build_demo(db)


def is_stale(db: Database) -> bool:
    """A demo built more than ``DEMO_MAX_AGE_DAYS`` ago (or before its build
    day was recorded, or for a day still to come): its sessions and due
    dates no longer match the calendar."""
    with db.read_session() as session:
        if not is_demo_built(session):
            return False
        built = demo_built_on(session)
    today = db.clock.today()
    return built is None or not (today - timedelta(days=DEMO_MAX_AGE_DAYS) <= built <= today)


def open_demo(url: str, clock) -> tuple[Database, str | None]:
    """Open the demo database, building it the first time and rebuilding it
    when stale. Returns the database and, when it was rebuilt, a French
    sentence for the status bar."""
    from cus_desk.store.db import open_database

    db = open_database(url, clock=clock, create=True)  # the program's own file
    note = None
    if is_stale(db) and db.path is not None:
        path = db.path
        db.dispose()
        for suffix in ("", "-wal", "-shm", ".audit-head"):  # a new store: a new audit chain head
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = open_database(url, clock=clock, create=True)  # the program's own file
        note = (f"Données de démonstration recréées pour le {clock.today():%d/%m/%Y} "
                f"(elles dataient de plus de {DEMO_MAX_AGE_DAYS} jours).")
    ensure_demo(db)
    return db, note
