"""Issue 11, item 6: the right-of-access export of one member of a
two-adult household holds what concerns that person and nothing of the
other: each has a confidential note, each export has its own, never the
other's; the household journal, situation and sensitive items are not
handed to one member."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from cus_desk.cli import main
from cus_desk.domain.errors import ValidationError
from cus_desk.services.cases import CaseService
from cus_desk.services.person_export import PersonExportService
from cus_desk.store.models.cases import Case, CaseProblem, JournalEntry
from cus_desk.store.models.core import Partner, Referral, Tenant
from tests.conftest import TEST_PASSWORD
from tests.security import builders as b

HER_NOTE = "Madame : violences conjugales, plainte déposée le 3 novembre"
HIS_NOTE = "Monsieur : cure de désintoxication au CSAPA"
HOUSEHOLD_ENTRY = "Entretien : Madame évoque des coups de son conjoint"
HER_ENTRY = "Appel de Madame : hébergement d'urgence demandé"
SITUATION = "Couple en crise ; Monsieur suivi en psychiatrie"


@pytest.fixture
def couple(db, actors):
    with db.write_session() as s:
        hh, lease = b.household(s, "metz", "LAMBERT", "Nadia", birth=date(1985, 6, 1))
        him = Tenant(last_name="LAMBERT", first_name="Marc", birth_date=date(1980, 2, 2),
                     relationship_kind="cotitulaire", position=1)
        hh.members.append(him)
        s.flush()
        case = b.case(s, hh, summary=SITUATION, secret="Note ancienne sans personne désignée")
        s.add(CaseProblem(case_id=case.id, code="violences_intrafamiliales"))
        s.add(JournalEntry(case_id=case.id, kind="entretien", occurred_on=date(2026, 10, 2),
                           text=HOUSEHOLD_ENTRY))
        hospital = s.scalar(select(Partner).where(Partner.seed_key == "chs_sarreguemines"))
        s.add(Referral(kind="orientation", case_id=case.id, partner_id=hospital.id, sent_on=date(2026, 9, 1),
                       reason="Soins", status="envoyee"))
        ids = {"her": hh.members[0].id, "him": him.id, "case": case.id}
    svc = CaseService(db, actors["adviser_metz"])
    svc.add_confidential_note(ids["case"], "violences", HER_NOTE, date(2026, 10, 1), "ecrit_signe",
                              subject_tenant_id=ids["her"])
    svc.add_confidential_note(ids["case"], "autre", HIS_NOTE, date(2026, 10, 1), "ecrit_signe",
                              subject_tenant_id=ids["him"])
    svc.add_journal_entry(ids["case"], "appel", date(2026, 10, 5), HER_ENTRY, subject_tenant_id=ids["her"])
    return ids


def _export_text(db, actors, tenant_id, tmp_path) -> tuple[str, object]:
    svc = PersonExportService(db, actors["adviser_metz"])
    out = tmp_path / f"acces-{tenant_id}.json"
    export = svc.export_json(tenant_id, out)
    return out.read_text(encoding="utf-8"), export


def test_each_adult_gets_their_own_note_never_the_other(db, actors, couple, tmp_path):
    hers, export = _export_text(db, actors, couple["her"], tmp_path)
    his, _ = _export_text(db, actors, couple["him"], tmp_path)
    assert HER_NOTE in hers and HIS_NOTE not in hers
    assert HIS_NOTE in his and HER_NOTE not in his
    assert HER_ENTRY in hers and HER_ENTRY not in his
    for text in (hers, his):
        # what is common to the household may be about the other: not reproduced
        for common in (HOUSEHOLD_ENTRY, SITUATION, "Note ancienne", "violences_intrafamiliales",
                       "CHS", "SARREGUEMINES"):
            assert common not in text, common
        assert "non reproduit" in text
    # the other member: by link only, no first name, no birth date
    assert "Marc" not in hers and "1980-02-02" not in hers
    assert "Nadia" not in his and "1985-06-01" not in his
    assert export.withheld > 0
    data = json.loads(hers)
    assert {"relationship_kind": "cotitulaire"} in next(
        r["elements"] for r in data["rubriques"] if r["titre"] == "Composition du ménage")


def test_pdf_and_cli_exports_hold_no_third_party_data(db, actors, couple, tmp_path, monkeypatch, capsys,
                                                      db_path):
    out = tmp_path / "lui.pdf"
    PersonExportService(db, actors["adviser_metz"]).export_pdf(couple["him"], out)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "cure de désintoxication" in text and "violences conjugales" not in text
    monkeypatch.setenv("CUS_DESK_USER", "cs.metz")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    target = tmp_path / "elle.json"
    assert main(["--db", str(db_path), "export-person", "--tenant", str(couple["her"]),
                 "--json", str(target)]) == 0
    assert "relisez-les" in capsys.readouterr().out  # the adviser is told what was left out
    exported = target.read_text(encoding="utf-8")
    assert HER_NOTE in exported and HIS_NOTE not in exported and HOUSEHOLD_ENTRY not in exported


def test_a_single_adult_household_keeps_its_whole_file(db, actors, tmp_path):
    with db.write_session() as s:
        hh, _ = b.household(s, "metz", "SEULE", "Agnès", birth=date(1970, 1, 1))
        hh.members.append(Tenant(last_name="SEULE", first_name="Léo", birth_date=date(2015, 5, 5),
                                 relationship_kind="enfant", position=1))
        case = b.case(s, hh, summary="Situation de Madame", secret="Note de Madame")
        s.flush()
        tenant_id = hh.members[0].id
        case_id = case.id
    text, export = _export_text(db, actors, tenant_id, tmp_path)
    assert "Situation de Madame" in text and "Note de Madame" in text and export.withheld == 0
    assert "Léo" not in text  # a child appears by link only
    with pytest.raises(ValidationError, match="membre du ménage"):
        CaseService(db, actors["adviser_metz"]).add_confidential_note(
            case_id, "autre", "x", date(2026, 10, 1), "ecrit_signe", subject_tenant_id=999999)
    with db.read_session() as s:
        assert s.get(Case, case_id) is not None
