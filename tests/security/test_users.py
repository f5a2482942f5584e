"""The administrator manages accounts; nobody else can."""

from __future__ import annotations

import pytest

from cus_desk.domain.errors import AccessDeniedError, ValidationError, WorkflowError
from cus_desk.domain.roles import Role
from cus_desk.services import audit, auth
from cus_desk.services.users import UsersService
from tests.conftest import TEST_PASSWORD, agency_id
from tests.security.conftest import events


def test_add_with_temporary_password_must_change(db, actors):
    svc = UsersService(db, actors["admin"])
    info, temporary = svc.add("cs.woippy", "Wendy", Role.SOCIAL_ADVISER, agency_id(db, "woippy"))
    assert temporary and info.must_change_password and info.agency_name == "Woippy"
    signed = auth.sign_in(db, "cs.woippy", temporary)
    assert signed.must_change_password
    auth.change_password(db, signed.actor, temporary, "Woippy-Nouveau-1")
    assert not auth.sign_in(db, "cs.woippy", "Woippy-Nouveau-1").must_change_password
    created = [e for e in events(db, audit.Action.CREATE) if e[4].get("login") == "cs.woippy"]
    assert created and temporary not in str(created)


def test_add_refusals(db, actors):
    svc = UsersService(db, actors["admin"])
    with pytest.raises(ValidationError) as dup:
        svc.add("CS.METZ", "Doublon", Role.SOCIAL_ADVISER, agency_id(db, "metz"))
    assert "existe déjà" in dup.value.message
    with pytest.raises(ValidationError) as no_agency:
        svc.add("cs.x", "X", Role.SOCIAL_ADVISER, None)
    assert no_agency.value.field == "agency"
    with pytest.raises(ValidationError):
        svc.add("cs.y", "Y", "sorcier")
    with pytest.raises(ValidationError):
        svc.add("cs.z", "Z", Role.RECOVERY, password="faible")
    with pytest.raises(ValidationError):
        svc.add("", "Z", Role.RECOVERY)
    with pytest.raises(ValidationError) as unknown:
        svc.agency_id_by_name("Paris")
    assert "Metz" in unknown.value.message
    assert svc.agency_id_by_name("metz") == agency_id(db, "metz")
    assert [u.login for u in svc.list_users()].count("cs.metz") == 1


@pytest.mark.parametrize("who", ["adviser_metz", "social_head", "cas_member", "recovery_metz"])
def test_only_admin_manages_users(db, actors, who):
    svc = UsersService(db, actors[who])
    target = actors["adviser_forbach"].user_id
    for call in (svc.list_users, lambda: svc.add("x.y", "X", Role.ADMIN, password="Fort-Mot-de-passe-1"),
                 lambda: svc.reset_password(target), lambda: svc.set_active(target, False),
                 lambda: svc.unlock(target)):
        with pytest.raises(AccessDeniedError):
            call()
    assert auth.authenticate(db, "cs.forbach", TEST_PASSWORD)  # untouched


def test_reset_password_unlocks_and_old_one_stops_working(db, actors):
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            auth.authenticate(db, "cs.forbach", "mauvais")
    svc = UsersService(db, actors["admin"])
    assert svc.by_login("cs.forbach").locked
    temporary = svc.reset_password(actors["adviser_forbach"].user_id)
    assert not svc.by_login("cs.forbach").locked
    with pytest.raises(AccessDeniedError):
        auth.authenticate(db, "cs.forbach", TEST_PASSWORD)
    assert auth.sign_in(db, "cs.forbach", temporary).must_change_password
    assert temporary not in str(events(db))


def test_unlock(db, actors):
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            auth.authenticate(db, "cs.forbach", "mauvais")
    UsersService(db, actors["admin"]).unlock(actors["adviser_forbach"].user_id)
    assert auth.authenticate(db, "cs.forbach", TEST_PASSWORD)


def test_deactivate_and_last_admin(db, actors):
    svc = UsersService(db, actors["admin"])
    info = svc.set_active(actors["adviser_metz"].user_id, False)
    assert not info.active
    with pytest.raises(AccessDeniedError):
        auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    with pytest.raises(WorkflowError):
        svc.set_active(actors["admin"].user_id, False)  # own account
    with pytest.raises(WorkflowError):
        svc.update(actors["admin"].user_id, role=Role.RECOVERY)
    assert svc.get(actors["admin"].user_id).active
    svc.set_active(actors["adviser_metz"].user_id, True)
    assert auth.authenticate(db, "cs.metz", TEST_PASSWORD)
    changes = [e for e in events(db, audit.Action.UPDATE) if e[2] == "user"]
    assert changes[-1][4] == {"active": [False, True]}


def test_update_role_and_agency(db, actors):
    svc = UsersService(db, actors["admin"])
    uid = actors["recovery_metz"].user_id
    with pytest.raises(ValidationError):
        svc.update(uid, role=Role.SOCIAL_ADVISER, agency_id=None)
    info = svc.update(uid, role=Role.SOCIAL_ADVISER, agency_id=agency_id(db, "forbach"),
                      display_name="Romain R.")
    assert info.role is Role.SOCIAL_ADVISER and info.agency_name == "Forbach"
    assert auth.authenticate(db, "recouvrement.metz", TEST_PASSWORD).role is Role.SOCIAL_ADVISER
