"""Demonstration database: realistic, clearly fictitious, deterministic.

Every person, phone number and address here is invented (phone numbers are
in the ranges reserved for fiction). Each feature fills its part in its own
module; ``build_demo`` runs them in order in one transaction."""

from __future__ import annotations

import importlib
import json
import random
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from cus_desk.store.db import Database
from cus_desk.store.models.core import Agency, Household, Lease, Setting, User

DEMO_TODAY = date(2026, 11, 20)
DEMO_LOGIN = "cs.metz"
DEMO_PASSWORD = "demo"
DEMO_VERSION = 1
_MARK = "demo_version"

FEATURE_MODULES = (
    "cus_desk.demo.partners",
    "cus_desk.demo.cases",
    "cus_desk.demo.meetings",
    "cus_desk.demo.seniors",
)


@dataclass
class DemoContext:
    today: date = DEMO_TODAY
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        # One stream per module: a change in one part leaves the others stable.
        return random.Random(f"cus-desk-demo/{name}")


def build_demo(db: Database) -> DemoContext:
    from cus_desk.demo import core

    ctx = DemoContext()
    with db.write_session() as session:
        core.populate(session, ctx)
        session.flush()
        for name in FEATURE_MODULES:
            importlib.import_module(name).populate(session, ctx)
            session.flush()
        session.merge(Setting(key=_MARK, value_json=json.dumps(DEMO_VERSION)))
    return ctx


def is_demo_built(session: Session) -> bool:
    return session.get(Setting, _MARK) is not None


def ensure_demo(db: Database) -> None:
    with db.read_session() as session:
        if is_demo_built(session):
            return
    build_demo(db)
