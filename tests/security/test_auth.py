"""Login, lockout after 5 wrong passwords, inactive accounts, password
change, first administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.domain.roles import Role
from cus_desk.services import audit, auth
from cus_desk.store.models.core import User
from tests.conftest import TEST_PASSWORD
from tests.security.conftest import events


def _user(db, login):
    from sqlalchemy.orm import undefer

    with db.read_session() as s:  # the hash is deferred (not loaded with the row)
        return s.scalar(select(User).options(undefer(User.password_hash)).where(User.login == login))


def test_good_password_logs_in_and_is_audited(db, actors):
    actor = auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    assert actor.login == "cs.metz" and actor.role is Role.SOCIAL_ADVISER
    assert _user(db, "cs.metz").last_login_at is not None
    assert events(db, audit.Action.LOGIN)[-1][0] == "cs.metz"


def test_wrong_password_and_unknown_login_same_message(db, actors):
    with pytest.raises(AccessDeniedError) as wrong:
        auth.authenticate(db, "cs.metz", "faux")
    with pytest.raises(AccessDeniedError) as unknown:
        auth.authenticate(db, "personne", "faux")
    assert wrong.value.message == unknown.value.message == auth.BAD_CREDENTIALS
    failed = events(db, audit.Action.LOGIN_FAILED)
    assert failed[0][0] == "cs.metz"
    assert failed[1][0].startswith("inconnu#") and "personne" not in str(failed[1])  # a keyed hash only
    assert all("faux" not in str(f) for f in failed)  # a typed password is never logged


def test_five_failures_lock_15_minutes_even_with_right_password(db, actors, clock):
    for _ in range(4):
        with pytest.raises(AccessDeniedError) as exc:
            auth.authenticate(db, "cs.metz", "mauvais")
        assert not isinstance(exc.value, auth.AccountLockedError)
    with pytest.raises(auth.AccountLockedError) as locked:
        auth.authenticate(db, "cs.metz", "mauvais")
    assert "verrouillé" in locked.value.message and "Réessayez après" in locked.value.message
    until = _user(db, "cs.metz").locked_until
    assert until - clock.now() == timedelta(minutes=15)
    with pytest.raises(auth.AccountLockedError):
        auth.authenticate(db, "cs.metz", TEST_PASSWORD)  # the right one is refused too
    # Other accounts are not affected.
    assert auth.authenticate(db, "cs.forbach", TEST_PASSWORD).login == "cs.forbach"
    # Once the 15 minutes are over, the right password works and resets the count.
    clock.advance(timedelta(minutes=14, seconds=59))
    with pytest.raises(auth.AccountLockedError):
        auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    clock.advance(timedelta(seconds=1))
    assert auth.authenticate(db, "cs.metz", TEST_PASSWORD).login == "cs.metz"
    user = _user(db, "cs.metz")
    assert user.failed_logins == 0 and user.locked_until is None


def test_success_resets_failure_count(db, actors):
    for _ in range(4):
        with pytest.raises(AccessDeniedError):
            auth.authenticate(db, "cs.metz", "mauvais")
    auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    with pytest.raises(AccessDeniedError) as exc:
        auth.authenticate(db, "cs.metz", "mauvais")
    assert not isinstance(exc.value, auth.AccountLockedError)


def test_inactive_account_cannot_log_in(db, actors):
    with db.write_session() as s:
        s.scalar(select(User).where(User.login == "cs.metz")).active = False
    with pytest.raises(AccessDeniedError) as exc:
        auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    assert "désactivé" in exc.value.message
    with pytest.raises(AccessDeniedError) as exc:  # a wrong password says nothing more
        auth.authenticate(db, "cs.metz", "mauvais")
    assert exc.value.message == auth.BAD_CREDENTIALS


def test_change_password(db, actors):
    actor = actors["adviser_metz"]
    with pytest.raises(AccessDeniedError):
        auth.change_password(db, actor, "pas le bon", "Nouveau-mot-2026")
    with pytest.raises(ValidationError) as weak:
        auth.change_password(db, actor, TEST_PASSWORD, "court")
    assert "10 caractères" in weak.value.message
    with pytest.raises(ValidationError) as diff:
        auth.change_password(db, actor, TEST_PASSWORD, "Nouveau-mot-2026", "Nouveau-mot-2027")
    assert diff.value.field == "confirmation"
    auth.change_password(db, actor, TEST_PASSWORD, "Nouveau-mot-2026", "Nouveau-mot-2026")
    with pytest.raises(AccessDeniedError):
        auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    assert auth.authenticate(db, "cs.metz", "Nouveau-mot-2026").login == "cs.metz"
    stored = _user(db, "cs.metz").password_hash
    assert stored.startswith("$argon2") and "Nouveau" not in stored
    assert all("Nouveau-mot" not in str(e) for e in events(db))


def test_first_admin(db):
    assert auth.needs_first_admin(db)
    with pytest.raises(ValidationError):
        auth.create_first_admin(db, "admin", "Admin", "faible", "faible")
    with pytest.raises(ValidationError) as mismatch:
        auth.create_first_admin(db, "admin", "Admin", "Fort-Mot-de-passe-1", "Fort-Mot-de-passe-2")
    assert "différentes" in mismatch.value.message
    with pytest.raises(ValidationError):
        auth.create_first_admin(db, "Adm in!", "Admin", "Fort-Mot-de-passe-1")
    assert auth.needs_first_admin(db)  # nothing half created
    actor = auth.create_first_admin(db, "admin", "Alice", "Fort-Mot-de-passe-1", "Fort-Mot-de-passe-1")
    assert actor.role is Role.ADMIN
    assert not auth.needs_first_admin(db)
    with pytest.raises(AccessDeniedError):
        auth.create_first_admin(db, "admin2", "Bob", "Fort-Mot-de-passe-1")
    assert auth.authenticate(db, "admin", "Fort-Mot-de-passe-1").user_id == actor.user_id


@pytest.mark.sqlite_only(reason="checks an account inside a SQLite backup file, read-only")
def test_verify_credentials_in_file_writes_nothing(db, actors, db_path):
    before = len(events(db))
    assert auth.credentials_in_file(db_path, "admin", TEST_PASSWORD) is Role.ADMIN
    assert auth.credentials_in_file(db_path, "admin", "faux") is None
    assert auth.credentials_in_file(db_path, "inconnu", "faux") is None
    assert auth.credentials_in_file(db_path.with_name("absente.sqlite3"), "admin", TEST_PASSWORD) == auth.UNREADABLE
    assert len(events(db)) == before
