"""Pure security rules (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cus_desk.domain import security as rules


def test_password_strength_rules():
    assert rules.password_problems("Mot-de-passe-test-1") == []
    assert rules.password_problems("une phrase de passe longue") == []  # passphrase
    short = rules.password_problems("Ab1-")
    assert any("au moins 10 caractères" in p for p in short)
    assert any("trois sortes" in p for p in rules.password_problems("abcdefghijk"))
    assert any("identifiant" in p for p in rules.password_problems("Camille.Dupont-2026", "camille.dupont"))
    assert any("espace" in p for p in rules.password_problems(" Mot-de-passe-1 "))


def test_fifth_failure_locks_for_15_minutes():
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    count, locked = 0, None
    for _ in range(4):
        count, locked = rules.after_failure(count, now)
        assert locked is None
    count, locked = rules.after_failure(count, now)
    assert count == 0 and locked == now + timedelta(minutes=15)
    assert rules.is_locked(locked, now + timedelta(minutes=14, seconds=59))
    assert not rules.is_locked(locked, now + timedelta(minutes=15))
    assert not rules.is_locked(None, now)


def _chain(n, start="0" * 64):
    links, prev = [], start
    for i in range(1, n + 1):
        h = f"{i:064x}"
        links.append(rules.ChainLink(i, prev, h, h))
        prev = h
    return links


def test_chain_walk_intact_and_broken():
    links = _chain(5)
    assert rules.first_break(links, "0" * 64) == (5, None)
    altered = list(links)
    altered[2] = rules.ChainLink(3, links[2].prev_hash, links[2].hash, "f" * 64)
    count, brk = rules.first_break(altered, "0" * 64)
    assert count == 2 and brk.event_id == 3 and "modifié" in brk.reason
    deleted = links[:2] + links[3:]
    count, brk = rules.first_break(deleted, "0" * 64)
    assert brk.event_id == 4 and "Lien rompu" in brk.reason
    # After a purge of events 1-2, the chain starts from the anchor (hash of event 2).
    assert rules.first_break(links[2:], links[1].hash, after_id=2) == (3, None)
    count, brk = rules.first_break(links[3:], links[1].hash, after_id=2)
    assert brk.event_id == 4
    count, brk = rules.first_break(links[1:], links[1].hash, after_id=2)
    assert brk.event_id == 2 and "antérieur" in brk.reason


def test_retention_dates():
    assert rules.years_before(date(2028, 2, 29), 2) == date(2026, 2, 28)
    assert rules.is_due(date(2024, 11, 28), 2, date(2026, 11, 28))
    assert not rules.is_due(date(2024, 11, 29), 2, date(2026, 11, 28))
    assert not rules.is_due(None, 2, date(2026, 11, 28))
    assert rules.case_last_activity(date(2024, 1, 1), date(2024, 3, 1), date(2020, 1, 1)) == date(2024, 3, 1)
    assert rules.case_last_activity(None, None, None) is None


def test_backup_rotation_keeps_7_daily_and_4_weekly():
    start = datetime(2026, 9, 1, 18, 0)
    # Two copies a day for 60 days.
    stamps = [start + timedelta(days=d, hours=h) for d in range(60) for h in (0, 3)]
    keep = rules.backups_to_keep(stamps)
    newest = max(stamps)
    days = sorted({s.date() for s in keep}, reverse=True)
    # the newest copy of each of the last 7 days
    for d in range(7):
        day = newest.date() - timedelta(days=d)
        assert max(s for s in stamps if s.date() == day) in keep
    weeks = {s.isocalendar()[:2] for s in keep}
    assert len(weeks) == 4  # the 7 days span 2 weeks; 4 weeks in all
    assert len(keep) <= 7 + 4
    assert min(days) >= newest.date() - timedelta(days=28)
    assert rules.backups_to_keep([]) == set()
