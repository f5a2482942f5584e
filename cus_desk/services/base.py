"""What every service shares: the acting user and short sessions."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cus_desk.domain.errors import (
    AccessDeniedError,
    ConflictError,
    ServerConnectionError,
    SessionRevokedError,
    StoreBusyError,
)
from cus_desk.domain.roles import Role
from cus_desk.store import dialect
from cus_desk.store.db import Database


@dataclass(frozen=True)
class Actor:
    """The authenticated person on whose behalf a service acts."""

    user_id: int
    login: str
    display_name: str
    role: Role
    agency_id: int | None = None
    # The account's credentials epoch at sign-in: a password reset moves the
    # stored one, which ends this session (check_session).
    epoch: int = 0


ACCOUNT_CLOSED = (
    "Votre compte a été désactivé pendant votre session : CUS Desk n'affiche et n'enregistre "
    "plus rien en votre nom. Adressez-vous à l'administrateur."
)
PROFILE_CHANGED = (
    "Votre profil (rôle ou agence) a été modifié pendant votre session : fermez CUS Desk et "
    "rouvrez-le pour continuer avec vos nouveaux droits. Rien n'a été enregistré."
)

PASSWORD_RESET = (
    "Le mot de passe de votre compte a été réinitialisé par l'administrateur : cette session est "
    "terminée et rien n'a été enregistré. Fermez CUS Desk et reconnectez-vous avec le mot de passe "
    "provisoire qui vous a été remis."
)
PASSWORD_CHANGE_REQUIRED = (
    "Votre mot de passe est provisoire : changez-le avant toute autre opération (à la connexion "
    "dans CUS Desk, ou avec la commande « cus-desk password »). Rien n'a été lu ni enregistré."
)


class PasswordChangeRequiredError(AccessDeniedError):
    """Signed in with a temporary password: only the change of password is open."""


def check_session(session: Session, actor: Actor) -> None:
    """The actor's rights are those of the account as stored now, not as at
    sign-in: a deactivation, a change of role or agency or a password reset
    by the administrator takes effect at the next read or write (one
    primary-key lookup); a temporary password opens nothing but its change."""
    # Driver-level SQL: this runs before every service call (~30 µs, against
    # ~120 µs through the ORM's text() path); one round trip on a server
    # (where Service._check_account keeps it for a few seconds).
    conn = session.connection()
    row = conn.exec_driver_sql(dialect.of(conn).account_check_sql, (actor.user_id,)).first()
    if row is None or not row.active:
        raise SessionRevokedError(ACCOUNT_CLOSED)
    if (row.credentials_epoch or 0) != actor.epoch:
        raise SessionRevokedError(PASSWORD_RESET)
    if row.role != Role(actor.role).value or row.agency_id != actor.agency_id:
        raise SessionRevokedError(PROFILE_CHANGED)
    if row.must_change_password:
        raise PasswordChangeRequiredError(PASSWORD_CHANGE_REQUIRED)


def _raise_if_connection_lost(db: Database, exc: DBAPIError) -> None:
    """A connection that died under a transaction (server stopped, network
    cut, backend terminated) or a store kept busy by another writer is the
    user's French message (nothing was saved: the transaction was rolled
    back); other database errors stay what they are."""
    kind = dialect.of(db.engine).error_kind(exc)
    if kind == "lost":
        raise ServerConnectionError() from exc
    if kind == "busy":
        raise StoreBusyError() from exc
    if kind == "denied":
        raise AccessDeniedError(SERVER_DENIED) from exc


SERVER_DENIED = (
    "Le serveur de base de données refuse cette opération à votre compte (droits imposés par le "
    "serveur) : rien n'a été enregistré. Les purges, les sauvegardes et les statistiques de "
    "toutes les agences se lancent avec le compte propriétaire de la base ; pour le reste, "
    "adressez-vous à l'administrateur."
)


class Service:
    """Base of every use-case class: ``XService(db, actor).do_something()``.

    Methods return plain dataclasses, never live ORM objects, so widgets never
    lazy-load behind the service's back."""

    def __init__(self, db: Database, actor: Actor) -> None:
        self.db = db
        self.actor = actor
        # The program's one clock (domain.clock), handed down with the database.
        self.clock = db.clock

    def _check_account(self, session: Session) -> None:
        """``check_session``, at most once per ``account_check_ttl`` seconds
        per actor on a server store (a round trip saved on every call; any
        change to accounts, heard from the server or made here, forgets what
        was checked at once). On SQLite the check is local and runs every call."""
        ttl = dialect.of(self.db.engine).account_check_ttl
        if ttl and self.db.account_checked_recently(self.actor, ttl):
            return
        check_session(session, self.actor)
        if ttl:
            self.db.note_account_checked(self.actor)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with self.db.read_session() as session:
                self._check_account(session)
                yield session
        except DBAPIError as exc:
            _raise_if_connection_lost(self.db, exc)
            raise

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One all-or-nothing transaction; a stale version becomes a French
        ConflictError instead of a silent overwrite."""
        try:
            with self.db.write_session() as session:
                self._check_account(session)
                yield session
        except StaleDataError as exc:
            raise ConflictError() from exc
        except DBAPIError as exc:
            _raise_if_connection_lost(self.db, exc)
            raise


def check_version(expected: int | None, current: int) -> None:
    """Refuse a save based on an older version of the record than the stored
    one (the form was loaded before someone else saved)."""
    if expected is not None and expected != current:
        raise ConflictError()


def traces_refusals(method):
    """Record, after the method's own transaction is rolled back, the refused
    attempt it noted in ``self._denied`` as ``(entity_type, entity_id, what,
    case_id)`` (services.access.record_refusal)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self.__dict__.pop("_denied", None)
        try:
            return method(self, *args, **kwargs)
        except AccessDeniedError:
            denied = self.__dict__.pop("_denied", None)
            if denied is not None:
                from cus_desk.services import access

                entity_type, entity_id, what, case_id = denied
                access.record_refusal(self.db, self.actor, entity_type, entity_id, what, case_id=case_id)
            raise
        finally:
            self.__dict__.pop("_denied", None)

    return wrapper
