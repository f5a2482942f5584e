"""One clock: nothing but ``domain/clock.py`` reads the machine's time, days
are Paris days, and the demo lives in the present."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import cus_desk
from cus_desk.demo import DEMO_MAX_AGE_DAYS, build_demo, demo_built_on, open_demo
from cus_desk.demo.meetings import session_day, session_days
from cus_desk.domain.clock import PARIS, FrozenClock, parse_instant, system_clock
from cus_desk.services import audit
from cus_desk.services.audit_admin import AuditAdminService, AuditFilter
from cus_desk.store.db import open_database, sqlite_url
from cus_desk.store.models.meetings import Decision, Meeting
from cus_desk.store.models.seniors import ArrearsExtract
from tests.frozen_time import frozen_clock

PACKAGE = Path(cus_desk.__file__).parent
CLOCK_MODULE = PACKAGE / "domain" / "clock.py"

# Every way Python or Qt can read the machine's date or time.
CLOCK_READS = re.compile(
    r"\b(?:date|datetime|dt)\s*\.\s*(?:today|now|utcnow)\s*\("
    r"|\bQ(?:Date|DateTime|Time)\s*\.\s*current\w*"
    r"|\btime\s*\.\s*(?:time|time_ns|localtime|gmtime|ctime|asctime)\s*\("
    r"|\bdatetime\s*\.\s*fromtimestamp\s*\(\s*time\b"
)


def clock_reads(source: str) -> list[str]:
    """Lines of ``source`` (comments and docstrings aside) that read the clock."""
    found = []
    in_docstring = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.count('"""') == 1:
            in_docstring = not in_docstring
            continue
        if in_docstring or stripped.startswith(("#", '"""')):
            continue
        code = line.split("#", 1)[0]
        if CLOCK_READS.search(code):
            found.append(stripped)
    return found


def test_the_scanner_sees_every_kind_of_clock_read():
    planted = (
        "x = date.today()\ny = datetime.now(UTC)\nz = datetime.utcnow()\n"
        "q = QDate.currentDate()\nr = QDateTime.currentDateTimeUtc()\ns = time.time()\n"
        "t = time.localtime()\n# date.today() in a comment is fine\n"
    )
    assert len(clock_reads(planted)) == 7
    assert clock_reads("elapsed = time.monotonic() - start\nclock.today()\n") == []


def test_only_the_clock_module_reads_the_machine_clock():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if path == CLOCK_MODULE:
            continue
        lines = clock_reads(path.read_text(encoding="utf-8"))
        if lines:
            offenders[str(path.relative_to(PACKAGE))] = lines
    assert offenders == {}, "read the time from the program's clock (db.clock / ctx.clock)"


def test_today_is_the_paris_day_and_now_is_utc():
    clock = FrozenClock(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2027, 1, 1)  # 00:30 in Paris
    assert clock.now().tzinfo is UTC and clock.now().hour == 23
    assert clock.local_now().utcoffset() == timedelta(hours=1)
    summer = FrozenClock(datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    assert summer.today() == date(2026, 7, 2)  # 00:30 CEST
    clock.advance(timedelta(hours=-1))
    assert clock.today() == date(2026, 12, 31)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))  # a naive instant means nothing


def test_frozen_clock_from_the_environment(monkeypatch):
    monkeypatch.setenv("CUS_DESK_FROZEN_NOW", "2031-06-15")
    assert system_clock().today() == date(2031, 6, 15)
    monkeypatch.setenv("CUS_DESK_FROZEN_NOW", "2030-01-01T23:30:00Z")
    assert system_clock().today() == date(2030, 1, 2)
    monkeypatch.delenv("CUS_DESK_FROZEN_NOW")
    assert type(system_clock()).__name__ == "Clock"
    assert parse_instant("2026-11-20").astimezone(PARIS).hour == 10


def test_timestamps_written_by_the_store_come_from_the_program_clock(db, actors, clock):
    clock.set(datetime(2031, 6, 15, 8, 0, tzinfo=UTC))
    with db.write_session() as session:
        event = audit.record(session, actors["admin"], audit.Action.UPDATE, "test", 1)
        session.flush()
        assert event.occurred_at == datetime(2031, 6, 15, 8, 0, tzinfo=UTC)


def test_audit_day_filter_uses_paris_days_at_2330_utc(db, actors, clock):
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Paris
    with db.write_session() as session:
        audit.record(session, actors["admin"], audit.Action.UPDATE, "test", 1)
    svc = AuditAdminService(db, actors["admin"])
    december = AuditFilter(date_from=date(2026, 12, 1), date_to=date(2026, 12, 1), action="update")
    november = AuditFilter(date_from=date(2026, 11, 30), date_to=date(2026, 11, 30), action="update")
    assert svc.count(december) == 1
    assert svc.count(november) == 0


# --- the demo lives in the present ---------------------------------------------------


def test_sessions_fall_on_session_days_around_today():
    assert session_day(2026, 11) == date(2026, 11, 26)  # fourth Thursday
    assert session_day(2026, 12) == date(2026, 12, 17)  # third, before Christmas
    assert session_days(date(2026, 11, 20)) == (date(2026, 9, 24), date(2026, 10, 22), date(2026, 11, 26))
    # On the session day itself, the next one is next month's.
    before, last, nxt = session_days(date(2026, 11, 26))
    assert (last, nxt) == (date(2026, 11, 26), date(2026, 12, 17))
    for day in (date(2031, 6, 15), date(2099, 12, 31), date(2027, 1, 1)):
        before, last, nxt = session_days(day)
        assert before < last <= day < nxt
        assert (nxt - day).days <= 35 and (day - last).days <= 35


@pytest.mark.parametrize("day", [date(2031, 6, 15), date(2099, 12, 31)])
def test_the_demo_is_built_around_the_day_it_is_built(tmp_path, day):
    clock = frozen_clock(day)
    db = open_database(sqlite_url(tmp_path / "demo.sqlite3"), clock=clock)
    try:
        build_demo(db)
        with db.read_session() as session:
            held = sorted(session.scalars(select(Meeting.held_on)))
            prepared = session.scalar(select(Meeting.held_on).where(Meeting.status == "preparee"))
            assert prepared > day and (prepared - day).days <= 35  # the next CAS is ahead
            assert held[-2] <= day and (day - held[-2]).days <= 35  # the last one a few weeks ago
            open_decisions = session.scalar(select(func.count(Decision.id)).where(
                Decision.status.in_(("a_faire", "en_cours")), Decision.due_on < day))
            total = session.scalar(select(func.count(Decision.id)))
            assert open_decisions <= total // 2  # a realistic handful overdue, not all of them
            latest = session.scalar(select(func.max(ArrearsExtract.extract_date)))
            assert latest == day.replace(day=1) - timedelta(days=1)  # last month-end
            assert demo_built_on(session) == day
    finally:
        db.dispose()


def test_a_stale_demo_is_rebuilt_at_launch(tmp_path):
    url = sqlite_url(tmp_path / "demo.sqlite3")
    clock = frozen_clock(date(2026, 11, 20))
    db, note = open_demo(url, clock)
    db.dispose()
    assert note is None
    clock.advance(timedelta(days=DEMO_MAX_AGE_DAYS))
    db, note = open_demo(url, clock)  # still fresh enough: kept
    db.dispose()
    assert note is None
    clock.advance(timedelta(days=1))
    db, note = open_demo(url, clock)
    try:
        assert note is not None and "recréées" in note and "12/12/2026" in note
        with db.read_session() as session:
            assert demo_built_on(session) == date(2026, 12, 12)
            prepared = session.scalar(select(Meeting.held_on).where(Meeting.status == "preparee"))
            assert prepared > date(2026, 12, 12)
    finally:
        db.dispose()
