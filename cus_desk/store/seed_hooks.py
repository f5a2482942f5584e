"""Per-feature seeding hooks, called after the core reference data.
Each hook must be idempotent (re-running never duplicates)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

HOOKS: list[Callable[[Session], None]] = []
