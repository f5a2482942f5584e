"""CUS Desk on a PostgreSQL server: the case list at N cases (keystroke →
view painted, against the bare PostgreSQL query of the same page run in the
same process), opening a case, the first screen filled after the window
shows, and the round trips each screen costs.

    QT_QPA_PLATFORM=offscreen python tests/perf/bench_server.py [N] [--url SUPERUSER_URL]

Without --url a throw-away server is started (tests/pg_server.py). The data
are the SQLite benchmark's (tests/perf/bench_cases.py), moved to the server
with ``db copy`` — so both stores are measured on the same cases.
Goals (issue #12): keystroke → view painted median <= 50 ms and <= 3x the
bare query; opening a case <= 100 ms; first screen filled <= 1.5 s after the
window shows; no N+1 (round trips per screen printed). Asserts nothing."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


class RoundTrips:
    """Statements plus transaction begins and ends seen on an engine: on
    PostgreSQL each is one exchange with the server."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count = 0
        for name in ("before_cursor_execute", "begin", "commit", "rollback"):
            event.listen(engine, name, self._hit)

    def _hit(self, *_args, **_kw) -> None:
        self.count += 1

    def since(self, start: int) -> int:
        return self.count - start


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--url", help="superuser URL of an existing server")
    args = parser.parse_args()

    from PySide6.QtCore import Qt  # noqa: F401  (Qt before the app's imports)
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from tests import pg_server
    from tests.backends import PgCluster
    from tests.frozen_time import frozen_clock
    sys.path.insert(0, str(ROOT / "tests" / "perf"))
    import bench_cases

    app = QApplication.instance() or QApplication([])
    server = None if args.url else pg_server.start(log=lambda m: print(m, flush=True))
    cluster = PgCluster(args.url or server.url)
    try:
        # --- the same cases as the SQLite benchmark, moved to the server ----------
        bench_cases.N = args.n
        folder = Path(tempfile.mkdtemp(prefix="bench_server_"))
        pilot = folder / "bench.sqlite3"
        bench_cases.build(pilot)
        from cus_desk.services.store_copy import copy_store
        from cus_desk.store.db import open_database, sqlite_url

        clock = frozen_clock()
        source = open_database(sqlite_url(pilot), clock=clock)
        url = cluster.create(cluster.unique_name("bench"))
        t = time.perf_counter()
        report = copy_store(source, url)
        source.dispose()
        print(f"db copy to the server: {report.total:,} rows in {time.perf_counter() - t:.1f} s")

        from sqlalchemy import text

        from cus_desk.domain.roles import Role
        from cus_desk.services.base import Actor
        from cus_desk.services.cases import CaseService
        from cus_desk.ui.context import AppContext

        t_open = time.perf_counter()
        db = open_database(url, clock=clock)
        trips = RoundTrips(db.engine)
        with db.read_session() as session:
            session.execute(text("ANALYZE"))
            head_id = session.execute(text("SELECT id FROM users WHERE login = 'pole.social'")).scalar_one()
        actor = Actor(head_id, "pole.social", "Paule Bench", Role.SOCIAL_HEAD, None)
        ctx = AppContext(db=db, actor=actor)

        # --- first screen filled after the window shows ------------------------------
        from cus_desk.ui.main_window import MainWindow

        window = MainWindow()
        window.resize(1366, 768)
        window.show()
        app.processEvents()
        shown = time.perf_counter()
        start = trips.count
        window.attach(ctx)
        app.processEvents()
        filled = time.perf_counter() - shown
        print(f"\nfirst screen ({window.current_key()}) filled {ms(filled)} after the window shows "
              f"({trips.since(start)} round trips; database opened in {ms(shown - t_open)} before) "
              "[goal <= 1.5 s]")

        # --- round trips per screen ----------------------------------------------------
        from cus_desk.ui import screens as registry

        print("\nround trips to show each screen (fresh screen object, data loaded):")
        import importlib

        for spec in registry.SCREENS:
            key = spec.key
            start = trips.count
            t = time.perf_counter()
            screen = getattr(importlib.import_module(spec.module), spec.class_name)(ctx)
            screen.resize(1366, 700)
            screen.show()
            if hasattr(screen, "on_shown"):
                screen.on_shown()
            app.processEvents()
            print(f"  {key:<12} {trips.since(start):>3} round trips  {ms(time.perf_counter() - t):>9}")
            screen.close()
            screen.deleteLater()
        app.processEvents()

        # --- the case list: keystroke → view painted vs the bare query ---------------
        from cus_desk.ui.cases.screen import CasesScreen

        screen = CasesScreen(ctx)
        screen.resize(1400, 800)
        screen.show()
        app.processEvents()
        service = CaseService(db, actor)
        raw = db.engine.raw_connection()

        def floor(flt, sort, desc) -> float:
            with db.read_session() as session:
                sql, params = service.list_sql(session, flt, sort, desc, 0, 201)
            sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql.replace("%", "%%"))
            cur = raw.cursor()
            t = time.perf_counter()
            cur.execute(sql, params)
            cur.fetchall()
            elapsed = time.perf_counter() - t
            raw.commit()
            return elapsed

        words = ["martin", "helene", "57-0123", "CAS-2024-0", "nguyen", "zz"]
        model_t, view_t, floor_t, list_trips = [], [], [], []
        for word in words:
            screen.search.clear()
            app.processEvents()
            for n in range(1, len(word) + 1):
                start = trips.count
                t = time.perf_counter()
                QTest.keyClick(screen.search, word[n - 1])
                t_model = time.perf_counter() - t
                app.processEvents()
                elapsed = time.perf_counter() - t
                list_trips.append(trips.since(start))
                f = min(floor(screen.model.filter, screen.model.sort_key, screen.model.descending)
                        for _ in range(3))
                model_t.append(t_model)
                view_t.append(elapsed)
                floor_t.append(f)
        med_m, med_v, med_f = (statistics.median(x) for x in (model_t, view_t, floor_t))
        p90 = sorted(view_t)[int(len(view_t) * 0.9)]
        print(f"\ncase list at {args.n:,} cases on PostgreSQL ({len(view_t)} keystrokes):")
        print(f"  keystroke → model ready: median {ms(med_m)}; ratio to the bare query {med_m / med_f:.2f}")
        print(f"  keystroke → view painted: median {ms(med_v)} (p90 {ms(p90)}); ratio {med_v / med_f:.2f}"
              "  [goal: <= 50 ms, <= 3x]")
        print(f"  bare PostgreSQL query (same SQL, psycopg, 201 rows): median {ms(med_f)}")
        print(f"  round trips per keystroke: median {statistics.median(list_trips):.0f}, "
              f"max {max(list_trips)}")

        # --- opening a case ---------------------------------------------------------
        from cus_desk.ui.cases.case_dialog import CaseDialog

        with db.read_session() as session:
            ids = [r[0] for r in session.execute(text("SELECT id FROM cases ORDER BY id LIMIT 20 OFFSET 500"))]
        opening, open_trips = [], []
        for case_id in ids:
            start = trips.count
            t = time.perf_counter()
            dialog = CaseDialog(ctx, case_id)
            dialog.show()
            app.processEvents()
            opening.append(time.perf_counter() - t)
            open_trips.append(trips.since(start))
            dialog.close()
            dialog.deleteLater()
            app.processEvents()
        print(f"\nopening a case (audited read + window shown): median {ms(statistics.median(opening))}, "
              f"max {ms(max(opening))}; round trips median {statistics.median(open_trips):.0f}  "
              "[goal <= 100 ms]")
        raw.close()
        db.dispose()
    finally:
        cluster.drop_own_databases()
        cluster.dispose()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
