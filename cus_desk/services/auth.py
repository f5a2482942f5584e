"""Accounts and authentication (Argon2 hashes; the plain password is never
stored nor logged)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.domain.roles import Role
from cus_desk.services import audit
from cus_desk.services.base import Actor
from cus_desk.store.db import Database
from cus_desk.store.models.core import User

_hasher = PasswordHasher()

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=Role(user.role),
        agency_id=user.agency_id,
    )


def authenticate(db: Database, login: str, password: str) -> Actor:
    with db.write_session() as session:
        user = session.scalar(select(User).where(User.login == login.strip()))
        ok = False
        if user is not None and user.active and user.password_hash:
            try:
                ok = _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok:
            audit.record(session, None, audit.Action.LOGIN_FAILED, "user", login, login=login)
    if not ok:
        raise AccessDeniedError(BAD_CREDENTIALS)
    with db.write_session() as session:
        user = session.scalar(select(User).where(User.login == login.strip()))
        actor = actor_of(user)
        audit.record(session, actor, audit.Action.LOGIN, "user", user.id)
        return actor


def actor_for_login(db: Database, login: str) -> Actor:
    """The actor of an existing account, without a password (demo only)."""
    with db.read_session() as session:
        user = session.scalar(select(User).where(User.login == login))
        if user is None:
            raise ValidationError(f"Le compte « {login} » n'existe pas.")
        return actor_of(user)


def create_user(
    db: Database,
    login: str,
    display_name: str,
    role: Role,
    password: str | None,
    agency_id: int | None = None,
    by: Actor | None = None,
) -> Actor:
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
        )
        session.add(user)
        session.flush()
        audit.record(session, by, audit.Action.CREATE, "user", user.id,
                     details={"login": login, "role": Role(role).value})
        return actor_of(user)
