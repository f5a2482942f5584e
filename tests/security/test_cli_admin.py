"""The administration commands, through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import text

from cus_desk.cli import main
from cus_desk.services import audit
from tests.conftest import TEST_PASSWORD
from tests.security import builders as b


@pytest.fixture
def as_user(monkeypatch):
    def login(user, password=TEST_PASSWORD):
        monkeypatch.setenv("CUS_DESK_USER", user)
        monkeypatch.setenv("CUS_DESK_PASSWORD", password)
    return login


def run(db_path, *args):
    return main(["--db", str(db_path), *args])


def test_init_creates_base_and_admin(tmp_path, monkeypatch, capsys):
    path = tmp_path / "neuve.sqlite3"
    monkeypatch.setenv("CUS_DESK_PASSWORD", "faible")
    assert run(path, "init") == 2
    assert "10 caractères" in capsys.readouterr().err
    monkeypatch.setenv("CUS_DESK_PASSWORD", "Admin-Solide-2026")
    assert run(path, "init", "--login", "chef", "--name", "Chef") == 0
    assert "Administrateur : chef" in capsys.readouterr().out
    assert run(path, "init") == 2
    assert "déjà un administrateur" in capsys.readouterr().err
    monkeypatch.setenv("CUS_DESK_USER", "chef")
    assert run(path, "users", "list", "--json") == 0
    users = json.loads(capsys.readouterr().out)
    assert [u["login"] for u in users] == ["chef"] and users[0]["role"] == "administrateur"


def test_users_add_list_reset(db, actors, db_path, as_user, capsys, monkeypatch):
    as_user("admin")
    assert run(db_path, "users", "add", "cs.thionville", "--role", "conseillere_sociale",
               "--agency", "Thionville", "--name", "Thérèse T.") == 0
    out = capsys.readouterr().out
    assert "Compte créé : cs.thionville (Conseillère sociale, Thionville)" in out
    temporary = out.strip().rsplit(" ", 1)[-1]
    assert run(db_path, "users", "add", "x", "--role", "conseillere_sociale") == 2
    assert "agence" in capsys.readouterr().err
    assert run(db_path, "users", "add", "y", "--role", "sorcier") == 2
    assert "Rôle « sorcier » inconnu" in capsys.readouterr().err
    assert run(db_path, "users", "list") == 0
    listing = capsys.readouterr().out
    assert "cs.thionville" in listing and "mot de passe provisoire" in listing
    # the temporary password opens only its change: every other command is refused
    as_user("cs.thionville", temporary)
    assert run(db_path, "export-person", "--find", "zz") == 2
    assert "provisoire" in capsys.readouterr().err
    monkeypatch.setenv("CUS_DESK_NEW_PASSWORD", "Thionville-Neuf-9")
    assert run(db_path, "password") == 0
    monkeypatch.delenv("CUS_DESK_NEW_PASSWORD")
    as_user("cs.thionville", "Thionville-Neuf-9")
    assert run(db_path, "export-person", "--find", "zz") == 0
    assert "provisoire" not in capsys.readouterr().err
    as_user("admin")
    assert run(db_path, "users", "reset-password", "cs.thionville") == 0
    assert "Nouveau mot de passe provisoire" in capsys.readouterr().out
    assert run(db_path, "users", "reset-password", "personne") == 2
    assert "Aucun compte" in capsys.readouterr().err


@pytest.mark.parametrize("who", ["cs.metz", "pole.social", "cas.securite", "recouvrement.metz"])
def test_admin_commands_refused_to_other_roles(db, actors, db_path, as_user, capsys, who, tmp_path):
    as_user(who)
    for args in (["users", "list"], ["users", "add", "z.z", "--role", "administrateur"],
                 ["audit", "verify"], ["audit", "list"], ["purge", "--dry-run"],
                 ["backup", str(tmp_path / "b.sqlite3")]):
        assert run(db_path, *args) == 2, args
        assert "ne permet pas" in capsys.readouterr().err
    assert not (tmp_path / "b.sqlite3").exists()


def test_cli_lockout(db, actors, db_path, as_user, capsys):
    as_user("cs.metz", "mauvais")
    for _ in range(5):
        assert run(db_path, "export-person", "--find", "zz") == 2
    capsys.readouterr()
    as_user("cs.metz")
    assert run(db_path, "export-person", "--find", "zz") == 2
    assert "verrouillé" in capsys.readouterr().err
    as_user("admin")
    assert run(db_path, "users", "unlock", "cs.metz") == 0
    as_user("cs.metz")
    assert run(db_path, "export-person", "--find", "zz") == 0


def test_audit_verify_exit_codes(db, actors, db_path, as_user, capsys):
    with db.write_session() as s:
        for i in range(10):
            audit.record(s, actors["adviser_metz"], audit.Action.READ, "case", i, case_id=i)
    as_user("admin")
    assert run(db_path, "audit", "verify") == 0
    assert "intact" in capsys.readouterr().out
    with db.write_session() as s:
        target = s.execute(text("SELECT id FROM audit_events WHERE action='read' ORDER BY id LIMIT 1 OFFSET 4")).scalar()
        s.execute(text("UPDATE audit_events SET details_json = :d WHERE id = :i"), {"d": '{"x": 1}', "i": target})
    assert run(db_path, "audit", "verify") == 1
    captured = capsys.readouterr()
    assert f"Premier lien rompu : événement n° {target}" in captured.out
    assert "altéré" in captured.err
    assert run(db_path, "audit", "list", "--case", "3", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["dossier_id"] for r in rows} == {3}
    assert run(db_path, "audit", "list", "--from", "32/13/2026") == 2
    assert "Date invalide" in capsys.readouterr().err


def test_audit_verify_as_a_real_process(db, actors, db_path):
    import os

    env = dict(os.environ, CUS_DESK_USER="admin", CUS_DESK_PASSWORD=TEST_PASSWORD)
    with db.write_session() as s:
        s.execute(text("DELETE FROM audit_events WHERE id = 3"))
    result = subprocess.run([sys.executable, "-m", "cus_desk", "--db", str(db_path), "audit", "verify"],
                            capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Premier lien rompu : événement n° 4" in result.stdout
    assert "Traceback" not in result.stderr


def test_purge_dry_run_then_real(db, actors, db_path, as_user, capsys):
    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "ANCIEN", with_lease=False)
        b.case(s, hh, status="clos", closed_on=date(2020, 1, 1))
    as_user("admin")
    assert run(db_path, "purge", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Dossiers clos anonymisés : 1" in out and "ANCIEN" not in out
    assert run(db_path, "purge", "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["a_purger"]["case"] == 1
    assert run(db_path, "purge") == 0
    assert "Dossiers clos anonymisés : 1" in capsys.readouterr().out
    assert run(db_path, "purge", "--dry-run") == 0
    assert "Rien à purger" in capsys.readouterr().out
    assert run(db_path, "audit", "purge", "--dry-run") == 0
    assert "Aucun événement" in capsys.readouterr().out


@pytest.mark.sqlite_only(reason="backups are copies of the SQLite file (PostgreSQL backups: pg_dump, not yet)")
def test_backup_restore_through_cli(db, actors, db_path, as_user, capsys, tmp_path):
    as_user("admin")
    copy = tmp_path / "copie.sqlite3"
    assert run(db_path, "backup", str(copy)) == 0
    assert "Sauvegarde écrite" in capsys.readouterr().out
    assert run(db_path, "users", "add", "apres", "--role", "recouvrement") == 0
    garbage = tmp_path / "abime.sqlite3"
    garbage.write_bytes(copy.read_bytes()[:8192] + b"\x00" * 100)
    before = db_path.read_bytes()
    assert run(db_path, "restore", str(garbage)) == 2
    assert "Rien n'a été remplacé" in capsys.readouterr().err
    assert db_path.read_bytes() == before
    db.dispose()
    assert run(db_path, "restore", str(copy)) == 0
    out = capsys.readouterr().out
    assert "Base restaurée" in out and "ancienne base est conservée" in out
    assert run(db_path, "users", "list", "--json") == 0
    assert "apres" not in [u["login"] for u in json.loads(capsys.readouterr().out)]
    assert run(db_path, "backup") == 0  # to the backup folder
    assert "sauvegardes" in capsys.readouterr().out


@pytest.mark.sqlite_only(reason="backups are copies of the SQLite file (PostgreSQL backups: pg_dump, not yet)")
def test_restore_over_damaged_base_checks_account_in_backup(db, actors, db_path, as_user, capsys, tmp_path):
    as_user("admin")
    copy = tmp_path / "copie.sqlite3"
    assert run(db_path, "backup", str(copy)) == 0
    db.dispose()
    data = bytearray(db_path.read_bytes())
    data[4096:4096 * 3] = b"\xff" * 8192
    db_path.write_bytes(bytes(data))
    as_user("cs.metz")  # not an administrator
    assert run(db_path, "restore", str(copy)) == 2
    assert "administrateur" in capsys.readouterr().err
    as_user("admin", "faux")
    assert run(db_path, "restore", str(copy)) == 2
    as_user("admin")
    assert run(db_path, "restore", str(copy)) == 0
    assert run(db_path, "audit", "list", "--json", "--limit", "3") == 0
    capsys.readouterr()
    assert run(db_path, "audit", "verify") == 0


def test_export_person_and_stats(db, actors, db_path, as_user, capsys, tmp_path):
    with db.write_session() as s:
        hh, lease = b.household(s, "metz", "EXPORTCLI", "Paula")
        b.case(s, hh)
        tenant_id = hh.members[0].id
    as_user("cs.metz")
    assert run(db_path, "export-person", "--find", "exportcli") == 0
    assert f"{tenant_id}  EXPORTCLI Paula" in capsys.readouterr().out
    assert run(db_path, "export-person", "--tenant", str(tenant_id)) == 2
    assert run(db_path, "export-person", "--tenant", str(tenant_id), "--json", str(tmp_path / "p.json"),
               "--pdf", str(tmp_path / "p.pdf")) == 0
    assert (tmp_path / "p.json").exists() and (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    as_user("cs.forbach")
    assert run(db_path, "export-person", "--tenant", str(tenant_id), "--json", str(tmp_path / "q.json")) == 2
    assert "agence" in capsys.readouterr().err
    as_user("pole.social")
    assert run(db_path, "stats", "2022", str(tmp_path / "s.csv")) == 0
    assert "EXPORTCLI" not in (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
