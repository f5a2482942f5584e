"""Reference data from the CUS (resources/reference.json), seeded on first
creation and re-applied idempotently at every open."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.paths import resources_dir
from cus_desk.store.models.core import Agency, Partner, ReferenceCode, Setting

_FINGERPRINT_KEY = "reference_fingerprint"


@lru_cache(maxsize=1)
def load_reference() -> dict:
    with (resources_dir() / "reference.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def reference_fingerprint() -> str:
    """Changes whenever a reference data file changes (the core one and the
    features' *_seed.json files)."""
    digest = hashlib.sha256()
    folder = resources_dir()
    for path in sorted([folder / "reference.json", *folder.glob("*_seed.json")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def seed_reference_data(db) -> None:
    """Seed unless this exact reference data was already applied (start-up
    then costs one query)."""
    fingerprint = reference_fingerprint()
    with db.read_session() as session:
        stored = session.get(Setting, _FINGERPRINT_KEY)
        if stored is not None and json.loads(stored.value_json) == fingerprint:
            return
    with db.write_session() as session:
        apply_reference_data(session)
        session.merge(Setting(key=_FINGERPRINT_KEY, value_json=json.dumps(fingerprint)))


def apply_reference_data(session: Session) -> None:
    ref = load_reference()
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    for spec in ref["agencies"]:
        agency = agencies.get(spec["code"])
        if agency is None:
            agency = Agency(code=spec["code"])
            session.add(agency)
            agencies[spec["code"]] = agency
        agency.name, agency.label = spec["name"], spec["label"]
        agency.department, agency.town = spec["department"], spec["town"]
    session.flush()

    known = {p.seed_key: p for p in session.scalars(select(Partner).where(Partner.seed_key.is_not(None)))}
    for spec in ref["partners"]:
        if spec["key"] in known:
            continue  # the users may have edited it since: never overwrite
        partner = Partner(
            seed_key=spec["key"],
            name=spec["name"],
            short_name=spec["short_name"],
            category=spec["category"],
            active=True,
        )
        partner.agencies = [agencies[code] for code in spec["agencies"]]
        session.add(partner)

    codes = {(r.domain, r.code): r for r in session.scalars(select(ReferenceCode))}
    for domain, items in ref["reference_codes"].items():
        for order, (code, label) in enumerate(items):
            row = codes.get((domain, code))
            if row is None:
                session.add(ReferenceCode(domain=domain, code=code, label=label, sort_order=order))
            else:
                row.label, row.sort_order = label, order

    # Features hook their own reference data here (partners directory...).
    from cus_desk.store import seed_hooks

    for hook in seed_hooks.HOOKS:
        hook(session)
