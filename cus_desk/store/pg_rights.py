"""Rights the PostgreSQL server enforces (issue 15): one server account per
person, a few group roles with the grants their use cases need, the audit
trail append-only, and row-level security on case data mirroring
``services/access.py``.

Installed by ``cus-desk db secure`` (the owner of the store runs it; it
needs CREATEROLE) through the dialect seam (``dialect.secure_store``), and
re-applied by ``db upgrade`` on a store already secured. Idempotent.

- **Accounts.** Each CUS Desk login has a server login role
  ``cus_u_<login in lower case>`` (``login_role``) with a SCRAM-SHA-256
  password (the verifier is computed on the client: the password itself
  never travels in a statement nor reaches a server log), member of the
  group role of its application role (``GROUPS``). The application creates,
  changes and disables them through SECURITY DEFINER functions owned by the
  store's owner (``cus_account_*``) that only touch ``cus_u_*`` roles and
  the CUS groups: an administrator manages accounts without CREATEROLE.
- **Grants.** Every group is a member of ``cus_client`` (reference data,
  the audit trail: INSERT and SELECT only, the rows of ``users`` without
  the password hashes). ``GRANTS`` lists, table by table, what each group
  adds. Sequences: USAGE only on those of the tables a group inserts into.
  Purges and maintenance run as the owner.
- **Row-level security.** The policies are *generated* from the SQL of
  ``services/access.py`` (``visible_cases``, ``follow_up_cases``,
  ``seniors_agency``): the actor is the ``users`` row whose login maps to
  ``session_user``, the attendance window is computed from the server's
  clock (Europe/Paris day) and the two settings, with the same defaults.
  The owner (and a superuser) is not subject to them (no FORCE): the
  program's own maintenance and the test suite connect as the owner.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import column, false, literal_column, select, table, text
from sqlalchemy.dialects import postgresql

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.roles import Role

LOGIN_PREFIX = "cus_u_"
CLIENT_GROUP = "cus_client"
GROUPS: dict[Role, str] = {
    Role.SOCIAL_ADVISER: "cus_adviser",
    Role.SOCIAL_HEAD: "cus_pole_social",
    Role.CAS_MEMBER: "cus_cas_member",
    Role.RECOVERY: "cus_recovery",
    Role.ADMIN: "cus_admin",
}
ALL_GROUPS = (CLIENT_GROUP, *GROUPS.values())
# 63 bytes is PostgreSQL's identifier limit (NAMEDATALEN - 1).
MAX_LOGIN = 63 - len(LOGIN_PREFIX)
_ROLE_RE = re.compile(r"^[a-z0-9._@-]+$")


def login_role(login: str) -> str:
    """The server account of a CUS Desk login. Refuses (French
    ValidationError) a login that cannot map to a role name."""
    name = (login or "").strip().lower()
    if not name or not _ROLE_RE.match(name):
        raise ValidationError(
            f"L'identifiant « {login} » ne peut pas devenir un compte du serveur : seuls les "
            "lettres sans accent, chiffres, points, tirets, soulignés et @ sont admis.", "login")
    if len(name) > MAX_LOGIN:
        raise ValidationError(
            f"L'identifiant « {login} » est trop long pour un compte du serveur "
            f"({MAX_LOGIN} caractères au plus).", "login")
    return LOGIN_PREFIX + name


def login_role_sql(login_expr: str) -> str:
    """The same mapping, in SQL (``login_role`` without the checks)."""
    return f"('{LOGIN_PREFIX}' || lower({login_expr}))"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Grants: what each group may do, table by table.

S, I, U, D = "SELECT", "INSERT", "UPDATE", "DELETE"  # noqa: E741 (I = INSERT)
RW = (S, I, U)
RWD = (S, I, U, D)

# Every client role (members of cus_client).
CLIENT_GRANTS: dict[str, tuple[str, ...]] = {
    "alembic_version": (S,),
    "agencies": (S,),
    "reference_codes": (S,),
    "settings": (S,),
    "partners": (S,),
    "partner_agencies": (S,),
    "partner_communes": (S,),
    "partner_contacts": (S,),
    "partner_conventions": (S,),
    "sublet_flats": (S,),
    "sublet_counts": (S,),
    # Orientations and signalements: counted per partner and on the
    # dashboard; row-level security keeps the rows to those of visible cases.
    "referrals": (S,),
    # Sessions and agendas (the visibility rule reads them; no case content).
    "meetings": (S,),
    "attendees": (S,),
    "agenda_items": (S,),
    # The audit trail: append-only for every client.
    "audit_events": (S, I),
    # The seal of a journal written before the key is an anchor written by
    # the first keyed write, whoever makes it (services.audit_key); anchors
    # are keyed and checked by audit verify like the events.
    "audit_anchors": (S, I),
}
# Tables that may be added by other parts of the program (issue 15, the
# keyed audit chain): granted when present.
OPTIONAL_CLIENT_GRANTS: dict[str, tuple[str, ...]] = {"audit_chain_head": (S,)}

# users: every column but the password hash; a client updates only what
# signing in and changing one's own password write.
USERS_READ_COLUMNS = ("id", "login", "display_name", "role", "agency_id", "active", "failed_logins",
                      "locked_until", "must_change_password", "temporary_password_expires_at",
                      "credentials_epoch", "last_login_at", "created_at", "updated_at")
USERS_CLIENT_UPDATE = ("failed_logins", "locked_until", "last_login_at", "password_hash",
                       "must_change_password", "temporary_password_expires_at", "updated_at")

_CASE_WORK = {
    "cases": RW, "case_problems": RWD, "confidential_notes": RW, "journal_entries": RW,
    "repayment_plans": RWD, "case_sequences": RW, "households": RW, "tenants": RWD, "leases": RW,
    "referrals": RWD, "decisions": RW, "decision_follow_ups": RW, "meeting_addenda": RW,
    "meeting_archives": RW, "meetings": RWD, "attendees": RWD, "agenda_items": RWD,
    "partners": RW, "partner_agencies": RWD, "partner_communes": RWD, "partner_contacts": RWD,
    "partner_conventions": RWD, "sublet_flats": RWD, "sublet_counts": RWD,
    "arrears_extracts": (S,), "arrears_lines": (S,), "field_observations": RW,
    "senior_alert_events": RW, "senior_alert_info": RW, "case_economics": RW,
}
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "cus_adviser": _CASE_WORK,
    "cus_pole_social": _CASE_WORK,
    "cus_cas_member": {
        "cases": (S,), "case_problems": (S,), "repayment_plans": (S,), "households": (S,),
        "tenants": (S,), "leases": (S,), "referrals": (S,), "decisions": RW,
        "decision_follow_ups": RW, "meeting_addenda": (S,), "meeting_archives": (S,),
    },
    "cus_recovery": {
        "households": RW, "tenants": RWD, "leases": RW, "arrears_extracts": RWD,
        "arrears_lines": RWD, "arrears_column_mappings": RWD, "field_observations": RW,
        "referrals": RW, "senior_alert_events": RW, "senior_alert_info": RW,
        "decisions": (S,), "decision_follow_ups": RW, "repayment_plans": (S,),
        "meeting_addenda": (S,), "meeting_archives": (S,),
    },
    "cus_admin": {
        "users": (I,), "settings": (I, U), "arrears_extracts": RWD, "arrears_lines": RWD,
        "arrears_column_mappings": RWD, "households": RW, "tenants": RWD, "leases": RW,
        "retention_records": (S,),
    },
}
# Recovery staff follow the CAS decisions on their agency's cases
# (access.follow_up_cases) but never read the case file: the case row
# without its text. The administrator's screens (purge reminders) name
# cases too; row-level security shows her none.
CASE_TEXT_COLUMNS = ("summary", "closure_reason", "caf_number", "fsl_number", "ccapex_number",
                     "external_worker_ref", "search_doc", "recommendation", "judicial_requested_on")
CASE_METADATA_GROUPS = ("cus_recovery", "cus_admin")
# A CAS member's summary shows the rent, charges and procedure dates, never
# the household's money (services.case_economics.HOUSEHOLD_FIELDS).
CASE_ECONOMICS_HOUSEHOLD_COLUMNS = ("housing_aid_cents", "housing_aid_kind", "resources_cents",
                                    "other_charges_cents")

# Trigger functions that maintain denormalised columns of rows the writer
# may not see (the case search): run as the owner.
OWNER_TRIGGER_FUNCTIONS = ("cus_case_search_cases", "cus_case_search_tenants",
                           "cus_case_search_leases")


# --------------------------------------------------------------------------
# Row-level security, generated from services/access.py.

def _me(column_name: str) -> str:
    return (f"(SELECT u.{column_name} FROM users u WHERE {login_role_sql('u.login')} = session_user "
            "AND u.active)")


def _window(access):
    """access.AttendanceWindow whose bounds are SQL on the server's clock
    (access.window_for, in SQL; settings defaults from domain.settings)."""
    from cus_desk.domain.settings import AGENDA_PUBLICATION_DAYS, ATTENDANCE_ACCESS_DAYS

    AttendanceWindow = access.AttendanceWindow  # noqa: N806 (a class)

    def setting(spec) -> str:
        return (f"coalesce((SELECT s.value_json::integer FROM settings s "
                f"WHERE s.key = {_lit(spec.key)}), {int(spec.default)})")

    today = "((now() AT TIME ZONE 'Europe/Paris')::date)"
    first_day = f"({today} - {setting(ATTENDANCE_ACCESS_DAYS)})"
    return AttendanceWindow(
        literal_column(f"({today} + {setting(AGENDA_PUBLICATION_DAYS)})"),
        literal_column(f"(({first_day}::timestamp AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'UTC')"),
        literal_column(first_day),
    )


def _actor(role: Role, with_agency: bool):
    return SimpleNamespace(role=role.value, user_id=literal_column(_me("id")),
                           agency_id=literal_column(_me("agency_id")) if with_agency else None)


def _per_role(build) -> dict[str, str]:
    """group role -> ``build(actor)`` compiled from access.py for that
    application role (with and without an agency), guarded by the session's
    role in ``users``. Each policy applies ``TO`` its group only: a person
    is in one group, so the server plans her own rule, not all five."""
    rules = {}
    for role, group in GROUPS.items():
        with_agency = _sql(build(_actor(role, True)))
        without = _sql(build(_actor(role, False)))
        rule = with_agency if with_agency == without else (
            f"(CASE WHEN {_me('agency_id')} IS NULL THEN ({without}) ELSE ({with_agency}) END)")
        rules[group] = f"({_me('role')} = {_lit(role.value)} AND {rule})"
    return rules


def _sql(expr) -> str:
    return str(expr.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _cases_here():
    return table("cases", column("id"), column("agency_id"))


def case_read_policy(access) -> dict[str, str]:
    """Rows of ``cases`` the session may SELECT: the cases it sees
    (SUMMARY or FULL), and for recovery staff their agency's cases
    (follow-up of CAS decisions; column grants keep the text out)."""
    window = _window(access)
    return _per_role(lambda actor: access.follow_up_cases(actor, window, _cases_here()))


def case_full_policy(access) -> dict[str, str]:
    """Rows of ``cases`` the session may write (FULL access only)."""
    window = _window(access)
    return _per_role(lambda actor: access.visible_cases(actor, window, _cases_here(),
                                                        minimum=access.CaseAccess.FULL))


def case_summary_policy(access) -> dict[str, str]:
    """Rows of ``cases`` the session sees at SUMMARY or FULL."""
    window = _window(access)
    return _per_role(lambda actor: access.visible_cases(actor, window, _cases_here()))


def _seniors_policy(access, lease_column: str) -> dict[str, str]:
    """A lease-linked row (signalement without a case): access.seniors_agency."""

    def build(actor):
        try:
            agency = access.seniors_agency(actor)
        except Exception:  # noqa: BLE001 - AccessDeniedError: no scope at all
            return false()
        if agency is None:
            return literal_column("true")
        return literal_column(lease_column).in_(
            select(literal_column("l.id")).select_from(text("leases l"))
            .where(literal_column("l.agency_id") == agency))

    return _per_role(build)


Policy = tuple[str, str, str, str | None, str | None]  # name, command, group, USING, CHECK


def policies(access) -> dict[str, list[Policy]]:
    """table -> [(policy name, command, group role, USING, WITH CHECK)].
    ``access``: the module of the one visibility rule (services.access),
    handed down by the caller (the store does not import services)."""
    from cus_desk.domain.cases import SENSITIVE_PROBLEMS

    read = case_read_policy(access)
    full = case_full_policy(access)
    seniors = _seniors_policy(access, "referrals.lease_id")
    sensitive = ", ".join(_lit(code) for code in sorted(SENSITIVE_PROBLEMS))

    # A child row follows its case: one index probe on cases per row (the
    # cases policy of the session's group applies to it).
    def visible(table_: str) -> str:
        return f"EXISTS (SELECT 1 FROM cases c WHERE c.id = {table_}.case_id)"

    def writable(table_: str, group: str) -> str:
        return f"EXISTS (SELECT 1 FROM cases WHERE cases.id = {table_}.case_id AND {full[group]})"

    def per_group(name: str, command: str, using, check) -> list[Policy]:
        """One policy per group; ``using``/``check``: group -> SQL (or None)."""
        return [(f"{name}_{group.removeprefix('cus_')}", command, group,
                 using(group) if using else None, check(group) if check else None)
                for group in GROUPS.values()]

    def every_client(name: str, command: str, using: str | None, check: str | None) -> list[Policy]:
        return [(name, command, CLIENT_GROUP, using, check)]

    def child_of_case(table_: str) -> list[Policy]:
        """FULL access only (journal, confidential notes)."""
        return per_group(f"cus_{table_}", "ALL", lambda g: writable(table_, g),
                         lambda g: writable(table_, g))

    own_row = f"({login_role_sql('login')} = session_user OR cus_is_admin())"
    decision_rule = "EXISTS (SELECT 1 FROM decisions d WHERE d.id = decision_follow_ups.decision_id)"

    def alert_rule(table_: str) -> str:
        return f"EXISTS (SELECT 1 FROM referrals r WHERE r.id = {table_}.referral_id)"

    def referral_rule(group: str) -> str:
        return (f"(CASE WHEN referrals.case_id IS NULL THEN {seniors[group]} "
                f"ELSE {visible('referrals')} END)")

    return {
        # Accounts: everyone reads them (names of authors, sessions' members:
        # the hashes are out of reach by column grants); a person updates
        # her own row (sign-in counters, her password), the administrator any.
        "users": [
            *every_client("cus_users_read", "SELECT", "true", None),
            *every_client("cus_users_insert", "INSERT", None, "cus_is_admin()"),
            *every_client("cus_users_update", "UPDATE", own_row, own_row),
        ],
        "cases": [
            *per_group("cus_cases_read", "SELECT", lambda g: read[g], None),
            *per_group("cus_cases_insert", "INSERT", None, lambda g: full[g]),
            *per_group("cus_cases_update", "UPDATE", lambda g: full[g], lambda g: full[g]),
            *per_group("cus_cases_delete", "DELETE", lambda g: full[g], None),
        ],
        # A summary shows no sensitive problématique (domain.cases.SENSITIVE_PROBLEMS).
        "case_problems": [
            *per_group("cus_case_problems_read", "SELECT", lambda g: (
                f"({writable('case_problems', g)} OR ({visible('case_problems')} "
                f"AND case_problems.code NOT IN ({sensitive})))"), None),
            *per_group("cus_case_problems_write", "ALL", lambda g: writable("case_problems", g),
                       lambda g: writable("case_problems", g)),
        ],
        "confidential_notes": child_of_case("confidential_notes"),
        # Budget and procedure: read where the case is visible (a summary
        # reads only the columns granted above), written with FULL access.
        "case_economics": [
            *every_client("cus_case_economics_read", "SELECT", visible("case_economics"), None),
            *per_group("cus_case_economics_write", "ALL", lambda g: writable("case_economics", g),
                       lambda g: writable("case_economics", g)),
        ],
        "journal_entries": child_of_case("journal_entries"),
        "repayment_plans": [
            *every_client("cus_repayment_plans_read", "SELECT", visible("repayment_plans"), None),
            *per_group("cus_repayment_plans_write", "ALL", lambda g: writable("repayment_plans", g),
                       lambda g: writable("repayment_plans", g)),
        ],
        "decisions": every_client("cus_decisions", "ALL", visible("decisions"), visible("decisions")),
        "decision_follow_ups": every_client("cus_decision_follow_ups", "ALL", decision_rule,
                                            decision_rule),
        "referrals": per_group("cus_referrals", "ALL", referral_rule, referral_rule),
        "senior_alert_events": every_client("cus_senior_alert_events", "ALL",
                                            alert_rule("senior_alert_events"),
                                            alert_rule("senior_alert_events")),
        "senior_alert_info": every_client("cus_senior_alert_info", "ALL",
                                          alert_rule("senior_alert_info"),
                                          alert_rule("senior_alert_info")),
    }


# --------------------------------------------------------------------------
# Functions owned by the store's owner.

def _functions_sql(schema: str) -> list[str]:
    path = f"SET search_path = {quote_ident(schema)}, pg_catalog, pg_temp"
    groups = ", ".join(_lit(g) for g in GROUPS.values())
    role_of = login_role_sql("p_login")
    check = (f"IF {role_of} !~ '^{LOGIN_PREFIX}[a-z0-9._@-]{{1,{MAX_LOGIN}}}$' THEN "
             "RAISE EXCEPTION 'identifiant inutilisable pour un compte du serveur' "
             "USING ERRCODE = '22023'; END IF;")
    memberships = f"""
    FOREACH g IN ARRAY ARRAY[{groups}] LOOP
      IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles gr ON gr.oid = m.roleid
                 JOIN pg_roles mr ON mr.oid = m.member WHERE gr.rolname = g AND mr.rolname = r)
         AND g IS DISTINCT FROM p_group THEN
        EXECUTE format('REVOKE %I FROM %I', g, r);
      END IF;
    END LOOP;
    IF p_group IS NOT NULL THEN EXECUTE format('GRANT %I TO %I', p_group, r); END IF;"""
    return [
        # One's own password hash (the application verifies it at sign-in);
        # the owner (who may read the column) gets any.
        f"""CREATE OR REPLACE FUNCTION cus_password_hash(p_login text) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$
          SELECT u.password_hash FROM users u WHERE u.login = p_login
            AND ({login_role_sql('u.login')} = session_user
                 OR has_column_privilege(session_user, 'users', 'password_hash', 'SELECT'))
        $$""",
        # Whether the session is an active administrator's (the users
        # policies ask it; a function so that the policy on users does not
        # read users through itself).
        f"""CREATE OR REPLACE FUNCTION cus_is_admin() RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$
          SELECT EXISTS (SELECT 1 FROM users u WHERE {login_role_sql('u.login')} = session_user
                         AND u.active AND u.role = {_lit(Role.ADMIN.value)})
        $$""",
        f"""CREATE OR REPLACE FUNCTION cus_account_set(p_login text, p_group text,
                                                     p_active boolean, p_verifier text)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
        DECLARE r text := {role_of}; g text;
        BEGIN
          {check}
          IF p_group IS NOT NULL AND p_group NOT IN ({groups}) THEN
            RAISE EXCEPTION 'groupe inconnu' USING ERRCODE = '22023';
          END IF;
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
          END IF;
          IF p_verifier IS NOT NULL THEN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', r, p_verifier);
          END IF;
          IF p_active THEN
            EXECUTE format('ALTER ROLE %I LOGIN', r);
          ELSE
            EXECUTE format('ALTER ROLE %I NOLOGIN', r);
            p_group := NULL;
          END IF;
          {memberships}
        END $$""",
        f"""CREATE OR REPLACE FUNCTION cus_account_own_password(p_verifier text)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
        BEGIN
          IF left(session_user, {len(LOGIN_PREFIX)}) <> '{LOGIN_PREFIX}' THEN
            RAISE EXCEPTION 'pas un compte personnel' USING ERRCODE = '42501';
          END IF;
          EXECUTE format('ALTER ROLE %I PASSWORD %L', session_user, p_verifier);
        END $$""",
    ]


FUNCTION_GRANTS = {
    "cus_password_hash(text)": (CLIENT_GROUP,),
    "cus_is_admin()": (CLIENT_GROUP,),
    "cus_account_own_password(text)": (CLIENT_GROUP,),
    "cus_account_set(text, text, boolean, text)": ("cus_admin",),
}


def _table_exists(conn, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar()


def secure(conn, access) -> list[str]:
    """Create the groups, grant, install the functions and the policies.
    ``conn``: a SQLAlchemy Connection of the owner, inside a transaction;
    ``access``: services.access (the rule the policies are generated from).
    Returns the statements run (for the record; no secret in them)."""
    done: list[str] = []

    def run(sql: str) -> None:
        conn.execute(text(sql))
        done.append(sql)

    schema = conn.execute(text("SELECT current_schema()")).scalar()
    database = conn.execute(text("SELECT current_database()")).scalar()
    tables = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))]
    existing = set(conn.execute(text("SELECT rolname FROM pg_roles")).scalars())
    for group in ALL_GROUPS:
        if group not in existing:
            run(f"CREATE ROLE {quote_ident(group)} NOLOGIN")
    for group in GROUPS.values():
        run(f"GRANT {quote_ident(CLIENT_GROUP)} TO {quote_ident(group)}")
    groups_sql = ", ".join(quote_ident(g) for g in ALL_GROUPS)
    run(f"REVOKE CONNECT, TEMPORARY ON DATABASE {quote_ident(database)} FROM PUBLIC")
    run(f"GRANT CONNECT ON DATABASE {quote_ident(database)} TO {quote_ident(CLIENT_GROUP)}")
    run(f"REVOKE CREATE ON SCHEMA {quote_ident(schema)} FROM PUBLIC")
    run(f"GRANT USAGE ON SCHEMA {quote_ident(schema)} TO {quote_ident(CLIENT_GROUP)}")
    # Start from nothing: whatever an earlier version granted goes.
    for name in tables:
        run(f"REVOKE ALL ON TABLE {quote_ident(name)} FROM PUBLIC, {groups_sql}")
    run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote_ident(schema)} FROM PUBLIC, {groups_sql}")
    grants = {CLIENT_GROUP: {**CLIENT_GRANTS, **{t: p for t, p in OPTIONAL_CLIENT_GRANTS.items()
                                                 if t in tables}}, **GRANTS}
    for group, table_grants in grants.items():
        for name, privileges in table_grants.items():
            if name not in tables:
                continue
            run(f"GRANT {', '.join(privileges)} ON TABLE {quote_ident(name)} TO {quote_ident(group)}")
            if I in privileges:
                sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                        {"t": quote_ident(name)}).scalar() if _has_id(conn, name) else None
                if sequence:
                    run(f"GRANT USAGE ON SEQUENCE {sequence} TO {quote_ident(group)}")
    run(f"GRANT SELECT ({', '.join(USERS_READ_COLUMNS)}) ON TABLE users TO {quote_ident(CLIENT_GROUP)}")
    run(f"GRANT UPDATE ({', '.join(USERS_CLIENT_UPDATE)}) ON TABLE users TO {quote_ident(CLIENT_GROUP)}")
    run("GRANT UPDATE (display_name, role, agency_id, active, credentials_epoch) ON TABLE users "
        "TO cus_admin")
    metadata = [c for c in conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'cases' ORDER BY ordinal_position")).scalars() if c not in CASE_TEXT_COLUMNS]
    for group in CASE_METADATA_GROUPS:
        run(f"GRANT SELECT ({', '.join(metadata)}) ON TABLE cases TO {quote_ident(group)}")
    if _table_exists(conn, "case_economics"):
        summary_columns = [c for c in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'case_economics' ORDER BY ordinal_position")).scalars()
            if c not in CASE_ECONOMICS_HOUSEHOLD_COLUMNS]
        run(f"GRANT SELECT ({', '.join(summary_columns)}) ON TABLE case_economics TO cus_cas_member")
    # The policies of the case-linked tables select cases' ids (rows filtered
    # by the cases policy): every client may name them, nothing more.
    run(f"GRANT SELECT (id) ON TABLE cases TO {quote_ident(CLIENT_GROUP)}")
    for statement in _functions_sql(schema):
        run(statement)
    for signature, granted in FUNCTION_GRANTS.items():
        run(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        run(f"GRANT EXECUTE ON FUNCTION {signature} TO {', '.join(quote_ident(g) for g in granted)}")
    for function in OWNER_TRIGGER_FUNCTIONS:
        if conn.execute(text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": f"{function}()"}).scalar():
            run(f"ALTER FUNCTION {function}() SECURITY DEFINER "
                f"SET search_path = {quote_ident(schema)}, pg_catalog, pg_temp")
    for name, table_policies in policies(access).items():
        if name not in tables:
            continue
        run(f"ALTER TABLE {quote_ident(name)} ENABLE ROW LEVEL SECURITY")
        for policy in conn.execute(text(
                "SELECT policyname FROM pg_policies WHERE schemaname = current_schema() "
                "AND tablename = :t"), {"t": name}).scalars():
            run(f"DROP POLICY {quote_ident(policy)} ON {quote_ident(name)}")
        for policy, command, group, using, check in table_policies:
            sql = f"CREATE POLICY {policy} ON {quote_ident(name)} FOR {command} TO {quote_ident(group)}"
            if using:
                sql += f" USING ({using})"
            if check:
                sql += f" WITH CHECK ({check})"
            run(sql)
    return done


def _has_id(conn, name: str) -> bool:
    return bool(conn.execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = :t AND column_name = 'id'"), {"t": name}).scalar())


def is_secured(conn) -> bool:
    return bool(conn.execute(text(
        "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass('cases')")).scalar())


# --------------------------------------------------------------------------
# Accounts (called by the dialect seam inside the application's transaction).

def accounts_enabled(conn) -> bool:
    """Whether this store has server accounts (``db secure`` was run)."""
    return bool(conn.exec_driver_sql(
        "SELECT to_regprocedure('cus_account_set(text, text, boolean, text)') IS NOT NULL").scalar())


def scram_verifier(conn, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, computed by libpq on this
    side (PQencryptPasswordConn): the password never reaches the server."""
    pgconn = conn.connection.dbapi_connection.pgconn
    return pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def set_account(conn, login: str, role: Role | str | None, active: bool,
                password: str | None) -> None:
    account = login_role(login)
    group = GROUPS[Role(role)] if role is not None else None
    verifier = scram_verifier(conn, account, password) if password is not None else None
    conn.exec_driver_sql("SELECT cus_account_set(%s, %s, %s, %s)",
                         (login, group, bool(active), verifier))


def set_own_password(conn, login: str, password: str) -> None:
    verifier = scram_verifier(conn, login_role(login), password)
    conn.exec_driver_sql("SELECT cus_account_own_password(%s)", (verifier,))


def password_hash(conn, login: str) -> str | None:
    """The stored hash of ``login``, for the application's own check: the
    column when this connection may read it, else one's own through
    ``cus_password_hash``."""
    readable = conn.exec_driver_sql(
        "SELECT has_column_privilege('users', 'password_hash', 'SELECT')").scalar()
    if readable:
        return conn.exec_driver_sql("SELECT password_hash FROM users WHERE login = %s",
                                    (login,)).scalar()
    return conn.exec_driver_sql("SELECT cus_password_hash(%s)", (login,)).scalar()


def may_sign_in_as(conn, login: str) -> bool:
    """A connection opened with a personal account signs in as that person
    only (the owner's or a shared account: anyone)."""
    account = session_account(conn)
    if not account.startswith(LOGIN_PREFIX):
        return True
    try:
        return login_role(login) == account
    except ValidationError:
        return False


def session_account(conn) -> str:
    return conn.exec_driver_sql("SELECT session_user").scalar()


def drop_account(conn, login: str) -> None:
    """Tests and decommissioning: remove a login role (owner only)."""
    conn.exec_driver_sql(f"DROP ROLE IF EXISTS {quote_ident(login_role(login))}")


