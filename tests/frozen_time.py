"""The day the tests are written for, and the program's clock frozen on it.

Every test that touches dates reads "today" from the ``clock`` fixture
(tests/conftest.py), the same object the program uses (``db.clock``,
``ctx.clock``), never from the machine: the suite passes on any day."""

from __future__ import annotations

from datetime import date

from cus_desk.domain.clock import FrozenClock

TEST_TODAY = date(2026, 11, 20)


def frozen_clock(day: date = TEST_TODAY, hour: int = 10, minute: int = 0) -> FrozenClock:
    """The program's clock at ``hour:minute`` in Paris on ``day``."""
    return FrozenClock.at_paris(day, hour, minute)
