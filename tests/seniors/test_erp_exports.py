"""Arrears extracts as ERPs really export them (#13): title lines, merged
title rows, "Nom Prénom", co-tenants both ways, numeric contracts, an
agency-only file, unreadable optional fields, placeholder dates, and
"premier impayé" without history. Each test goes through the service and a
real SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from cus_desk.services.seniors import SeniorsService
from cus_desk.store import arrears_import as imp
from cus_desk.store.models.core import Lease, Tenant
from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

from .erp_files import (
    EXTRACT_NOV,
    EXTRACT_OCT,
    PREM_ROWS,
    ULIS_HEADERS,
    ULIS_ROWS,
    prem_row,
    premhab_xlsx,
    ulis_csv,
)


def household(db, contract):
    """(titulaire, cotitulaires) of a lease as (last, first, birth) tuples."""
    with db.read_session() as s:
        lease = s.scalar(select(Lease).where(Lease.contract_number == contract))
        people = s.execute(select(Tenant.relationship_kind, Tenant.last_name, Tenant.first_name, Tenant.birth_date)
                           .where(Tenant.household_id == lease.household_id).order_by(Tenant.position)).all()
    holders = [tuple(p[1:]) for p in people if p[0] == "titulaire"]
    return holders[0] if holders else None, [tuple(p[1:]) for p in people if p[0] == "cotitulaire"]


def seniors(service, **kw):
    return {r.contract: r for r in service.list_seniors(**kw).rows}


# ------------------------------------------------------------ 1. title lines

def test_csv_with_title_lines_needs_no_mapping_and_dates_itself(db, recovery, tmp_path):
    path = ulis_csv(tmp_path / "ETAT_IMPAYES.csv")
    analysis = recovery.analyse_file(path)
    assert not analysis.needs_mapping and analysis.missing_required == []
    assert analysis.header_line == 4
    assert analysis.mapping["full_name"] == "Nom Prénom" and analysis.mapping["role"] == "Qualité"
    assert analysis.proposed_date == EXTRACT_OCT  # "Situation au 31/10/2026" (not the edition date)
    assert analysis.agencies == ["Forbach", "Metz"]
    result = recovery.import_arrears(path, EXTRACT_OCT)
    # 5 data lines (the co-tenant's line joins its household), the "Total" footer ignored
    assert (result.lines_read, result.imported, result.rejected) == (6, 4, [])
    assert result.header_line == 4


def test_xlsx_with_a_merged_title_row_and_the_header_on_row_4(db, recovery, tmp_path):
    path = premhab_xlsx(tmp_path / "export.xlsx")
    analysis = recovery.analyse_file(path)
    assert not analysis.needs_mapping and analysis.header_line == 4
    assert analysis.proposed_date == EXTRACT_NOV
    result = recovery.import_arrears(path, EXTRACT_NOV)
    assert (result.imported, result.rejected) == (3, [])
    assert [w.line for w in result.warnings] == []
    with db.read_session() as s:
        rows = s.execute(select(Lease.contract_number, ArrearsLine.balance_cents, ArrearsLine.months_unpaid)
                         .join(ArrearsLine, ArrearsLine.lease_id == Lease.id).order_by(Lease.contract_number)).all()
    assert rows == [("460001", 48000, 7), ("460003", 31050, 2), ("460004", 9500, 1)]


def test_unknown_headers_under_title_lines_are_offered_not_the_title(db, recovery, tmp_path):
    path = tmp_path / "titres.csv"
    path.write_text("LOGIEST - Etat des impayés\nSituation au 31/10/2026\n\nRéf;Qui;Reste\n1;A;2\n", encoding="utf-8")
    with pytest.raises(imp.MappingRequired) as info:
        recovery.import_arrears(path, EXTRACT_OCT)
    assert info.value.headers == ["Réf", "Qui", "Reste"]
    assert "(en-têtes cherchés jusqu'à la ligne 4" in info.value.message
    assert "« N° contrat »" in info.value.message and "Rien n'a été importé" in info.value.message
    assert recovery.analyse_file(path).headers == ["Réf", "Qui", "Reste"]
    xlsx = premhab_xlsx(tmp_path / "t.xlsx", [["x", "y", "z"]], headers=["Réf", "Qui", "Reste"])
    assert recovery.analyse_file(xlsx).headers == ["Réf", "Qui", "Reste"]
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 0


# ------------------------------------------------------- 2. "Nom Prénom"

def test_name_in_one_column_is_split_and_separate_columns_still_work(db, recovery, tmp_path):
    recovery.import_arrears(ulis_csv(tmp_path / "a.csv"), EXTRACT_OCT)
    assert household(db, "00452009")[0] == ("MULLER", "Jeanne", date(1948, 3, 12))
    assert household(db, "00460001")[0][:2] == ("DE LA FONTAINE", "Jean")
    recovery.import_arrears(premhab_xlsx(tmp_path / "b.xlsx"), EXTRACT_NOV)
    assert household(db, "460003")[0][:2] == ("ZIMMER", "Anne")  # "Nom" / "Prénom" columns


@pytest.mark.parametrize("text, expected", [
    ("MULLER Jeanne", ("MULLER", "Jeanne")),
    ("DE LA FONTAINE Jean-Pierre", ("DE LA FONTAINE", "Jean-Pierre")),
    ("Mme MULLER Jeanne", ("MULLER", "Jeanne")),
    ("M. et Mme KLEIN Marcel", ("KLEIN", "Marcel")),
    ("MULLER, Jeanne", ("MULLER", "Jeanne")),
    ("MULLER JEANNE", ("MULLER", "JEANNE")),
    ("VAN DER BERG ANNA", ("VAN DER BERG", "ANNA")),
    ("MULLER", ("MULLER", "")),
])
def test_split_full_name(text, expected):
    from cus_desk.importing.arrears import split_full_name

    assert split_full_name(text) == expected


# ------------------------------------------------------------ 3. co-tenants

def test_co_tenant_on_a_second_line_makes_the_household_senior(db, recovery, tmp_path):
    result = recovery.import_arrears(ulis_csv(tmp_path / "a.csv"), EXTRACT_OCT)
    assert not any("00452010" in r.reason for r in result.rejected)
    holder, cotenants = household(db, "00452010")
    assert holder == ("KLEIN", "Marcel", date(1970, 6, 15))
    assert cotenants == [("KLEIN", "Rose", date(1955, 1, 20))]
    row = seniors(recovery)["00452010"]
    assert row.age == 71  # the titulaire is 56: the co-tenant counts
    assert recovery.detail(row.lease_id).cotenant_name == "KLEIN Rose"


def test_co_tenant_line_first_then_the_titulaire(db, recovery, tmp_path):
    rows = [ULIS_ROWS[2], ULIS_ROWS[1]]  # "Cotitulaire" line before the "Titulaire" one
    recovery.import_arrears(ulis_csv(tmp_path / "a.csv", rows), EXTRACT_OCT)
    assert household(db, "00452010") == (("KLEIN", "Marcel", date(1970, 6, 15)),
                                         [("KLEIN", "Rose", date(1955, 1, 20))])


def test_a_second_line_with_another_balance_and_no_role_is_still_a_duplicate(db, recovery, tmp_path):
    headers = [h for h in ULIS_HEADERS if h != "Qualité"]
    rows = [[c for i, c in enumerate(r) if i != 3] for r in ULIS_ROWS[:3]]
    rows[2][7] = "999,00"
    result = recovery.import_arrears(ulis_csv(tmp_path / "a.csv", rows, headers=headers), EXTRACT_OCT)
    assert [(r.line, r.reason.split(",")[0]) for r in result.rejected] == [
        (7, "contrat 00452010 déjà présent ligne 6 du même fichier")]


def test_co_tenant_columns(db, recovery, tmp_path):
    recovery.import_arrears(premhab_xlsx(tmp_path / "b.xlsx"), EXTRACT_NOV)
    holder, cotenants = household(db, "460003")
    assert holder == ("ZIMMER", "Anne", date(1970, 5, 5))
    assert cotenants == [("ZIMMER", "Paul", date(1950, 7, 7))]
    assert seniors(recovery)["460003"].age == 76


# --------------------------------------------- 4. optional fields: warnings

def test_an_unreadable_optional_field_is_a_warning_and_the_line_is_kept(db, recovery, tmp_path):
    rows = [["Metz", "00452100", "WEBER Marthe", "Titulaire", "02/04/1930", "Metz", "1 rue A", "01/01/1970",
             "2 400,00", "12", "00/00/0000", "", ""],
            ["Metz", "00452101", "BAUER Hans", "Titulaire", "02/04/1950", "Metz", "1 rue B", "01/01/1980",
             "100,00", "1,5", "", "", ""]]
    result = recovery.import_arrears(ulis_csv(tmp_path / "a.csv", rows), EXTRACT_OCT)
    assert result.imported == 2 and result.rejected == []
    warnings = {w.line: w.reason for w in result.warnings}
    assert "00/00/0000" in warnings[5] and warnings[5].endswith("ignorée")
    assert "1,5" in warnings[6] and "nombre entier" in warnings[6]
    rows = seniors(recovery)
    assert rows["00452100"].age == 96 and rows["00452100"].months_unpaid == 12
    assert rows["00452101"].months_unpaid is None
    with db.read_session() as s:
        stored = json.loads(s.scalar(select(ArrearsExtract.rejected_json)))
    assert {item["line"] for item in stored if item.get("warning")} == {5, 6}
    assert recovery.extracts()[0].rejected_count == 0  # warnings are not rejections


# ------------------------------------------------ 5. "premier impayé"

def _no_history_columns(rows):
    keep = [i for i, h in enumerate(ULIS_HEADERS) if h not in ("Nb mois impayés", "Date dernier paiement")]
    return [ULIS_HEADERS[i] for i in keep], [[r[i] for i in keep] for r in rows]


def test_first_import_without_history_says_history_unknown(db, actors, recovery, tmp_path):
    headers, rows = _no_history_columns(ULIS_ROWS)
    recovery.import_arrears(ulis_csv(tmp_path / "a.csv", rows, headers=headers), EXTRACT_OCT)
    listing = recovery.list_seniors()
    assert listing.rows and listing.first_arrears_count == 0
    assert all(r.history_unknown and not r.first_arrears for r in listing.rows)
    detail = recovery.detail(listing.rows[0].lease_id)
    assert detail.history_unknown and "historique des impayés inconnu" in detail.first_arrears_reason
    assert not detail.first_arrears
    # the CLI says so too
    env = {**os.environ, "CUS_DESK_USER": "recouvrement.metz", "CUS_DESK_PASSWORD": _password()}
    done = subprocess.run([sys.executable, "-m", "cus_desk", "--db", db.url, "seniors"],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "historique inconnu" in done.stdout and "PREMIER IMPAYÉ" not in done.stdout


def _password():
    from tests.conftest import TEST_PASSWORD

    return TEST_PASSWORD


def test_first_import_uses_the_months_unpaid_column(db, recovery, tmp_path):
    recovery.import_arrears(ulis_csv(tmp_path / "a.csv"), EXTRACT_OCT)
    rows = seniors(recovery)
    assert not rows["00460001"].first_arrears  # 7 months unpaid
    assert rows["00460001"].first_arrears_reason == "7 mois d'impayés selon l'extrait"
    assert rows["00452009"].first_arrears  # 1 month, lease of 1990
    assert not rows["00452009"].history_unknown


def test_rejected_last_month_then_13_months_unpaid_is_not_a_first_arrears(db, recovery, tmp_path):
    sept = [list(r) for r in ULIS_ROWS[:1]] + [
        ["Metz", "00452200", "ROTH Emma", "Titulaire", "01/01/1940", "Metz", "", "01/01/1975", "n/a", "", "", "", ""]]
    result = recovery.import_arrears(ulis_csv(tmp_path / "sept.csv", sept), date(2026, 9, 30))
    assert [r.line for r in result.rejected] == [6]
    octo = [list(r) for r in ULIS_ROWS[:1]] + [
        ["Metz", "00452200", "ROTH Emma", "Titulaire", "01/01/1940", "Metz", "", "01/01/1975", "3 120,00", "13", "",
         "", ""]]
    recovery.import_arrears(ulis_csv(tmp_path / "oct.csv", octo), EXTRACT_OCT)
    row = seniors(recovery)["00452200"]
    assert not row.first_arrears and row.first_arrears_reason == "13 mois d'impayés selon l'extrait"


# ------------------------------------------------- 6. agency-only extracts

def test_an_agency_only_extract_replaces_that_agency_only(db, recovery, tmp_path):
    full = ulis_csv(tmp_path / "toutes.csv")
    recovery.import_arrears(full, EXTRACT_NOV)
    before = seniors(recovery)
    assert {r.agency for r in before.values()} == {"Metz", "Forbach"}
    forbach = premhab_xlsx(tmp_path / "forbach.xlsx")
    analysis = recovery.analyse_file(forbach)
    assert analysis.agencies == ["Forbach"]
    notice = recovery.replacement_notice(EXTRACT_NOV, analysis.agencies)
    assert notice == ("Un extrait du 15/11/2026 est déjà importé (agences : Forbach, Metz). Ce fichier ne "
                      "couvre que : Forbach. Les lignes de Forbach seront remplacées ; celles de Metz sont "
                      "conservées.")
    result = recovery.import_arrears(forbach, EXTRACT_NOV)
    assert (result.replaced, result.replaced_agencies, result.kept_agencies) == (True, ["Forbach"], ["Metz"])
    after = seniors(recovery)
    assert {c for c, r in after.items() if r.agency == "Metz"} == {c for c, r in before.items() if r.agency == "Metz"}
    assert "00452009" in after and "460003" not in before
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 1
        extract = s.scalar(select(ArrearsExtract))
        assert extract.lines_imported == s.scalar(select(func.count(ArrearsLine.id))) == 2 + 3
        assert extract.source_name == "toutes.csv + forbach.xlsx"
    # a file of every agency replaces the whole date, and says so
    assert recovery.replacement_notice(EXTRACT_NOV, ["Forbach", "Metz"]) == (
        "Un extrait du 15/11/2026 est déjà importé (agences : Forbach, Metz) : il sera remplacé.")
    assert recovery.replacement_notice(EXTRACT_OCT, ["Forbach"]) == ""


# -------------------------------------------- 7. contract numbers

def test_numeric_contracts_match_their_zero_padded_form(db, recovery, tmp_path):
    recovery.import_arrears(ulis_csv(tmp_path / "oct.csv"), EXTRACT_OCT)  # "00460001" as text
    recovery.import_arrears(premhab_xlsx(tmp_path / "nov.xlsx"), EXTRACT_NOV)  # 460001 as a number
    with db.read_session() as s:
        contracts = set(s.scalars(select(Lease.contract_number)))
        assert "460001" not in contracts and "00460001" in contracts
        lease_id = s.scalar(select(Lease.id).where(Lease.contract_number == "00460001"))
        assert [b for _d, b in imp_history(s, lease_id)] == [48000, 48000]
    assert not seniors(recovery)["00460001"].first_arrears  # in arrears in October already


def imp_history(session, lease_id):
    from cus_desk.services.seniors import lease_balance_history

    return lease_balance_history(session, lease_id)


@pytest.mark.parametrize("a, b, same", [("00452009", "452009", True), ("452009", "0452009", True),
                                        ("57-000001", "57-1", False), ("0", "000", True), ("ab12", "AB12", True)])
def test_contract_key(a, b, same):
    assert (imp.contract_key(a) == imp.contract_key(b)) is same


# -------------------------------------------- 8. dates and amounts

def test_placeholder_birth_dates_are_rejected_with_a_reason(db, recovery, tmp_path):
    rows = [["Metz", "00452300", "NUL Jean", "Titulaire", "01/01/0001", "Metz", "", "01/01/1990", "10,00", "1",
             "", "", ""],
            ["Metz", "00452301", "VIEUX Paul", "Titulaire", "01/01/1900", "Metz", "", "01/01/1990", "10,00", "1",
             "", "", ""],
            ["Metz", "00452302", "HEURE Anna", "Titulaire", "12/03/1950 00:00:00", "Metz", "", "19850301",
             "45,00 CR", "0", "", "", ""]]
    result = recovery.import_arrears(ulis_csv(tmp_path / "a.csv", rows), EXTRACT_OCT)
    assert result.imported == 3 and result.rejected == []
    warnings = {w.line: w.reason for w in result.warnings}
    assert "fictive" in warnings[5] and "âge inconnu" in warnings[5]
    assert "fictive (01/01/1900, soit 126 ans)" in warnings[6]
    assert 7 not in warnings
    assert household(db, "00452300")[0][2] is None and household(db, "00452301")[0][2] is None
    assert household(db, "00452302")[0][2] == date(1950, 3, 12)
    with db.read_session() as s:
        lease = s.scalar(select(Lease).where(Lease.contract_number == "00452302"))
        assert lease.start_date == date(1985, 3, 1)
        assert s.scalar(select(ArrearsLine.balance_cents).where(ArrearsLine.lease_id == lease.id)) == -4500
    assert {"00452300", "00452301"}.isdisjoint(seniors(recovery))  # no "2025 ans", no "126 ans"


# -------------------------------------------- the CSV and the XLSX agree

def test_the_same_households_from_csv_and_xlsx(db, recovery, tmp_path):
    rows = [prem_row(*r[:10]) for r in PREM_ROWS]
    path = premhab_xlsx(tmp_path / "x.xlsx", rows)
    result = recovery.import_arrears(path, EXTRACT_NOV)
    assert result.imported == 3
    assert {r.contract for r in recovery.list_seniors().rows} == {"460001", "460003", "460004"}
    assert datetime(1940, 5, 5).date() == household(db, "460001")[0][2]


def test_list_export_needs_the_right_to_read_the_list(db, actors, recovery, tmp_path):
    from cus_desk.domain.errors import AccessDeniedError

    recovery.import_arrears(ulis_csv(tmp_path / "a.csv"), EXTRACT_OCT)
    ids = [r.lease_id for r in recovery.list_seniors().rows]
    assert recovery.seniors_xlsx(ids, "aucun").startswith(b"PK")
    with pytest.raises(AccessDeniedError):
        SeniorsService(db, actors["admin"]).seniors_xlsx(ids, "aucun")


def test_household_phones_from_across_the_border_and_bad_ones(db, recovery, tmp_path):
    from cus_desk.store.models.core import Household

    from .conftest import ROWS, write_csv

    rows = [list(r) for r in ROWS[:3]]
    rows[0][13] = "+352 27 12 34 56"
    rows[1][13] = "0049 681 123456"
    rows[2][13] = "10"
    result = recovery.import_arrears(write_csv(tmp_path / "t.csv", rows=rows), EXTRACT_OCT)
    assert result.imported == 3 and result.rejected == []
    assert [(w.line, w.reason) for w in result.warnings] == [(4, "téléphone « 10 » invalide : ignoré")]
    with db.read_session() as s:
        phones = dict(s.execute(select(Lease.contract_number, Household.phone)
                                .join(Household, Household.id == Lease.household_id)).all())
    assert phones == {"57-000001": "+352 27 12 34 56", "57-000002": "+49 681 123456", "57-000003": None}


def test_agency_only_file_with_a_lease_moved_from_another_agency(db, recovery, tmp_path):
    recovery.import_arrears(ulis_csv(tmp_path / "toutes.csv"), EXTRACT_NOV)
    moved = [list(r) for r in ULIS_ROWS[3:4]] + [
        ["Forbach"] + list(ULIS_ROWS[0][1:])]  # MULLER's lease now managed by Forbach
    result = recovery.import_arrears(ulis_csv(tmp_path / "forbach.csv", moved), EXTRACT_NOV)
    assert (result.replaced_agencies, result.kept_agencies) == (["Forbach"], ["Metz"])
    with db.read_session() as s:
        from cus_desk.store.models.core import Agency

        lines = s.execute(select(Lease.contract_number, Agency.name)
                          .join(ArrearsLine, ArrearsLine.lease_id == Lease.id)
                          .join(Agency, Agency.id == Lease.agency_id)).all()
    assert sorted(lines) == [("00452009", "Forbach"), ("00452010", "Metz"), ("00460001", "Forbach")]
