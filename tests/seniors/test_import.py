"""Import of arrears extracts through a real SQLite database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.services.seniors import SeniorsService, lease_balance_history
from cus_desk.store import arrears_import as imp
from cus_desk.store.models.core import AuditEvent, Household, Lease, Tenant
from cus_desk.store.models.seniors import ArrearsExtract, ArrearsLine

from .conftest import EXTRACT_DATE, ROWS, write_csv, write_xlsx


def snapshot(db) -> dict:
    """Everything an import may touch, to prove "nothing changed"."""
    with db.read_session() as s:
        return {
            "leases": s.execute(select(Lease.contract_number, Lease.commune, Lease.address, Lease.start_date,
                                       Lease.monthly_rent_cents, Lease.agency_id, Lease.version)
                                .order_by(Lease.contract_number)).all(),
            "tenants": s.execute(select(Tenant.household_id, Tenant.last_name, Tenant.first_name,
                                        Tenant.birth_date).order_by(Tenant.id)).all(),
            "households": s.execute(select(Household.id, Household.phone, Household.version)).all(),
            "extracts": s.execute(select(ArrearsExtract.extract_date, ArrearsExtract.lines_imported)).all(),
            "lines": s.execute(select(ArrearsLine.lease_id, ArrearsLine.balance_cents, ArrearsLine.months_unpaid)
                               .order_by(ArrearsLine.lease_id, ArrearsLine.extract_id)).all(),
        }


def lease(db, contract):
    with db.read_session() as s:
        return s.scalar(select(Lease).where(Lease.contract_number == contract))


def test_csv_import_creates_leases_tenants_and_lines(db, recovery, extract_csv):
    result = recovery.import_arrears(extract_csv, EXTRACT_DATE)
    assert result.lines_read == 7
    assert result.imported == 7
    assert result.rejected == []
    assert result.leases_created == 7
    l1 = lease(db, "57-000001")
    assert l1.commune == "Metz" and l1.address == "3 rue des Roses"
    assert l1.start_date == date(1990, 2, 1) and l1.monthly_rent_cents == 51230
    with db.read_session() as s:
        holder = s.scalar(select(Tenant).where(Tenant.household_id == l1.household_id))
        assert (holder.last_name, holder.first_name, holder.birth_date) == ("MULLER", "Jeanne", date(1948, 3, 12))
        assert s.get(Household, l1.household_id).phone == "06 39 98 00 01"
        line = s.scalar(select(ArrearsLine).where(ArrearsLine.lease_id == l1.id))
        assert (line.balance_cents, line.months_unpaid, line.last_payment_on) == (123456, 3, date(2026, 8, 2))
        # lenient agency matching: "Agence de Metz", "metz", "dt54"
        assert lease(db, "57-000002").agency_id == l1.agency_id == lease(db, "57-000003").agency_id
        assert lease(db, "54-000007").agency_id == lease(db, "54-000006").agency_id
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "import")) == 1
        assert lease_balance_history(s, l1.id) == [(EXTRACT_DATE, 123456)]


@pytest.mark.parametrize("encoding, bom", [("utf-8", False), ("utf-8", True), ("cp1252", False), ("utf-16", False)])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_each_encoding_and_separator(db, recovery, tmp_path, encoding, bom, sep):
    rows = [[c.replace(",", ".") if sep == "," else c for c in r] for r in ROWS]
    path = write_csv(tmp_path / "x.csv", rows=rows, sep=sep, encoding=encoding, bom=bom)
    result = recovery.import_arrears(path, EXTRACT_DATE)
    assert (result.imported, result.rejected) == (7, [])
    with db.read_session() as s:
        names = set(s.scalars(select(Tenant.first_name)))
        communes = set(s.scalars(select(Lease.commune)))
    assert "Lucie" in names and "Prénom" not in names
    assert "Vandœuvre-lès-Nancy" in communes  # œ and è read back in every encoding
    assert lease(db, "57-000001").monthly_rent_cents == 51230


def test_quoted_csv_with_comma_decimal_and_comma_separator(db, recovery, tmp_path):
    text = 'Contrat,Nom,Agence,Solde,Date de naissance\n"57-9","DUPONT, Jean",Metz,"1 234,56",01/01/1950\n'
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    result = recovery.import_arrears(path, EXTRACT_DATE)
    assert result.imported == 1
    with db.read_session() as s:
        assert s.scalar(select(ArrearsLine.balance_cents)) == 123456
        assert s.scalar(select(Tenant.last_name)) == "DUPONT, Jean"


def test_xlsx_first_sheet_and_chosen_sheet(db, recovery, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][9] = 1234.56  # numbers and dates as Excel cells
    rows[0][3] = date(1948, 3, 12)
    rows[1][0] = 57000002  # a contract typed as a number
    path = write_xlsx(tmp_path / "extrait.xlsx", rows=rows)
    assert imp.list_sheets(path) == ["Impayés"]
    result = recovery.import_arrears(path, EXTRACT_DATE)
    assert (result.imported, result.rejected) == (7, [])
    assert lease(db, "57000002") is not None
    with db.read_session() as s:
        assert s.scalar(select(ArrearsLine.balance_cents).join(Lease).where(Lease.contract_number == "57-000001")) == 123456

    two = write_xlsx(tmp_path / "deux.xlsx", extra_first_sheet=True)
    assert imp.list_sheets(two) == ["Notice", "Impayés"]
    with pytest.raises(imp.MappingRequired):
        recovery.import_arrears(two, date(2026, 9, 30))  # first sheet is a notice
    result = recovery.import_arrears(two, date(2026, 9, 30), sheet="Impayés")
    assert result.imported == 7
    with pytest.raises(imp.ImportRefused, match="pas de feuille « Absente »"):
        recovery.import_arrears(two, date(2026, 9, 30), sheet="Absente")


def test_rejected_lines_have_number_and_french_reason(db, recovery, tmp_path):
    rows = [list(r) for r in ROWS[:2]] + [
        ["", "SANS", "Contrat", "01/01/1950", "", "Metz", "Metz", "", "", "10,00", "1", "", "", ""],
        ["57-000010", "DATE", "Illisible", "31/02/1950", "", "Metz", "Metz", "", "", "10,00", "1", "", "", ""],
        ["57-000011", "MONTANT", "Illisible", "01/01/1950", "", "Metz", "Metz", "", "", "dix euros", "1", "", "", ""],
        ["57-000012", "FUTUR", "Né", "01/01/2027", "", "Metz", "Metz", "", "", "10,00", "1", "", "", ""],
        ["57-000001", "DOUBLON", "Contrat", "01/01/1950", "", "Metz", "Metz", "", "", "10,00", "1", "", "", ""],
        ["57-000013", "AGENCE", "Inconnue", "01/01/1950", "", "Paris", "Paris", "", "", "10,00", "1", "", "", ""],
        ["57-000014", "MOIS", "Illisible", "01/01/1950", "", "Metz", "Metz", "", "", "10,00", "trois", "", "", ""],
        ["57-000015", "ENTREE", "Illisible", "01/01/1950", "", "Metz", "Metz", "", "13/13/2000", "10,00", "1", "", "", ""],
        ["57-000016", "", "", "01/01/1950", "", "Metz", "Metz", "", "", "10,00", "1", "", "", ""],
        ["57-000017", "SOLDE", "Absent", "01/01/1950", "", "Metz", "Metz", "", "", "", "1", "", "", ""],
    ]
    path = write_csv(tmp_path / "rej.csv", rows=rows)
    result = recovery.import_arrears(path, EXTRACT_DATE)
    # Only an unreadable contract or balance (or a new lease without agency or
    # name) rejects a line; an optional field that cannot be read is a warning
    # on that line, which is kept (#13).
    assert result.imported == 6
    reasons = {r.line: r.reason for r in result.rejected}
    assert sorted(reasons) == [4, 6, 8, 9, 12, 13]  # header = line 1, two good lines = 2 and 3
    assert reasons[4] == "numéro de contrat absent"
    assert "solde" in reasons[6] and "dix euros" in reasons[6]
    assert reasons[8].startswith("contrat 57-000001 déjà présent ligne 2 du même fichier, avec un autre solde")
    assert reasons[9] == "agence « Paris » inconnue"
    assert "nom du locataire absent" in reasons[12]
    assert reasons[13] == "solde : montant absent" or "solde" in reasons[13]
    warnings = {w.line: w.reason for w in result.warnings}
    assert sorted(warnings) == [5, 7, 10, 11]
    assert "date de naissance" in warnings[5] and "31/02/1950" in warnings[5] and "âge inconnu" in warnings[5]
    assert "postérieure à la date de l'extrait" in warnings[7]
    assert "mois" in warnings[10] and "trois" in warnings[10] and warnings[10].endswith("ignoré")
    assert warnings[11].startswith("date d'entrée : ")
    # the report can be saved as CSV (Excel-friendly)
    out = tmp_path / "rejets.csv"
    imp.rejected_to_csv(result.rejected, out)
    content = out.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig").splitlines()
    assert text[0] == "Ligne;Motif du rejet"
    assert text[1] == "4;numéro de contrat absent"
    assert len(text) == 7
    with db.read_session() as s:
        extract = s.scalar(select(ArrearsExtract))
        assert extract.lines_read == 12 and extract.lines_imported == 6
        assert s.scalar(select(func.count(Lease.id))) == 6
        kept = s.scalar(select(ArrearsLine).join(Lease).where(Lease.contract_number == "57-000014"))
        assert kept.months_unpaid is None and kept.balance_cents == 1000


def test_a_rejected_line_of_a_known_lease_does_not_erase_it(db, recovery, extract_csv, tmp_path):
    recovery.import_arrears(extract_csv, date(2026, 9, 30))
    rows = [list(r) for r in ROWS]
    rows[0][9] = "n/a"
    path = write_csv(tmp_path / "nov.csv", rows=rows)
    result = recovery.import_arrears(path, EXTRACT_DATE)
    assert [r.line for r in result.rejected] == [2]
    with db.read_session() as s:
        l1 = s.scalar(select(Lease).where(Lease.contract_number == "57-000001"))
        assert lease_balance_history(s, l1.id) == [(date(2026, 9, 30), 123456)]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "est vide"),
        (b"   \r\n  ", "est vide"),
        (b"\x00\x01\x02\x03binary\x00\xff" * 50, "binaire"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04garbage not a zip", "Excel"),
        ("Nom;Prénom;Agence\nMULLER;Jeanne;Metz\n".encode(), "N° contrat"),
        ("N° contrat;Nom;Agence\n57-1;MULLER;Metz\n".encode(), "Solde"),
        ("N° contrat;Nom;Agence;Solde\n".encode(), "aucune ligne de données"),
        ("N° contrat;Nom;Agence;Solde\n57-1;A;Metz;abc\n57-2;B;Metz;\n".encode(),
         "Aucune ligne du fichier"),
        ("N° contrat;Nom;Agence;Solde\n57-1;A;Paris;10,00\n".encode(), "agence « Paris » inconnue"),
    ],
)
def test_bad_files_are_refused_and_nothing_changes(db, recovery, extract_csv, tmp_path, content, message):
    recovery.import_arrears(extract_csv, date(2026, 9, 30))
    before = snapshot(db)
    path = tmp_path / "mauvais.csv"
    path.write_bytes(content)
    with pytest.raises(imp.ImportRefused) as info:
        recovery.import_arrears(path, date(2026, 9, 30))
    assert message in info.value.message
    assert snapshot(db) == before


def test_missing_file_is_refused(recovery, tmp_path):
    with pytest.raises(imp.ImportRefused, match="introuvable"):
        recovery.import_arrears(tmp_path / "absent.csv", EXTRACT_DATE)


def test_reimport_of_the_same_extract_date_replaces_it(db, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    once = snapshot(db)
    result = recovery.import_arrears(extract_csv, EXTRACT_DATE)
    assert result.replaced
    assert snapshot(db) == once
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 1
        assert s.scalar(select(func.count(ArrearsLine.id))) == 7


def test_reimport_with_corrections_replaces_lines_and_updates_records(db, recovery, extract_csv, tmp_path):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    v_before = lease(db, "57-000001").version
    rows = [list(r) for r in ROWS[:3]]
    rows[0][9] = "99,00"
    rows[0][6] = "Montigny-lès-Metz"
    rows[0][13] = "06 39 98 11 11"
    rows[0][1] = "MULLER-KOCH"
    path = write_csv(tmp_path / "corr.csv", rows=rows)
    result = recovery.import_arrears(path, EXTRACT_DATE)
    # The corrected file covers Metz only: Metz's lines are replaced, the other
    # agencies' lines of that date stay (#13).
    assert (result.replaced_agencies, result.kept_agencies) == (["Metz"], ["DT 54", "Forbach", "Saint-Avold"])
    l1 = lease(db, "57-000001")
    assert l1.commune == "Montigny-lès-Metz" and l1.version == v_before + 1
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsLine.id))) == 7
        assert s.scalar(select(ArrearsExtract.lines_imported)) == 7
        assert lease_balance_history(s, l1.id) == [(EXTRACT_DATE, 9900)]
        assert s.get(Household, l1.household_id).phone == "06 39 98 11 11"
        assert s.scalar(select(Tenant.last_name).where(Tenant.household_id == l1.household_id)) == "MULLER-KOCH"
    assert lease(db, "57-000005").commune == "Saint-Avold"  # not in the second file: untouched


def test_optional_columns_missing_do_not_erase_known_values(db, recovery, extract_csv, tmp_path):
    recovery.import_arrears(extract_csv, date(2026, 9, 30))
    path = write_csv(tmp_path / "min.csv", headers=["Contrat", "Montant impayé"],
                     rows=[["57-000001", "10,00"]])
    result = recovery.import_arrears(path, EXTRACT_DATE)
    assert result.imported == 1
    l1 = lease(db, "57-000001")
    assert (l1.commune, l1.address, l1.monthly_rent_cents) == ("Metz", "3 rue des Roses", 51230)
    with db.read_session() as s:
        assert s.scalar(select(Tenant.birth_date).where(Tenant.household_id == l1.household_id)) == date(1948, 3, 12)
        assert lease_balance_history(s, l1.id) == [(date(2026, 9, 30), 123456), (EXTRACT_DATE, 1000)]


def test_cancel_leaves_the_database_as_it_was(db, recovery, extract_csv, tmp_path):
    recovery.import_arrears(extract_csv, date(2026, 9, 30))
    before = snapshot(db)
    rows = [[f"57-{i:06d}", "NOM", "P", "01/01/1950", "", "Metz", "Metz", "", "01/01/2000", "10,00", "1", "", "", ""]
            for i in range(1, 3001)]
    path = write_csv(tmp_path / "gros.csv", rows=rows)
    calls = []

    def progress(done, total):
        calls.append((done, total))

    # cancel during the write phase (after parsing): a rollback must undo everything
    def cancelled():
        return any(done > 3000 for done, _ in calls)

    with pytest.raises(imp.ImportCancelled) as info:
        recovery.import_arrears(path, date(2026, 9, 30), progress=progress, cancelled=cancelled)
    assert "n'a pas été modifiée" in info.value.message
    assert snapshot(db) == before
    # cancel at the very end (after every row was written)
    state = {"n": 0}

    def late_cancel():
        state["n"] += 1
        return state["n"] > 6

    with pytest.raises(imp.ImportCancelled):
        recovery.import_arrears(path, date(2026, 9, 30), cancelled=late_cancel)
    assert snapshot(db) == before
    assert calls and calls[-1][1] == 6000


def test_progress_reaches_the_total(recovery, tmp_path):
    rows = [[f"57-{i:06d}", "NOM", "P", "01/01/1950", "", "Metz", "Metz", "", "01/01/2000", "10,00", "1", "", "", ""]
            for i in range(1, 2501)]
    calls = []
    recovery.import_arrears(write_csv(tmp_path / "p.csv", rows=rows), EXTRACT_DATE,
                            progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5000, 5000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_unknown_headers_mapping_and_remembered_mapping(db, recovery, tmp_path):
    headers = ["Réf. bail", "Nom", "Agence", "Reste dû", "DDN"]
    rows = [["57-1", "MULLER", "Metz", "12,00", "01/01/1950"]]
    path = write_csv(tmp_path / "autre.csv", headers=headers, rows=rows)
    analysis = recovery.analyse_file(path)
    assert analysis.needs_mapping
    assert set(analysis.missing_required) == {"contract", "balance"}
    assert analysis.unknown == ["Réf. bail", "Reste dû", "DDN"]
    with pytest.raises(imp.MappingRequired) as info:
        recovery.import_arrears(path, EXTRACT_DATE)
    assert "Réf. bail" in info.value.message and "Rien n'a été importé" in info.value.message
    chosen = {"contract": "Réf. bail", "balance": "Reste dû", "birth_date": "DDN",
              "last_name": "Nom", "agency": "Agence"}
    result = recovery.import_arrears(path, EXTRACT_DATE, mapping=chosen, remember_mapping=True)
    assert result.imported == 1
    # next file of the same shape: recognised without asking
    path2 = write_csv(tmp_path / "autre2.csv", headers=headers, rows=[["57-2", "KLEIN", "Metz", "5,00", "02/02/1950"]])
    analysis2 = recovery.analyse_file(path2)
    assert not analysis2.needs_mapping and analysis2.remembered
    assert recovery.import_arrears(path2, date(2026, 12, 1) if False else date(2026, 9, 30)).imported == 1
    with pytest.raises(ValidationError, match="n'existe pas"):
        recovery.import_arrears(path, EXTRACT_DATE, mapping={"contract": "Absente", "balance": "Reste dû"})


def test_analysis_proposes_the_date_in_the_file_name(recovery, extract_csv):
    analysis = recovery.analyse_file(extract_csv)
    assert analysis.proposed_date == EXTRACT_DATE
    assert not analysis.needs_mapping and analysis.lines == 7


def test_access_import_is_for_admin_and_recovery(db, actors, extract_csv):
    SeniorsService(db, actors["admin"]).import_arrears(extract_csv, EXTRACT_DATE)
    for who in ("adviser_metz", "cas_member", "social_head"):
        with pytest.raises(AccessDeniedError):
            SeniorsService(db, actors[who]).import_arrears(extract_csv, EXTRACT_DATE)


def test_future_extract_date_is_refused(recovery, extract_csv):
    with pytest.raises(ValidationError, match="futur"):
        recovery.import_arrears(extract_csv, date(2999, 1, 1))


def test_header_variants_are_recognised():
    headers = ["  NUMÉRO DE CONTRAT ", "nom", "PRENOM", "Né(e) le", "Agence", "Ville", "Date entrée",
               "Montant impayé", "Mois d'impayés", "Tél", "Colonne libre"]
    a = imp.analyse(headers)
    assert set(a.mapping) == {"contract", "last_name", "first_name", "birth_date", "agency", "commune",
                              "lease_start", "balance", "months_unpaid"} | {"phone"}
    assert a.unknown == ["Colonne libre"] and not a.needs_mapping


def test_garbage_collector_is_back_on_after_an_import(recovery, extract_csv, tmp_path):
    import gc

    was_enabled = gc.isenabled()  # the test session runs with it off (tests/conftest.py)
    gc.enable()
    try:
        recovery.import_arrears(extract_csv, EXTRACT_DATE)
        assert gc.isenabled()
        bad = tmp_path / "bad.csv"
        bad.write_text("Nom;Agence\nX;Metz\n", encoding="utf-8")
        with pytest.raises(imp.ImportRefused):
            recovery.import_arrears(bad, EXTRACT_DATE)
        assert gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()


def test_cancel_while_reading_a_workbook(db, recovery, tmp_path):
    rows = [[f"57-{i:06d}", "NOM", "P", "01/01/1950", "", "Metz", "Metz", "", "01/01/2000", "10,00", "1", "", "", ""]
            for i in range(1, 2501)]
    path = write_xlsx(tmp_path / "gros.xlsx", rows=rows)
    with pytest.raises(imp.ImportCancelled):
        recovery.import_arrears(path, EXTRACT_DATE, cancelled=lambda: True)
    with db.read_session() as s:
        assert s.scalar(select(func.count(Lease.id))) == 0
