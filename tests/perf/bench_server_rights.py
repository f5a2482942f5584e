"""What row-level security costs on a server (issue 15): the case list page
and count of an adviser and of the pôle social, connected with their own
server accounts (the program's rule + the server's policies), against the
same calls through the owner's connection (the program's rule only: the
floor), on the same cases.

    QT_QPA_PLATFORM=offscreen python tests/perf/bench_server_rights.py [N] [--url SUPERUSER_URL]

Without --url a throw-away server is started (tests/pg_server.py). The data
are the SQLite benchmark's (tests/perf/bench_cases.py), moved with
``db copy``. Goal: the list page of a person <= 3x the floor and <= 50 ms.
Prints figures, asserts nothing."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-Motdepasse-2026"


def median_ms(fn, runs: int = 15) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def measure(key: str, owner, mine, login: str) -> None:
    """One person's calls, through the owner's connection and her own."""
    from sqlalchemy import text

    from cus_desk.services import auth
    from cus_desk.services.cases import CaseFilter, CaseService

    actor = auth.authenticate(owner, login, PASSWORD)
    mine_actor = auth.authenticate(mine, login, PASSWORD)
    calls = {
        "list page (50, ref.)": lambda svc: svc.list_cases(CaseFilter()),
        "count": lambda svc: svc.count_cases(CaseFilter()),
        "search 'mar'": lambda svc: svc.list_cases(CaseFilter(search="mar")),
    }
    for label, call in calls.items():
        floor = median_ms(lambda call=call: call(CaseService(owner, actor)))
        cost = median_ms(lambda call=call: call(CaseService(mine, mine_actor)))
        print(f"{key:<10}{label:<24}{floor:>11.1f} ms{cost:>10.1f} ms{cost / floor:>7.2f}x")

    def raw(db):
        with db.read_session() as s:
            return s.execute(text("SELECT count(*) FROM cases")).scalar()

    floor, cost = median_ms(lambda: raw(owner)), median_ms(lambda: raw(mine))
    print(f"{key:<10}{'SELECT count(*) (psql)':<24}{floor:>11.1f} ms{cost:>10.1f} ms"
          f"{cost / floor:>7.2f}x   ({raw(owner):,} rows for the owner, {raw(mine):,} for her)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--url", help="superuser URL of an existing server")
    args = parser.parse_args()

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from cus_desk.domain.roles import Role
    from cus_desk.services import access, auth
    from cus_desk.services.store_copy import copy_store
    from cus_desk.services.users import UsersService
    from cus_desk.store import dialect, pg_rights
    from cus_desk.store.db import open_database, sqlite_url, with_password
    from tests import pg_server
    from tests.backends import PgCluster
    from tests.frozen_time import frozen_clock

    sys.path.insert(0, str(ROOT / "tests" / "perf"))
    import bench_cases

    server = None if args.url else pg_server.start(log=lambda m: print(m, flush=True))
    cluster = PgCluster(args.url or server.url)
    tag = f"b{os.getpid()}"
    logins = {"adviser": f"{tag}.metz", "head": f"{tag}.pole", "admin": f"{tag}.admin"}
    name = cluster.unique_name("rights")
    try:
        bench_cases.N = args.n
        pilot = Path(tempfile.mkdtemp(prefix="bench_rights_")) / "bench.sqlite3"
        bench_cases.build(pilot)
        clock = frozen_clock()
        source = open_database(sqlite_url(pilot), clock=clock)
        url = cluster.create(name)
        copy_store(source, url)
        source.dispose()
        owner = open_database(url, clock=clock)
        with owner.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            t = time.perf_counter()
            dialect.of(conn).secure_store(conn, access)
            print(f"db secure on {args.n:,} cases: {(time.perf_counter() - t) * 1000:.0f} ms")
        admin = auth.create_user(owner, logins["admin"], "Admin", Role.ADMIN, PASSWORD)
        users = UsersService(owner, admin)
        metz = users.agency_id_by_name("Metz")
        users.add(logins["adviser"], "Conseillère Metz", Role.SOCIAL_ADVISER, metz, password=PASSWORD)
        users.add(logins["head"], "Pôle social", Role.SOCIAL_HEAD, None, password=PASSWORD)

        def personal(login):
            account = pg_rights.login_role(login)
            purl = make_url(url).set(username=account).render_as_string(hide_password=False)
            return open_database(with_password(purl, PASSWORD), clock=clock)

        print(f"\n{'who':<10}{'call':<24}{'owner (floor)':>14}{'own account':>13}{'ratio':>8}")
        for key in ("adviser", "head"):
            mine = personal(logins[key])
            measure(key, owner, mine, logins[key])
            mine.dispose()
        owner.dispose()
    finally:
        cluster.drop(name)
        for login in logins.values():
            cluster.execute(f"DROP ROLE IF EXISTS {pg_rights.quote_ident(pg_rights.login_role(login))}")
        cluster.dispose()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
