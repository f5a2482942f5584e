"""The server rights' pieces that need no server: the mapping of logins to
server accounts, the policies generated from services/access.py, and
``db secure`` on a SQLite file (issue 15)."""

from __future__ import annotations

import pytest

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.settings import AGENDA_PUBLICATION_DAYS, ATTENDANCE_ACCESS_DAYS
from cus_desk.services import access
from cus_desk.store import pg_rights


def test_a_login_maps_to_one_server_account():
    assert pg_rights.login_role("C.Martin") == "cus_u_c.martin"
    assert pg_rights.login_role(" rec-metz@dt54 ") == "cus_u_rec-metz@dt54"
    assert pg_rights.login_role("a" * pg_rights.MAX_LOGIN) == "cus_u_" + "a" * pg_rights.MAX_LOGIN
    assert len(pg_rights.login_role("a" * pg_rights.MAX_LOGIN)) == 63


@pytest.mark.parametrize("login, words", [
    ("", "ne peut pas devenir un compte du serveur"),
    ("hélène", "ne peut pas devenir un compte du serveur"),
    ('x"; DROP ROLE postgres; --', "ne peut pas devenir un compte du serveur"),
    ("a" * (pg_rights.MAX_LOGIN + 1), "trop long pour un compte du serveur"),
])
def test_a_login_that_cannot_map_is_refused_in_french(login, words):
    with pytest.raises(ValidationError, match=words) as refused:
        pg_rights.login_role(login)
    assert refused.value.field == "login"


def test_identifiers_are_quoted():
    assert pg_rights.quote_ident('a"b') == '"a""b"'


def test_the_case_policies_are_generated_from_access_py(monkeypatch):
    """The policy is the SQL of access.py: change the rule there and the
    policy changes with it (nothing copied by hand)."""
    rules = pg_rights.case_read_policy(access)
    assert set(rules) == set(pg_rights.GROUPS.values())
    read = rules["cus_adviser"] + rules["cus_cas_member"]
    assert "agenda_items.case_id" in read and "attendees.present IS true" in read
    assert f"'{AGENDA_PUBLICATION_DAYS.key}'), {AGENDA_PUBLICATION_DAYS.default})" in read
    assert f"'{ATTENDANCE_ACCESS_DAYS.key}'), {ATTENDANCE_ACCESS_DAYS.default})" in read
    assert "session_user" in read
    from sqlalchemy import false

    monkeypatch.setattr(access, "_summary_clause", lambda actor, window, cases=None: false())
    assert "agenda_items" not in "".join(pg_rights.case_read_policy(access).values())


def test_every_case_table_has_a_policy_and_the_audit_trail_is_append_only():
    tables = pg_rights.policies(access)
    for name in ("cases", "case_problems", "confidential_notes", "journal_entries",
                 "repayment_plans", "decisions", "decision_follow_ups", "referrals",
                 "senior_alert_events", "senior_alert_info", "users"):
        assert tables[name], name
    assert pg_rights.CLIENT_GRANTS["audit_events"] == ("SELECT", "INSERT")
    assert pg_rights.OPTIONAL_CLIENT_GRANTS["audit_chain_head"] == ("SELECT",)
    for grants in pg_rights.GRANTS.values():
        assert "audit_events" not in grants and "audit_anchors" not in grants
    assert "password_hash" not in pg_rights.USERS_READ_COLUMNS


@pytest.mark.sqlite_only(reason="a SQLite file has no server rights")
def test_db_secure_on_a_sqlite_file_says_what_protects_it(tmp_path, capsys):
    from cus_desk.cli import main

    path = tmp_path / "poste.sqlite3"
    assert main(["--db", str(path), "db", "secure"]) == 0
    out = capsys.readouterr().out
    assert "fichier SQLite" in out and "droits du fichier" in out


def test_every_table_of_the_models_has_its_grants():
    """A table added without grants would be unreadable for every person on
    a secured server: list it in store/pg_rights.py (CLIENT_GRANTS, GRANTS)."""
    import cus_desk.store.models  # noqa: F401  (every model registered)
    from cus_desk.store.models.base import Base

    listed = (set(pg_rights.CLIENT_GRANTS) | set(pg_rights.OPTIONAL_CLIENT_GRANTS) | {"users"}
              | {name for grants in pg_rights.GRANTS.values() for name in grants})
    assert sorted(set(Base.metadata.tables) - listed) == []
