"""`cus-desk cases list/show`: JSON on stdout, French errors and exit 2."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cus_desk.cli import main
from cus_desk.services.cases import CaseService

from .conftest import TODAY


@pytest.fixture
def run(db, db_path, monkeypatch, capsys):
    from tests.conftest import TEST_PASSWORD

    def invoke(*argv, user="cs.metz"):
        monkeypatch.setenv("CUS_DESK_USER", user)
        monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
        code = main(["--db", str(db_path), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def two_cases(db, make_case, actors):
    a = make_case(last_name="Ющенко", first_name="Олена", arrears_cents=250_000)
    b = make_case(who="social_head", last_name="BERNARD", first_name="Luc", agency="forbach", commune="Forbach")
    service = CaseService(db, actors["adviser_metz"])
    service.add_confidential_note(a, "sante", "Suivi psychiatrique au CMP", date(2026, 11, 2), "ecrit_signe")
    service.add_journal_entry(a, "entretien", TODAY, "Entretien budgétaire")
    return a, b


def test_list_json(run, two_cases):
    code, out, err = run("cases", "list", "--json", user="pole.social")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["reference"] for r in rows] == ["CAS-2026-0002", "CAS-2026-0001"]
    assert rows[1]["titulaire"] == "Ющенко Олена"  # UTF-8, not escaped
    assert "Ющенко" in out
    assert rows[1]["impaye_cents"] == 250_000


def test_list_filters(run, two_cases):
    code, out, _ = run("cases", "list", "--agency", "forbach", "--json", user="pole.social")
    assert code == 0 and [r["titulaire"] for r in json.loads(out)] == ["BERNARD Luc"]
    code, out, _ = run("cases", "list", "--agency", "Metz", "--status", "ouvert", "--json", user="pole.social")
    assert [r["reference"] for r in json.loads(out)] == ["CAS-2026-0001"]
    code, out, _ = run("cases", "list", "--status", "clos", "--json", user="pole.social")
    assert json.loads(out) == []
    # The Metz adviser only sees the Metz case.
    code, out, _ = run("cases", "list", "--json")
    assert [r["reference"] for r in json.loads(out)] == ["CAS-2026-0001"]
    code, out, _ = run("cases", "list")
    assert "CAS-2026-0001" in out and "1 dossier(s)." in out


@pytest.mark.parametrize("argv,message", [
    (("cases", "list", "--agency", "Paris", "--json"), "Agence inconnue : « Paris »"),
    (("cases", "list", "--status", "termine", "--json"), "Statut inconnu : « termine »"),
    (("cases", "show", "CAS-1999-0001", "--json"), "Aucun dossier ne porte la référence"),
    (("cases", "list", "--limit", "0"), "--limit"),
])
def test_bad_arguments_exit_2(run, two_cases, argv, message):
    code, out, err = run(*argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_show_json_never_has_confidential_notes(run, two_cases):
    code, out, err = run("cases", "show", "cas-2026-0001", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["reference"] == "CAS-2026-0001"
    assert data["menage"]["membres"][0]["nom"] == "Ющенко"
    assert data["journal"][0]["texte"] == "Entretien budgétaire"
    assert "psychiatrique" not in out and "CMP" not in out and "sante" not in out
    assert "confidenti" not in out


def test_show_refused_outside_access(run, two_cases):
    code, out, err = run("cases", "show", "CAS-2026-0002", "--json")  # Forbach case, Metz adviser
    assert code == 2 and "pas accès" in err and out == ""
    code, _, err = run("cases", "list", "--json", user="recouvrement.metz")
    assert code == 2 and "pas accès" in err
