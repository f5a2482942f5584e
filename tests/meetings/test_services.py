"""Services of the CAS sessions through a real SQLite file."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest
from sqlalchemy import select

from cus_desk.domain.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    ValidationError,
    WorkflowError,
)
from cus_desk.services.audit import Action
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.meetings import Decision, Meeting, MeetingArchive
from tests.meetings.conftest import (
    HEALTH_SECRET,
    JOURNAL_SECRET,
    SESSION_DAY,
    SUMMARY_SECRET,
    VIOLENCE_SECRET,
    make_case,
    prepared_meeting,
)

SECRETS = (HEALTH_SECRET, VIOLENCE_SECRET, SUMMARY_SECRET, JOURNAL_SECRET)


def _audit(db, action: str) -> list[AuditEvent]:
    with db.read_session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ----------------------------------------------------------------------------- lifecycle


def test_numbering_is_sequential_per_year(world):
    svc = world.service()
    a = svc.create_meeting(date(2026, 1, 29), "Metz")
    b = svc.create_meeting(date(2026, 2, 26), "Metz")
    c = svc.create_meeting(date(2027, 1, 28), "Metz")
    assert (a.meeting.number, b.meeting.number, c.meeting.number) == (1, 2, 1)
    assert b.meeting.label == "CAS n° 2/2026"
    assert [m.id for m in svc.list_meetings()] == [c.id, b.id, a.id]
    assert svc.find_meeting("2/2026").id == b.id
    assert svc.find_meeting("2027-1").id == c.id
    assert svc.find_meeting(str(a.id)).id == a.id
    with pytest.raises(NotFoundError, match="meetings list"):
        svc.find_meeting("9/2026")


def test_lifecycle_prepared_open_closed(world):
    detail = prepared_meeting(world, "dupont", "martin")
    svc = world.service()
    assert detail.status == "preparee"
    assert [a.case_id for a in detail.agenda] == [world.cases["dupont"], world.cases["martin"]]
    assert [a.function for a in detail.attendees if a.user_id] == [
        "responsable_pole_social", "responsable_cellule_securite"]
    with pytest.raises(WorkflowError, match="ouvrez d'abord la séance"):
        svc.add_decision(detail.id, world.cases["dupont"], "saisine_fsl", "", "Pôle social")
    with pytest.raises(WorkflowError, match="ouvrez d'abord"):
        svc.close_meeting(detail.id)
    opened = svc.start_meeting(detail.id, expected_version=detail.meeting.version)
    assert opened.status == "en_cours"
    d = svc.add_decision(detail.id, world.cases["dupont"], "saisine_fsl",
                         "Monter un dossier FSL maintien", "Conseillère sociale de l'agence", date(2026, 12, 15))
    assert d.type_label == "Saisine du FSL" and d.status == "a_faire" and not d.locked
    closed = svc.close_meeting(detail.id)
    assert closed.status == "cloturee"
    assert len(closed.archives) == 1
    with pytest.raises(WorkflowError, match="rouverte"):
        svc.start_meeting(detail.id)


def test_close_requires_someone_present_and_changes_nothing_otherwise(world):
    detail = prepared_meeting(world, "martin", attendees=False)
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_attendee(detail.id, "Claire Commerce", "responsable_commercialisation", present=False)
    with pytest.raises(WorkflowError, match="présents"):
        svc.close_meeting(detail.id)
    with world.db.read_session() as s:
        assert s.get(Meeting, detail.id).status == "en_cours"
        assert s.scalar(select(MeetingArchive.id)) is None


def test_closing_locks_decisions_and_preparation(world):
    detail = prepared_meeting(world, "dupont", "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    d = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "Visite conjointe",
                         "Pôle social", date(2026, 12, 10))
    svc.close_meeting(detail.id)
    with pytest.raises(WorkflowError, match="rectificatif"):
        svc.update_decision(d.id, "ajournement", "", "", None, d.version)
    with pytest.raises(WorkflowError, match="rectificatif"):
        svc.delete_decision(d.id)
    with pytest.raises(WorkflowError):
        svc.add_decision(detail.id, world.cases["martin"], "autre", "x", "y")
    with pytest.raises(WorkflowError):
        svc.add_to_agenda(detail.id, world.cases["nguyen"])
    with pytest.raises(WorkflowError):
        svc.add_attendee(detail.id, "Retardataire", "autre")
    with pytest.raises(WorkflowError):
        svc.update_meeting(detail.id, SESSION_DAY, "Ailleurs", None, None)
    with world.db.read_session() as s:
        stored = s.get(Decision, d.id)
        assert (stored.type, stored.text, stored.responsible) == ("visite_domicile", "Visite conjointe", "Pôle social")


def test_decision_edit_conflict_and_bad_input(world):
    detail = prepared_meeting(world, "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    cid = world.cases["martin"]
    with pytest.raises(ValidationError, match="type de décision"):
        svc.add_decision(detail.id, cid, "expulsion", "", "Pôle social")
    with pytest.raises(ValidationError, match="Responsable") as err:
        svc.add_decision(detail.id, cid, "saisine_fsl", "", "  ")
    assert err.value.field == "responsible"
    with pytest.raises(ValidationError, match="Texte"):
        svc.add_decision(detail.id, cid, "autre", "", "Pôle social")
    with pytest.raises(ValidationError, match="précède"):
        svc.add_decision(detail.id, cid, "saisine_fsl", "", "Pôle social", date(2026, 1, 1))
    with pytest.raises(ValidationError, match="trop long"):
        svc.add_decision(detail.id, cid, "saisine_fsl", "x" * 10_000, "Pôle social")
    with pytest.raises(ValidationError, match="ordre du jour"):
        svc.add_decision(detail.id, world.cases["nguyen"], "saisine_fsl", "", "Pôle social")
    with pytest.raises(NotFoundError):
        svc.add_decision(999_999, cid, "saisine_fsl", "", "Pôle social")
    # an adjournment needs no responsible
    adj = svc.add_decision(detail.id, cid, "ajournement", "", "")
    assert adj.type_label == "Ajournement"
    with world.db.read_session() as s:
        assert s.scalar(select(Decision.id).where(Decision.type == "saisine_fsl")) is None
    # two windows edit the same decision: the second save is refused
    first = svc.update_decision(adj.id, "ajournement", "Revoir en janvier", "", None, adj.version)
    with pytest.raises(ConflictError):
        svc.update_decision(adj.id, "autre", "Écrasement", "Pôle social", None, adj.version)
    assert svc.get_meeting(detail.id).decisions[0].text == first.text == "Revoir en janvier"


def test_meeting_bad_input(world):
    svc = world.service()
    with pytest.raises(ValidationError, match="date de la séance"):
        svc.create_meeting(None, "Metz")
    with pytest.raises(ValidationError, match="trop long"):
        svc.create_meeting(SESSION_DAY, "x" * 500)
    with pytest.raises(ValidationError, match="agence"):
        svc.create_meeting(SESSION_DAY, "Metz", scope_agency_id=987654)
    with pytest.raises(ValidationError, match="fonction"):
        m = svc.create_meeting(SESSION_DAY, "Metz")
        svc.add_attendee(m.id, "Quelqu'un", "directeur")
    with pytest.raises(ValidationError, match="Nom"):
        svc.add_attendee(m.id, "   ", "autre")
    svc.add_attendee(m.id, "", "responsable_pole_social", user_id=world.actors["social_head"].user_id)
    with pytest.raises(ValidationError, match="déjà"):
        svc.add_attendee(m.id, "", "autre", user_id=world.actors["social_head"].user_id)
    assert svc.list_meetings()[0].agenda_count == 0


def test_access_rules(world):
    detail = prepared_meeting(world, "dupont")
    with pytest.raises(AccessDeniedError):
        world.service("recovery_metz").create_meeting(SESSION_DAY, "Metz")
    with pytest.raises(AccessDeniedError):
        world.service("cas_member").start_meeting(detail.id)
    with pytest.raises(AccessDeniedError):
        world.service("admin").list_meetings()
    # an adviser from another agency cannot put a Metz case on the agenda
    with pytest.raises(AccessDeniedError):
        world.service("adviser_forbach").add_to_agenda(detail.id, world.cases["martin"])
    # scope: an agency session only takes that agency's cases
    scoped = world.service().create_meeting(SESSION_DAY, "Metz", scope_agency_id=world.metz)
    with pytest.raises(ValidationError, match="autre agence"):
        world.service("social_head").add_to_agenda(scoped.id, world.cases["forbach"])


# ----------------------------------------------------------------------------- agenda


def test_agenda_proposal_includes_due_decisions(world):
    svc = world.service()
    first = prepared_meeting(world, "nguyen", held_on=date(2026, 10, 22))
    svc.start_meeting(first.id)
    svc.add_decision(first.id, world.cases["nguyen"], "visite_domicile", "Visite", "Pôle social",
                     date(2026, 11, 15))
    svc.close_meeting(first.id)
    nxt = svc.create_meeting(SESSION_DAY, "Metz")
    proposals = svc.propose_agenda(nxt.id)
    by_case = {p.case_id: p for p in proposals}
    assert set(by_case) == {world.cases["dupont"], world.cases["martin"], world.cases["nguyen"]}
    assert by_case[world.cases["nguyen"]].reasons == ("Décision échue le 15/11/2026",)
    assert by_case[world.cases["martin"]].reasons == ("À présenter en CAS",)
    # the adviser of Metz is not offered the Forbach case; the social head is
    assert world.cases["forbach"] in {p.case_id for p in world.service("social_head").propose_agenda(nxt.id)}
    # once done, a decision no longer brings its case back
    decision = svc.follow_up_list(case_id=world.cases["nguyen"])[0]
    svc.set_follow_up(decision.id, "realisee", "Visite faite")
    assert world.cases["nguyen"] not in {p.case_id for p in svc.propose_agenda(nxt.id)}


def test_agenda_reorder_remove_and_proposal(world):
    detail = prepared_meeting(world, "dupont", "martin", "nguyen")
    svc = world.service()
    ids = [a.case_id for a in detail.agenda]
    new_order = [ids[2], ids[0], ids[1]]
    after = svc.reorder_agenda(detail.id, new_order)
    assert [a.case_id for a in after.agenda] == new_order
    assert [a.position for a in after.agenda] == [1, 2, 3]
    with pytest.raises(ValidationError, match="actualisez"):
        svc.reorder_agenda(detail.id, new_order[:2])
    svc.set_proposal(detail.id, ids[0], "Proposer une saisine FSL")
    with pytest.raises(ValidationError, match="déjà à l'ordre du jour"):
        svc.add_to_agenda(detail.id, ids[0])
    closed_case = make_case(world.db, world.metz, "Clos", "Camille", status="clos")
    with pytest.raises(ValidationError, match="est clos"):
        svc.add_to_agenda(detail.id, closed_case)
    with pytest.raises(ValidationError, match="Statut de séance inconnu"):
        svc.list_meetings(status="fermee")
    after = svc.remove_from_agenda(detail.id, ids[1])
    assert [a.case_id for a in after.agenda] == [ids[2], ids[0]]
    assert after.agenda[1].proposal == "Proposer une saisine FSL"
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, ids[0], "saisine_fsl", "", "Pôle social")
    with pytest.raises(WorkflowError, match="supprimez-les"):
        svc.remove_from_agenda(detail.id, ids[0])


# ----------------------------------------------------------------------------- commission summary


def _all_text(obj) -> str:
    return json.dumps(asdict(obj), ensure_ascii=False, default=str)


def test_commission_summary_hides_sensitive_items(world):
    detail = prepared_meeting(world, "martin", "dupont")
    summary = world.service("cas_member").commission_summary(detail.id, world.cases["dupont"])
    text = _all_text(summary)
    for secret in SECRETS + ("Santé mentale", "Violences", "Léa", "Sandrine", "raison privée"):
        assert secret not in text
    assert summary.position == 2 and summary.total == 2
    assert summary.problems == ("Impayé de loyer",)
    assert summary.arrears_cents == 245_000
    assert summary.proposal == "Proposition pour dupont"
    assert any("AMLI" in r and "Acceptée" in r for r in summary.referrals)
    assert any("150,00" in p for p in summary.repayment_plans)
    assert summary.household_brief == "DUPONT J.-P. — ménage de 3 personnes"
    # a CAS member is not told what is reserved, not even by category
    assert summary.hidden == () and not summary.can_reveal
    keys = [h.key for h in world.service().commission_summary(detail.id, world.cases["dupont"]).hidden]
    assert keys[:4] == ["problematiques", "famille", "situation", "journal"]
    assert sum(k.startswith("note:") for k in keys) == 2
    with pytest.raises(AccessDeniedError):
        world.service("cas_member").reveal(detail.id, world.cases["dupont"], "situation")
    assert not _audit(world.db, Action.REVEAL)
    reads = _audit(world.db, Action.READ)
    assert reads[-1].case_id == world.cases["dupont"]


def test_cas_member_sees_only_sessions_she_attends(world):
    detail = prepared_meeting(world, "dupont", attendees=False)
    with pytest.raises(AccessDeniedError):
        world.service("cas_member").commission_summary(detail.id, world.cases["dupont"])
    with pytest.raises(AccessDeniedError):
        world.service("adviser_forbach").commission_summary(detail.id, world.cases["dupont"])
    svc = world.service()
    svc.add_attendee(detail.id, "", "conseillere_sociale", user_id=world.actors["adviser_forbach"].user_id)
    summary = world.service("adviser_forbach").commission_summary(detail.id, world.cases["dupont"])
    # Attending gives the commission summary of another agency's case, never
    # the whole file (services.access): nothing hidden can be revealed, nor
    # even announced; reserved items go on the projector only through the
    # case's own adviser.
    assert not summary.can_reveal and summary.hidden == ()
    with pytest.raises(AccessDeniedError):
        world.service("adviser_forbach").reveal(detail.id, world.cases["dupont"], "situation")


def test_reveal_one_item_is_audited_without_its_content(world):
    detail = prepared_meeting(world, "dupont")
    svc = world.service()
    summary = svc.commission_summary(detail.id, world.cases["dupont"])
    assert summary.can_reveal
    note_key = next(h.key for h in summary.hidden if h.key.startswith("note:"))
    revealed = svc.reveal(detail.id, world.cases["dupont"], note_key)
    assert revealed.text == HEALTH_SECRET
    family = svc.reveal(detail.id, world.cases["dupont"], "famille")
    assert "MOREAU Sandrine" in family.text and "Enfant : DUPONT Léa, 14 ans" in family.text
    events = _audit(world.db, Action.REVEAL)
    assert [json.loads(e.details_json)["element"] for e in events] == [note_key, "famille"]
    assert all(e.case_id == world.cases["dupont"] and e.user_login == "cs.metz" for e in events)
    for e in events:
        for secret in SECRETS + ("Sandrine",):
            assert secret not in e.details_json
    with pytest.raises(NotFoundError):
        svc.reveal(detail.id, world.cases["dupont"], "note:999999")
    with pytest.raises(NotFoundError):
        svc.reveal(detail.id, world.cases["martin"], "situation")  # not on the agenda
    assert len(_audit(world.db, Action.REVEAL)) == 2


# ----------------------------------------------------------------------------- follow-up


def test_follow_up_statuses_comments_and_overdue_listing(world):
    svc = world.service()
    detail = prepared_meeting(world, "dupont", "martin", held_on=date(2026, 10, 22))
    svc.start_meeting(detail.id)
    late = svc.add_decision(detail.id, world.cases["dupont"], "saisine_fsl", "", "Conseillère sociale de l'agence",
                            date(2026, 11, 1))
    later = svc.add_decision(detail.id, world.cases["martin"], "visite_domicile", "", "Cellule sécurité",
                             date(2026, 12, 1))
    undated = svc.add_decision(detail.id, world.cases["martin"], "plan_apurement", "", "Service recouvrement de l'agence")
    svc.close_meeting(detail.id)
    listing = svc.follow_up_list()
    assert [d.id for d in listing] == [late.id, later.id, undated.id]
    assert listing[0].overdue and not listing[1].overdue
    by_resp = svc.follow_up_list(by_responsible=True)
    assert [d.responsible for d in by_resp] == ["Cellule sécurité", "Conseillère sociale de l'agence",
                                                "Service recouvrement de l'agence"]
    assert [d.id for d in svc.follow_up_list(responsible="Service recouvrement de l'agence")] == [undated.id]
    # The responsibles offered: the services, then the accounts (issue 14).
    offered = svc.responsibles()
    assert offered[:3] == ["Pôle social", "Conseillère sociale de l'agence", "Service recouvrement de l'agence"]
    assert "Service contentieux de l'agence" in offered

    step = svc.set_follow_up(late.id, "en_cours", "Dossier FSL déposé", date(2026, 11, 5), late.version)
    assert step.status == "en_cours" and step.follow_ups[0].comment == "Dossier FSL déposé"
    with pytest.raises(ConflictError):
        svc.set_follow_up(late.id, "realisee", "", None, late.version)
    with pytest.raises(ValidationError, match="abandonnée"):
        svc.set_follow_up(later.id, "abandonnee", "")
    with pytest.raises(ValidationError, match="futur"):
        svc.set_follow_up(later.id, "en_cours", "", date(2027, 1, 1))
    with pytest.raises(ValidationError, match="Rien à enregistrer"):
        svc.set_follow_up(later.id, "a_faire", "")
    with pytest.raises(ValidationError, match="précède la séance"):
        svc.set_follow_up(later.id, "en_cours", "", date(2026, 10, 1))
    note = svc.set_follow_up(later.id, "a_faire", "Rendez-vous fixé")  # comment only
    assert note.status == "a_faire" and note.follow_ups[0].status is None
    done = svc.set_follow_up(late.id, "realisee", "Aide FSL accordée : 1 200,00 €")
    assert done.status == "realisee" and done.status_changed_on == svc.today
    assert [d.id for d in svc.follow_up_list()] == [later.id, undated.id]
    assert len(svc.follow_up_list(include_closed=True)) == 3
    # the case screen sees them too, with their history
    case_view = svc.decisions_for_case(world.cases["dupont"])
    assert [f.status for f in case_view[0].follow_ups] == ["realisee", "en_cours"]
    # who may follow up what
    assert world.service("adviser_forbach").follow_up_list() == []
    with pytest.raises(AccessDeniedError):
        world.service("adviser_forbach").set_follow_up(later.id, "en_cours", "")
    assert len(world.service("recovery_metz").follow_up_list()) == 2
    assert len(world.service("cas_member").follow_up_list()) == 2  # attended that session


def test_judicial_decision_is_queryable_by_the_case_files_feature(world):
    detail = prepared_meeting(world, "martin")
    svc = world.service()
    svc.start_meeting(detail.id)
    svc.add_decision(detail.id, world.cases["martin"], "demande_resiliation_judiciaire",
                     "Après échec du plan et de la saisine FSL", "Service contentieux de l'agence", confirmed=True)
    with world.db.read_session() as s:
        found = s.scalar(select(Decision.id).where(Decision.case_id == world.cases["martin"],
                                                   Decision.type == "demande_resiliation_judiciaire"))
    assert found is not None
