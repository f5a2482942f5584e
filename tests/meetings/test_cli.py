"""``cus-desk meetings list`` and ``cus-desk releve`` against a real file."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import pytest
from pypdf import PdfReader

from cus_desk.cli import main
from tests.conftest import TEST_PASSWORD
from tests.meetings.conftest import HEALTH_SECRET, prepared_meeting


@pytest.fixture
def cli(world, db_path, monkeypatch):
    monkeypatch.setenv("CUS_DESK_USER", "cs.metz")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)

    def run(*args: str) -> int:
        return main(["--db", str(db_path), *args])

    return run


def test_meetings_list_json(cli, world, capsys):
    closed = prepared_meeting(world, "dupont", held_on=date(2026, 10, 22))
    svc = world.service()
    svc.start_meeting(closed.id)
    svc.add_decision(closed.id, world.cases["dupont"], "saisine_fsl", "", "Pôle social", date(2026, 12, 1))
    svc.close_meeting(closed.id)
    prepared_meeting(world, "martin")
    capsys.readouterr()
    assert cli("meetings", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["libelle"], r["statut"], r["dossiers"], r["decisions"]) for r in rows] == [
        ("CAS n° 2/2026", "preparee", 1, 0),
        ("CAS n° 1/2026", "cloturee", 1, 1),
    ]
    assert rows[0]["date"] == "2026-11-26" and rows[0]["perimetre"].startswith("Séance centrale")
    assert cli("meetings", "list", "--status", "cloturee", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert cli("meetings", "list", "--status", "fermee", "--json") == 2
    assert "preparee, en_cours, cloturee" in capsys.readouterr().err


def test_releve_writes_the_archived_file(cli, world, tmp_path, capsys):
    detail = prepared_meeting(world, "dupont", held_on=date(2026, 10, 22))
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["dupont"], "intervention_sociale", "Bilan global",
                     "Pôle social", date(2026, 12, 1))
    closed = svc.close_meeting(detail.id)
    out = tmp_path / "releve.pdf"
    assert cli("releve", "1/2026", "-o", str(out)) == 0
    data = out.read_bytes()
    assert hashlib.sha256(data).hexdigest() == closed.archives[-1].sha256
    assert "relevé archivé" in capsys.readouterr().err
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Bilan global" in text and HEALTH_SECRET not in text
    # by id too
    again = tmp_path / "again.pdf"
    assert cli("releve", str(detail.id), "-o", str(again)) == 0
    assert again.read_bytes() == data


def test_releve_errors(cli, world, tmp_path, capsys):
    prepared_meeting(world, "martin")
    capsys.readouterr()
    assert cli("releve", "7/2026", "-o", str(tmp_path / "x.pdf")) == 2
    assert "Aucune séance de CAS ne correspond à « 7/2026 »" in capsys.readouterr().err
    assert cli("releve", "la dernière", "-o", str(tmp_path / "x.pdf")) == 2
    assert "n'est pas une référence de séance" in capsys.readouterr().err
    assert cli("releve", "1/2026", "-o", str(tmp_path / "absent" / "x.pdf")) == 2
    assert "n'existe pas" in capsys.readouterr().err
    assert cli("releve", "1/2026", "-o", str(tmp_path)) == 2
    assert "est un dossier" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.pdf"))
    # a session not closed yet gives a draft
    assert cli("releve", "1/2026", "-o", str(tmp_path / "projet.pdf")) == 0
    assert "projet de relevé" in capsys.readouterr().err
    text = PdfReader(str(tmp_path / "projet.pdf")).pages[0].extract_text()
    assert "PROJET" in text


def test_cli_refuses_a_profile_without_access(cli, world, monkeypatch, capsys):
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    assert cli("meetings", "list", "--json") == 2
    assert "ne permet pas" in capsys.readouterr().err


def test_releve_reprints_any_archived_version(cli, world, tmp_path, capsys):
    detail = prepared_meeting(world, "dupont", held_on=date(2026, 10, 22))
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["dupont"], "intervention_sociale", "Bilan global",
                     "Pôle social", date(2026, 12, 1))
    closed = svc.close_meeting(detail.id)
    rectified = svc.add_addendum(detail.id, "Responsable corrigé : CS Forbach")
    capsys.readouterr()
    signed = tmp_path / "signe.pdf"
    assert cli("releve", "1/2026", "--version", "1", "-o", str(signed)) == 0
    assert "version 1 (rectifiée depuis)" in capsys.readouterr().err
    assert hashlib.sha256(signed.read_bytes()).hexdigest() == closed.archives[0].sha256
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(signed.read_bytes())).pages)
    assert "Version 1" in text and "CS Forbach" not in text
    newest = tmp_path / "dernier.pdf"
    assert cli("releve", "1/2026", "-o", str(newest)) == 0
    assert "version 2 (la dernière)" in capsys.readouterr().err
    assert hashlib.sha256(newest.read_bytes()).hexdigest() == rectified.archives[1].sha256
    assert cli("releve", "1/2026", "--version", "3", "-o", str(tmp_path / "x.pdf")) == 2
    assert "versions archivées de 1 à 2" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_decide_from_the_command_line_with_the_effect_flag_and_the_grave_confirmation(cli, world, capsys):
    from sqlalchemy import func, select

    from cus_desk.store.models.cases import RepaymentPlan
    from cus_desk.store.models.meetings import Decision

    detail = prepared_meeting(world, "martin", "dupont")
    world.service().start_meeting(detail.id)
    capsys.readouterr()
    ref = world.service().get_meeting(detail.id).agenda[0].case_reference
    assert cli("meetings", "decider", "1/2026", ref, "plan_apurement", "--responsable", "Pôle social",
               "--creer-effet", "--mensualite", "80,00", "--mois", "0") == 2
    assert "durée du plan" in capsys.readouterr().err
    with world.db.read_session() as s:
        assert s.scalar(select(func.count(Decision.id))) == 0
    assert cli("meetings", "decider", "1/2026", ref, "plan_apurement", "--responsable", "Pôle social",
               "--creer-effet", "--mensualite", "80,00", "--mois", "12") == 0
    assert "plan d'apurement créé" in capsys.readouterr().out
    with world.db.read_session() as s:
        plan = s.scalar(select(RepaymentPlan).where(RepaymentPlan.case_id == world.cases["martin"],
                                                    RepaymentPlan.monthly_cents == 8_000))
        assert plan is not None and plan.months == 12
    motivation = "Échec du plan et de la saisine FSL, aucun contact depuis six mois."
    assert cli("meetings", "decider", "1/2026", ref, "demande_resiliation_judiciaire", "--texte", motivation,
               "--responsable", "Service contentieux de l'agence") == 2
    assert "--confirme" in capsys.readouterr().err
    assert cli("meetings", "decider", "1/2026", ref, "demande_resiliation_judiciaire", "--texte", motivation,
               "--responsable", "Service contentieux de l'agence", "--confirme") == 0
    assert cli("meetings", "decider", "1/2026", ref, "visite_domicile", "--responsable", "Mme Inconnue") == 2
    assert "Choisissez le responsable dans la liste" in capsys.readouterr().err
    assert cli("meetings", "suivi", "--mes", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing entrusted to cs.metz yet
    assert cli("meetings", "decider", "1/2026", ref, "visite_domicile",
               "--responsable", "Conseillère sociale de l'agence", "--echeance", "15/12/2026") == 0
    capsys.readouterr()
    assert cli("meetings", "suivi", "--mes", "--json") == 0
    [mine] = json.loads(capsys.readouterr().out)
    assert (mine["dossier"], mine["type"], mine["echeance"]) == (ref, "visite_domicile", "2026-12-15")
