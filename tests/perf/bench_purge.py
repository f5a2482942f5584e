"""Benchmark: purge of an old arrears extract of 50,000 tenants (issue 15:
the people only that extract named go with it), with the store's files
cleaned afterwards (FTS merge, VACUUM, WAL truncated).

Floor, measured in the same run on a copy of the same store: the bare SQL
a purge cannot avoid (delete the extract's lines, leases, tenants and
households with four DELETE statements) followed by VACUUM.

Run: python tests/perf/bench_purge.py [lines]"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cus_desk.domain.clock import FrozenClock  # noqa: E402
from cus_desk.domain.roles import Role  # noqa: E402
from cus_desk.services.auth import create_user  # noqa: E402
from cus_desk.services.retention import RetentionService  # noqa: E402
from cus_desk.services.seniors import SeniorsService  # noqa: E402
from cus_desk.store.db import open_database, sqlite_url  # noqa: E402
from tests.perf.bench_import import generate, timed  # noqa: E402


def floor(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM arrears_lines")
    conn.execute("DELETE FROM arrears_extracts")
    conn.execute("DELETE FROM tenants")
    conn.execute("DELETE FROM leases")
    conn.execute("DELETE FROM households WHERE id NOT IN (SELECT household_id FROM cases)")
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    clock = FrozenClock.at_paris(date(2026, 11, 28), 10, 0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        extract = tmp / "impayes_2023-05-31.csv"
        generate(extract, lines)
        path = tmp / "bench.sqlite3"
        db = open_database(sqlite_url(path), clock=clock)
        recovery = create_user(db, "recouvrement", "Banc d'essai", Role.RECOVERY, "Mot-de-passe-bench-1")
        admin = create_user(db, "chef", "Banc d'essai", Role.ADMIN, "Mot-de-passe-bench-1")
        SeniorsService(db, recovery).import_arrears(extract, date(2023, 5, 31))
        db.dispose()
        size_before = path.stat().st_size
        shutil.copy(path, tmp / "floor.sqlite3")
        floor_wall, floor_cpu, _ = timed(lambda: floor(tmp / "floor.sqlite3"))

        db = open_database(sqlite_url(path), clock=clock)
        wall, cpu, report = timed(lambda: RetentionService(db, admin).purge())
        db.dispose()
        print(f"extract of {lines} lines: {report.people_deleted} people, {report.leases_deleted} leases deleted")
        print(f"store {size_before / 1e6:.1f} MB before, {path.stat().st_size / 1e6:.1f} MB after")
        print(f"purge (transaction + file cleaning): {wall:.2f} s wall, {cpu:.2f} s CPU")
        print(f"floor (4 DELETE + VACUUM): {floor_wall:.2f} s wall, {floor_cpu:.2f} s CPU")
        print(f"ratio: {wall / floor_wall:.1f}x wall, {cpu / max(floor_cpu, 1e-6):.1f}x CPU")


if __name__ == "__main__":
    main()
