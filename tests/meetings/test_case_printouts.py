"""Convocation / ordre du jour and fiche dossier (#14): real PDFs read back
with pypdf: what they say, what they never say, and who may print them."""

from __future__ import annotations

import io
import os
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.services.case_economics import CaseEconomicsService, EconomicsInput
from cus_desk.services.case_printouts import CasePrintoutService, initials
from cus_desk.store.models.core import AuditEvent
from tests.meetings.conftest import (
    HEALTH_SECRET,
    JOURNAL_SECRET,
    SUMMARY_SECRET,
    VIOLENCE_SECRET,
    prepared_meeting,
)

SHOTS = os.environ.get("CUS_DESK_SHOTS")


def _text(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def _look(pdf: bytes, name: str) -> None:
    if SHOTS:
        path = os.path.join(SHOTS, name + ".pdf")
        with open(path, "wb") as fh:
            fh.write(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-png", path, os.path.join(SHOTS, name)], check=False)


def test_initials():
    assert initials("Dupont", "Jean-Pierre") == "D. J.-P."
    assert initials("Nguyễn", "Thị Hoa") == "N. T."
    assert initials("Martin", "") == "M."


def test_convocation_names_cases_by_reference_and_initials_only(world):
    detail = prepared_meeting(world, "dupont", "martin", "nguyen")
    doc = CasePrintoutService(world.db, world.actors["social_head"]).convocation(detail.id)
    pages = _text(doc.pdf)
    text = " ".join(pages)
    _look(doc.pdf, "convocation")
    assert doc.file_name.startswith("convocation-CAS-") and doc.file_name.endswith("-2026.pdf")
    assert "Convocation et ordre du jour" in text and "Membres convoqués" in text
    assert "jeudi 26/11/2026" in text and "Siège, salle du conseil" in text
    for key in ("dupont", "martin", "nguyen"):
        with world.db.read_session() as s:
            from cus_desk.store.models.cases import Case

            assert s.get(Case, world.cases[key]).reference in text
    assert "D. J.-P." in text and "M. É." in text
    for secret in ("Dupont", "DUPONT", "Jean-Pierre", "Martin", "Élodie", "Proposition pour",
                   HEALTH_SECRET, SUMMARY_SECRET):
        assert secret not in text
    assert "Claire Commerce" in text  # the members, with their function
    assert all("Convocation et ordre du jour — CAS n°" in p and f"Page {n} / {len(pages)}" in p
               for n, p in enumerate(pages, start=1))
    with world.db.read_session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "print")).one()
        assert "convocation" in event.details_json


def test_convocation_of_an_adviser_counts_other_agencies_cases(world):
    detail = prepared_meeting(world, "dupont", "forbach", who="social_head")
    text = " ".join(_text(CasePrintoutService(world.db, world.actors["adviser_metz"]).convocation(detail.id).pdf))
    assert "D. J.-P." in text and "S. P." not in text
    assert "Et 1 dossier d'autres agences" in text
    with pytest.raises(AccessDeniedError):
        CasePrintoutService(world.db, world.actors["recovery_metz"]).convocation(detail.id)


def test_case_note_for_the_presenting_adviser(world):
    case_id = world.cases["dupont"]
    CaseEconomicsService(world.db, world.actors["adviser_metz"]).save(
        case_id, EconomicsInput(rent_cents=45_000, charges_cents=8_000, housing_aid_cents=20_000,
                                housing_aid_kind="apl", resources_cents=110_000,
                                commandement_payer_on=date(2026, 6, 1), assignation_on=date(2027, 1, 10)), 0)
    prepared_meeting(world, "dupont")
    doc = CasePrintoutService(world.db, world.actors["adviser_metz"]).case_note(case_id)
    pages = _text(doc.pdf)
    text = " ".join(pages)
    _look(doc.pdf, "fiche_dossier")
    assert doc.file_name.startswith("fiche-CAS-2026-")
    assert "Fiche dossier — note de synthèse" in text and "DUPONT Jean-Pierre" in text
    assert "2 450,00 € — saisie au dossier" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Taux d'effort net : 30,0 %" in text
    assert "sans saisine de la CCAPEX" in text and "Assignation" in text and "10/01/2027 (prévue)" in text
    assert "Inscrit à l'ordre du jour de la CAS n°" in text and "Proposition pour dupont" in text
    assert "ne pas diffuser" in text
    # The free-text résumé is not printed (it may hold health matters).
    for secret in (SUMMARY_SECRET.split(" ;")[0], "CMP", HEALTH_SECRET, VIOLENCE_SECRET, JOURNAL_SECRET, "Santé mentale", "Violences"):
        assert secret not in text, secret
    assert all(f"Page {n} / {len(pages)}" in p for n, p in enumerate(pages, start=1))


def test_case_note_at_summary_level(world):
    case_id = world.cases["dupont"]
    CaseEconomicsService(world.db, world.actors["adviser_metz"]).save(
        case_id, EconomicsInput(rent_cents=45_000, resources_cents=123_456), 0)
    prepared_meeting(world, "dupont")
    text = " ".join(_text(CasePrintoutService(world.db, world.actors["cas_member"]).case_note(case_id).pdf))
    text = text.replace("\u202f", " ").replace("\xa0", " ")  # an amount is found whatever its separator
    assert "DUPONT J.-P." in text and "Synthèse préparée pour la commission" in text
    assert "450,00" in text
    for secret in (SUMMARY_SECRET.split(" ;")[0], "1 234,56", "Jean-Pierre", "Reste à vivre"):
        assert secret not in text, secret
    with pytest.raises(AccessDeniedError):
        CasePrintoutService(world.db, world.actors["adviser_forbach"]).case_note(case_id)
