"""Statistics exports hold counts, never names, contract numbers or references."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import load_workbook

from cus_desk.domain.errors import AccessDeniedError, ValidationError
from cus_desk.services.stats import StatsService
from tests.security import builders as b


@pytest.fixture
def data(db):
    with db.write_session() as s:
        names, contracts, refs = [], [], []
        for i, code in enumerate(["metz", "metz", "forbach"]):
            hh, lease = b.household(s, code, f"NOMSTAT{i}", f"Prenomstat{i}")
            c = b.case(s, hh, opened_on=date(2026, 2, 1 + i), status="clos" if i == 2 else "ouvert",
                       closed_on=date(2026, 5, 1) if i == 2 else None)
            b.meeting_with(s, c, held_on=date(2026, 3, 1 + i))
            b.orientation(s, c)
            b.signalement(s, lease, status="envoye", sent_on=date(2026, 4, 1))
            names += [f"NOMSTAT{i}", f"Prenomstat{i}"]
            contracts.append(lease.contract_number)
            refs.append(c.reference)
    return names + contracts + refs


def test_csv_and_xlsx_have_counts_but_no_identities(db, actors, data, tmp_path):
    svc = StatsService(db, actors["social_head"])
    rows = svc.export(2026, tmp_path / "stats.csv")
    # Counts of 1 and 2 people per agency are shown « < 5 » (statistical secrecy, issue 15).
    opened = {r.agency: r.shown for r in rows if r.indicator == "Dossiers ouverts"}
    assert opened == {"Metz": "< 5", "Forbach": "< 5"}
    assert {r.agency: r.shown for r in rows if r.indicator == "Dossiers clos"} == {"Forbach": "< 5"}
    assert any(r.indicator == "Séances de CAS" and r.value == 3 for r in rows)  # sessions, not people
    assert {r.shown for r in rows if r.indicator == "Signalements seniors"} == {"< 5"}
    content = (tmp_path / "stats.csv").read_text(encoding="utf-8-sig")
    assert next(csv.reader(content.splitlines(), delimiter=";")) == ["Indicateur", "Détail", "Agence", "Nombre"]
    svc.export(2026, tmp_path / "stats.xlsx")
    book = load_workbook(tmp_path / "stats.xlsx")
    cells = " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
    for identity in data:
        assert identity not in content, identity
        assert identity not in cells, identity


def test_bad_inputs(db, actors, tmp_path):
    svc = StatsService(db, actors["social_head"])
    with pytest.raises(ValidationError):
        svc.export(2026, tmp_path / "stats.txt")
    with pytest.raises(ValidationError):
        svc.compute(1850)


@pytest.mark.parametrize("who", ["cas_member", "recovery_metz"])
def test_roles_without_stats(db, actors, who, tmp_path):
    with pytest.raises(AccessDeniedError):
        StatsService(db, actors[who]).export(2026, tmp_path / "s.csv")
