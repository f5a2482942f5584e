"""Rights the PostgreSQL server enforces (issue 15): one server account per
person, group roles with table grants, an append-only audit trail and
row-level security on case data, tried from outside the program — with the
real ``psql`` and with psycopg — as each role."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.meetings import MeetingStatus
from cus_desk.domain.roles import Role
from cus_desk.services import access, auth
from cus_desk.services.users import UsersService
from cus_desk.store import dialect, pg_rights
from cus_desk.store.db import open_database, with_password
from cus_desk.store.models.case_economics import CaseEconomics
from cus_desk.store.models.cases import Case, CaseSequence, JournalEntry
from cus_desk.store.models.core import Agency, AuditEvent, User
from cus_desk.store.models.meetings import AgendaItem, Attendee, Meeting
from tests.frozen_time import TEST_TODAY
from tests.meetings.conftest import make_case

PSQL = Path(os.environ.get("CUS_DESK_PG_BIN", "/usr/lib/postgresql/15/bin")) / "psql"
PASSWORD = "Motdepasse-Solide-42"
# Logins unique to this run: server roles are cluster-wide.
TAG = f"t{os.getpid()}"


@dataclass
class Person:
    key: str
    login: str
    role: Role
    user_id: int
    agency_id: int | None

    @property
    def account(self) -> str:
        return pg_rights.login_role(self.login)


PEOPLE = {  # key -> (role, agency code or None)
    "adviser_metz": (Role.SOCIAL_ADVISER, "metz"),
    "adviser_forbach": (Role.SOCIAL_ADVISER, "forbach"),
    "social_head": (Role.SOCIAL_HEAD, None),
    "cas_member": (Role.CAS_MEMBER, None),
    "recovery_metz": (Role.RECOVERY, "metz"),
    "recovery_hq": (Role.RECOVERY, None),
    "admin": (Role.ADMIN, None),
}


def _agency(db, code):
    with db.read_session() as s:
        return s.scalar(select(Agency.id).where(Agency.code == code))


@pytest.fixture
def secured(db, actors, pg_cluster):
    """The run's store, secured by ``db secure`` (the owner), with one
    person per role added by the administrator (``users add``), each with
    her own server account. Roles are dropped afterwards."""
    from types import SimpleNamespace

    from cus_desk.cli.db import cmd_secure

    assert cmd_secure(SimpleNamespace(db=db.url, demo=False, clock=db.clock)) == 0
    users = UsersService(db, actors["admin"])
    people = {}
    for key, (role, code) in PEOPLE.items():
        agency_id = _agency(db, code) if code else None
        info, _ = users.add(f"{TAG}.{key}", key, role, agency_id, password=PASSWORD)
        people[key] = Person(key, info.login, role, info.id, agency_id)
    yield people
    db.dispose()
    for person in people.values():
        pg_cluster.execute(f"DROP OWNED BY {pg_rights.quote_ident(person.account)}",
                           make_url(db.url).database)
        pg_cluster.execute(f"DROP ROLE IF EXISTS {pg_rights.quote_ident(person.account)}")


@pytest.fixture
def world(db, secured):
    """Cases in Metz and Forbach; a Forbach case on the agenda of a session
    the CAS member attends (but not the Metz adviser): secret to her."""
    metz, forbach = _agency(db, "metz"), _agency(db, "forbach")
    ids = {
        "metz": make_case(db, metz, "MARTIN", "Anne", journal=[(datetime(2026, 10, 1).date(), "entretien",
                                                             "Journal Metz")]),
        "forbach": make_case(db, forbach, "SECRET", "Bruno", journal=[(datetime(2026, 10, 2).date(),
                                                                   "entretien", "Journal Forbach")]),
        "forbach_agenda": make_case(db, forbach, "AGENDA", "Chloe"),
    }
    with db.write_session() as s:
        today = s.execute(text("SELECT (now() AT TIME ZONE 'Europe/Paris')::date")).scalar()
        meeting = Meeting(year=today.year, number=900, held_on=today + timedelta(days=3),
                          status=MeetingStatus.PREPAREE.value)
        s.add(meeting)
        s.flush()
        s.add(Attendee(meeting_id=meeting.id, user_id=secured["cas_member"].user_id, name="CAS",
                       function="autre", present=True))
        s.add(AgendaItem(meeting_id=meeting.id, case_id=ids["forbach_agenda"], position=1))
        # Cases made directly (make_case) do not move the year's numbering.
        for year in {today.year, TEST_TODAY.year}:
            s.add(CaseSequence(year=year, last_value=9999))
    return ids


def psql(person: Person, db, sql: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    url = make_url(db.url)
    env = dict(os.environ, PGPASSWORD=password)
    return subprocess.run(
        [str(PSQL), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", url.host,
         "-p", str(url.port), "-U", person.account, "-d", url.database, "-c", sql],
        capture_output=True, text=True, env=env, timeout=60)


def as_person(person: Person, db) -> psycopg.Connection:
    url = make_url(db.url)
    return psycopg.connect(host=url.host, port=url.port, dbname=url.database, user=person.account,
                           password=PASSWORD, autocommit=True)


# --- accounts -----------------------------------------------------------------------


def test_users_add_creates_a_scram_login_role_in_its_group(db, secured, pg_cluster):
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.rolname, r.rolcanlogin, a.rolpassword, "
            "array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "      WHERE m.member = r.oid ORDER BY 1) "
            "FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname LIKE :p"),
            {"p": f"cus_u_{TAG}.%"}).all()
    found = {name: (login, secret, groups) for name, login, secret, groups in rows}
    for person in secured.values():
        login, secret, groups = found[person.account]
        assert login is True
        assert secret.startswith("SCRAM-SHA-256$")
        assert groups == [pg_rights.GROUPS[person.role]]


def test_role_change_and_deactivation_follow_on_the_server(db, secured, actors):
    users = UsersService(db, actors["admin"])
    person = secured["adviser_forbach"]
    users.update(person.user_id, role=Role.CAS_MEMBER, agency_id=None)

    def state():
        with db.engine.connect() as conn:
            return conn.execute(text(
                "SELECT r.rolcanlogin, array(SELECT g.rolname FROM pg_auth_members m "
                "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) "
                "FROM pg_roles r WHERE r.rolname = :n"), {"n": person.account}).one()

    assert tuple(state()) == (True, ["cus_cas_member"])
    users.set_active(person.user_id, False)
    assert tuple(state()) == (False, [])
    refused = psql(person, db, "SELECT 1")
    assert refused.returncode != 0 and "not permitted to log in" in refused.stderr
    users.set_active(person.user_id, True)
    assert tuple(state()) == (True, ["cus_cas_member"])


def test_a_login_that_cannot_map_is_refused_and_nothing_is_stored(db, secured, actors):
    from cus_desk.domain.errors import ValidationError

    users = UsersService(db, actors["admin"])
    long_login = "x" * 60  # valid for the application, too long for a role name
    with pytest.raises(ValidationError, match="trop long pour un compte du serveur"):
        users.add(long_login, "Trop long", Role.CAS_MEMBER, password=PASSWORD)
    with db.read_session() as s:
        assert s.scalar(select(User.id).where(User.login == long_login)) is None


def test_the_password_is_sent_as_a_scram_verifier_never_in_clear(db, secured, actors):
    """The statements the server receives carry a verifier, not the
    password: a server log (log_statement = all) never holds it."""
    seen = []
    from sqlalchemy import event

    @event.listens_for(db.engine, "before_cursor_execute")
    def _spy(conn, cursor, statement, parameters, context, executemany):
        seen.append(f"{statement} {parameters}")

    try:
        UsersService(db, actors["admin"]).add(f"{TAG}.spy", "Spy", Role.CAS_MEMBER,
                                              password="Tres-Secret-Mot-99")
    finally:
        event.remove(db.engine, "before_cursor_execute", _spy)
        pg_rights_drop(db, f"{TAG}.spy")
    assert any("cus_account_set" in s and "SCRAM-SHA-256$" in s for s in seen)
    assert not any("Tres-Secret-Mot-99" in s for s in seen)


def pg_rights_drop(db, login):
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {pg_rights.quote_ident(pg_rights.login_role(login))}")


# --- attacks with psql -------------------------------------------------------------


def test_psql_an_adviser_reads_no_other_agency_case_nor_secret_one(db, secured, world):
    adviser = secured["adviser_metz"]
    forbach = _agency(db, "forbach")
    out = psql(adviser, db, f"SELECT count(*) FROM cases WHERE agency_id = {forbach}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"
    out = psql(adviser, db, f"SELECT id FROM cases WHERE id = {world['forbach_agenda']}")
    assert out.returncode == 0 and out.stdout.strip() == ""
    out = psql(adviser, db, "SELECT text FROM journal_entries")
    assert out.stdout.strip() == "Journal Metz"
    # The owner (the suite, purges) sees everything: no FORCE.
    with db.read_session() as s:
        assert s.scalar(select(text("count(*)")).select_from(Case)) == 3


def test_psql_a_cas_member_sees_the_agenda_summary_only(db, secured, world):
    member = secured["cas_member"]
    out = psql(member, db, "SELECT id FROM cases ORDER BY id")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(world["forbach_agenda"])]
    out = psql(member, db, "SELECT text FROM journal_entries")
    assert out.returncode != 0 and "permission denied" in out.stderr


def test_psql_a_cas_member_reads_the_rent_never_the_households_money(db, secured, world):
    """The summary's budget (#14): rent, charges and the procedure dates of
    the cases on her agenda; the resources and housing aid never."""
    with db.write_session() as s:
        for key in ("forbach_agenda", "metz"):
            s.add(CaseEconomics(case_id=world[key], rent_cents=45_000, resources_cents=98_765,
                                housing_aid_cents=20_000, assignation_on=TEST_TODAY))
    member = secured["cas_member"]
    out = psql(member, db, "SELECT case_id, rent_cents, assignation_on FROM case_economics")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"{world['forbach_agenda']}|45000|{TEST_TODAY.isoformat()}"]
    for column in ("resources_cents", "housing_aid_cents", "*"):
        out = psql(member, db, f"SELECT {column} FROM case_economics")
        assert out.returncode != 0 and "permission denied" in out.stderr, column
    # an adviser reads her agency's budgets in full, and only those
    out = psql(secured["adviser_forbach"], db, "SELECT case_id, resources_cents FROM case_economics")
    assert out.returncode == 0 and out.stdout.split() == [f"{world['forbach_agenda']}|98765"], out


def test_the_summary_columns_are_the_services(db):
    from cus_desk.services.case_economics import HOUSEHOLD_FIELDS
    from cus_desk.store import pg_rights

    assert set(pg_rights.CASE_ECONOMICS_HOUSEHOLD_COLUMNS) == set(HOUSEHOLD_FIELDS)


@pytest.mark.parametrize("key", list(PEOPLE))
def test_psql_the_audit_trail_is_append_only_for_every_role(db, secured, key):
    person = secured[key]
    for sql in ("UPDATE audit_events SET details_json = '{}'", "DELETE FROM audit_events",
                "TRUNCATE audit_events", "UPDATE audit_chain_head SET last_hash = 'forged'",
                "DELETE FROM audit_chain_head", "DELETE FROM audit_anchors",
                "SELECT password_hash FROM users"):
        out = psql(person, db, sql)
        assert out.returncode != 0, sql
        assert "permission denied" in out.stderr, (sql, out.stderr)
    out = psql(person, db, "SELECT h.last_hash = (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) "
                           "FROM audit_chain_head h")
    assert out.returncode == 0 and out.stdout.strip() == "t", out  # readable, and still the chain's head
    out = psql(person, db, "SELECT count(*) > 0 FROM audit_events")
    assert out.returncode == 0 and out.stdout.strip() == "t"


def test_psql_no_write_across_agencies(db, secured, world):
    adviser = secured["adviser_metz"]
    out = psql(adviser, db, f"UPDATE cases SET summary = 'x' WHERE id = {world['forbach']}")
    assert out.returncode == 0 and out.stderr == ""
    out = psql(adviser, db, f"INSERT INTO journal_entries (case_id, kind, occurred_on, text) "
                            f"VALUES ({world['forbach']}, 'entretien', current_date, 'forged')")
    assert out.returncode != 0 and "row-level security" in out.stderr, out.stderr
    with db.read_session() as s:
        assert s.get(Case, world["forbach"]).summary == ""
        assert s.scalar(select(text("count(*)")).select_from(JournalEntry)) == 2
    # A case moved to another agency by its own adviser: refused too.
    out = psql(adviser, db, f"UPDATE cases SET agency_id = {_agency(db, 'forbach')} "
                            f"WHERE id = {world['metz']}")
    assert out.returncode != 0 and "row-level security" in out.stderr


def test_psql_recovery_staff_never_read_the_case_text(db, secured, world):
    recovery = secured["recovery_metz"]
    out = psql(recovery, db, "SELECT summary FROM cases")
    assert out.returncode != 0 and "permission denied" in out.stderr
    out = psql(recovery, db, "SELECT reference FROM cases ORDER BY id")
    assert out.returncode == 0
    assert len(out.stdout.split()) == 1  # the Metz case only (decisions to follow up)
    out = psql(recovery, db, "SELECT * FROM confidential_notes")
    assert out.returncode != 0 and "permission denied" in out.stderr


def test_psql_a_client_cannot_raise_its_own_role(db, secured):
    adviser = secured["adviser_metz"]
    out = psql(adviser, db, f"UPDATE users SET role = 'responsable_pole_social' "
                            f"WHERE id = {adviser.user_id}")
    assert out.returncode != 0 and "permission denied" in out.stderr
    out = psql(adviser, db, f"SELECT cus_account_set('{adviser.login}', 'cus_pole_social', true, NULL)")
    assert out.returncode != 0 and "permission denied" in out.stderr
    out = psql(adviser, db, f"GRANT cus_pole_social TO \"{adviser.account}\"")
    assert out.returncode != 0


# --- the same with psycopg ------------------------------------------------------------


def test_psycopg_as_each_role(db, secured, world):
    with as_person(secured["adviser_forbach"], db) as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM cases")}
        assert ids == {world["forbach"], world["forbach_agenda"]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_events")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT password_hash FROM users")
        assert conn.execute("SELECT cus_password_hash(%s)",
                            (secured["admin"].login,)).fetchone()[0] is None
        assert conn.execute("SELECT cus_password_hash(%s)",
                            (secured["adviser_forbach"].login,)).fetchone()[0].startswith("$argon2")
    with as_person(secured["social_head"], db) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 3
    with as_person(secured["admin"], db) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT summary FROM cases")  # no case text, and no case row at all
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE audit_events")


# --- one rule: the server's rows == access.py, cell by cell ------------------------------


def test_row_security_matches_access_py_cell_by_cell(db, secured, clock):
    """For every role × agency × case × session state: what access.py
    says (NONE/SUMMARY/FULL) equals what a session as that role may SELECT
    and UPDATE on the server."""
    metz, forbach = _agency(db, "metz"), _agency(db, "forbach")
    with db.read_session() as s:
        now = s.execute(text("SELECT now()")).scalar().astimezone(UTC)
    clock.set(now)
    today = clock.today()
    cases = [make_case(db, agency, f"CAS{i}", "X") for i, agency in
             enumerate([metz, forbach, metz, forbach, forbach, metz, forbach, forbach])]
    states = [  # (held_on, status, closed_at)
        (today + timedelta(days=10), MeetingStatus.PREPAREE, None),   # agenda published
        (today + timedelta(days=40), MeetingStatus.PREPAREE, None),   # not yet published
        (today, MeetingStatus.EN_COURS, None),
        (today - timedelta(days=20), MeetingStatus.CLOTUREE, now - timedelta(days=20)),
        (today - timedelta(days=90), MeetingStatus.CLOTUREE, now - timedelta(days=90)),
        (today - timedelta(days=30), MeetingStatus.CLOTUREE, None),
    ]
    members = [secured["cas_member"], secured["adviser_metz"], secured["adviser_forbach"]]
    with db.write_session() as s:
        for n, (held_on, status, closed_at) in enumerate(states):
            meeting = Meeting(year=held_on.year, number=800 + n, held_on=held_on, status=status.value,
                              closed_at=closed_at)
            s.add(meeting)
            s.flush()
            for i, person in enumerate(members):
                # Each member present at some sessions, excused at others.
                s.add(Attendee(meeting_id=meeting.id, user_id=person.user_id, name=person.key,
                               function="autre", present=(n + i) % 3 != 0))
            for pos, case_id in enumerate(cases[n:n + 3]):
                s.add(AgendaItem(meeting_id=meeting.id, case_id=case_id, position=pos))
    expected, actual = {}, {}
    for person in secured.values():
        actor = auth.actor_for_login(db, person.login)
        with db.read_session() as s:
            window = access.attendance_window(s, clock)
            for case_id in cases:
                level = access.case_access(s, actor, case_id, window=window)
                follow = s.scalar(select(Case.id).where(
                    Case.id == case_id, access.follow_up_cases(actor, window))) is not None
                expected[person.key, case_id] = (level.value, follow)
        with as_person(person, db) as conn:
            readable = {r[0] for r in conn.execute("SELECT id FROM cases")}
            with conn.transaction(force_rollback=True):
                writable = {r[0] for r in conn.execute(
                    "UPDATE cases SET version = version WHERE id = ANY(%s) RETURNING id", (cases,))} \
                    if person.role in (Role.SOCIAL_ADVISER, Role.SOCIAL_HEAD) else set()
            summary = set()
            if person.role is not Role.RECOVERY:
                summary = readable
        for case_id in cases:
            level = 2 if case_id in writable else 1 if case_id in summary else 0
            actual[person.key, case_id] = (level, case_id in readable)
    assert actual == expected
    levels = {v[0] for v in expected.values()}
    assert levels == {0, 1, 2}  # the fixture exercises every level


# --- the program itself, connected as the person -------------------------------------------


def test_the_program_works_connected_as_the_person(db, secured, world, clock):
    """Signing in, listing, opening and writing a case, the audit trail,
    settings and the writer's lock, all as the adviser's own account."""
    from cus_desk.services.cases import CaseFilter, CaseService
    from tests.cases.conftest import new_case_input

    person = secured["adviser_metz"]
    url = make_url(db.url).set(username=person.account).render_as_string(hide_password=False)
    client = open_database(with_password(url, PASSWORD), clock=clock)
    try:
        actor = auth.authenticate(client, person.login, PASSWORD)
        svc = CaseService(client, actor)
        listed = {row.id for row in svc.list_cases(CaseFilter())}
        assert listed == {world["metz"]}
        case_id = svc.create_case(new_case_input(client, contract="MZ-777001"))
        detail = svc.get(case_id)
        svc.add_journal_entry(case_id, "entretien", clock.today(), "Visite à domicile", )
        assert svc.get(case_id).version >= detail.version
        auth.change_password(client, actor, PASSWORD, "Nouveau-Motdepasse-77")
    finally:
        client.dispose()
    with db.read_session() as s:
        assert s.get(Case, case_id).agency_id == person.agency_id
        assert s.scalar(select(text("count(*)")).select_from(AuditEvent)
                        .where(AuditEvent.user_id == person.user_id)) >= 3
    # The server account's password followed the change.
    with db.engine.connect() as conn:
        secret = conn.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"),
                              {"n": person.account}).scalar()
    assert secret.startswith("SCRAM-SHA-256$")


# --- SCRAM: the server asks the person's password ------------------------------------------


@pytest.fixture(scope="module")
def scram_cluster(pg_cluster):
    """A server that asks personal accounts for their SCRAM password: the
    run's one when tests/pg_server.py made it (its pg_hba rule), else a
    throw-away one started for this module."""
    from tests import pg_server
    from tests.backends import PgCluster

    with pg_cluster._admin.connect() as conn:
        enforced = conn.execute(text(
            "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'scram-sha-256' "
            "AND '+cus_client' = ANY(user_name)")).scalar()
    if enforced:
        yield pg_cluster
        return
    server = pg_server.start(log=lambda m: None)
    cluster = PgCluster(server.url)
    try:
        yield cluster
    finally:
        cluster.drop_own_databases()
        cluster.dispose()
        server.stop()


def test_users_add_makes_an_account_that_logs_in_with_scram_only(scram_cluster, clock):
    from cus_desk.store.db import upgrade_database

    name = scram_cluster.unique_name("scram")
    url = scram_cluster.create(name)
    db = upgrade_database(url, clock=clock)
    login = f"{TAG}.scram"
    try:
        with db.engine.begin() as conn:
            dialect.of(conn).secure_store(conn, access)
        admin = auth.create_first_admin(db, f"{TAG}.firstadmin", "Admin", PASSWORD)
        UsersService(db, admin).add(login, "Scram", Role.SOCIAL_ADVISER,
                                    UsersService(db, admin).agency_id_by_name("Metz"),
                                    password=PASSWORD)
        person = Person("scram", login, Role.SOCIAL_ADVISER, 0, None)
        ok = _psql_url(url, person.account, PASSWORD, "SELECT current_user")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == person.account
        wrong = _psql_url(url, person.account, "pas-le-bon", "SELECT 1")
        assert wrong.returncode != 0
        assert "password authentication failed" in wrong.stderr
        # The program refuses the wrong server password with its French sentence.
        from cus_desk.domain.errors import ServerPasswordError

        bad = make_url(url).set(username=person.account, password="pas-le-bon")
        with pytest.raises(ServerPasswordError, match="mot de passe absent ou incorrect"):
            open_database(bad.render_as_string(hide_password=False), clock=clock)
    finally:
        db.dispose()
        scram_cluster.drop(name)
        for who in (login, f"{TAG}.firstadmin"):
            scram_cluster.execute(
                f"DROP ROLE IF EXISTS {pg_rights.quote_ident(pg_rights.login_role(who))}")


def _psql_url(url: str, user: str, password: str, sql: str) -> subprocess.CompletedProcess:
    parsed = make_url(url)
    return subprocess.run(
        [str(PSQL), "-X", "-q", "-A", "-t", "-w", "-h", parsed.host, "-p", str(parsed.port),
         "-U", user, "-d", parsed.database, "-c", sql],
        capture_output=True, text=True, env=dict(os.environ, PGPASSWORD=password), timeout=60)


def test_the_cli_connects_with_the_persons_own_account(db, secured, world, monkeypatch):
    """An address naming no account: the command connects as CUS_DESK_USER's
    server account (and the server shows her only her cases)."""
    from types import SimpleNamespace

    from cus_desk.cli.common import open_db

    person = secured["adviser_metz"]
    owner = make_url(db.url)
    bare = f"postgresql+psycopg://{owner.host}:{owner.port}/{owner.database}"
    monkeypatch.setenv("CUS_DESK_USER", person.login)
    monkeypatch.setenv("CUS_DESK_PASSWORD", PASSWORD)
    client = open_db(SimpleNamespace(db=bare, demo=False, clock=None))
    try:
        with client.read_session() as s:
            assert s.execute(text("SELECT session_user")).scalar() == person.account
            assert set(s.scalars(text("SELECT id FROM cases"))) == {world["metz"]}
    finally:
        client.dispose()


def test_the_administrator_manages_accounts_from_her_own_account(db, secured, clock):
    """``users add``, role change, deactivation and reset, run by the
    administrator connected as herself (no CREATEROLE): the server accounts
    follow through the owner's functions."""
    admin = secured["admin"]
    url = make_url(db.url).set(username=admin.account).render_as_string(hide_password=False)
    client = open_database(with_password(url, PASSWORD), clock=clock)
    login = f"{TAG}.byadmin"
    try:
        actor = auth.authenticate(client, admin.login, PASSWORD)
        users = UsersService(client, actor)
        info, temporary = users.add(login, "Par l'admin", Role.RECOVERY,
                                    users.agency_id_by_name("Metz"))
        person = Person("byadmin", login, Role.RECOVERY, info.id, info.agency_id)
        # Its server account opens with the temporary password given once
        # (a server asking for SCRAM passwords, as CI's does, checks it).
        ok = psql(person, db, "SELECT current_user", password=temporary)
        assert ok.returncode == 0 and ok.stdout.strip() == person.account, ok.stderr
        users.update(info.id, role=Role.SOCIAL_ADVISER)
        users.set_active(info.id, False)
        users.set_active(info.id, True)
        users.reset_password(info.id)
        # The administrator still reads no case and no password hash.
        with client.read_session() as s:
            with pytest.raises(Exception, match="permission denied"):
                s.execute(text("SELECT password_hash FROM users")).all()
    finally:
        client.dispose()
    with db.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT r.rolcanlogin, array(SELECT g.rolname FROM pg_auth_members m "
            "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) FROM pg_roles r "
            "WHERE r.rolname = :n"), {"n": person.account}).one()
    pg_rights_drop(db, login)
    assert tuple(row) == (True, ["cus_adviser"])


def test_db_upgrade_reapplies_the_rights_of_a_secured_store(db, secured):
    from types import SimpleNamespace

    from cus_desk.cli.db import cmd_upgrade

    count = text("SELECT count(*) FROM pg_policies WHERE tablename = 'journal_entries'")
    with db.engine.begin() as conn:
        policies = conn.execute(count).scalar()
        conn.execute(text("REVOKE SELECT ON agencies FROM cus_client"))
        conn.execute(text("DROP POLICY cus_journal_entries_adviser ON journal_entries"))
    assert cmd_upgrade(SimpleNamespace(db=db.url, demo=False, clock=db.clock)) == 0
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT has_table_privilege('cus_client', 'agencies', 'SELECT')")).scalar()
        assert conn.execute(count).scalar() == policies == len(pg_rights.GROUPS)


def test_a_person_updates_only_her_own_account_row(db, secured, world):
    adviser, other = secured["adviser_metz"], secured["social_head"]
    out = psql(adviser, db, f"UPDATE users SET locked_until = now() + interval '1 day' "
                            f"WHERE id = {other.user_id}")
    assert out.returncode == 0 and out.stdout.strip() == ""  # the row is out of her reach: 0 rows
    out = psql(adviser, db, f"UPDATE users SET password_hash = 'x' WHERE id = {other.user_id} "
                            "RETURNING id")
    assert out.returncode == 0 and out.stdout.strip() == ""
    with db.read_session() as s:
        assert s.get(User, other.user_id).locked_until is None
    out = psql(adviser, db, f"UPDATE users SET failed_logins = 0 WHERE id = {adviser.user_id} "
                            "RETURNING id")
    assert out.returncode == 0 and out.stdout.strip() == str(adviser.user_id)


def test_connected_as_one_person_nobody_signs_in_as_another(db, secured, clock):
    from cus_desk.domain.errors import AccessDeniedError

    person = secured["adviser_metz"]
    url = make_url(db.url).set(username=person.account).render_as_string(hide_password=False)
    client = open_database(with_password(url, PASSWORD), clock=clock)
    try:
        with pytest.raises(AccessDeniedError, match="celle d'une autre personne"):
            auth.authenticate(client, secured["social_head"].login, PASSWORD)
        assert auth.authenticate(client, person.login, PASSWORD).login == person.login
    finally:
        client.dispose()
    with db.read_session() as s:
        assert s.get(User, secured["social_head"].user_id).failed_logins == 0


def _screens_of(role: Role):
    """The reads behind each screen a role opens (services.access decides
    which; a refusal in French is fine, a server error is not)."""
    from cus_desk.services.audit_admin import AuditAdminService
    from cus_desk.services.cases import CaseFilter, CaseService
    from cus_desk.services.dashboard import DashboardService
    from cus_desk.services.meetings import MeetingService
    from cus_desk.services.partners import PartnerService
    from cus_desk.services.seniors import SeniorsService
    from cus_desk.services.settings import SettingsService

    def partners(db, actor):
        svc = PartnerService(db, actor)
        rows = svc.list_partners()
        svc.get(rows[0].id)
        svc.agency_view()

    def meetings(db, actor):
        svc = MeetingService(db, actor)
        for row in svc.list_meetings():
            try:
                svc.get_meeting(row.id)
            except access_denied():
                pass

    calls = {
        "dashboard": lambda db, actor: DashboardService(db, actor).summary(),
        "partners": partners,
        "meetings": meetings,
        "settings": lambda db, actor: SettingsService(db, actor).all(),
    }
    if access.has(_Actor(role), access.Permission.CASE_LIST):
        calls["cases"] = lambda db, actor: CaseService(db, actor).list_cases(CaseFilter())
    if access.has(_Actor(role), access.Permission.SENIORS_READ):
        calls["seniors"] = lambda db, actor: SeniorsService(db, actor).list_seniors()
    if role is Role.ADMIN:
        calls["audit"] = lambda db, actor: AuditAdminService(db, actor).query()
        calls["users"] = lambda db, actor: UsersService(db, actor).list_users()
    return calls


class _Actor:
    def __init__(self, role):
        self.role = role


def access_denied():
    from cus_desk.domain.errors import AccessDeniedError

    return AccessDeniedError


@pytest.mark.parametrize("key", list(PEOPLE))
def test_every_screen_reads_as_the_persons_own_account(db, secured, world, clock, key):
    person = secured[key]
    url = make_url(db.url).set(username=person.account).render_as_string(hide_password=False)
    client = open_database(with_password(url, PASSWORD), clock=clock)
    failures = {}
    try:
        actor = auth.authenticate(client, person.login, PASSWORD)
        for screen, read in _screens_of(person.role).items():
            try:
                read(client, actor)
            except CusDeskError:
                pass  # the program's own refusal, in French: not the server's
            except Exception as exc:  # noqa: BLE001 - collected, then reported together
                failures[screen] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
    finally:
        client.dispose()
    assert failures == {}


def test_what_the_server_refuses_is_a_french_message_and_nothing_is_written(db, secured, world,
                                                                            clock):
    """A purge (the owner's business on a secured server) launched by the
    administrator from her own account: the server refuses it, she reads a
    French sentence, not « erreur inattendue », and nothing is written."""
    from cus_desk.domain.errors import AccessDeniedError
    from cus_desk.services.base import SERVER_DENIED
    from cus_desk.services.retention import RetentionService

    clock.advance(timedelta(days=365 * 4))  # everything is due for the purge
    admin = secured["admin"]
    url = make_url(db.url).set(username=admin.account).render_as_string(hide_password=False)
    client = open_database(with_password(url, PASSWORD), clock=clock)
    try:
        actor = auth.authenticate(client, admin.login, PASSWORD)
        with db.read_session() as s:
            before = (s.scalar(select(text("count(*)")).select_from(AuditEvent)),
                      s.scalar(select(text("count(*)")).select_from(Case)))
        with pytest.raises(AccessDeniedError) as refused:
            RetentionService(client, actor).purge()
        assert refused.value.message == SERVER_DENIED
    finally:
        client.dispose()
    with db.read_session() as s:
        after = (s.scalar(select(text("count(*)")).select_from(AuditEvent)),
                 s.scalar(select(text("count(*)")).select_from(Case)))
    assert after[1] == before[1]
    assert after[0] <= before[0] + 1  # at most the trace of the refusal
