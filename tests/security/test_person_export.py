"""Right of access: everything about one person, JSON and PDF, audited;
only the person's agency adviser or the head of the social pole."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pypdf import PdfReader

from cus_desk.domain.errors import AccessDeniedError, NotFoundError, ValidationError
from cus_desk.services import audit
from cus_desk.services.person_export import PersonExportService
from tests.security import builders as b
from tests.security.conftest import events


@pytest.fixture
def person(db, actors):
    with db.write_session() as s:
        hh, lease = b.household(s, "metz", "DURAND-EXPORT", "Josiane", birth=date(1952, 4, 3))
        c = b.case(s, hh, secret="Suivi psychiatrique (confidentiel)")
        b.meeting_with(s, c, decision_text="Accord d'un plan FSL")
        b.orientation(s, c, reason="Orientation vers le CCAS")
        b.signalement(s, lease, sent_on=date(2025, 2, 1), closed_on=date(2025, 3, 1))
        b.extract(s, date(2025, 1, 31), [lease])
        other_hh, _ = b.household(s, "metz", "VOISIN", "Victor")
        b.case(s, other_hh, secret="Secret du voisin")
        return {"tenant": hh.members[0].id, "contract": lease.contract_number, "case": c.reference}


def test_json_holds_everything_about_the_person(db, actors, person, tmp_path):
    svc = PersonExportService(db, actors["adviser_metz"])
    out = tmp_path / "acces.json"
    svc.export_json(person["tenant"], out)
    data = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(data, ensure_ascii=False)
    assert data["personne"] == "DURAND-EXPORT Josiane"
    titles = [r["titre"] for r in data["rubriques"]]
    for expected in ("Vos données d'identité", "Baux", f"Dossier {person['case']}",
                     f"Dossier {person['case']} — Notes confidentielles",
                     f"Dossier {person['case']} — Décisions de la CAS",
                     f"Dossier {person['case']} — Orientations", "Extraits d'impayés",
                     "Observations de terrain", "Signalements"):
        assert expected in titles, expected
    for fact in ("Suivi psychiatrique (confidentiel)", "Accord d'un plan FSL", "Orientation vers le CCAS",
                 person["contract"], "1952-04-03", "Ne répond plus"):
        assert fact in text, fact
    assert "Secret du voisin" not in text and "VOISIN" not in text
    assert "password" not in text and "search_doc" not in text
    exported = events(db, audit.Action.EXPORT)
    assert exported[-1][0] == "cs.metz" and exported[-1][2] == "tenant"
    assert exported[-1][3] == str(person["tenant"])
    assert "psychiatrique" not in str(exported)  # the trace holds counts, not content


def test_pdf_reads_in_french(db, actors, person, tmp_path):
    out = tmp_path / "acces.pdf"
    PersonExportService(db, actors["social_head"]).export_pdf(person["tenant"], out)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Vos données enregistrées dans CUS Desk" in text
    assert "DURAND-EXPORT Josiane" in text
    assert "03/04/1952" in text  # French dates
    assert "1 234,56" in text  # amounts in French
    assert "Suivi psychiatrique" in text and "Date de naissance" in text
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("who", ["adviser_forbach", "cas_member", "recovery_metz", "admin"])
def test_others_cannot_export(db, actors, person, who, tmp_path):
    svc = PersonExportService(db, actors[who])
    with pytest.raises(AccessDeniedError):
        svc.export_json(person["tenant"], tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_find(db, actors, person):
    svc = PersonExportService(db, actors["adviser_metz"])
    found = svc.find("durand")
    assert [m.name for m in found] == ["DURAND-EXPORT Josiane"] and found[0].agency == "Metz"
    assert svc.find(person["contract"])[0].tenant_id == person["tenant"]
    assert PersonExportService(db, actors["adviser_forbach"]).find("durand") == []
    with pytest.raises(ValidationError):
        svc.find("d")
    with pytest.raises(NotFoundError):
        svc.collect(999999)
