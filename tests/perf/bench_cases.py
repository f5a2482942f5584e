"""Case list at 100,000 cases: keystroke → filtered view ready, against the
floor of the bare SQLite query for the same filter, and opening a case.

Run: QT_QPA_PLATFORM=offscreen python tests/perf/bench_cases.py [N]

Goals (issue #3): median keystroke→view ready <= 50 ms and ratio <= 3 to
the bare query; opening a case <= 100 ms. Prints figures, asserts nothing."""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

SURNAMES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
            "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "MULLER", "SCHMITT",
            "WEBER", "MEYER", "KLEIN", "WAGNER", "HADDAD", "BENALI", "YILMAZ", "NGUYỄN", "DA SILVA",
            "KOWALSKI", "DIALLO", "TRAORÉ", "GÉRARD", "CHEVALIER", "FRANÇOIS", "ЮЩЕНКО"]
FIRST = ["Marie", "Hélène", "Jean", "Zoé", "Karim", "Inès", "Lucas", "Ayşe", "René", "Léa", "Olena"]
STATUSES = ["ouvert", "a_presenter", "preconisation", "action_definie", "en_suivi", "clos"]
PROBLEMS = ["impaye_loyer", "trouble_voisinage", "sante_mentale", "isolement", "incurie_hygiene"]


def build(path: Path) -> None:
    from cus_desk.store.db import open_database, sqlite_url

    open_database(sqlite_url(path)).dispose()  # migrated + seeded
    rng = random.Random(42)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    agencies = [r[0] for r in con.execute("SELECT id FROM agencies ORDER BY id")]
    partner = con.execute("SELECT id FROM partners LIMIT 1").fetchone()[0]
    now = "2026-11-28 10:00:00.000000"
    con.execute("INSERT INTO users(login, display_name, role, agency_id, active, failed_logins, "
                "must_change_password, created_at, updated_at) VALUES ('pole.social', 'Paule Bench', "
                "'responsable_pole_social', NULL, 1, 0, 0, ?, ?)", (now, now))
    head_id = con.execute("SELECT id FROM users WHERE login = 'pole.social'").fetchone()[0]
    t0 = time.perf_counter()
    con.execute("BEGIN")
    hh_rows, tenant_rows, lease_rows = [], [], []
    for i in range(1, N + 1):
        agency = agencies[i % len(agencies)]
        hh_rows.append((i, agency, 1, now, now))
        surname = rng.choice(SURNAMES)
        for pos in range(rng.choice([1, 1, 2, 3])):
            tenant_rows.append((i, pos, surname, rng.choice(FIRST), "1970-01-01",
                                "titulaire" if pos == 0 else "enfant", now, now))
        lease_rows.append((i, f"57-{i:06d}-0{rng.randint(1, 3)}", i, agency, "Metz", "bail_classique", 1, now, now))
    con.executemany("INSERT INTO households(id, agency_id, version, created_at, updated_at) VALUES (?,?,?,?,?)",
                    hh_rows)
    con.executemany("INSERT INTO tenants(household_id, position, last_name, first_name, birth_date, "
                    "relationship_kind, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", tenant_rows)
    con.executemany("INSERT INTO leases(id, contract_number, household_id, agency_id, commune, kind, version, "
                    "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", lease_rows)
    case_rows, problem_rows, referral_rows = [], [], []
    base = date(2026, 11, 28)
    for i in range(1, N + 1):
        year = 2020 + (i * 7) // N
        opened = base - timedelta(days=rng.randint(0, 2000))
        case_rows.append((i, f"CAS-{year}-{i:06d}", year, i, i, i, agencies[i % len(agencies)],
                          rng.choice(STATUSES), opened.isoformat(), "", 1, now, now,
                          rng.randint(0, 5000) * 100, opened.isoformat()))
        for code in rng.sample(PROBLEMS, rng.choice([1, 2])):
            problem_rows.append((i, code))
        if rng.random() < 0.1:
            referral_rows.append(("orientation", i, partner, (base - timedelta(days=rng.randint(0, 90))).isoformat(),
                                  "Bench", "envoyee", 1, now, now))
    con.executemany(
        "INSERT INTO cases(id, reference, year, sequence, household_id, lease_id, agency_id, status, opened_on, "
        "summary, version, created_at, updated_at, arrears_cents, last_activity_on) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", case_rows)
    con.executemany("INSERT INTO case_problems(case_id, code) VALUES (?,?)", problem_rows)
    con.executemany("INSERT INTO referrals(kind, case_id, partner_id, sent_on, reason, status, version, "
                    "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", referral_rows)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    print(f"built {N:,} cases (+ households, tenants, leases, FTS index by triggers) in "
          f"{time.perf_counter() - t0:.1f} s; head user id {head_id}")


def main() -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from cus_desk.domain.roles import Role
    from cus_desk.services.base import Actor
    from cus_desk.services.cases import CaseService
    from cus_desk.store.db import open_database, sqlite_url
    from cus_desk.ui.cases.case_dialog import CaseDialog
    from cus_desk.ui.cases.screen import CasesScreen
    from cus_desk.ui.context import AppContext

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="bench_cases_"))
    path = folder / "bench.sqlite3"
    build(path)
    db = open_database(sqlite_url(path))
    with db.read_session() as session:
        from sqlalchemy import text

        head_id = session.execute(text("SELECT id FROM users WHERE login = 'pole.social'")).scalar_one()
    actor = Actor(head_id, "pole.social", "Paule Bench", Role.SOCIAL_HEAD, None)
    ctx = AppContext(db=db, actor=actor)
    screen = CasesScreen(ctx)
    screen.resize(1400, 800)
    screen.show()
    app.processEvents()
    service = CaseService(db, actor)
    raw = sqlite3.connect(path)

    def floor(flt, sort, desc) -> float:
        """The bare query: the same SQL, parameters and page size, run with
        sqlite3 directly (no ORM, no Qt), all rows fetched."""
        with db.read_session() as session:
            sql, params = service.list_sql(session, flt, sort, desc, 0, 201)
        t = time.perf_counter()
        raw.execute(sql, params).fetchall()
        return time.perf_counter() - t

    def ms(x: float) -> str:
        return f"{x * 1000:.1f} ms"

    words = ["martin", "helene", "57-0123", "CAS-2024-0", "nguyen", "ющенко", "zz"]
    model_times, view_times, floor_times = [], [], []
    print("\nkeystroke → model ready (query + model reset) → view painted, vs bare query:")
    for word in words:
        screen.search.clear()
        app.processEvents()
        for n in range(1, len(word) + 1):
            ch = word[n - 1]
            t = time.perf_counter()
            if ch.isascii():
                QTest.keyClick(screen.search, ch)  # textChanged → SQL page → model reset
            else:
                screen.search.insert(ch)  # non-ASCII arrives as input-method text
            t_model = time.perf_counter() - t
            app.processEvents()  # layout + paint of the window
            elapsed = time.perf_counter() - t
            flt = screen.model.filter
            f = min(floor(flt, screen.model.sort_key, screen.model.descending) for _ in range(3))
            model_times.append(t_model)
            view_times.append(elapsed)
            floor_times.append(f)
            print(f"  {word[:n]!r:<16} rows={screen.model.rowCount():>4}  model {ms(t_model):>8}  "
                  f"painted {ms(elapsed):>8}  floor {ms(f):>7}  ratio {t_model / f if f else float('nan'):5.1f}"
                  f" / {elapsed / f if f else float('nan'):5.1f}")
    med_m, med_v, med_f = (statistics.median(x) for x in (model_times, view_times, floor_times))
    p90 = sorted(view_times)[int(len(view_times) * 0.9)]
    print(f"\nkeystroke → model ready: median {ms(med_m)}; ratio to bare query {med_m / med_f:.2f}")
    print(f"keystroke → view painted: median {ms(med_v)} (p90 {ms(p90)}, max {ms(max(view_times))}); "
          f"ratio to bare query {med_v / med_f:.2f}")
    print(f"bare query (same SQL, sqlite3, LIMIT 201) median {ms(med_f)}  "
          "[goal: median <= 50 ms, ratio <= 3]")
    # Paint floor: the same visible texts in a plain QStandardItemModel and a
    # bare QTableView of the same size (what any model costs to paint here).
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    screen.search.setText("martin")
    app.processEvents()
    plain = QStandardItemModel(screen.model.rowCount(), screen.model.columnCount())
    for r in range(screen.model.rowCount()):
        for c in range(screen.model.columnCount()):
            plain.setItem(r, c, QStandardItem(screen.model.index(r, c).data() or ""))
    bare = QTableView()
    bare.setModel(plain)
    bare.resize(screen.view.size())
    for c in range(plain.columnCount()):
        bare.setColumnWidth(c, screen.view.columnWidth(c))
    bare.verticalHeader().setDefaultSectionSize(screen.view.verticalHeader().defaultSectionSize())
    bare.show()
    app.processEvents()
    paints, ours = [], []
    for _ in range(7):
        t = time.perf_counter()
        bare.viewport().repaint()
        paints.append(time.perf_counter() - t)
        t = time.perf_counter()
        screen.view.viewport().repaint()
        ours.append(time.perf_counter() - t)
    paint_floor = statistics.median(paints)
    bare.close()
    print(f"paint floor (plain QStandardItemModel, same texts and size): {ms(paint_floor)}; "
          f"our table: {ms(statistics.median(ours))}")
    print(f"keystroke → view painted vs (bare query + paint floor) = {ms(med_v)} / "
          f"{ms(med_f + paint_floor)} → ratio {med_v / (med_f + paint_floor):.2f}")

    # Filters and sorts (clicks, not keystrokes): informative.
    screen.search.clear()
    app.processEvents()
    print("\nfilter/sort clicks (view ready):")
    for label, action in [
        ("status = en suivi", lambda: screen.status.setCurrentIndex(screen.status.findData("en_suivi"))),
        ("problem = isolement", lambda: screen.problem.setCurrentIndex(screen.problem.findData("isolement"))),
        ("overdue referrals", lambda: screen.overdue.setChecked(True)),
        ("sort by holder name", lambda: screen.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)),
        ("sort by arrears desc", lambda: screen.view.sortByColumn(8, Qt.SortOrder.DescendingOrder)),
        ("scroll: fetch next 200", lambda: screen.model.fetchMore()),
    ]:
        t = time.perf_counter()
        action()
        app.processEvents()
        elapsed = time.perf_counter() - t
        print(f"  {label:<24} {ms(elapsed):>9}  rows={screen.model.rowCount()}")
    t = time.perf_counter()
    total = service.count_cases(screen.model.filter)
    print(f"  count (background thread) {ms(time.perf_counter() - t):>9}  total={total:,}")

    # Opening a case from the list.
    print("\nopening a case (service.get with audit + full window built and shown):")
    ids = [random.Random(7).randint(1, N) for _ in range(15)]
    open_times, get_times = [], []
    for case_id in ids:
        t = time.perf_counter()
        dialog = CaseDialog(ctx, case_id)
        dialog.show()
        app.processEvents()
        open_times.append(time.perf_counter() - t)
        dialog._snapshot = None
        dialog.close()
        dialog.deleteLater()
        app.processEvents()
        t = time.perf_counter()
        service.get(case_id, audit_read=False)
        get_times.append(time.perf_counter() - t)
    mo, mg = statistics.median(open_times), statistics.median(get_times)
    print(f"  open: median {ms(mo)}, max {ms(max(open_times))}; bare service.get (read only) median "
          f"{ms(mg)}; ratio {mo / mg:.1f}  [goal: <= 100 ms]")
    raw.close()
    screen.close()
    db.dispose()
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
