"""Each role against each kind of data, through the services and through
the CLI: tries to cross every line the access issue draws."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services import access
from cus_desk.services.access import CaseAccess, Permission
from cus_desk.services.base import Actor
from tests.conftest import TEST_PASSWORD
from tests.security import builders as b

ROLES = ["admin", "adviser_metz", "adviser_forbach", "social_head", "cas_member", "recovery_metz"]


@pytest.fixture
def world(db, actors):
    """A Metz case on the agenda of a CAS attended by the CAS member and the
    Forbach adviser; another Metz case on no agenda; a Forbach case."""
    with db.write_session() as s:
        hh1, lease1 = b.household(s, "metz", "AGENDA", "Alice")
        on_agenda = b.case(s, hh1, summary="Synthèse Metz à l'ordre du jour",
                           secret="Violences conjugales (confidentiel)")
        meeting = b.meeting_with(s, on_agenda, attendee_user_ids=[actors["cas_member"].user_id,
                                                                  actors["adviser_forbach"].user_id],
                                 held_on=date(2026, 11, 5))
        meeting.status = "preparee"
        hh2, _ = b.household(s, "metz", "HORSAGENDA", "Hector")
        off_agenda = b.case(s, hh2, summary="Synthèse Metz hors séance", secret="Santé (hors séance)")
        hh3, _ = b.household(s, "forbach", "FORBACHOIS", "Félix")
        forbach = b.case(s, hh3, summary="Synthèse Forbach", secret="Secret Forbach")
        return {"on_agenda": on_agenda.id, "off_agenda": off_agenda.id, "forbach": forbach.id,
                "meeting": meeting.id}


# Expected case access: None = refused.
EXPECTED = {
    "admin": {"on_agenda": None, "off_agenda": None, "forbach": None},
    "adviser_metz": {"on_agenda": "full", "off_agenda": "full", "forbach": None},
    # Attending a session gives the summary of another agency's case, never the file.
    "adviser_forbach": {"on_agenda": "summary", "off_agenda": None, "forbach": "full"},
    "social_head": {"on_agenda": "full", "off_agenda": "full", "forbach": "full"},
    "cas_member": {"on_agenda": "summary", "off_agenda": None, "forbach": None},
    "recovery_metz": {"on_agenda": None, "off_agenda": None, "forbach": None},
}


@pytest.mark.parametrize("who", ROLES)
def test_case_files_by_role(db, actors, world, who):
    from cus_desk.services.cases import CaseService

    svc = CaseService(db, actors[who])
    for key, expected in EXPECTED[who].items():
        if expected is None:
            with pytest.raises(AccessDeniedError):
                svc.get(world[key])
            continue
        detail = svc.get(world[key])
        assert detail.access == expected, (who, key)
        text = repr(detail)
        if expected == "summary":
            # commission summary: debt, plan, decisions — no notes, no journal, no family details
            assert detail.confidential_notes == () and detail.journal == () and detail.summary == ""
            assert "confidentiel" not in text and "Santé" not in text
            assert detail.household.phone is None
            assert all(m.birth_date is None for m in detail.household.members)
            assert detail.arrears_cents == 123456
        else:
            assert detail.confidential_notes and detail.journal  # confidential notes for full access


def _closed_case_with_sensitive_problems(db, actors) -> int:
    """A closed Metz case with health, violence and over-occupation problems,
    on the agenda of a CAS the CAS member attends."""
    from cus_desk.store.models.cases import CaseProblem

    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "SENSIBLE", "Sam")
        case = b.case(s, hh, status="clos", closed_on=date(2026, 10, 1))
        case.closure_reason = "Hospitalisation longue de Mme"
        s.add_all([CaseProblem(case_id=case.id, code=code) for code in
                   ("sante_mentale", "violences_intrafamiliales", "sur_occupation")])
        b.meeting_with(s, case, attendee_user_ids=[actors["cas_member"].user_id],
                       held_on=date(2026, 11, 5))
        return case.id


def test_summary_leaves_out_sensitive_problems_and_closure_reason(db, actors):
    """A CAS member sees the debt side of a case on the agenda, not that the
    household copes with mental illness or violence, nor why a case was closed."""
    from cus_desk.services.cases import CaseService

    case_id = _closed_case_with_sensitive_problems(db, actors)
    summary = CaseService(db, actors["cas_member"]).get(case_id)
    assert summary.access == "summary"
    assert set(summary.problems) == {"impayes", "sur_occupation"}
    assert summary.closure_reason is None and "Hospitalisation" not in repr(summary)
    full = CaseService(db, actors["adviser_metz"]).get(case_id)
    assert {"sante_mentale", "violences_intrafamiliales"} <= set(full.problems)
    assert full.closure_reason == "Hospitalisation longue de Mme"


def test_summary_case_window_shows_no_sensitive_problem_box(qtbot, db, actors):
    from cus_desk.ui.cases.case_dialog import CaseDialog
    from cus_desk.ui.context import AppContext

    case_id = _closed_case_with_sensitive_problems(db, actors)
    member = CaseDialog(AppContext(db=db, actor=actors["cas_member"]), case_id)
    qtbot.addWidget(member)
    assert "sante_mentale" not in member.problem_boxes
    assert "violences_intrafamiliales" not in member.problem_boxes
    assert member.problem_boxes["sur_occupation"].isChecked()
    adviser = CaseDialog(AppContext(db=db, actor=actors["adviser_metz"]), case_id)
    qtbot.addWidget(adviser)
    assert adviser.problem_boxes["sante_mentale"].isChecked()


@pytest.mark.parametrize("who", ROLES)
def test_case_access_matrix_direct(db, actors, world, who):
    """The access module itself, for every role and every case."""
    from cus_desk.store.models.cases import Case

    with db.read_session() as s:
        for key, expected in EXPECTED[who].items():
            case = s.get(Case, world[key])
            level = access.case_access(s, actors[who], case.id, case.agency_id)
            want = {None: CaseAccess.NONE, "summary": CaseAccess.SUMMARY, "full": CaseAccess.FULL}[expected]
            assert level is want, (who, key)


@pytest.mark.parametrize("who", ["cas_member", "recovery_metz", "admin"])
def test_confidential_reveal_refused(db, actors, world, who):
    from cus_desk.services.meetings import MeetingService

    with pytest.raises(AccessDeniedError):
        MeetingService(db, actors[who]).reveal(world["meeting"], world["on_agenda"], "journal")


def test_commission_summary_for_attending_member_only(db, actors, world):
    from cus_desk.services.meetings import MeetingService

    summary = MeetingService(db, actors["cas_member"]).commission_summary(world["meeting"], world["on_agenda"])
    assert "Violences conjugales" not in repr(summary)
    with pytest.raises(AccessDeniedError):
        MeetingService(db, actors["recovery_metz"]).commission_summary(world["meeting"], world["on_agenda"])
    revealed = MeetingService(db, actors["adviser_metz"]).reveal(world["meeting"], world["on_agenda"], "journal")
    assert revealed.text


def test_an_attendee_of_another_meeting_sees_nothing(db, actors, world):
    """Attending *a* CAS is not enough: it must be one whose agenda holds the case."""
    from cus_desk.services.cases import CaseService

    with db.write_session() as s:
        from cus_desk.store.models.meetings import Attendee, Meeting

        other = Meeting(year=2026, number=99, held_on=date(2026, 12, 3), place="Forbach", status="preparee")
        s.add(other)
        s.flush()
        s.add(Attendee(meeting_id=other.id, user_id=actors["recovery_metz"].user_id, name="R", function="autre"))
    with pytest.raises(AccessDeniedError):
        CaseService(db, actors["recovery_metz"]).get(world["on_agenda"])


@pytest.mark.parametrize("who, allowed", [
    ("admin", False), ("adviser_metz", True), ("social_head", True), ("cas_member", False),
    ("recovery_metz", True)])
def test_seniors_list_by_role(db, actors, who, allowed):
    from cus_desk.services.seniors import SeniorsService

    svc = SeniorsService(db, actors[who])
    if allowed:
        svc.list_seniors()
    else:
        with pytest.raises(AccessDeniedError):
            svc.list_seniors()


def _csv(tmp_path):
    path = tmp_path / "impayes_2026-10-31.csv"
    path.write_text("N° contrat;Nom;Prénom;Date de naissance;Agence;Commune;Solde débiteur;Nb mois impayés\r\n"
                    "57-900001;ROLE;Rita;01/01/1950;Metz;Metz;120,00;2\r\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("who, allowed", [
    ("admin", True), ("recovery_metz", True), ("adviser_metz", False), ("social_head", False),
    ("cas_member", False)])
def test_arrears_import_by_role(db, actors, who, allowed, tmp_path):
    from cus_desk.services.seniors import SeniorsService

    svc = SeniorsService(db, actors[who])
    if allowed:
        assert svc.import_arrears(_csv(tmp_path), date(2026, 10, 31)).imported == 1
    else:
        with pytest.raises(AccessDeniedError):
            svc.import_arrears(_csv(tmp_path), date(2026, 10, 31))


@pytest.mark.parametrize("who", ROLES)
def test_partners_readable_by_everyone_editable_by_social_staff(db, actors, who):
    from cus_desk.services.partners import PartnerService

    assert PartnerService(db, actors[who]).list_partners() is not None
    assert access.has(actors[who], Permission.PARTNER_EDIT) is (who in {"adviser_metz", "adviser_forbach",
                                                                         "social_head"})


def test_permission_matrix_is_what_the_issue_says():
    def perms(role):
        return access.ROLE_PERMISSIONS[role]

    from cus_desk.domain.roles import Role

    admin = perms(Role.ADMIN)
    assert {Permission.USER_ADMIN, Permission.AUDIT_READ, Permission.SETTINGS_EDIT, Permission.BACKUP,
            Permission.PURGE, Permission.ARREARS_IMPORT} <= admin
    assert not admin & {Permission.CONFIDENTIAL_READ, Permission.SENIORS_READ, Permission.CASE_EDIT,
                        Permission.PERSON_EXPORT}
    for role in (Role.CAS_MEMBER, Role.RECOVERY):
        assert Permission.CONFIDENTIAL_READ not in perms(role)
        assert not perms(role) & {Permission.USER_ADMIN, Permission.AUDIT_READ, Permission.PURGE}
    assert Permission.SENIORS_EDIT in perms(Role.RECOVERY)
    assert Permission.ARREARS_READ in perms(Role.RECOVERY)


def test_unknown_or_forged_actor_gets_nothing(db, world):
    forged = Actor(user_id=999, login="intrus", display_name="Intrus", role="membre_cas", agency_id=None)
    from cus_desk.services.cases import CaseService

    with pytest.raises(AccessDeniedError):
        CaseService(db, forged).get(world["on_agenda"])


# --- through the CLI -------------------------------------------------------------------


@pytest.fixture
def as_user(monkeypatch):
    def login(user):
        monkeypatch.setenv("CUS_DESK_USER", user)
        monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    return login


LOGINS = {"admin": "admin", "adviser_metz": "cs.metz", "social_head": "pole.social",
          "cas_member": "cas.securite", "recovery_metz": "recouvrement.metz"}


@pytest.mark.parametrize("who, seniors_ok, import_ok", [
    ("admin", False, True), ("adviser_metz", True, False), ("cas_member", False, False),
    ("recovery_metz", True, True)])
def test_cli_seniors_by_role(db, actors, db_path, as_user, capsys, tmp_path, who, seniors_ok, import_ok):
    from cus_desk.cli import main

    as_user(LOGINS[who])
    code = main(["--db", str(db_path), "import-arrears", str(_csv(tmp_path)), "--extract-date", "2026-10-31"])
    assert (code == 0) is import_ok
    err = capsys.readouterr().err
    if not import_ok:
        assert "ne permet pas" in err
    code = main(["--db", str(db_path), "seniors", "--json"])
    assert (code == 0) is seniors_ok
    captured = capsys.readouterr()
    if not seniors_ok:
        assert "ne permet pas" in captured.err and "ROLE" not in captured.out


@pytest.mark.parametrize("who", ["admin", "adviser_metz", "cas_member", "recovery_metz"])
def test_cli_person_export_by_role(db, actors, db_path, as_user, capsys, tmp_path, world, who):
    from cus_desk.cli import main
    from cus_desk.services.person_export import PersonExportService

    tenant = PersonExportService(db, actors["social_head"]).find("AGENDA")[0].tenant_id
    as_user(LOGINS[who])
    out = tmp_path / "p.json"
    code = main(["--db", str(db_path), "export-person", "--tenant", str(tenant), "--json", str(out)])
    if who == "adviser_metz":
        assert code == 0 and "Violences conjugales" in out.read_text(encoding="utf-8")
    else:
        assert code == 2 and not out.exists()
        assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("who", ["admin", "cas_member", "recovery_metz", "adviser_metz"])
def test_cli_audit_and_users_only_admin(db, actors, db_path, as_user, capsys, who):
    from cus_desk.cli import main

    as_user(LOGINS[who])
    code = main(["--db", str(db_path), "users", "list", "--json"])
    if who == "admin":
        assert code == 0 and len(json.loads(capsys.readouterr().out)) == 6
    else:
        assert code == 2 and "ne permet pas" in capsys.readouterr().err


LIST_EXPECTED = {  # which of the world's cases each role's `cases list` shows (None: refused)
    "admin": None,
    "adviser_metz": {"on_agenda", "off_agenda"},
    "social_head": {"on_agenda", "off_agenda", "forbach"},
    "cas_member": {"on_agenda"},
    "recovery_metz": None,
}


@pytest.mark.parametrize("who", list(LOGINS))
def test_cli_cases_by_role(db, actors, db_path, as_user, capsys, world, who):
    from cus_desk.cli import main
    from cus_desk.store.models.cases import Case

    with db.read_session() as s:
        refs = {k: s.get(Case, world[k]).reference for k in ("on_agenda", "off_agenda", "forbach")}
    as_user(LOGINS[who])
    code = main(["--db", str(db_path), "cases", "list", "--json"])
    captured = capsys.readouterr()
    expected = LIST_EXPECTED[who]
    if expected is None:
        assert code == 2 and "accès" in captured.err
    else:
        assert code == 0
        shown = {k for k, ref in refs.items() if ref in captured.out}
        assert shown == expected
    for key, level in EXPECTED[who].items():
        code = main(["--db", str(db_path), "cases", "show", refs[key], "--json"])
        captured = capsys.readouterr()
        if level is None:
            assert code == 2, (who, key)
            assert "Synthèse" not in captured.out
            continue
        assert code == 0, (who, key, captured.err)
        # Confidential notes never leave through the CLI, whatever the role.
        assert "confidentiel" not in captured.out and "Secret" not in captured.out
        assert "hors séance)" not in captured.out
        if level == "summary":
            assert "Synthèse Metz" not in captured.out  # no social summary for a CAS member
