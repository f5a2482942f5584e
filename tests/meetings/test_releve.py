"""The relevé de décisions PDF, read back with pypdf."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from cus_desk.domain.errors import ValidationError, WorkflowError
from cus_desk.domain.settings import ORGANISATION_NAME, RELEVE_FULL_NAMES
from cus_desk.services.settings import SettingsService
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.meetings import MeetingArchive
from tests.meetings.conftest import (
    HEALTH_SECRET,
    JOURNAL_SECRET,
    SUMMARY_SECRET,
    VIOLENCE_SECRET,
    prepared_meeting,
)


def pdf_pages(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def _run_session(world, held_on=date(2026, 11, 26), keys=("dupont", "martin")):
    detail = prepared_meeting(world, *keys, held_on=held_on)
    svc = world.service()
    svc.start_meeting(detail.id)
    return svc, detail


def test_releve_content_and_no_confidential_text(world):
    svc = world.service()
    # an earlier session with one decision still open and one done since
    prev = prepared_meeting(world, "nguyen", held_on=date(2026, 10, 22))
    svc.start_meeting(prev.id)
    open_d = svc.add_decision(prev.id, world.cases["nguyen"], "visite_domicile", "Visite conjointe",
                              "Cellule sécurité", date(2026, 11, 10))
    done_d = svc.add_decision(prev.id, world.cases["nguyen"], "saisine_fsl", "FSL maintien",
                              "Pôle social", date(2026, 11, 30))
    svc.close_meeting(prev.id)
    svc.set_follow_up(done_d.id, "realisee", "Aide accordée", date(2026, 11, 12))

    detail = prepared_meeting(world, "dupont", "martin")
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["dupont"], "intervention_sociale",
                     "Bilan global avec la famille & <b>le CCAS</b> ; dette 2 450,00 €",
                     "Conseillère sociale de l'agence", date(2026, 12, 15))
    svc.add_decision(detail.id, world.cases["dupont"], "suspension_contentieux", "Le temps du bilan",
                     "Service contentieux de l'agence", date(2026, 12, 31))
    releve = svc.releve(detail.id)
    assert not releve.archived and releve.file_name.endswith("-projet.pdf")
    pages = pdf_pages(releve.pdf)
    text = " ".join(pages)
    assert "VIVEST" in text and "Commission d'Action Sociale" in text
    assert "CAS n° 2/2026" in text and "26/11/2026" in text and "Siège, salle du conseil" in text
    assert "PROJET" in text
    assert "Sophie Responsable" in text and "Responsable du pôle social" in text
    assert "Excusé(e)" in text and "Claire Commerce" in text
    assert "DUPONT J.-P." in text and "Jean-Pierre" not in text
    assert "Intervention sociale / bilan global" in text
    assert "& <b>le CCAS</b> ; dette 2 450,00 €" in text  # user text printed as typed, € intact
    assert "Suspension de la procédure contentieuse" in text and "31/12/2026" in text
    assert "MARTIN É." in text and "Aucune décision enregistrée" not in text
    assert "Points examinés sans décision" in text and "Examiné, sans décision" in text
    # follow-up of earlier decisions: the open one (overdue) and the one done since
    section = text.split("Suivi des décisions antérieures", 1)[1]
    assert "Visite conjointe" in section and "En retard" in section
    assert "FSL maintien" in section and "Réalisée" in section and "Aide accordée" in section
    assert "CAS n° 1/2026" in section
    # confidential information never printed
    for secret in (HEALTH_SECRET, VIOLENCE_SECRET, SUMMARY_SECRET, JOURNAL_SECRET,
                   "Santé mentale", "Violences intrafamiliales", "Sandrine", "Léa", "raison privée"):
        assert secret not in text
    # footer on every page
    for n, page in enumerate(pages, start=1):
        assert "Document confidentiel — secret professionnel partagé" in page
        assert f"Page {n} / {len(pages)}" in page
        assert "Généré le" in page
    assert open_d.id  # the earlier open decision was kept


def test_full_names_setting_and_organisation(world):
    SettingsService(world.db, world.actors["admin"]).set(RELEVE_FULL_NAMES, True)
    SettingsService(world.db, world.actors["admin"]).set(ORGANISATION_NAME, "VIVEST — Pôle social")
    svc, detail = _run_session(world)
    text = " ".join(pdf_pages(svc.releve(detail.id).pdf))
    assert "DUPONT Jean-Pierre" in text and "MARTIN Élodie" in text
    assert "VIVEST — Pôle social" in text


def test_many_pages_are_numbered(world):
    svc, detail = _run_session(world, keys=("dupont", "martin", "nguyen"))
    for i in range(40):
        svc.add_decision(detail.id, world.cases[("dupont", "martin", "nguyen")[i % 3]], "autre",
                         f"Décision numéro {i} — " + "texte long " * 20, "Pôle social")
    pages = pdf_pages(svc.releve(detail.id).pdf)
    assert len(pages) >= 3
    assert f"Page {len(pages)} / {len(pages)}" in pages[-1]


def test_closed_session_reprint_is_the_archived_file(world):
    svc, detail = _run_session(world, held_on=date(2026, 11, 12))
    svc.add_decision(detail.id, world.cases["martin"], "plan_apurement", "150 € par mois",
                     "Service recouvrement de l'agence", date(2026, 12, 5))
    closed = svc.close_meeting(detail.id)
    with world.db.read_session() as s:
        archive = s.scalar(select(MeetingArchive).where(MeetingArchive.meeting_id == detail.id))
        archived_bytes, digest = archive.pdf, archive.sha256
    assert hashlib.sha256(archived_bytes).hexdigest() == digest == closed.archives[0].sha256
    # the world moves on: new organisation name, follow-up, new session...
    SettingsService(world.db, world.actors["admin"]).set(ORGANISATION_NAME, "Autre nom")
    decision = closed.decisions[0]
    svc.set_follow_up(decision.id, "en_cours", "Premier versement reçu")
    first = svc.releve(detail.id)
    second = world.service("cas_member").releve(detail.id)
    assert first.archived and first.pdf == archived_bytes == second.pdf
    assert first.sha256 == digest
    text = " ".join(pdf_pages(first.pdf))
    assert "VIVEST" in text and "Autre nom" not in text and "PROJET" not in text
    with world.db.read_session() as s:
        prints = s.scalars(select(AuditEvent).where(AuditEvent.action == "print")).all()
    assert len(prints) == 2


def test_addendum_after_closing_is_printed_next_time(world):
    svc, detail = _run_session(world)
    d = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social",
                         date(2026, 12, 5))
    with pytest.raises(WorkflowError, match="clôturée"):
        svc.add_addendum(detail.id, "Trop tôt")
    svc.close_meeting(detail.id)
    before = svc.releve(detail.id).pdf
    with pytest.raises(ValidationError, match="obligatoire"):
        svc.add_addendum(detail.id, "  ")
    with pytest.raises(ValidationError, match="n'appartient pas"):
        svc.add_addendum(detail.id, "Erreur", decision_id=987654)
    after_detail = svc.add_addendum(detail.id, "Échéance reportée au 12/12/2026 (erreur de saisie)",
                                    decision_id=d.id)
    assert len(after_detail.archives) == 2 and after_detail.addenda[0].author == "Camille Conseillère"
    after = svc.releve(detail.id)
    assert after.pdf != before and after.sha256 == after_detail.archives[-1].sha256
    text = " ".join(pdf_pages(after.pdf))
    assert "Rectificatifs" in text and "Échéance reportée au 12/12/2026" in text
    assert "Visite à domicile — CAS-2026-" in text
    # the decision itself stayed as decided
    assert svc.get_meeting(detail.id).decisions[0].due_on == date(2026, 12, 5)


def test_tampered_archive_is_refused(world):
    svc, detail = _run_session(world)
    svc.close_meeting(detail.id)
    with world.db.write_session() as s:
        s.execute(update(MeetingArchive).values(pdf=b"%PDF-1.4 altered"))
    with pytest.raises(WorkflowError, match="altéré"):
        svc.releve(detail.id)


def test_a_very_long_decision_never_breaks_the_relevé(world):
    """4,000 characters of short pasted lines: more than a page in one table
    cell; the relevé continues the text on the next pages."""
    svc, detail = _run_session(world, keys=("martin",))
    text = "".join(f"Ligne {i:04d}\n" for i in range(363))[:4000]
    svc.add_decision(detail.id, world.cases["martin"], "autre", text, "Pôle social")
    svc.add_decision(detail.id, world.cases["martin"], "ajournement", "Après le long texte", "")
    closed = svc.close_meeting(detail.id)
    pages = pdf_pages(svc.releve(detail.id).pdf)
    full = " ".join(pages)
    assert len(pages) >= 3 and closed.status == "cloturee"
    assert "Ligne 0000" in full and "Ligne 0362" in full and "Après le long texte" in full
    assert all(f"Page {n} / {len(pages)}" in p for n, p in enumerate(pages, start=1))


def test_releve_is_a_document_the_president_signs(world):
    """Running header and page n / N on every page, chair and clerk, times,
    points without decision with their outcome, next session, signatures."""
    svc = world.service()
    detail = prepared_meeting(world, "dupont", "martin", "nguyen", attendees=False)
    svc.add_attendee(detail.id, "", "president", user_id=world.actors["social_head"].user_id,
                     presence="present")
    svc.add_attendee(detail.id, "Marc Secrétaire", "secretaire_seance", presence="present")
    svc.add_attendee(detail.id, "Paul Recouvrement", "responsable_recouvrement", presence="present")
    svc.add_attendee(detail.id, "Claire Commerce", "responsable_commercialisation", presence="excuse")
    svc.add_attendee(detail.id, "Luc Absent", "responsable_cellule_securite", presence="absent")
    later = svc.create_meeting(date(2026, 12, 17), "Agence de Metz")
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["dupont"], "saisine_fsl", "FSL maintien",
                     "Conseillère sociale de l'agence", date(2026, 12, 15))
    svc.add_decision(detail.id, world.cases["martin"], "ajournement", "Pièces manquantes", "")
    for i in range(30):  # enough decisions for several pages
        svc.add_decision(detail.id, world.cases["dupont"], "autre",
                         f"Décision {i} — " + "texte long " * 30, "Pôle social")
    svc.close_meeting(detail.id)
    pages = pdf_pages(svc.releve(detail.id).pdf)
    text = " ".join(pages)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert "Relevé de décisions — CAS n° 1/2026 — séance du 26/11/2026" in page
        assert "Version 1" in page
        assert f"Page {n} / {len(pages)}" in page
    assert "Version 1 — établie à la clôture de la séance" in text
    assert "Séance ouverte à 10 h 00, clôturée à 10 h 00" in text
    assert "Présidence de séance : Sophie Responsable" in text
    assert "Secrétaire de séance : Marc Secrétaire" in text
    assert "Président(e) de séance" in text and "Excusé(e)" in text and "Absent(e)" in text
    assert "3 membres présents sur 5" in text
    decisions = text.split("Décisions de la séance", 1)[1].split("Points examinés sans décision", 1)[0]
    assert "Saisine du FSL" in decisions and "Conseillère sociale de l'agence" in decisions
    assert "15/12/2026" in decisions and "MARTIN" not in decisions
    points = text.split("Points examinés sans décision", 1)[1].split("Suivi des décisions", 1)[0]
    assert "MARTIN É." in points and "Ajourné — à représenter : Pièces manquantes" in points
    assert "NGUY" in points and "Examiné, sans décision" in points
    assert "Aucune décision enregistrée" not in text
    assert "Prochaine séance CAS n° 2/2026 — 17/12/2026 — Agence de Metz" in text
    signatures = text.rsplit("Signatures", 1)[1]
    assert "Le/La président·e de séance" in signatures and "Le/La secrétaire de séance" in signatures
    assert "Sophie Responsable" in signatures and "Marc Secrétaire" in signatures
    assert later.id


def test_a_draft_says_so_on_every_page_and_has_no_times_it_does_not_know(world):
    svc, detail = _run_session(world, keys=("martin",))
    with world.db.write_session() as s:  # a session started before the start was journalled
        s.execute(update(AuditEvent).where(AuditEvent.entity_type == "meeting")
                  .values(details_json="{}"))
    pages = pdf_pages(svc.releve(detail.id).pdf)
    assert all("PROJET" in p and "séance du 26/11/2026" in p for p in pages)
    text = " ".join(pages)
    assert "Séance ouverte" not in text and "clôturée à" not in text and "Version" not in text
    assert "Aucune séance suivante n'est encore préparée." in text
    assert "Le/La président·e de séance Le/La secrétaire de séance Nom : Nom :" in text


def test_a_follow_up_longer_than_a_page_keeps_its_case_and_header(world):
    """A follow-up text longer than a page is cut into rows of its own: each
    continuation names its case and session, the header row is repeated."""
    svc = world.service()
    prev = prepared_meeting(world, "nguyen", held_on=date(2026, 10, 22))
    svc.start_meeting(prev.id)
    text = "".join(f"Ligne {i:04d}\n" for i in range(150))
    svc.add_decision(prev.id, world.cases["nguyen"], "autre", text, "Pôle social", date(2026, 12, 30))
    svc.close_meeting(prev.id)
    svc2, detail = _run_session(world, keys=("martin",))
    pages = pdf_pages(svc2.releve(detail.id).pdf)
    continued = [p for p in pages if "(suite)" in p]
    assert continued
    for page in continued:
        assert "Dossier Séance Décision Responsable Échéance Statut" in page
        assert "CAS n° 1/2026" in page
    full = " ".join(pages)
    assert "Ligne 0000" in full and "Ligne 0149" in full


def test_every_archived_version_can_be_reprinted_and_says_which_it_is(world):
    svc, detail = _run_session(world)
    d = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Pôle social",
                         date(2026, 12, 5))
    with pytest.raises(ValidationError, match="n'est pas clôturée"):
        svc.releve(detail.id, version=1)
    svc.close_meeting(detail.id)
    signed = svc.releve(detail.id)
    assert (signed.version, signed.latest, signed.file_name) == (1, True, "releve-CAS-2026-01.pdf")
    svc.add_addendum(detail.id, "Échéance reportée au 12/12/2026", decision_id=d.id)
    svc.add_addendum(detail.id, "Responsable : CS Forbach")
    latest = svc.releve(detail.id)
    first = svc.releve(detail.id, version=1)
    second = svc.releve(detail.id, version=2)
    assert first.pdf == signed.pdf and first.sha256 == signed.sha256
    assert (first.version, first.latest, first.file_name) == (1, False, "releve-CAS-2026-01-v1.pdf")
    assert (second.version, second.latest) == (2, False)
    assert (latest.version, latest.latest, latest.file_name) == (3, True, "releve-CAS-2026-01-v3.pdf")
    assert len({first.pdf, second.pdf, latest.pdf}) == 3
    one, two, three = (" ".join(pdf_pages(r.pdf)) for r in (first, second, latest))
    assert "Version 1 — établie à la clôture de la séance (version à signer)" in one
    assert "Rectificatifs" not in one
    assert "Version 2 — intègre 1 rectificatif ; la version 1 est celle établie à la clôture" in two
    assert "Échéance reportée" in two and "CS Forbach" not in two
    assert "Version 3 — intègre 2 rectificatifs" in three and "CS Forbach" in three
    assert all("Version 2" in p for p in pdf_pages(second.pdf))  # running header
    with pytest.raises(ValidationError, match="versions archivées de 1 à 3"):
        svc.releve(detail.id, version=4)
    with pytest.raises(ValidationError, match="versions archivées de 1 à 3"):
        svc.releve(detail.id, version=0)
    with world.db.read_session() as s:
        printed = [e.details_json for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "print"))]
    assert sum('"version": 1' in p for p in printed) == 2
