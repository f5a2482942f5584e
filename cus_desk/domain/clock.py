"""The one place where CUS Desk reads the time.

"Now" is a UTC instant (stored timestamps); "today" is the calendar day in
Europe/Paris (due dates, overdue rules, ages, a case number's year, a day
filter) — on a UTC machine the two disagree for one or two hours every
night, so nothing else may derive a day from the machine's clock.

The clock object is created once by whoever starts the program (the GUI,
the CLI, a test) and handed down: ``open_database(url, clock=...)`` keeps it
as ``db.clock``, services read ``self.clock``, screens ``ctx.clock``.
``tests/foundation/test_clock.py`` fails if any other module reads the
machine's clock (``date.today()``, ``datetime.now()``, ``QDate.currentDate()``…).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

# A test seam for programs started as separate processes (a CLI command, a
# second client): an ISO instant here freezes their clock at that instant.
FROZEN_ENV = "CUS_DESK_FROZEN_NOW"


class Clock:
    """The machine's clock, read in UTC; days in Paris."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """The current calendar day in Europe/Paris."""
        return self.now().astimezone(PARIS).date()

    def local_now(self) -> datetime:
        """The current instant as a Paris wall-clock time (file names, headers)."""
        return self.now().astimezone(PARIS)


class FrozenClock(Clock):
    """A clock that stays where it is put (tests, a frozen subprocess)."""

    def __init__(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)

    @classmethod
    def at_paris(cls, day: date, hour: int = 10, minute: int = 0) -> FrozenClock:
        """Frozen at a Paris wall-clock time of ``day`` (10:00 by default)."""
        return cls(datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS))

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._instant += delta


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a clock needs a timezone-aware instant")
    return instant.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a bare date means 10:00 in Paris that day."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time().replace(hour=10),
                                tzinfo=PARIS)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


def system_clock() -> Clock:
    """The clock a program starts with: the machine's, unless the frozen-time
    test seam is set in the environment."""
    frozen = os.environ.get(FROZEN_ENV)
    if frozen:
        return FrozenClock(parse_instant(frozen))
    return Clock()
