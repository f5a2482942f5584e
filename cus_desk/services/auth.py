"""Accounts and authentication (Argon2 hashes; the plain password is never
stored nor logged).

* 5 wrong passwords in a row lock the account for 15 minutes (also through
  the CLI, which calls ``authenticate`` too);
* an inactive account cannot sign in;
* the first start creates the administrator (``create_first_admin``);
* everyone changes their own password (``change_password``); an
  administrator resets one (services.users) and never reads one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from cus_desk.domain import security as rules
from cus_desk.domain.errors import (
    AccessDeniedError,
    SessionRevokedError,
    StoreBusyError,
    ValidationError,
)
from cus_desk.domain.formatting import PARIS
from cus_desk.domain.roles import Role
from cus_desk.services import audit
from cus_desk.services.base import PASSWORD_RESET, Actor
from cus_desk.store import dialect
from cus_desk.store.db import Database
from cus_desk.store.models.core import User

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the login is unknown, so that an unknown login takes as
    long as a wrong password (no guessing of logins by timing). Computed on
    first need: an Argon2 hash at import would cost every start-up ~0.2 s."""
    return _hasher.hash("cus-desk-no-such-account")

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
INACTIVE_ACCOUNT = (
    "Ce compte est désactivé. Adressez-vous à l'administrateur de CUS Desk "
    "s'il doit être réactivé."
)


class AccountLockedError(AccessDeniedError):
    """Too many wrong passwords: the account waits until ``until``."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = until.astimezone(PARIS).strftime("%H:%M")
        super().__init__(
            f"Ce compte est verrouillé après {rules.MAX_FAILED_LOGINS} mots de passe erronés. "
            f"Réessayez après {local}, ou demandez à l'administrateur de le déverrouiller."
        )


@dataclass(frozen=True)
class SignIn:
    actor: Actor
    must_change_password: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=Role(user.role),
        agency_id=user.agency_id,
        epoch=user.credentials_epoch or 0,
    )


TEMPORARY_EXPIRED = (
    "Ce mot de passe provisoire a expiré (un mot de passe provisoire vaut {hours} heures). "
    "Demandez-en un nouveau à l'administrateur de CUS Desk."
)


def temporary_password_expiry(session, now: datetime) -> datetime:
    """When a temporary password given now stops working (setting, in hours)."""
    from cus_desk.domain.settings import TEMPORARY_PASSWORD_HOURS
    from cus_desk.services.settings import read_setting

    return now + timedelta(hours=read_setting(session, TEMPORARY_PASSWORD_HOURS))


def _temporary_expired(user: User, now: datetime) -> bool:
    """A temporary password past its expiry (or without one: set before
    expiries were recorded) no longer opens anything."""
    if not user.must_change_password:
        return False
    return user.temporary_password_expires_at is None or now >= user.temporary_password_expires_at


def _unknown_login_lock(session, pseudonym: str, now: datetime) -> tuple[datetime | None, bool]:
    """The lockout a known account would be in, played for a login that
    matches no account (from the audit trail of that login's pseudonym), so
    that the answers never tell which logins exist. Returns (locked until,
    already locked before this attempt)."""
    from cus_desk.store.models.core import AuditEvent

    events = session.execute(
        select(AuditEvent.id, AuditEvent.details_json)
        .where(AuditEvent.action == audit.Action.LOGIN_FAILED, AuditEvent.user_login == pseudonym)
        .order_by(AuditEvent.id)
    ).all()
    failures = 0
    until: datetime | None = None
    for _, details_json in events:
        details = json.loads(details_json or "{}")
        if "verrouillage_jusqu_a" in details:
            until = datetime.fromisoformat(details["verrouillage_jusqu_a"])
            failures = 0
        elif details.get("motif") == "identifiant inconnu":
            failures += 1
    if until is not None and rules.is_locked(until, now):
        return until, True
    count, locked = rules.after_failure(failures, now)
    return locked, False


def check_strength(password: str, login: str = "") -> None:
    problems = rules.password_problems(password, login)
    if problems:
        raise ValidationError(" ".join(problems), "password")


OTHER_SERVER_ACCOUNT = (
    "Cette connexion au serveur est celle d'une autre personne : chacun se connecte avec son "
    "propre compte. Relancez CUS Desk et saisissez votre identifiant et votre mot de passe."
)


def sign_in(db: Database, login: str, password: str, *, unlock: bool = False,
            session_actor: Actor | None = None) -> SignIn:
    """Check a login and password; every attempt is audited (a login that
    matches no account only as a keyed hash: it may be a password typed in
    the wrong field). ``unlock`` marks the re-authentication of a session
    locked after idle time (``session_actor``: that session's actor, refused
    if its password was reset since). A lockout reads the same for a login
    that exists and one that does not.

    The (deliberately slow) Argon2 check runs outside any write transaction,
    so other workstations are not held up; the outcome is then recorded in
    one write transaction that re-reads the account (a lock set meanwhile
    by another attempt wins)."""
    from cus_desk.services import deferred_audit

    login = (login or "").strip()
    try:
        deferred_audit.flush(db)  # sign-ins deferred earlier on this store, if any
    except StoreBusyError:
        pass  # still busy: they wait for the next turn
    with db.read_session() as session:
        if login and not dialect.of(session).may_sign_in_as(session, login):
            raise AccessDeniedError(OTHER_SERVER_ACCOUNT)
        # The whole row (a deferred sign-in builds its actor from it) but the
        # hash through the seam: on a secured server a person reads her own only.
        found = session.scalar(select(User).where(User.login == login)) if login else None
        stored_hash = dialect.of(session).password_hash(session, login) if found is not None else None
    locked_before = found is not None and rules.is_locked(found.locked_until, db.clock.now())
    ok = _verify(None if found is None or locked_before else stored_hash, password)
    ok = ok and found is not None and not locked_before
    try:
        return _record_sign_in(db, login, ok, unlock, session_actor)
    except StoreBusyError:
        # The writer's lock is held by another writer (a long import). A
        # sign-in that succeeds on what was just read does not need it: its
        # audit event is deferred, never skipped (services.deferred_audit).
        # A failure is never deferred (the lockout must count it first).
        now = db.clock.now()
        if not (ok and found.active and not _temporary_expired(found, now)
                and (session_actor is None or (found.credentials_epoch or 0) == session_actor.epoch)):
            raise
        deferred_audit.defer_login(db, found.id, found.login, unlock, now)
        return SignIn(actor_of(found), bool(found.must_change_password))


def _record_sign_in(db: Database, login: str, ok: bool, unlock: bool,
                    session_actor: Actor | None) -> SignIn:
    """The outcome of a sign-in, recorded in one write transaction that
    re-reads the account (a lock set meanwhile by another attempt wins)."""
    from cus_desk.services import deferred_audit

    error: AccessDeniedError | None = None
    result: SignIn | None = None
    with db.write_session(wait_ms=deferred_audit.LOGIN_WAIT_MS, attempts=1) as session:
        user = session.scalar(select(User).where(User.login == login)) if login else None
        now = db.clock.now()
        if user is not None and rules.is_locked(user.locked_until, now):
            audit.login_pseudonym(session, login)  # same work as for an unknown login (timing)
            error = AccountLockedError(user.locked_until)
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", user.id,
                         login=login, details={"motif": "compte verrouillé"})
        elif user is None:
            pseudonym = audit.login_pseudonym(session, login)
            locked, already = _unknown_login_lock(session, pseudonym, now)
            details = {"motif": "compte verrouillé" if already else "identifiant inconnu"}
            if locked is not None and not already:
                details["verrouillage_jusqu_a"] = locked.isoformat(timespec="seconds")
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", None,
                         login=pseudonym, details=details)
            error = AccountLockedError(locked) if locked is not None else AccessDeniedError(BAD_CREDENTIALS)
        elif not ok:
            audit.login_pseudonym(session, login)  # same work as for an unknown login (timing)
            details = {"motif": "mot de passe erroné"}
            user.failed_logins, locked = rules.after_failure(user.failed_logins or 0, now)
            if locked is not None:
                user.locked_until = locked
                details["verrouillage_jusqu_a"] = locked.isoformat(timespec="seconds")
                error = AccountLockedError(locked)
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", user.id,
                         login=user.login, details=details)
            error = error or AccessDeniedError(BAD_CREDENTIALS)
        elif not user.active:
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", user.id,
                         login=login, details={"motif": "compte désactivé"})
            error = AccessDeniedError(INACTIVE_ACCOUNT)
        elif _temporary_expired(user, now):
            from cus_desk.domain.settings import TEMPORARY_PASSWORD_HOURS
            from cus_desk.services.settings import read_setting

            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", user.id,
                         login=login, details={"motif": "mot de passe provisoire expiré"})
            error = AccessDeniedError(TEMPORARY_EXPIRED.format(
                hours=read_setting(session, TEMPORARY_PASSWORD_HOURS)))
        elif session_actor is not None and (user.credentials_epoch or 0) != session_actor.epoch:
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", user.id, login=login,
                         details={"motif": "session close après réinitialisation du mot de passe"})
            error = SessionRevokedError(PASSWORD_RESET)
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            actor = actor_of(user)
            audit.record(session, actor, audit.Action.LOGIN, "user", user.id,
                         details={"déverrouillage": True} if unlock else None)
            result = SignIn(actor, bool(user.must_change_password))
    if error is not None:
        raise error
    assert result is not None
    return result


def authenticate(db: Database, login: str, password: str) -> Actor:
    return sign_in(db, login, password).actor


def reauthenticate(db: Database, actor: Actor, password: str) -> Actor:
    """Unlock a session locked after idle time: same checks as a login
    (wrong passwords count toward the lockout)."""
    return sign_in(db, actor.login, password, unlock=True, session_actor=actor).actor


def must_change_password(db: Database, actor: Actor) -> bool:
    with db.read_session() as session:
        user = session.get(User, actor.user_id)
        return bool(user and user.must_change_password)


def change_password(db: Database, actor: Actor, old_password: str, new_password: str,
                    confirmation: str | None = None) -> None:
    """Change one's own password (the old one is asked again)."""
    check_strength(new_password, actor.login)
    if confirmation is not None and confirmation != new_password:
        raise ValidationError(
            "Les deux saisies du nouveau mot de passe sont différentes. Retapez-les.", "confirmation")
    if new_password == old_password:
        raise ValidationError("Le nouveau mot de passe doit être différent de l'ancien.", "password")
    failed = False
    with db.write_session() as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.active:
            raise AccessDeniedError(INACTIVE_ACCOUNT)
        if (user.credentials_epoch or 0) != actor.epoch:
            raise SessionRevokedError(PASSWORD_RESET)
        if not _verify(dialect.of(session).password_hash(session, user.login), old_password):
            failed = True
            audit.record(session, actor, audit.Action.LOGIN_FAILED, "user", user.id,
                         details={"motif": "ancien mot de passe erroné (changement)"})
        else:
            user.password_hash = hash_password(new_password)
            dialect.of(session).set_own_server_password(session, user.login, new_password)
            user.must_change_password = False
            user.temporary_password_expires_at = None
            audit.record(session, actor, audit.Action.UPDATE, "user", user.id,
                         details={"mot_de_passe": audit.CONFIDENTIAL_MARK})
    if failed:
        raise AccessDeniedError(
            "L'ancien mot de passe saisi est incorrect : le mot de passe n'a pas été changé.")


def actor_for_login(db: Database, login: str) -> Actor:
    """The actor of an existing account, without a password (demo only)."""
    with db.read_session() as session:
        user = session.scalar(select(User).where(User.login == login))
        if user is None:
            raise ValidationError(f"Le compte « {login} » n'existe pas.")
        return actor_of(user)


def needs_first_admin(db: Database) -> bool:
    """True until an administrator account exists (first start)."""
    with db.read_session() as session:
        return session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is None


def create_first_admin(db: Database, login: str, display_name: str, password: str,
                       confirmation: str | None = None) -> Actor:
    """First start: create the administrator account. Refused once one exists."""
    login = (login or "").strip()
    check_login(login)
    check_strength(password, login)
    if confirmation is not None and confirmation != password:
        raise ValidationError(
            "Les deux saisies du mot de passe sont différentes. Retapez-les.", "confirmation")
    with db.write_session() as session:
        if session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)):
            raise AccessDeniedError(
                "Un compte administrateur existe déjà dans cette base : connectez-vous avec lui.")
        if session.scalar(select(User.id).where(User.login == login)) is not None:
            raise ValidationError(f"L'identifiant « {login} » existe déjà.", "login")
        user = User(login=login, display_name=(display_name or "").strip() or login,
                    role=Role.ADMIN.value, password_hash=hash_password(password), active=True,
                    failed_logins=0, must_change_password=False)
        session.add(user)
        session.flush()
        dialect.of(session).set_server_account(session, login, Role.ADMIN, True, password)
        actor = actor_of(user)
        audit.record(session, actor, audit.Action.CREATE, "user", user.id,
                     details={"login": login, "role": Role.ADMIN.value, "premier_demarrage": True})
        return actor


LOGIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


def check_login(login: str) -> None:
    if not login:
        raise ValidationError("L'identifiant ne peut pas être vide.", "login")
    if len(login) > 64:
        raise ValidationError("L'identifiant ne peut pas dépasser 64 caractères.", "login")
    if not set(login.lower()) <= LOGIN_CHARS:
        raise ValidationError(
            "L'identifiant ne peut contenir que des lettres sans accent, des chiffres, "
            "des points, tirets, soulignés ou @ (exemple : c.martin).", "login")


def create_user(
    db: Database,
    login: str,
    display_name: str,
    role: Role,
    password: str | None,
    agency_id: int | None = None,
    by: Actor | None = None,
) -> Actor:
    """Low-level account creation (tests, demo, services.users). It does not
    check password strength: services.users.UsersService.add does."""
    login = login.strip()
    if not login:
        raise ValidationError("L'identifiant ne peut pas être vide.", "login")
    with db.write_session() as session:
        if session.scalar(select(User.id).where(User.login == login)) is not None:
            raise ValidationError(f"L'identifiant « {login} » existe déjà.", "login")
        user = User(
            login=login,
            display_name=display_name.strip() or login,
            role=Role(role).value,
            agency_id=agency_id,
            password_hash=hash_password(password) if password else None,
            active=True,
            failed_logins=0,
        )
        session.add(user)
        session.flush()
        audit.record(session, by, audit.Action.CREATE, "user", user.id,
                     details={"login": login, "role": Role(role).value})
        return actor_of(user)


UNREADABLE = "illisible"


def credentials_in_file(path: Path, login: str, password: str) -> Role | str | None:
    """Check a login against a database file opened read-only, writing
    nothing (restoring over a damaged database). Returns the role of the
    active account these credentials open, None when they open none, or
    UNREADABLE when the file's accounts cannot be read at all."""
    if not Path(path).is_file():
        return UNREADABLE
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute(
                "SELECT password_hash, role, active FROM users WHERE login = ?", ((login or "").strip(),)
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return UNREADABLE
    if row is None or not row[2] or not _verify(row[0], password):
        return None
    try:
        return Role(row[1])
    except ValueError:
        return None
