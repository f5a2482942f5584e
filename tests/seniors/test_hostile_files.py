"""Hostile or absurd files are refused within bounds, with a French message
saying what to do, and nothing stored changes (#13, item 9)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from cus_desk.domain.parsing import clean_text, spreadsheet_safe
from cus_desk.importing import tables
from cus_desk.importing.limits import Limits
from cus_desk.store import arrears_import as imp
from cus_desk.store.models.core import Tenant

from .conftest import EXTRACT_DATE, HEADERS, ROWS, write_csv
from .test_import import snapshot


@pytest.fixture
def before(db, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    return snapshot(db)


def refused(recovery, path, match):
    with pytest.raises(imp.ImportRefused) as info:
        recovery.import_arrears(path, EXTRACT_DATE)
    assert re.search(match, info.value.message), info.value.message
    return info.value.message


def test_a_file_too_big_is_refused_before_reading(db, recovery, before, tmp_path):
    path = tmp_path / "enorme.csv"
    with path.open("wb") as fh:
        fh.write(";".join(HEADERS).encode() + b"\n")
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    message = refused(recovery, path, r"trop gros \(200 Mo ; au plus 50 Mo\)")
    assert "Rien n'a été importé" in message
    with pytest.raises(imp.ImportRefused, match="trop gros"):
        recovery.analyse_file(path)
    assert snapshot(db) == before


def test_a_device_is_not_read(db, recovery, before):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    refused(recovery, Path("/dev/zero"), "n'est pas un fichier ordinaire")
    with pytest.raises(imp.ImportRefused, match="n'est pas un fichier ordinaire"):
        recovery.sheets("/dev/zero")
    assert snapshot(db) == before


def _sparse_bomb() -> bytes:
    """A workbook of a few KB whose sheet declares A1:XFD1048576 and holds a
    cell in its last row: expanded, 17 billion cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(ROWS[0])
    buf = io.BytesIO()
    wb.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                text = text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                                    "<is><t>x</t></is></c></row></sheetData>")
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


def test_a_sparse_sheet_bomb_is_refused(db, recovery, before, tmp_path):
    path = tmp_path / "bombe.xlsx"
    path.write_bytes(_sparse_bomb())
    assert path.stat().st_size < 10_000
    refused(recovery, path, r"a plus de 100\u202f000 lignes")
    assert snapshot(db) == before


def test_a_zip_bomb_is_refused_by_its_decompressed_size(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("[Content_Types].xml", "<Types/>")
        target.writestr("xl/sharedStrings.xml", b"\x00" * (3 * 1024 * 1024))
    path = tmp_path / "zip.xlsx"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 50_000
    with pytest.raises(imp.ImportRefused, match=r"occupe 3 Mo une fois décompressé \(au plus 2 Mo\)"):
        tables.read_table(path, limits=Limits(max_unzipped_bytes=2 * 1024 * 1024))


def test_too_many_rows_columns_and_too_long(tmp_path):
    limits = Limits(max_rows=10)
    path = write_csv(tmp_path / "long.csv", rows=[ROWS[0]] * 11)
    with pytest.raises(imp.ImportRefused, match=r"plus de 10 lignes"):
        tables.read_table(path, score=imp.header_score, limits=limits)
    assert len(tables.read_table(write_csv(tmp_path / "ok.csv", rows=[ROWS[0]] * 10), limits=limits).rows) == 10

    wide = tmp_path / "large.csv"
    wide.write_text(";".join(HEADERS + [f"c{i}" for i in range(300)]) + "\n", encoding="utf-8")
    with pytest.raises(imp.ImportRefused, match=r"ligne 1 .* a 314 colonnes \(au plus 200\)"):
        tables.read_table(wide)

    ticks = iter(range(0, 10_000, 100))  # a clock that jumps 100 s at every look
    slow = Limits(max_seconds=150, timer=lambda: next(ticks))
    path = write_csv(tmp_path / "lent.csv", rows=[ROWS[0]] * 12_000)
    with pytest.raises(imp.ImportRefused, match="a dépassé 150 secondes"):
        tables.read_table(path, score=imp.header_score, limits=slow)


def test_too_many_rows_through_the_service(db, recovery, before, tmp_path, monkeypatch):
    monkeypatch.setattr(imp, "DEFAULT_LIMITS", Limits(max_rows=5))
    refused(recovery, write_csv(tmp_path / "x.csv", rows=ROWS), "a plus de 5 lignes")
    assert snapshot(db) == before


def test_hostile_text_is_cleaned_or_bounded(db, recovery, tmp_path):
    rows = [list(r) for r in ROWS[:4]]
    rows[0][1] = "\x1b[31mMULLER\x1b[0m"  # ANSI colour codes
    rows[1][1] = "KLEIN\u202eNIELK"  # a right-to-left override
    rows[2][1] = "X" * 100_000  # a 100,000-character name: a new lease without a usable name
    rows[3][1] = "=HYPERLINK(\"http://x\")"  # stored as text; neutralised on export (below)
    result = recovery.import_arrears(write_csv(tmp_path / "x.csv", rows=rows), EXTRACT_DATE)
    assert [(r.line, r.reason) for r in result.rejected] == [
        (4, "nom du locataire absent (bail inconnu de CUS Desk) ; nom trop long (100\u202f000 caractères ; "
            "120 au plus) : ignoré")]
    with db.read_session() as s:
        names = set(s.scalars(select(Tenant.last_name)))
    assert "MULLER" in names and "KLEINNIELK" in names
    assert not any(len(n) > 120 or "\x1b" in n or "\u202e" in n for n in names)


def test_formula_prefixes_are_neutralised_on_export(tmp_path):
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("+33 6") == "'+33 6" and spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("-2") == "'-2" and spreadsheet_safe("MULLER") == "MULLER"
    assert spreadsheet_safe(12) == 12
    out = tmp_path / "rejets.csv"
    imp.rejected_to_csv([imp.RejectedLine(2, "=HYPERLINK(\"http://x\")")], out)
    import csv

    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh, delimiter=";"))[1] == ["2", "'=HYPERLINK(\"http://x\")"]


@pytest.mark.parametrize("raw, clean", [
    ("\x1b[1;31mROUGE\x1b[0m", "ROUGE"), ("a\u202eb", "ab"), ("a\u200bb", "ab"), ("a\tb\nc", "a b c"),
    ("  Jeanne  ", "Jeanne"), ("Şahin Œdipe", "Şahin Œdipe"), ("nul\x00", "nul"),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean
