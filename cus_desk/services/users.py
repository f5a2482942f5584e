"""Account management by the administrator: list, add, edit, deactivate,
unlock, reset a password (a new temporary one, shown once; a password is
never read back)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cus_desk.domain.errors import NotFoundError, ValidationError, WorkflowError
from cus_desk.domain.roles import Role
from cus_desk.domain.security import is_locked
from cus_desk.services import access, audit
from cus_desk.services.auth import (
    check_login,
    check_strength,
    hash_password,
    temporary_password_expiry,
)
from cus_desk.services.base import Service
from cus_desk.store import dialect
from cus_desk.store.models.core import Agency, User

# Roles tied to one agency (a conseillère sociale of Metz sees Metz' cases).
AGENCY_ROLES = {Role.SOCIAL_ADVISER}


@dataclass(frozen=True)
class UserInfo:
    id: int
    login: str
    display_name: str
    role: Role
    role_label: str
    agency_id: int | None
    agency_name: str | None
    active: bool
    locked_until: datetime | None
    must_change_password: bool
    last_login_at: datetime | None
    locked: bool  # locked out (too many failures) at the time of reading

    def as_dict(self) -> dict:
        return {
            "id": self.id, "login": self.login, "nom": self.display_name,
            "role": self.role.value, "role_libelle": self.role_label,
            "agence": self.agency_name, "actif": self.active, "verrouille": self.locked,
            "doit_changer_mot_de_passe": self.must_change_password,
            "derniere_connexion": self.last_login_at.isoformat() if self.last_login_at else None,
        }


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    code: str
    name: str
    label: str


def _info(user: User, now: datetime) -> UserInfo:
    role = Role(user.role)
    return UserInfo(
        id=user.id, login=user.login, display_name=user.display_name, role=role,
        role_label=role.label, agency_id=user.agency_id,
        agency_name=user.agency.name if user.agency else None, active=bool(user.active),
        locked_until=user.locked_until, must_change_password=bool(user.must_change_password),
        last_login_at=user.last_login_at, locked=is_locked(user.locked_until, now),
    )


def temporary_password() -> str:
    """A random temporary password that satisfies the strength rule
    (e.g. ``Kq7x-Wm2p-Zt9d``)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)]
        candidate = "-".join(groups)
        if (any(c.islower() for c in candidate) and any(c.isupper() for c in candidate)
                and any(c.isdigit() for c in candidate)):
            return candidate


class UsersService(Service):
    def agencies(self) -> list[AgencyInfo]:
        with self._read() as session:
            return [AgencyInfo(a.id, a.code, a.name, a.label)
                    for a in session.scalars(select(Agency).order_by(Agency.name))]

    def agency_id_by_name(self, name: str) -> int:
        """An agency by its code, name or label (case-insensitive)."""
        wanted = (name or "").strip().lower()
        for agency in self.agencies():
            if wanted in (agency.code.lower(), agency.name.lower(), agency.label.lower()):
                return agency.id
        names = ", ".join(a.name for a in self.agencies())
        raise ValidationError(f"Agence « {name} » inconnue. Agences possibles : {names}.", "agency")

    def list_users(self, include_inactive: bool = True) -> list[UserInfo]:
        access.require(self.actor, access.Permission.USER_ADMIN)
        with self._read() as session:
            query = select(User).order_by(User.login)
            if not include_inactive:
                query = query.where(User.active.is_(True))
            return [_info(u, self.clock.now()) for u in session.scalars(query)]

    def get(self, user_id: int) -> UserInfo:
        access.require(self.actor, access.Permission.USER_ADMIN)
        with self._read() as session:
            return _info(self._load(session, user_id), self.clock.now())

    @staticmethod
    def _load(session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError("Ce compte n'existe plus (il a peut-être été supprimé). "
                                "Rechargez la liste des utilisateurs.")
        return user

    @staticmethod
    def _check_role_agency(role: Role, agency_id: int | None) -> None:
        if role in AGENCY_ROLES and agency_id is None:
            raise ValidationError(
                "Une conseillère sociale est rattachée à une agence : choisissez son agence.",
                "agency")

    def add(self, login: str, display_name: str, role: Role | str,
            agency_id: int | None = None, password: str | None = None) -> tuple[UserInfo, str | None]:
        """Create an account. Without ``password`` a temporary one is drawn,
        returned once, and must be changed at first login."""
        access.require(self.actor, access.Permission.USER_ADMIN)
        login = (login or "").strip()
        check_login(login)
        try:
            role = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise ValidationError(f"Rôle « {role} » inconnu. Rôles possibles : {roles}.", "role") from None
        self._check_role_agency(role, agency_id)
        temporary = None
        if password is None:
            temporary = password = temporary_password()
        else:
            check_strength(password, login)
        with self._write() as session:
            if session.scalar(select(User.id).where(func.lower(User.login) == login.lower())):
                raise ValidationError(f"L'identifiant « {login} » existe déjà. Choisissez-en un autre.",
                                      "login")
            if agency_id is not None and session.get(Agency, agency_id) is None:
                raise ValidationError("Cette agence n'existe pas.", "agency")
            user = User(login=login, display_name=(display_name or "").strip() or login,
                        role=role.value, agency_id=agency_id, password_hash=hash_password(password),
                        active=True, failed_logins=0, must_change_password=temporary is not None,
                        temporary_password_expires_at=(temporary_password_expiry(session, self.clock.now())
                                                       if temporary is not None else None))
            session.add(user)
            session.flush()
            # On a secured server: the person's own server account, same password.
            dialect.of(session).set_server_account(session, login, role, True, password)
            audit.record(session, self.actor, audit.Action.CREATE, "user", user.id,
                         details={"login": login, "role": role.value, "agency_id": agency_id,
                                  "mot_de_passe": "provisoire" if temporary else "choisi"})
            session.refresh(user)
            return _info(user, self.clock.now()), temporary

    def update(self, user_id: int, *, display_name: str | None = None,
               role: Role | str | None = None, agency_id: int | None | type(...) = ...,
               active: bool | None = None) -> UserInfo:
        access.require(self.actor, access.Permission.USER_ADMIN)
        with self._write() as session:
            user = self._load(session, user_id)
            before = {"display_name": user.display_name, "role": user.role,
                      "agency_id": user.agency_id, "active": bool(user.active)}
            if display_name is not None:
                if not display_name.strip():
                    raise ValidationError("Le nom affiché ne peut pas être vide.", "display_name")
                user.display_name = display_name.strip()
            if role is not None:
                user.role = Role(role).value
            if agency_id is not ...:
                if agency_id is not None and session.get(Agency, agency_id) is None:
                    raise ValidationError("Cette agence n'existe pas.", "agency")
                user.agency_id = agency_id
            if active is not None:
                user.active = bool(active)
            self._check_role_agency(Role(user.role), user.agency_id)
            after = {"display_name": user.display_name, "role": user.role,
                     "agency_id": user.agency_id, "active": bool(user.active)}
            if user.id == self.actor.user_id and (not user.active or user.role != Role.ADMIN.value):
                raise WorkflowError(
                    "Vous ne pouvez pas désactiver votre propre compte ni lui retirer le rôle "
                    "administrateur : demandez-le à un autre administrateur.")
            self._keep_one_admin(session)
            changes = audit.diff_fields(before, after)
            if before["role"] != after["role"] or before["active"] != after["active"]:
                dialect.of(session).set_server_account(session, user.login, user.role,
                                                       bool(user.active))
            if changes:
                audit.record(session, self.actor, audit.Action.UPDATE, "user", user.id,
                             details=changes)
            session.flush()
            session.refresh(user)
            return _info(user, self.clock.now())

    @staticmethod
    def _keep_one_admin(session) -> None:
        session.flush()
        admins = session.scalar(select(func.count(User.id)).where(
            User.role == Role.ADMIN.value, User.active.is_(True)))
        if not admins:
            raise WorkflowError("Il doit rester au moins un administrateur actif.")

    def set_active(self, user_id: int, active: bool) -> UserInfo:
        return self.update(user_id, active=active)

    def unlock(self, user_id: int) -> UserInfo:
        access.require(self.actor, access.Permission.USER_ADMIN)
        with self._write() as session:
            user = self._load(session, user_id)
            user.locked_until = None
            user.failed_logins = 0
            audit.record(session, self.actor, audit.Action.ADMIN, "user", user.id,
                         details={"operation": "déverrouillage"})
            session.flush()
            return _info(user, self.clock.now())

    def reset_password(self, user_id: int) -> str:
        """Give the account a new temporary password (returned once, to be
        handed to its owner), to be changed at next login; unlocks it."""
        access.require(self.actor, access.Permission.USER_ADMIN)
        temporary = temporary_password()
        with self._write() as session:
            user = self._load(session, user_id)
            user.password_hash = hash_password(temporary)
            dialect.of(session).set_server_account(session, user.login, user.role,
                                                   bool(user.active), temporary)
            user.must_change_password = True
            user.temporary_password_expires_at = temporary_password_expiry(session, self.clock.now())
            # Sessions opened with the old password end at their next read or write.
            user.credentials_epoch = (user.credentials_epoch or 0) + 1
            user.locked_until = None
            user.failed_logins = 0
            audit.record(session, self.actor, audit.Action.ADMIN, "user", user.id,
                         details={"operation": "réinitialisation du mot de passe",
                                  "mot_de_passe": audit.CONFIDENTIAL_MARK,
                                  "sessions_ouvertes": "fermées"})
        return temporary

    def by_login(self, login: str) -> UserInfo:
        access.require(self.actor, access.Permission.USER_ADMIN)
        with self._read() as session:
            user = session.scalar(select(User).where(User.login == (login or "").strip()))
            if user is None:
                raise NotFoundError(f"Aucun compte « {login} ». Voyez « cus-desk users list ».")
            return _info(user, self.clock.now())
