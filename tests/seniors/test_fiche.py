"""The fiche de signalement PDF, read back with pypdf."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from cus_desk.services.seniors import SeniorsService
from cus_desk.store.models.cases import Case, ConfidentialNote
from cus_desk.store.models.core import AuditEvent, Lease, Partner

from .conftest import EXTRACT_DATE, set_agency_contact

SECRET = "Suivi psychiatrique au CMP depuis 2019"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_fiche_has_what_the_partner_needs_and_no_confidential_note(db, actors, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    with db.write_session() as s:
        lease = s.scalar(select(Lease).where(Lease.contract_number == "57-000001"))
        partner = Partner(name="Pôle gérontologique de Metz", category="pole_gerontologique",
                          commune="Metz", address="1 rue du Pont", version=1)
        s.add(partner)
        case = Case(reference="CAS-2026-0001", year=2026, sequence=1, household_id=lease.household_id,
                    agency_id=lease.agency_id, status="ouvert", opened_on=date(2026, 1, 5),
                    summary="Dossier suivi par la conseillère", version=1)
        s.add(case)
        s.flush()
        s.add(ConfidentialNote(case_id=case.id, category="sante", text=SECRET))
        lid, pid = lease.id, partner.id
    adviser = SeniorsService(db, actors["adviser_metz"])
    adviser.add_observation(lid, "changement_attitude", date(2026, 11, 2), "Romain (recouvrement)",
                            "Ton inhabituellement agressif au téléphone, propos confus.")
    sent = adviser.send_signalement(lid, pid, date(2026, 11, 3), "Premier impayé après 36 ans sans incident.", tenant_informed=True)
    set_agency_contact(db, actors["admin"])
    data = adviser.fiche_pdf(sent.id)
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = pdf_text(data)
    for expected in ("Fiche de signalement", "MULLER", "Jeanne", "12/03/1948", "78 ans", "3 rue des Roses",
                     "06 39 98 00 01", "57-000001", "Pôle gérontologique de Metz", "Changement d'attitude",
                     "agressif au téléphone", "Premier impayé après 36 ans", "234,56", "Mois d'impayés",
                     "02/08/2026", "Agence de Metz", "Camille Conseillère", "31/10/2026", "03/11/2026",
                     # what lets the partner answer (#13)
                     "Conseillère sociale", "Locataire informé", "Oui, le locataire a été informé",
                     "Réponse attendue", "Répondre à", "en rappelant la",
                     # the agency's contact details: how the partner answers
                     "12 rue des Clercs", "57000 Metz", "03 53 01 10 00", "social.metz@example.org"):
        assert expected in text, expected
    assert SECRET not in text
    assert "CAS-2026-0001" not in text
    assert "Dossier suivi" not in text
    with db.read_session() as s:
        printed = s.scalars(select(AuditEvent).where(AuditEvent.action == "print")).all()
    assert len(printed) == 1 and printed[0].entity_id == str(sent.id)


def test_fiche_with_little_known_still_reads(db, actors, recovery, tmp_path):
    from .conftest import write_csv

    path = write_csv(tmp_path / "min.csv", headers=["Contrat", "Nom", "Agence", "Solde", "Né(e) le"],
                     rows=[["57-42", "N'GUYEN <b>&", "Forbach", "12,00", "01/01/1940"]])
    recovery.import_arrears(path, EXTRACT_DATE)
    with db.write_session() as s:
        lid = s.scalar(select(Lease.id))
        p = Partner(name="CMS de Forbach", category="cms", version=1)
        s.add(p)
        s.flush()
        pid = p.id
    recovery.add_observation(lid, "autre", date(2026, 11, 2), "Agent", "Boîte aux lettres pleine.")
    sent = recovery.send_signalement(lid, pid, date(2026, 11, 3), "", tenant_informed=True)
    # an e-mail alone is a way to answer: the fiche prints without the rest
    set_agency_contact(db, actors["admin"], "forbach", address="", phone="", email="social.forbach@example.org")
    text = pdf_text(recovery.fiche_pdf(sent.id))
    assert "N'GUYEN <b>&" in text and "86 ans" in text and "Boîte aux lettres pleine." in text
    assert "Agence de Forbach (Forbach), social.forbach@example.org, en rappelant la référence" in " ".join(text.split())


def test_fiche_says_whether_the_tenant_was_told_and_the_reply_expected(db, actors, recovery, tmp_path):
    from cus_desk.domain.errors import ValidationError

    from .erp_files import ULIS_ROWS, ulis_csv

    recovery.import_arrears(ulis_csv(tmp_path / "a.csv", ULIS_ROWS[1:3]), EXTRACT_DATE)  # KLEIN and co-tenant
    with db.write_session() as s:
        lid = s.scalar(select(Lease.id))
        p = Partner(name="CCAS de Woippy", category="ccas", commune="Woippy", version=1)
        s.add(p)
        s.flush()
        pid = p.id
    recovery.add_observation(lid, "ne_repond_plus", date(2026, 11, 2), "Agent", "Ne répond plus.")
    with pytest.raises(ValidationError, match="Indiquez si le locataire a été informé"):
        recovery.send_signalement(lid, pid, date(2026, 11, 3), "", tenant_informed=None)
    with pytest.raises(ValidationError, match="précède l'envoi"):
        recovery.send_signalement(lid, pid, date(2026, 11, 3), "", tenant_informed=False,
                                  reply_by=date(2026, 11, 1))
    sent = recovery.send_signalement(lid, pid, date(2026, 11, 3), "", tenant_informed=False,
                                     tenant_informed_note="Injoignable avant l'envoi.",
                                     reply_expected="Une visite à domicile et un appel à l'agence.",
                                     reply_by=date(2026, 11, 18))
    assert (sent.tenant_informed, sent.reply_by) == (False, date(2026, 11, 18))
    with db.read_session() as s:
        agency_code = s.get(Lease, lid).agency.code
    set_agency_contact(db, actors["admin"], agency_code)
    data = recovery.fiche_pdf(sent.id)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = pdf_text(data)
    for expected in ("Non, le locataire n'a pas été informé", "Injoignable avant l'envoi.",
                     "Une visite à domicile", "18/11/2026", "KLEIN Rose", "20/01/1955", "Recouvrement"):
        assert expected in text, expected


def test_no_fiche_a_partner_cannot_answer(db, actors, recovery, extract_csv):
    """A fiche without the agency's phone or e-mail is refused with what to
    do; once an administrator enters them, the same signalement prints."""
    from cus_desk.domain.errors import WorkflowError

    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    with db.write_session() as s:
        lid = s.scalar(select(Lease.id).where(Lease.contract_number == "57-000001"))
        p = Partner(name="CCAS de Metz", category="ccas", commune="Metz", version=1)
        s.add(p)
        s.flush()
        pid = p.id
    recovery.add_observation(lid, "ne_repond_plus", date(2026, 11, 2), "Agent", "Ne répond plus.")
    sent = recovery.send_signalement(lid, pid, date(2026, 11, 3), "", tenant_informed=True)
    with pytest.raises(WorkflowError) as refused:
        recovery.fiche_pdf(sent.id)
    assert "coordonnées de l'Agence de Metz ne sont pas renseignées" in refused.value.message
    assert "Administration › Agences" in refused.value.message
    with db.read_session() as s:  # nothing printed, nothing traced as printed
        assert not s.scalars(select(AuditEvent).where(AuditEvent.action == "print")).all()
    set_agency_contact(db, actors["admin"], "metz", address="", phone="+352 27 12 34 56", email="")
    text = pdf_text(recovery.fiche_pdf(sent.id))
    assert "+352 27 12 34 56" in text
