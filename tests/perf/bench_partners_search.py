"""Search-as-you-type in the partners directory, at a size well beyond the
real one (the CUS names ~40 structures; here 2 000 with 3 contacts,
2 communes and a convention each).

Run: python tests/perf/bench_partners_search.py
Prints the time of one ``list_partners(query)`` call (what a change of
filter costs: the screen reloads the rows) and of ``search_rows`` on the
loaded rows (what each keystroke costs after the 150 ms debounce), with
their ratio to a floor measured in the same run: a bare ``SELECT`` of the
partners table (id, name) on the same file."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select, text

from cus_desk.domain.partners import search_rows
from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.services.partners import PartnerService
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.core import Partner
from cus_desk.store.models.partners import Convention, PartnerCommune, PartnerContact

N = 2000
REPEAT = 15
QUERIES = ["a", "ccas", "ecole vie", "metz", "jerome", "zzz"]


def _timed(fn) -> float:
    samples = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "bench.sqlite3"))
        actor = create_user(db, "bench", "Bench", Role.SOCIAL_HEAD, None)
        with db.write_session() as session:
            for i in range(N):
                p = Partner(name=f"Structure {i:04d} {'Jérôme' if i % 97 == 0 else 'Martin'}",
                            short_name=f"S{i}", category="insertion", active=True)
                session.add(p)
                session.flush()
                for k in range(3):
                    session.add(PartnerContact(partner_id=p.id, position=k, name=f"Contact {i}-{k}"))
                for c in ("Metz", f"Commune {i % 50}"):
                    session.add(PartnerCommune(partner_id=p.id, commune=c))
                session.add(Convention(partner_id=p.id, kind="partenariat",
                                       start_date=date(2024, 1, 1), end_date=date(2027, 1, 1)))
        svc = PartnerService(db, actor)

        def floor():
            with db.read_session() as session:
                session.execute(select(Partner.id, Partner.name)).all()

        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        base = _timed(floor)
        print(f"partners: {svc.list_partners().__len__()} rows")
        print(f"floor (SELECT id, name FROM partners): {base * 1000:.2f} ms")
        for q in QUERIES:
            t = _timed(lambda q=q: svc.list_partners(q))
            print(f"list_partners({q!r}): {t * 1000:.1f} ms  (x{t / base:.1f} floor)")
        rows = svc.list_partners()
        for q in QUERIES:
            t = _timed(lambda q=q: search_rows(rows, q))
            print(f"keystroke on loaded rows, search_rows({q!r}): {t * 1000:.1f} ms  "
                  f"(x{t / base:.1f} floor)")
        t = _timed(lambda: svc.pickable(["ccas", "cms", "clic", "pole_gerontologique"],
                                        commune="Metz"))
        print(f"pickable(senior kinds, commune='Metz'): {t * 1000:.1f} ms  (x{t / base:.1f} floor)")
        db.dispose()


if __name__ == "__main__":
    main()
