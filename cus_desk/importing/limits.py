"""Bounds on what an imported file may make the application do. A file
beyond them is refused as a whole with a French message saying which bound
and what to do; nothing is stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024  # the file as stored on disk
    max_unzipped_bytes: int = 400 * 1024 * 1024  # an XLSX's parts once decompressed
    max_rows: int = 100_000  # data lines (an extract of 25,000 households has ~30,000)
    max_columns: int = 200
    max_cell_chars: int = 1_000  # longer cells of stored text are refused (line or field)
    max_seconds: float = 120.0  # reading and parsing, whatever the file holds
    header_scan_rows: int = 30  # title lines looked through for the header row
    # Elapsed time, for the time bound only (never a date): injectable for tests.
    timer: Callable[[], float] = field(default=time.monotonic, compare=False)

    def deadline(self) -> Deadline:
        return Deadline(self)


DEFAULT_LIMITS = Limits()


class Deadline:
    """Checked every few thousand rows: raises ``TooLong`` past the bound."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.start = limits.timer()

    def expired(self) -> bool:
        return self.limits.timer() - self.start > self.limits.max_seconds


def thousands(n: int) -> str:
    """``100000`` → ``100 000`` (French grouping, narrow no-break space)."""
    return f"{n:,}".replace(",", "\u202f")
