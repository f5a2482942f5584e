"""Issue 15: the "anonymous" statistics show no small cell (one violence
case in one agency points at a family): cells under the threshold (setting,
5) read « < 5 », and a cell that would let one recover a hidden one by
subtraction (the only hidden cell of an agency or of a detail) is hidden
too (« secret »)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from cus_desk.domain import statistical_secrecy
from cus_desk.domain.settings import STATS_MIN_CELL
from cus_desk.services.auth import actor_for_login
from cus_desk.services.settings import SettingsService
from cus_desk.services.stats import NOT_ABOUT_PEOPLE, StatsService
from tests.frozen_time import TEST_TODAY


def _lines_and_columns(rows):
    """Per indicator: hidden cells per agency and per detail, and cells per agency/detail."""
    hidden_by, cells_by = Counter(), Counter()
    for r in rows:
        for axis in (("agency", r.agency), ("detail", r.detail)):
            cells_by[(r.indicator, *axis)] += 1
            if r.value is None:
                hidden_by[(r.indicator, *axis)] += 1
    return hidden_by, cells_by


def _check_no_small_and_no_single_hidden(rows, threshold=5):
    for r in rows:
        if r.indicator in NOT_ABOUT_PEOPLE:
            continue
        assert r.value is None or r.value >= threshold, r
        assert r.value is not None or r.shown in (f"< {threshold}", "secret"), r
    hidden_by, cells_by = _lines_and_columns([r for r in rows if r.indicator not in NOT_ABOUT_PEOPLE])
    for key, n in hidden_by.items():
        assert n != 1 or cells_by[key] == 1, f"{key}: one hidden cell alone could be recovered"


def test_demo_statistics_show_no_small_cell(demo_db, tmp_path):
    svc = StatsService(demo_db, actor_for_login(demo_db, "pole.social"))
    rows = svc.export(TEST_TODAY.year, tmp_path / "stats.csv")
    problems = [r for r in rows if r.indicator == "Problématiques des dossiers ouverts"]
    sensitive = [r for r in problems if r.detail in ("Violences intrafamiliales", "Handicap")]
    assert sensitive, "the demo has violence and handicap cases"
    assert any(r.value is None and r.shown == "< 5" for r in rows)  # the demo has small cells
    _check_no_small_and_no_single_hidden(rows)
    content = (tmp_path / "stats.csv").read_text(encoding="utf-8-sig")
    written = list(csv.reader(content.splitlines(), delimiter=";"))[1:]
    assert len(written) == len(rows)
    for line, row in zip(written, rows, strict=True):
        assert line[3] == row.shown
        assert row.indicator in NOT_ABOUT_PEOPLE or line[3] not in ("1", "2", "3", "4")
    svc.export(TEST_TODAY.year, tmp_path / "stats.xlsx")
    sheet = load_workbook(tmp_path / "stats.xlsx").active
    values = [row[3].value for row in sheet.iter_rows(min_row=2) if row[0].value not in NOT_ABOUT_PEOPLE]
    assert "< 5" in values and not any(isinstance(v, int) and 0 < v < 5 for v in values)


def test_the_threshold_is_a_setting(demo_db):
    SettingsService(demo_db, actor_for_login(demo_db, "admin")).set(STATS_MIN_CELL, 10)
    rows = StatsService(demo_db, actor_for_login(demo_db, "pole.social")).compute(TEST_TODAY.year)
    _check_no_small_and_no_single_hidden(rows, threshold=10)
    assert any(r.shown == "< 10" for r in rows)


def test_secondary_suppression_on_a_known_grid():
    # Metz: violence 1 (hidden), health 7, debts 30; Forbach: violence 6, health 8, debts 12.
    cells = {("Metz", "violence"): 1, ("Metz", "sante"): 7, ("Metz", "dettes"): 30,
             ("Forbach", "violence"): 6, ("Forbach", "sante"): 8, ("Forbach", "dettes"): 12}
    first, second = statistical_secrecy.suppress(cells, 5)
    assert first == {("Metz", "violence")}
    # Metz's line and the violence column each need a second hidden cell.
    assert ("Metz", "sante") in second and ("Forbach", "violence") in second
    hidden = first | second
    for axis in (0, 1):
        for value in {k[axis] for k in cells}:
            assert sum(1 for k in hidden if k[axis] == value) != 1


@given(st.dictionaries(st.tuples(st.sampled_from("ABCDEF"), st.sampled_from("uvwxyz")),
                       st.integers(1, 40), min_size=1, max_size=36))
def test_no_line_nor_column_keeps_a_single_hidden_cell(cells):
    first, second = statistical_secrecy.suppress(cells, 5)
    assert first == {k for k, v in cells.items() if v < 5}
    hidden = first | second
    for axis in (0, 1):
        for value in {k[axis] for k in cells}:
            keys = [k for k in cells if k[axis] == value]
            assert sum(1 for k in keys if k in hidden) != 1 or len(keys) == 1


def test_bad_threshold_is_refused(db, actors):
    from cus_desk.domain.errors import ValidationError

    with pytest.raises(ValidationError):
        SettingsService(db, actors["admin"]).set(STATS_MIN_CELL, 1)



