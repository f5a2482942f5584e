"""Benchmark: import of a generated 25,000-line arrears extract.

Goal (issue #5): <= 3 s, and <= 3x the floor measured in the same run:
parsing the same CSV with the ``csv`` module and inserting the raw rows
with one ``executemany`` into the same kind of SQLite database.

Run: python tests/perf/bench_import.py [lines]"""

from __future__ import annotations

import csv
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.services.seniors import SeniorsService
from cus_desk.store.db import open_database, sqlite_url

HEADERS = ["N° contrat", "Nom", "Prénom", "Date de naissance", "Date de naissance cotitulaire",
           "Agence", "Commune", "Adresse", "Date d'entrée", "Solde débiteur", "Nb mois impayés",
           "Date dernier paiement", "Loyer + charges", "Téléphone"]
AGENCIES = ["Metz", "Woippy", "Thionville", "Saint-Avold", "Forbach", "DT 54"]


def generate(path: Path, lines: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADERS)
        for i in range(lines):
            birth = date(1930, 1, 1) + timedelta(days=rng.randint(0, 70 * 365))
            co = (date(1930, 1, 1) + timedelta(days=rng.randint(0, 70 * 365))).strftime("%d/%m/%Y") if rng.random() < 0.3 else ""
            start = date(1975, 1, 1) + timedelta(days=rng.randint(0, 50 * 365))
            cents = rng.randint(-20000, 400000) if rng.random() < 0.4 else 0
            euros = f"{abs(cents) // 100:,}".replace(",", "\u00a0") + f",{abs(cents) % 100:02d}"
            w.writerow([
                f"57-{i:07d}", f"NOM{i}", "Prénom", birth.strftime("%d/%m/%Y"), co,
                AGENCIES[i % 6], "Metz", f"{i % 200} rue des Tilleuls", start.strftime("%d/%m/%Y"),
                ("-" if cents < 0 else "") + euros, str(max(0, cents // 50000)),
                "02/10/2026" if cents else "", "512,30", f"06 39 98 {i % 100:02d} {i // 100 % 100:02d}",
            ])


def floor(path: Path, db_path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader)
        rows = list(reader)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE raw ({', '.join(f'c{i} TEXT' for i in range(len(HEADERS)))})")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO raw VALUES ({', '.join('?' * len(HEADERS))})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 25_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        extract = tmp / "impayes_2026-10-31.csv"
        generate(extract, lines)
        db = open_database(sqlite_url(tmp / "bench.sqlite3"))
        actor = create_user(db, "bench", "Banc d'essai", Role.RECOVERY, "Mot-de-passe-bench-1")
        service = SeniorsService(db, actor)

        floor_s = min(floor(extract, tmp / f"floor{i}.sqlite3") for i in range(3))
        t0 = time.perf_counter()
        first = service.import_arrears(extract, date(2026, 9, 30))
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = service.import_arrears(extract, date(2026, 10, 31))
        second_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        service.import_arrears(extract, date(2026, 10, 31))
        replace_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        listing = service.list_seniors()
        list_s = time.perf_counter() - t0
        db.dispose()

    assert first.imported == second.imported == lines, (first.imported, first.rejected[:3])
    print(f"lines                         : {lines}")
    print(f"floor (csv + executemany)     : {floor_s:.3f} s")
    for label, value in (("import, new leases", first_s), ("import, known leases (monthly)", second_s),
                         ("re-import same date (replace)", replace_s)):
        verdict = "OK" if value <= 3 and value / floor_s <= 3 else "GOAL MISSED"
        print(f"{label:30}: {value:.3f} s  ratio {value / floor_s:.2f}  [{verdict}]")
    print(f"seniors list ({len(listing.rows)} rows)      : {list_s:.3f} s")


if __name__ == "__main__":
    main()
