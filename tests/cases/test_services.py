"""CaseService through a real SQLite file: create, edit, conflicts, audit,
access, workflow, journal, referrals, confidential notes, search."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    ValidationError,
    WorkflowError,
)
from cus_desk.services.cases import CaseFilter, CaseService, HouseholdInput, MemberInput, NewCase
from cus_desk.store.db import open_database
from cus_desk.store.models.cases import Case, ConfidentialNote, JournalEntry
from cus_desk.store.models.core import AuditEvent, Household, Lease, Referral, Tenant
from cus_desk.store.models.meetings import Attendee, Decision, Meeting

from .conftest import TODAY, agency_id, new_case_input


def events(db, case_id=None, action=None):
    with db.read_session() as session:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if case_id is not None:
            q = q.where(AuditEvent.case_id == case_id)
        if action is not None:
            q = q.where(AuditEvent.action == action)
        return [(e.action, e.entity_type, json.loads(e.details_json)) for e in session.scalars(q)]


def count(db, model):
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_create_case_with_household_and_lease(db, svc, actors):
    case_id = svc().create_case(new_case_input(db, caf_number="1234567", arrears_cents=123456, arrears_months=3))
    detail = svc().get(case_id)
    assert detail.reference == "CAS-2026-0001"
    assert detail.status == "ouvert" and detail.access == "full"
    assert detail.agency_name == "Metz"
    assert detail.holder_name == "DUPONT Hélène"
    assert detail.household.phone == "03 87 00 00 00"
    assert detail.lease.contract_number == "MZ-000123" and detail.lease.kind_label == "Bail classique"
    assert detail.adviser_name == "Camille Conseillère"  # the adviser who opened it
    assert detail.caf_number == "1234567" and detail.arrears_cents == 123456
    created = [e for e in events(db, case_id) if e[0] == "create"]
    assert created and created[0][2]["reference"] == [None, "CAS-2026-0001"]
    assert created[0][2]["arrears_cents"] == [None, 123456]
    assert ("read", "case", {"acces": "complet"}) in events(db, case_id)


def test_references_are_sequential_and_never_reused(db, svc, make_case):
    first, second = make_case(), make_case()
    assert svc().get(second).reference == "CAS-2026-0002"
    with db.write_session() as session:  # a purge of the last case of the year
        session.delete(session.get(Case, second))
    third = make_case()
    assert svc().get(third).reference == "CAS-2026-0003"
    assert svc().get(first).reference == "CAS-2026-0001"


def test_existing_lease_reuses_household(db, svc, make_case):
    case_id = make_case(contract="MZ-777")
    with db.write_session() as session:
        session.get(Case, case_id).status = "clos"
    found = svc().lookup_lease("MZ-777")
    assert found.holder_name == "DUPONT Hélène" and found.open_case_reference is None
    again = svc().create_case(NewCase(case=svc().get(case_id).as_case_input(), lease_id=found.lease_id))
    assert svc().get(again).household.id == svc().get(case_id).household.id
    assert svc().lookup_lease("nope") is None


def test_find_or_create_for_lease(db, svc, make_case, actors):
    case_id = make_case(contract="MZ-555")
    with db.read_session() as session:
        lease_id = session.scalar(select(Lease.id).where(Lease.contract_number == "MZ-555"))
    assert svc().find_or_create_for_lease(lease_id) == case_id
    with db.write_session() as session:
        session.get(Case, case_id).status = "clos"
    new_id = svc().find_or_create_for_lease(lease_id, problems=("impaye_loyer", "perte_autonomie"))
    assert new_id != case_id
    assert svc().get(new_id).problems == ("impaye_loyer", "perte_autonomie")
    assert svc().find_or_create_for_lease(lease_id) == new_id
    with pytest.raises(AccessDeniedError):
        svc("adviser_forbach").find_or_create_for_lease(lease_id)
    with pytest.raises(AccessDeniedError):
        svc("recovery_metz").find_or_create_for_lease(lease_id)
    with pytest.raises(NotFoundError):
        svc().find_or_create_for_lease(999_999)


def test_edit_case_audits_changed_fields_only(db, svc, make_case):
    case_id = make_case()
    detail = svc().get(case_id)
    data = detail.as_case_input()
    data.summary = "Dette locative après perte d'emploi"
    data.problems = ["impaye_loyer", "isolement"]
    data.fsl_number = "FSL-57-2026-001"
    version = svc().update_case(case_id, data, detail.version)
    assert version == detail.version + 1
    upd = [e for e in events(db, case_id) if e[0] == "update"][-1][2]
    assert set(upd) == {"summary", "problems", "fsl_number"}
    # content (problématiques, situation, identifiers) is marked as changed, never copied (#11)
    assert upd["problems"] == upd["summary"] == upd["fsl_number"] == "(modifié — contenu confidentiel)"
    assert svc().get(case_id).problems == ("impaye_loyer", "isolement")
    # Saving the same values again changes nothing and writes no event.
    before = len(events(db, case_id, "update"))
    assert svc().update_case(case_id, data, version) == version
    assert len(events(db, case_id, "update")) == before


def test_conflict_two_sessions_on_one_file(db, svc, make_case, actors):
    """Two app instances on the same store (SQLite file or server) edit the same case."""
    case_id = make_case()
    other_db = open_database(db.url)
    try:
        mine = CaseService(db, actors["adviser_metz"])
        theirs = CaseService(other_db, actors["social_head"])
        a, b = mine.get(case_id), theirs.get(case_id)
        data_b = b.as_case_input()
        data_b.summary = "Version de la responsable"
        theirs.update_case(case_id, data_b, b.version)
        data_a = a.as_case_input()
        data_a.summary = "Ma version"
        with pytest.raises(ConflictError) as exc:
            mine.update_case(case_id, data_a, a.version)
        assert "modifiée par quelqu'un d'autre" in exc.value.message
        assert mine.get(case_id).summary == "Version de la responsable"
        # Households too.
        hh = mine.get(case_id).household
        theirs.update_household(case_id, HouseholdInput([MemberInput("DUPONT", "Hélène"), MemberInput("DUPONT", "Léo", date(2012, 1, 2), "enfant")]), hh.version)
        with pytest.raises(ConflictError):
            mine.update_household(case_id, HouseholdInput([MemberInput("MARTIN", "Hélène")]), hh.version)
        assert [m.first_name for m in mine.get(case_id).household.members] == ["Hélène", "Léo"]
    finally:
        other_db.dispose()


def test_household_edit_updates_list_and_search(db, svc, make_case):
    case_id = make_case(last_name="DURAND", first_name="Paul")
    hh = svc().get(case_id).household
    svc().update_household(case_id, HouseholdInput([MemberInput("Ющенко", "Олена", date(1980, 1, 1))]), hh.version)
    rows = svc().list_cases(CaseFilter(search="ющенко"))
    assert [r.id for r in rows] == [case_id] and rows[0].holder_name == "Ющенко Олена"
    assert svc().list_cases(CaseFilter(search="DURAND")) == []
    hist = events(db, case_id, "update")
    assert hist[-1][1] == "household" and "members" in hist[-1][2]


@pytest.mark.parametrize("field,kwargs,message", [
    ("members.0.last_name", {"last_name": "  "}, "obligatoire"),
    ("members.0.last_name", {"last_name": "X" * 10_000}, "trop long"),
    ("members.0.last_name", {"last_name": "Dupont2"}, "lettres"),
    ("arrears_cents", {"arrears_cents": -100}, "négatif"),
    ("summary", {"summary": "é" * 10_000}, "trop long"),
    ("problems", {"problems": ()}, "problématique"),
    ("caf_number", {"caf_number": "9" * 41}, "trop long"),
    ("contract_number", {"contract": "  "}, "obligatoire"),
    ("last_payment_on", {"last_payment_on": date(2027, 1, 1)}, "futur"),
])
def test_bad_input_saves_nothing(db, svc, field, kwargs, message):
    before = (count(db, Case), count(db, Household), count(db, Tenant), count(db, Lease), count(db, AuditEvent))
    with pytest.raises(ValidationError) as exc:
        svc().create_case(new_case_input(db, **kwargs))
    assert exc.value.field == field
    assert message in exc.value.message
    after = (count(db, Case), count(db, Household), count(db, Tenant), count(db, Lease), count(db, AuditEvent))
    assert after == before


def test_future_birth_date_refused(db, svc):
    new = new_case_input(db)
    new.household.members[0].birth_date = date(2030, 1, 1)
    with pytest.raises(ValidationError, match="futur") as exc:
        svc().create_case(new)
    assert exc.value.field == "members.0.birth_date"
    assert count(db, Case) == 0


def test_duplicate_contract_refused(db, svc, make_case):
    make_case(contract="MZ-1")
    with pytest.raises(ValidationError, match="existe déjà"):
        svc().create_case(new_case_input(db, contract="MZ-1"))


def test_non_latin_names_stored_and_found(db, svc, make_case):
    ids = {name: make_case(last_name=name, first_name="") for name in ("Nguyễn", "محمد", "Ющенко")}
    for name, case_id in ids.items():
        assert svc().get(case_id).holder_name == name
        assert [r.id for r in svc().list_cases(CaseFilter(search=name))] == [case_id]


def test_access_rules(db, svc, make_case, actors):
    case_id = make_case()
    with pytest.raises(AccessDeniedError, match="pas accès"):
        svc("adviser_forbach").get(case_id)
    with pytest.raises(AccessDeniedError):
        svc("cas_member").get(case_id)
    with pytest.raises(AccessDeniedError):
        svc("recovery_metz").list_cases()
    assert svc("adviser_forbach").list_cases() == []
    assert [r.id for r in svc("social_head").list_cases()] == [case_id]
    with pytest.raises(AccessDeniedError):
        svc("adviser_forbach").add_journal_entry(case_id, "note", TODAY, "intrusion")
    with pytest.raises(AccessDeniedError):
        svc("adviser_forbach").create_case(new_case_input(db, contract="MZ-9"))  # Metz lease
    # A CAS member attending a session with the case on its agenda sees a summary.
    with db.write_session() as session:
        from cus_desk.store.models.meetings import AgendaItem, Attendee
        meeting = Meeting(year=2026, number=1, held_on=TODAY, status="preparee")
        meeting.attendees = [Attendee(user_id=actors["cas_member"].user_id, name="Serge", function="autre")]
        meeting.agenda_items = [AgendaItem(case_id=case_id, position=1, proposal="")]
        session.add(meeting)
    svc().add_confidential_note(case_id, "violences", "Main courante déposée", None, None)
    svc().add_journal_entry(case_id, "entretien", TODAY, "Entretien au siège")
    summary = svc("cas_member").get(case_id)
    assert summary.access == "summary"
    assert summary.confidential_notes == () and summary.journal == () and summary.summary == ""
    assert summary.household.phone is None and summary.caf_number is None
    assert [r.id for r in svc("cas_member").list_cases()] == [case_id]
    with pytest.raises(AccessDeniedError):
        svc("cas_member").add_journal_entry(case_id, "note", TODAY, "x")


def test_workflow_through_service(db, svc, make_case):
    case_id = make_case()
    v = svc().get(case_id).version
    with pytest.raises(WorkflowError):
        svc().change_status(case_id, "en_suivi", v)
    v = svc().change_status(case_id, "a_presenter", v)
    v = svc().change_status(case_id, "preconisation", v, recommendation="bilan_global")
    with pytest.raises(ValidationError):
        svc().change_status(case_id, "clos", v, closure_reason="")
    v = svc().change_status(case_id, "clos", v, closure_reason="Relogement")
    d = svc().get(case_id)
    assert (d.status, d.closure_reason, d.closed_on, d.recommendation) == ("clos", "Relogement", TODAY, "bilan_global")
    v = svc().change_status(case_id, "ouvert", v)
    assert svc().get(case_id).closure_reason is None
    with pytest.raises(ConflictError):
        svc().change_status(case_id, "a_presenter", v - 1)
    changes = [e[2] for e in events(db, case_id, "update")]
    assert {"status": ["a_presenter", "preconisation"], "recommendation": [None, "bilan_global"]}.items() <= changes[1].items()


def test_judicial_step_needs_cas_decision(db, svc, make_case):
    case_id = make_case()
    v = svc().get(case_id).version
    with pytest.raises(WorkflowError, match="aucune décision de la CAS"):
        svc().request_judicial_termination(case_id, v)
    assert svc().get(case_id).judicial_requested_on is None
    with db.write_session() as session:
        meeting = Meeting(year=2026, number=7, held_on=date(2026, 11, 10), status="cloturee")
        session.add(meeting)
        session.flush()
        for name in ("Présidente", "Recouvrement", "Sécurité"):  # the quorum (issue 14)
            session.add(Attendee(meeting_id=meeting.id, name=name, function="autre", present=True,
                                 presence="present"))
        session.add(Decision(meeting_id=meeting.id, case_id=case_id, type="plan_apurement", text="Plan"))
    with pytest.raises(WorkflowError):  # another decision type does not authorise it
        svc().request_judicial_termination(case_id, v)
    with db.write_session() as session:
        session.add(Decision(meeting_id=meeting.id, case_id=case_id, type="demande_resiliation_judiciaire",
                             text="Autorisée"))
    assert svc().get(case_id).judicial_authorised
    svc().request_judicial_termination(case_id, v)
    d = svc().get(case_id)
    assert d.judicial_requested_on == TODAY
    assert [x.type for x in d.decisions] == ["plan_apurement", "demande_resiliation_judiciaire"]
    assert "résiliation judiciaire" in d.journal[0].text


def test_journal_entries_and_corrections(db, svc, make_case):
    case_id = make_case()
    first = svc().add_journal_entry(case_id, "appel", date(2026, 11, 2), "Appel : pas de réponse")
    svc().add_journal_entry(case_id, "visite_domicile", date(2026, 11, 20), "Visite : logement encombré")
    fix = svc().add_journal_entry(case_id, "appel", date(2026, 11, 2), "Appel : message laissé", corrects_id=first)
    journal = svc().get(case_id).journal
    assert [j.occurred_on for j in journal][:1] == [date(2026, 11, 20)]  # newest first
    original = next(j for j in journal if j.id == first)
    assert original.corrected_by_id == fix and original.text == "Appel : pas de réponse"
    assert svc().get(case_id).last_activity_on == TODAY  # opened today
    for bad, field in [(("courriel", TODAY, "x"), "kind"), (("note", None, "x"), "occurred_on"),
                       (("note", date(2027, 1, 1), "x"), "occurred_on"), (("note", TODAY, "  "), "text"),
                       (("note", TODAY, "y" * 10_000), "text")]:
        with pytest.raises(ValidationError) as exc:
            svc().add_journal_entry(case_id, *bad)
        assert exc.value.field == field
    assert count(db, JournalEntry) == 3


def test_adding_a_part_keeps_open_forms_valid(db, svc, make_case):
    case_id = make_case()
    d = svc().get(case_id)
    svc().add_journal_entry(case_id, "note", TODAY, "note")
    data = d.as_case_input()
    data.summary = "ok"
    svc().update_case(case_id, data, d.version)  # no conflict: the journal is append-only


def test_referrals(db, svc, make_case, partner_id):
    case_id = make_case()
    old = svc().add_referral(case_id, partner_id, date(2026, 9, 1), "Accompagnement budgétaire")
    recent = svc().add_referral(case_id, partner_id, date(2026, 11, 20), "Demande FSL")
    d = svc().get(case_id)
    by_id = {r.id: r for r in d.referrals}
    assert by_id[old].overdue and not by_id[recent].overdue
    assert d.journal[0].kind == "orientation"
    overdue = svc().overdue_referrals()
    assert [(o.referral_id, o.days) for o in overdue] == [(old, 88)]
    assert [r.id for r in svc().list_cases(CaseFilter(overdue_only=True))] == [case_id]
    assert svc().list_cases(CaseFilter(search="zzz", overdue_only=True)) == []
    assert svc().list_cases()[0].overdue_referrals == 1
    v = by_id[old].version
    with pytest.raises(ValidationError) as exc:
        svc().update_referral(old, "cloturee", v, result="non_aboutie")
    assert exc.value.field == "failure_reason"
    v = svc().update_referral(old, "sans_reponse", v)
    v = svc().update_referral(old, "cloturee", v, result="non_aboutie", failure_reason="injoignable",
                              outcome="Trois relances")
    r = {x.id: x for x in svc().get(case_id).referrals}[old]
    assert (r.status, r.result, r.failure_reason, r.closed_on) == ("cloturee", "non_aboutie", "injoignable", TODAY)
    assert r.result_label == "Non aboutie (injoignable)"
    with pytest.raises(ConflictError):
        svc().update_referral(recent, "acceptee", 99)
    with pytest.raises(ValidationError):
        svc().add_referral(case_id, None, TODAY, "x")
    with pytest.raises(ValidationError):
        svc().add_referral(case_id, partner_id, TODAY, "   ")
    assert svc().overdue_referrals() == []
    with db.read_session() as session:
        kinds = set(session.scalars(select(Referral.kind)))
    assert kinds == {"orientation"}


def test_confidential_notes(db, svc, make_case):
    case_id = make_case()
    with pytest.raises(ValidationError) as exc:
        svc().add_confidential_note(case_id, "sante", "Suivi psychiatrique", None, None)
    assert exc.value.field == "consent_on"
    assert count(db, ConfidentialNote) == 0
    svc().add_confidential_note(case_id, "sante", "Suivi psychiatrique au CMP", date(2026, 11, 3), "ecrit_signe")
    d = svc().get(case_id)
    assert d.confidential_notes[0].text == "Suivi psychiatrique au CMP"
    dumped = json.dumps(d.to_public_dict(), ensure_ascii=False, default=str)
    assert "psychiatrique" not in dumped and "CMP" not in dumped
    raw_audit = json.dumps(events(db, case_id), ensure_ascii=False)
    assert "psychiatrique" not in raw_audit and "sante" not in raw_audit
    assert "confidentiel" in raw_audit


def test_repayment_plan(db, svc, make_case):
    case_id = make_case()
    plan_id = svc().add_repayment_plan(case_id, date(2026, 10, 1), 5000, 24, "Accord signé")
    plan = svc().get(case_id).plans[0]
    assert plan.monthly_cents == 5000 and plan.status_label == "En cours"
    svc().update_repayment_plan(plan_id, "non_respecte", plan.version)
    assert svc().get(case_id).plans[0].status == "non_respecte"
    with pytest.raises(ConflictError):
        svc().update_repayment_plan(plan_id, "solde", plan.version)
    with pytest.raises(ValidationError):
        svc().update_repayment_plan(plan_id, "annule", plan.version + 1)
    with pytest.raises(AccessDeniedError):
        svc("adviser_forbach").update_repayment_plan(plan_id, "solde", plan.version + 1)
    assert events(db, case_id, "update")[-1][2] == {"status": ["en_cours", "non_respecte"]}
    with pytest.raises(ValidationError):
        svc().add_repayment_plan(case_id, date(2026, 10, 1), -5, 24)
    with pytest.raises(ValidationError):
        svc().add_repayment_plan(case_id, date(2026, 10, 1), 5000, 0)


def test_list_filters_sort_and_paging(db, svc, make_case, actors):
    a = make_case(last_name="ZOLA", first_name="Émile", arrears_cents=50_000, problems=("isolement",))
    b = make_case(last_name="ARNAUD", first_name="Léa", arrears_cents=10_000)
    c = make_case(who="social_head", last_name="BERNARD", first_name="Luc", agency="forbach", commune="Forbach")
    svc().change_status(b, "a_presenter", svc().get(b).version)
    head = svc("social_head")
    assert [r.id for r in head.list_cases(sort="holder_name")] == [b, c, a]
    assert [r.id for r in head.list_cases(sort="holder_name", descending=True)] == [a, c, b]
    assert [r.id for r in head.list_cases(sort="arrears_cents", descending=True)][:2] == [a, b]
    assert [r.id for r in head.list_cases(CaseFilter(agency_id=agency_id(db, "forbach")))] == [c]
    assert [r.id for r in head.list_cases(CaseFilter(to_present=True))] == [b]
    assert [r.id for r in head.list_cases(CaseFilter(status="ouvert"))] == [a, c]
    assert [r.id for r in head.list_cases(CaseFilter(problem="isolement"))] == [a]
    assert [r.id for r in head.list_cases(CaseFilter(adviser_id=actors["adviser_metz"].user_id))] == [a, b]
    assert [r.id for r in head.list_cases(offset=1, limit=1)] == [b]
    assert head.count_cases() == 3 and head.count_cases(CaseFilter(search="lea")) == 1
    # Search: accents folded, case-insensitive, on reference, contract and name.
    assert [r.id for r in head.list_cases(CaseFilter(search="emile"))] == [a]
    assert [r.id for r in head.list_cases(CaseFilter(search="ÉMILE zola"))] == [a]
    assert [r.id for r in head.list_cases(CaseFilter(search="CAS-2026-0002"))] == [b]
    assert [r.id for r in head.list_cases(CaseFilter(search="000003"))] == [c]
    assert [r.id for r in head.list_cases(CaseFilter(search="ZO"))] == [a]  # short: LIKE fallback
    assert [r.id for r in head.list_cases(CaseFilter(search="lé"))] == [a, b]  # émiLE, LÉa
    assert head.list_cases(CaseFilter(search='"); DROP TABLE cases; --')) == []
    assert head.list_cases(CaseFilter(search="zola OR bernard")) == []  # no FTS operators
    assert [r.id for r in head.list_cases(CaseFilter(search="%"))] == []
    row = head.list_cases(CaseFilter(search="zola"))[0]
    assert (row.reference, row.contract_number, row.commune, row.agency_name, row.status_label) == (
        "CAS-2026-0001", "MZ-000001", "Metz", "Metz", "Ouvert")
    with pytest.raises(ValidationError):
        head.list_cases(sort="1; DROP")


@pytest.mark.sqlite_only(reason="SQLite batch migrations drop the FTS5 triggers; on PostgreSQL "
                                "tables are altered in place (tests/store/test_search_folding.py: the triggers keep a rename written in SQL)")
def test_search_index_repaired_on_open(db, db_path, make_case, svc):
    """A later migration rebuilding a table drops its triggers: opening the
    database reinstalls them and rebuilds the index."""
    case_id = make_case(last_name="KOWALSKI")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER case_search_tenants_au")
        conn.exec_driver_sql("DELETE FROM case_search")
    reopened = open_database(db.url)
    try:
        service = CaseService(reopened, svc().actor)
        assert [r.id for r in service.list_cases(CaseFilter(search="kowal"))] == [case_id]
        with reopened.engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}
        assert "case_search_tenants_au" in names
    finally:
        reopened.dispose()


def test_find_by_reference(db, svc, make_case):
    case_id = make_case()
    assert svc().find_by_reference("cas-2026-0001") == case_id
    with pytest.raises(NotFoundError, match="CAS-2026-0042"):
        svc().find_by_reference("CAS-9999-0001")
    with pytest.raises(AccessDeniedError):
        svc("adviser_forbach").find_by_reference("CAS-2026-0001")


# --- the Paris calendar day, read from the one clock ---------------------------------


def test_a_case_opened_at_2330_utc_on_new_years_eve_belongs_to_the_new_year(svc, make_case, clock):
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 January 2027 in Paris
    d = svc().get(make_case())
    assert d.reference.startswith("CAS-2027-")
    assert d.opened_on == date(2027, 1, 1)


def test_referral_overdue_counts_paris_days_at_2330_utc(svc, make_case, partner_id, clock):
    # 23:30 UTC on 14 January is already 15 January in Paris: a referral sent
    # on 15 December is then 31 days old, overdue (after 30); on the UTC day
    # it would be 30 days old and not overdue yet.
    case_id = make_case()
    clock.set(datetime(2027, 1, 14, 23, 30, tzinfo=UTC))
    svc().add_referral(case_id, partner_id, date(2026, 12, 15), "Demande FSL")
    svc().add_referral(case_id, partner_id, date(2026, 12, 16), "Demande CAF")
    overdue = svc().overdue_referrals()
    assert [(o.sent_on, o.days) for o in overdue] == [(date(2026, 12, 15), 31)]
