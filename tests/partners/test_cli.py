"""``cus-desk partners``: list (JSON) with agency/category filters, export
XLSX, PDF; unknown names and bad files give a French message, exit 2."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from cus_desk.cli import main
from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user

PASSWORD = "Mot-de-passe-cli-1"


@pytest.fixture
def cli(db, db_path, monkeypatch):
    create_user(db, "cs.cli", "Conseillère CLI", Role.SOCIAL_ADVISER, PASSWORD)
    monkeypatch.setenv("CUS_DESK_USER", "cs.cli")
    monkeypatch.setenv("CUS_DESK_PASSWORD", PASSWORD)

    def run(*args):
        return main(["--db", str(db_path), "partners", *args])
    return run


def test_list_json_by_agency(cli, capsys):
    assert cli("list", "--agency", "Forbach", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["short_name"] for r in rows} >= {"ADOMA", "UDAF", "CMSEA"}
    assert all("Forbach" in r["agencies"] for r in rows)
    udaf = next(r for r in rows if r["short_name"] == "UDAF")
    # the CUS 2020 count apart from the flats recorded now (#13)
    assert (udaf["flat_count"], udaf["cus_flat_count"]) == (0, 33)
    assert udaf["category_label"] == "Tutelle / curatelle"


def test_list_json_by_category_and_agency_spelling(cli, capsys):
    assert cli("list", "--agency", "dt 54", "--category", "Santé mentale", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["name"] for r in rows) == ["COPSIL", "RAPP"]
    assert cli("list", "--category", "refugies", "--search", "horizon", "--json") == 0
    names = {r["name"] for r in json.loads(capsys.readouterr().out)}
    assert names == {"FRANCE HORIZON", "FRANCE HORIZON CADA"}


def test_list_text(cli, capsys):
    assert cli("list", "--agency", "Saint-Avold") == 0
    out = capsys.readouterr().out
    assert "ASSOCIATION HORIZON" in out and "structure(s)." in out


@pytest.mark.parametrize("args, words", [
    (("list", "--agency", "Paris", "--json"), "Agence « Paris » inconnue"),
    (("list", "--category", "banque"), "Catégorie « banque » inconnue"),
    (("export", "annuaire.csv"), ".xlsx"),
    (("pdf", "vue.txt"), ".pdf"),
])
def test_bad_arguments_exit_2_in_french(cli, capsys, args, words):
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_export_and_pdf(cli, capsys, tmp_path):
    xlsx = tmp_path / "annuaire.xlsx"
    assert cli("export", str(xlsx)) == 0
    assert "Classeur enregistré" in capsys.readouterr().out
    names = {r[0] for r in load_workbook(xlsx)["Structures"].iter_rows(values_only=True)}
    assert {"AIEM", "UDAF", "ADALI"} <= names
    pdf = tmp_path / "metz.pdf"
    assert cli("pdf", str(pdf), "--agency", "Metz") == 0
    text = "".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "Agence de Metz" in text and "AIEM" in text


def test_wrong_password_refused(cli, monkeypatch, capsys):
    monkeypatch.setenv("CUS_DESK_PASSWORD", "mauvais")
    assert cli("list", "--json") == 2
    assert "Traceback" not in capsys.readouterr().err
