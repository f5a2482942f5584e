"""One client process of the concurrency test (tests/store/test_concurrency.py):
opens the store at URL like any workstation, signals it is ready, waits for
the common start, then makes real service calls and prints what it did as
one JSON line.

    python -m tests.store.concurrent_client URL WORKDIR INDEX ITERATIONS SHARED_CASE ACTORS_JSON
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path


def main(argv: list[str]) -> int:
    url, workdir, index, iterations, shared_case, actors_json = argv
    index, iterations, shared_case = int(index), int(iterations), int(shared_case)
    workdir = Path(workdir)

    from cus_desk.domain.errors import ConflictError
    from cus_desk.domain.roles import Role
    from cus_desk.services.base import Actor
    from cus_desk.services.cases import (
        CaseInput,
        CaseService,
        HouseholdInput,
        LeaseInput,
        MemberInput,
        NewCase,
    )
    from cus_desk.services.meetings import MeetingService
    from cus_desk.store.db import open_database
    from tests.frozen_time import TEST_TODAY, frozen_clock

    actors = {k: Actor(**{**v, "role": Role(v["role"])}) for k, v in json.loads(actors_json).items()}
    db = open_database(url, clock=frozen_clock(TEST_TODAY))
    cases = CaseService(db, actors["adviser_metz"])
    meetings = MeetingService(db, actors["social_head"])
    agency = actors["adviser_metz"].agency_id

    (workdir / f"ready-{index}").write_text("ok")
    go = workdir / "go"
    while not go.exists():  # a common start: every client writes at once
        time.sleep(0.005)

    created, meeting_ids, updates, conflicts = [], [], 0, 0
    for i in range(iterations):
        kind = i % 10
        if kind == 9:  # a CAS session: numbered per year
            meeting_ids.append(meetings.create_meeting(date(2026, 12, 1 + index % 28), f"Salle {index}").meeting.id)
        elif kind % 3 == 0:  # the same case saved by everyone: optimistic locking, retried
            while True:
                detail = cases.get(shared_case, audit_read=False)
                data = detail.as_case_input()
                data.summary = f"client {index}, passage {i}"
                try:
                    cases.update_case(shared_case, data, detail.version)
                    updates += 1
                    break
                except ConflictError:
                    conflicts += 1
        else:  # a new case file: a new reference
            created.append(cases.create_case(NewCase(
                case=CaseInput(problems=["impaye_loyer"]),
                household=HouseholdInput(members=[MemberInput(f"CLIENT-{chr(65 + index)}", "Essai",
                                                              date(1970, 1, 1), "titulaire")]),
                lease=LeaseInput(contract_number=f"CC-{index:02d}-{i:04d}", agency_id=agency,
                                 commune="Metz", address="1 rue de la Gare",
                                 start_date=date(2015, 3, 1)),
            )))
    db.dispose()
    print(json.dumps({"created": created, "meetings": meeting_ids, "updates": updates,
                      "conflicts": conflicts}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
