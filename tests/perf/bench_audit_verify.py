"""Audit trail at one year of use: verifying the whole chain, and purging
a year's worth, against the floor of reading the same rows.

Run: python tests/perf/bench_audit_verify.py [N]   (default 200,000 events,
about a year of six advisers' reads and changes). Prints figures, asserts nothing."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000


def main() -> None:
    from sqlalchemy import select

    from cus_desk.domain.roles import Role
    from cus_desk.services import audit
    from cus_desk.services.audit_admin import AuditAdminService, verify_chain
    from cus_desk.services.auth import create_user
    from cus_desk.store.db import open_database, sqlite_url
    from cus_desk.store.models.core import AuditEvent

    with tempfile.TemporaryDirectory() as tmp:
        import os

        # Never the real installation's audit key or data folder.
        os.environ.setdefault("CUS_DESK_AUDIT_KEY_FILE", str(Path(tmp) / "audit.key"))
        os.environ.setdefault("CUS_DESK_DATA_DIR", str(Path(tmp) / "data"))
        path = Path(tmp) / "bench.sqlite3"
        db = open_database(sqlite_url(path))
        admin = create_user(db, "admin", "Admin", Role.ADMIN, "Bench-Admin-2026")
        adviser = create_user(db, "cs.metz", "CS", Role.SOCIAL_ADVISER, "Bench-Admin-2026")
        # The chain itself is built with plain INSERTs (same digests as audit.record),
        # the first half dated 400 days back so that the purge has a year to remove.
        import json

        from sqlalchemy import delete, insert

        start = db.clock.now()
        batch = []
        with db.write_session() as s:
            s.execute(delete(AuditEvent))  # the two account creations: the chain starts afresh
            prev = audit.GENESIS
            for i in range(N):
                at = start - timedelta(days=400 if i < N // 2 else 0, seconds=N - i)
                details = json.dumps({"acces": "complet"} if i % 4 else {"status": ["ouvert", "clos"]},
                                     ensure_ascii=False, sort_keys=True)
                action = audit.Action.READ if i % 4 else audit.Action.UPDATE
                h = audit.event_digest(prev, at, adviser.user_id, adviser.login, action, "case",
                                       str(i % 3000), i % 3000, details)
                batch.append(dict(occurred_at=at, user_id=adviser.user_id, user_login=adviser.login,
                                  action=action, entity_type="case", entity_id=str(i % 3000),
                                  case_id=i % 3000, details_json=details, prev_hash=prev, hash=h))
                prev = h
                if len(batch) == 5000:
                    s.execute(insert(AuditEvent), batch)
                    batch = []
            if batch:
                s.execute(insert(AuditEvent), batch)
            # The history was written at once: the chain heads follow it.
            from sqlalchemy import func, update

            from cus_desk.services import audit_head, audit_key
            from cus_desk.store.models.security import AuditChainHead

            s.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(
                total=s.scalar(select(func.count(AuditEvent.id)))))
            audit_head.reset_head(s, audit_key.load_key(), "bench")
        # audit.record itself, appended one transaction per event as the services do.
        appends = 300
        t0 = time.perf_counter()
        for i in range(appends):
            with db.write_session() as s:
                audit.record(s, adviser, audit.Action.READ, "case", i, case_id=i)
        write_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with db.read_session() as s:
            rows = 0
            for _ in s.execute(select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash,
                                      AuditEvent.occurred_at, AuditEvent.user_id, AuditEvent.user_login,
                                      AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id,
                                      AuditEvent.case_id, AuditEvent.details_json)
                               .order_by(AuditEvent.id).execution_options(yield_per=5000)):
                rows += 1
        floor = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = verify_chain(db)
        verify_s = time.perf_counter() - t0
        assert report.ok, report.message

        t0 = time.perf_counter()
        result = AuditAdminService(db, admin).purge()
        purge_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        after = verify_chain(db)
        verify_after_s = time.perf_counter() - t0
        db.dispose()

    print(f"events: {N + appends:,}".replace(",", " "))
    print(f"append (audit.record, one write transaction each, {appends} events): "
          f"{1000 * write_s / appends:.1f} ms per event")
    print(f"floor (read the same rows): {floor:.2f} s")
    print(f"verify whole chain: {verify_s:.2f} s ({rows / verify_s:,.0f} events/s), ratio to floor {verify_s / floor:.1f}")
    print(f"purge {result.count:,} events older than a year + re-anchor: {purge_s:.2f} s")
    print(f"verify after purge: {verify_after_s:.2f} s, ok={after.ok} ({after.checked:,} events)")


if __name__ == "__main__":
    main()
