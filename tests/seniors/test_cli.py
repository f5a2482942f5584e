"""The administrators' commands, run as the real entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from cus_desk.store.models.seniors import ArrearsExtract

from .conftest import EXTRACT_DATE, write_csv


def run(db, *args, user="admin"):
    env = dict(os.environ, CUS_DESK_USER=user, CUS_DESK_PASSWORD="Mot-de-passe-test-1",
               QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "cus_desk", "--db", db.url, *args],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)


def test_import_and_list_as_json(db, actors, extract_csv, tmp_path):
    rows = [["57-000001", "MULLER", "Jeanne", "12/03/1948", "", "Metz", "Metz", "", "01/02/1990",
             "1 234,56", "3", "", "", ""],
            ["57-000002", "KLEIN", "Marcel", "31/13/1961", "", "Metz", "Metz", "", "01/02/1990",
             "100,00", "1", "", "", ""]]
    bad_line = write_csv(tmp_path / "rej.csv", rows=rows)
    done = run(db, "import-arrears", str(bad_line), "--extract-date", "2026-09-30", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # An unreadable birth date is a warning on that line; the line is kept (#13).
    assert out["extract_date"] == "2026-09-30" and out["lines_read"] == 2 and out["imported"] == 2
    assert out["rejected"] == []
    assert out["warnings"][0]["line"] == 3 and "31/13/1961" in out["warnings"][0]["reason"]

    done = run(db, "import-arrears", str(extract_csv), "--extract-date", EXTRACT_DATE.isoformat(), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["imported"] == 7

    listing = run(db, "seniors", "--json", user="pole.social")
    assert listing.returncode == 0, listing.stderr
    rows = {r["contract"]: r for r in json.loads(listing.stdout)}
    assert set(rows) == {"57-000001", "57-000002", "57-000004", "54-000007"}
    r = rows["57-000001"]
    assert (r["age"], r["agency"], r["balance_cents"], r["months_unpaid"], r["status"], r["first_arrears"]) == (
        78, "Metz", 123456, 3, "a_surveiller", False)  # already in arrears in September
    assert rows["57-000002"]["first_arrears"] is False  # in arrears in September too
    # Forbach was in no earlier extract: told by the file's "1 month unpaid".
    assert rows["57-000004"]["first_arrears"] is True
    assert "1 mois d'impayé selon l'extrait" in rows["57-000004"]["first_arrears_reason"]

    earlier = run(db, "seniors", "--as-of", "2026-10-01", "--json", user="pole.social")
    assert [r["contract"] for r in json.loads(earlier.stdout)] == ["57-000001"]


def test_refused_file_gives_exit_2_and_nothing_changes(db, actors, tmp_path):
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    done = run(db, "import-arrears", str(path), "--extract-date", "2026-09-30", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert "est vide" in done.stderr
    no_balance = tmp_path / "sans_solde.csv"
    no_balance.write_text("N° contrat;Nom\n57-1;MULLER\n", encoding="utf-8")
    done = run(db, "import-arrears", str(no_balance), "--extract-date", "2026-09-30")
    assert done.returncode == 2 and "Solde" in done.stderr
    with db.read_session() as s:
        assert s.scalar(select(func.count(ArrearsExtract.id))) == 0


def test_bad_arguments_and_access(db, actors, extract_csv):
    done = run(db, "import-arrears", str(extract_csv), "--extract-date", "31/10/2026")
    assert done.returncode == 2 and "AAAA-MM-JJ" in done.stderr
    done = run(db, "import-arrears", str(extract_csv), "--extract-date", "2026-10-31", user="cs.metz")
    assert done.returncode == 2 and "ne permet pas" in done.stderr
    done = run(db, "seniors", "--json", user="admin")  # the administrator does not read the list
    assert done.returncode == 2 and "ne permet pas" in done.stderr


def test_plain_text_output(db, actors, extract_csv):
    done = run(db, "import-arrears", str(extract_csv), "--extract-date", EXTRACT_DATE.isoformat())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Extrait du 31/10/2026 importé : 7 lignes lues, 7 ménages importés, 0 lignes rejetées, "
                                  "0 avertissements.")
    listing = run(db, "seniors", user="pole.social")
    assert listing.returncode == 0
    assert "4 locataire(s) de 65 ans et plus" in listing.stdout
    assert "PREMIER IMPAYÉ" in listing.stdout and "1\u00a0234,56\u00a0€" in listing.stdout
