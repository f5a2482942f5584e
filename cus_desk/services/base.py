"""What every service shares: the acting user and short sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cus_desk.domain.errors import ConflictError
from cus_desk.domain.roles import Role
from cus_desk.store.db import Database


@dataclass(frozen=True)
class Actor:
    """The authenticated person on whose behalf a service acts."""

    user_id: int
    login: str
    display_name: str
    role: Role
    agency_id: int | None = None


class Service:
    """Base of every use-case class: ``XService(db, actor).do_something()``.

    Methods return plain dataclasses, never live ORM objects, so widgets never
    lazy-load behind the service's back."""

    def __init__(self, db: Database, actor: Actor) -> None:
        self.db = db
        self.actor = actor

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self.db.read_session() as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One all-or-nothing transaction; a stale version becomes a French
        ConflictError instead of a silent overwrite."""
        try:
            with self.db.write_session() as session:
                yield session
        except StaleDataError as exc:
            raise ConflictError() from exc


def check_version(expected: int | None, current: int) -> None:
    """Refuse a save based on an older version of the record than the stored
    one (the form was loaded before someone else saved)."""
    if expected is not None and expected != current:
        raise ConflictError()
