"""The seniors list, premier impayé, observations and signalements, through
a real SQLite database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import AccessDeniedError, ConflictError, ValidationError, WorkflowError
from cus_desk.domain.settings import FIRST_ARREARS_LEASE_YEARS, SENIOR_AGE
from cus_desk.services.seniors import SeniorsService
from cus_desk.services.settings import SettingsService
from cus_desk.store.models.core import Agency, AuditEvent, Lease, Partner, Referral

from .conftest import EXTRACT_DATE, ROWS, write_csv

SEPT = date(2026, 9, 30)


def add_partner(db, name, category, commune=None, active=True):
    with db.write_session() as s:
        p = Partner(name=name, category=category, commune=commune, active=active, version=1)
        s.add(p)
        s.flush()
        return p.id


def lease_id(db, contract):
    with db.read_session() as s:
        return s.scalar(select(Lease.id).where(Lease.contract_number == contract))


@pytest.fixture
def imported(db, recovery, extract_csv):
    recovery.import_arrears(extract_csv, EXTRACT_DATE)
    return recovery


def test_list_after_one_extract(imported):
    listing = imported.list_seniors()
    assert listing.extract_date == EXTRACT_DATE
    by_contract = {r.contract: r for r in listing.rows}
    # 57-000003 turns 65 the day after the extract; 05 is in credit; 06 has zero months.
    assert set(by_contract) == {"57-000001", "57-000002", "57-000004", "54-000007"}
    assert by_contract["57-000002"].age == 65  # 65th birthday on the extract date
    assert by_contract["57-000004"].age == 76  # the co-tenant counts
    row = by_contract["57-000001"]
    assert (row.last_name, row.balance_cents, row.months_unpaid, row.agency) == ("MULLER", 123456, 3, "Metz")
    assert row.status == "a_surveiller" and row.status_label == "À surveiller"
    # No earlier extract: the file's months unpaid tell (#13): 3 months is not a first arrears.
    assert not row.first_arrears and row.first_arrears_reason == "3 mois d'impayés selon l'extrait"
    assert by_contract["57-000002"].first_arrears and not by_contract["57-000002"].history_unknown
    assert not by_contract["54-000007"].first_arrears  # lease of 2024: too recent
    assert listing.count_by_agency == {"Metz": 2, "Forbach": 1, "DT 54": 1}
    assert listing.count_by_status == {"a_surveiller": 4}
    assert listing.first_arrears_count == 2


def test_first_arrears_across_two_extracts(db, imported, tmp_path):
    sept = [list(r) for r in ROWS]
    sept[1][9] = "-20,00"  # 57-000002 was in credit in September
    imported.import_arrears(write_csv(tmp_path / "sept.csv", rows=sept), SEPT)
    listing = imported.list_seniors()
    first = {r.contract for r in listing.rows if r.first_arrears}
    assert first == {"57-000002"}  # 01 and 04 were already in arrears in September
    # September, the earliest extract: 01 has 3 months unpaid, 04 one.
    assert {r.contract for r in imported.list_seniors(as_of=SEPT).rows if r.first_arrears} == {"57-000004"}
    detail = imported.detail(lease_id(db, "57-000002"))
    assert detail.first_arrears
    assert detail.history == [(SEPT, -2000), (EXTRACT_DATE, 25000)]


def test_settings_change_the_rule(db, actors, imported):
    settings = SettingsService(db, actors["admin"])
    settings.set(SENIOR_AGE, 77)
    assert {r.contract for r in imported.list_seniors().rows} == {"57-000001"}
    settings.set(SENIOR_AGE, 65)
    settings.set(FIRST_ARREARS_LEASE_YEARS, 20)
    # 01's lease is old enough but it has 3 months unpaid; 04's lease (2015) is too recent.
    assert {r.contract for r in imported.list_seniors().rows if r.first_arrears} == {"57-000002"}


def test_filters(db, imported):
    with db.read_session() as s:
        metz = s.scalar(select(Agency.id).where(Agency.code == "metz"))
    assert {r.contract for r in imported.list_seniors(agency_id=metz).rows} == {"57-000001", "57-000002"}
    assert {r.contract for r in imported.list_seniors(age_band="75-84").rows} == {"57-000001", "57-000004", "54-000007"}
    assert {r.contract for r in imported.list_seniors(age_band="-74").rows} == {"57-000002"}
    assert imported.list_seniors(age_band="85+").rows == []
    assert {r.contract for r in imported.list_seniors(first_arrears_only=True).rows} == {
        "57-000002", "57-000004"}
    assert imported.list_seniors(status="signale").rows == []
    # counts stay those of the whole list
    assert imported.list_seniors(status="signale").total == 4


def test_as_of_before_any_extract_gives_an_empty_list(imported):
    listing = imported.list_seniors(as_of=date(2020, 1, 1))
    assert listing.rows == [] and listing.extract_date is None


def test_observation_then_signalement_workflow(db, actors, imported):
    lid = lease_id(db, "57-000001")
    add_partner(db, "CLIC du Pays Haut", "clic", "Thionville")
    clic = add_partner(db, "CLIC de Metz", "clic", "Metz")
    add_partner(db, "CAF de la Moselle", "caf", "Metz")
    obs = imported.add_observation(lid, "ne_repond_plus", date(2026, 11, 2), "Romain (gardien)",
                                   "Ne répond plus aux appels ni aux courriers depuis septembre.")
    assert obs.kind_label == "Ne répond plus aux sollicitations"
    assert {r.contract: r.status for r in imported.list_seniors().rows}["57-000001"] == "a_signaler"

    choices = imported.partner_choices(lid, "clic")
    assert [c.name for c in choices] == ["CLIC de Metz", "CLIC du Pays Haut"]  # the commune's first
    assert choices[0].proposed and not choices[1].proposed

    sent = imported.send_signalement(lid, clic, date(2026, 11, 3), "Premier impayé, ne répond plus.", tenant_informed=True)
    assert sent.status == "envoye" and sent.partner_kind_label == "CLIC"
    assert [e.status for e in sent.events] == ["envoye"]
    assert {r.contract: r.status for r in imported.list_seniors().rows}["57-000001"] == "signale"
    with db.read_session() as s:
        ref = s.get(Referral, sent.id)
        assert (ref.kind, ref.lease_id, ref.status) == ("senior_alert", lid, "envoye")

    ack = imported.set_signalement_status(sent.id, "accuse_reception", date(2026, 11, 5), sent.version)
    taken = imported.set_signalement_status(ack.id, "pris_en_charge", date(2026, 11, 10), ack.version)
    assert {r.contract: r.status for r in imported.list_seniors().rows}["57-000001"] == "pris_en_charge"
    with pytest.raises(ConflictError):
        imported.set_signalement_status(sent.id, "clos", date(2026, 11, 12), sent.version)
    with pytest.raises(WorkflowError, match="ne peut pas passer"):
        imported.set_signalement_status(taken.id, "envoye", date(2026, 11, 12), taken.version)
    with pytest.raises(ValidationError, match="antérieure"):
        imported.set_signalement_status(taken.id, "clos", date(2026, 10, 1), taken.version)
    closed = imported.set_signalement_status(taken.id, "clos", date(2026, 11, 20), taken.version,
                                             note="Suivi par le CCAS, plan d'aide mis en place.")
    assert [(e.status, e.on_date) for e in closed.events] == [
        ("envoye", date(2026, 11, 3)), ("accuse_reception", date(2026, 11, 5)),
        ("pris_en_charge", date(2026, 11, 10)), ("clos", date(2026, 11, 20))]
    assert closed.next_statuses == []
    with db.read_session() as s:
        assert s.get(Referral, sent.id).result == "aboutie"  # taken in charge, then closed
    assert {r.contract: r.status for r in imported.list_seniors().rows}["57-000001"] == "clos"
    with db.read_session() as s:
        kinds = s.execute(select(AuditEvent.action, AuditEvent.entity_type)).all()
    assert ("create", "field_observation") in kinds and ("create", "senior_alert") in kinds
    assert kinds.count(("update", "senior_alert")) == 3


def test_closing_without_taking_charge_is_not_a_success(db, imported):
    lid = lease_id(db, "57-000001")
    ccas = add_partner(db, "CCAS de Metz", "ccas", "Metz")
    imported.add_observation(lid, "autre", date(2026, 11, 1), "Agent", "Boîte aux lettres pleine.")
    sent = imported.send_signalement(lid, ccas, date(2026, 11, 2), "", tenant_informed=True)
    ack = imported.set_signalement_status(sent.id, "accuse_reception", date(2026, 11, 3), sent.version)
    imported.set_signalement_status(ack.id, "clos", date(2026, 11, 20), ack.version, note="Refus de la personne.")
    with db.read_session() as s:
        ref = s.get(Referral, sent.id)
        assert (ref.status, ref.result, ref.closed_on) == ("clos", "non_aboutie", date(2026, 11, 20))
        assert ref.outcome == "Refus de la personne."


def test_signalement_refusals(db, imported):
    lid = lease_id(db, "57-000001")
    ccas = add_partner(db, "CCAS de Metz", "ccas", "Metz")
    caf = add_partner(db, "CAF de la Moselle", "caf", "Metz")
    old = add_partner(db, "Ancien CLIC", "clic", "Metz", active=False)
    with pytest.raises(WorkflowError, match="observation"):
        imported.send_signalement(lid, ccas, date(2026, 11, 3), "", tenant_informed=True)
    imported.add_observation(lid, "changement_attitude", date(2026, 11, 2), "Agent", "Agressif au guichet.")
    with pytest.raises(ValidationError, match="quatre partenaires"):
        imported.send_signalement(lid, caf, date(2026, 11, 3), "", tenant_informed=True)
    with pytest.raises(ValidationError, match="active"):
        imported.send_signalement(lid, old, date(2026, 11, 3), "", tenant_informed=True)
    with pytest.raises(ValidationError, match="futur"):
        imported.send_signalement(lid, ccas, db.clock.today() + timedelta(days=1), "", tenant_informed=True)
    imported.send_signalement(lid, ccas, date(2026, 11, 3), "", tenant_informed=True)
    with pytest.raises(WorkflowError, match="déjà en cours"):
        imported.send_signalement(lid, ccas, date(2026, 11, 4), "", tenant_informed=True)
    with pytest.raises(ValidationError):
        imported.partner_choices(lid, "caf")


@pytest.mark.parametrize(
    "kind, observed, observer, note, field",
    [
        ("inconnu", date(2026, 11, 1), "X", "Y", "kind"),
        ("autre", date(2999, 1, 1), "X", "Y", "observed_on"),
        ("autre", date(2026, 11, 1), "  ", "Y", "observer"),
        ("autre", date(2026, 11, 1), "X", "  ", "note"),
        ("autre", date(2026, 11, 1), "X" * 121, "Y", "observer"),
    ],
)
def test_bad_observations_are_refused_and_nothing_stored(db, imported, kind, observed, observer, note, field):
    lid = lease_id(db, "57-000001")
    with pytest.raises(ValidationError) as info:
        imported.add_observation(lid, kind, observed, observer, note)
    assert info.value.field == field
    assert imported.detail(lid).observations == []


def test_open_signalement_keeps_a_tenant_without_arrears_on_the_list(db, imported, tmp_path):
    lid1, lid2 = lease_id(db, "57-000001"), lease_id(db, "57-000002")
    ccas = add_partner(db, "CCAS de Metz", "ccas", "Metz")
    imported.add_observation(lid1, "autre", date(2026, 11, 2), "Agent", "Logement très encombré.")
    imported.send_signalement(lid1, ccas, date(2026, 11, 3), "", tenant_informed=True)
    later = [list(r) for r in ROWS]
    later[0][9] = "0,00"
    later[0][10] = "0"
    later[1][9] = "-12,00"
    imported.import_arrears(write_csv(tmp_path / "nov.csv", rows=later), date(2026, 11, 19))
    rows = {r.contract: r for r in imported.list_seniors().rows}
    assert "57-000002" not in rows  # no more arrears, no signalement: leaves the list
    assert rows["57-000001"].status == "signale" and rows["57-000001"].balance_cents == 0
    assert imported.detail(lid2).status is None


def test_reminder_when_no_answer(db, imported):
    lid = lease_id(db, "57-000001")
    ccas = add_partner(db, "CCAS de Metz", "ccas", "Metz")
    imported.add_observation(lid, "autre", date(2026, 10, 2), "Agent", "Courrier non retiré.")
    sent = imported.send_signalement(lid, ccas, date(2026, 10, 3), "", tenant_informed=True)
    db.clock.set(datetime(2026, 10, 17, 12, tzinfo=UTC))
    assert imported.reminders() == []
    db.clock.set(datetime(2026, 10, 18, 12, tzinfo=UTC))
    due = imported.reminders()
    assert [v.id for v in due] == [sent.id] and due[0].reminder_due == date(2026, 10, 18)
    db.clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    row = {r.contract: r for r in imported.list_seniors().rows}["57-000001"]
    assert row.reminder_due == date(2026, 10, 18)
    imported.set_signalement_status(sent.id, "accuse_reception", date(2026, 10, 19), sent.version)
    db.clock.set(datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert imported.reminders() == []


def test_access_rules(db, actors, imported):
    lid = lease_id(db, "57-000001")
    with pytest.raises(AccessDeniedError):
        SeniorsService(db, actors["admin"]).list_seniors()
    with pytest.raises(AccessDeniedError):
        SeniorsService(db, actors["cas_member"]).list_seniors()
    with pytest.raises(AccessDeniedError):
        SeniorsService(db, actors["cas_member"]).add_observation(lid, "autre", date(2026, 11, 1), "X", "Y")
    adviser = SeniorsService(db, actors["adviser_metz"])
    # An agency's adviser and recovery staff see that agency's tenants only
    # (the list holds Metz, Forbach and DT 54 tenants); the pôle social all.
    assert {r.contract for r in adviser.list_seniors().rows} == {"57-000001", "57-000002"}
    assert adviser.list_seniors().count_by_agency == {"Metz": 2}
    assert {r.contract for r in SeniorsService(db, actors["recovery_metz"]).list_seniors().rows} == {
        "57-000001", "57-000002"}
    assert len(SeniorsService(db, actors["social_head"]).list_seniors().rows) == 4
    adviser.add_observation(lid, "autre", date(2026, 11, 1), "Camille", "Visite à domicile : porte close.")


def test_balance_history_is_oldest_first(db, imported, tmp_path):
    imported.import_arrears(write_csv(tmp_path / "sept.csv"), SEPT)
    imported.import_arrears(write_csv(tmp_path / "aout.csv"), date(2026, 8, 31))
    from cus_desk.services.seniors import lease_balance_history

    with db.read_session() as s:
        hist = lease_balance_history(s, lease_id(db, "57-000001"))
        assert [d for d, _ in hist] == [date(2026, 8, 31), SEPT, EXTRACT_DATE]
        assert lease_balance_history(s, 999999) == []


def test_an_extract_of_the_paris_day_is_accepted_at_2330_utc(db, recovery, tmp_path):
    # 23:30 UTC on 30 November is 00:30 on 1 December in Paris: an extract
    # dated 1 December is today's, not "in the future"; one of the 2nd is.
    db.clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    path = write_csv(tmp_path / "impayes.csv")
    with pytest.raises(ValidationError, match="dans le futur"):
        recovery.import_arrears(path, date(2026, 12, 2))
    assert recovery.import_arrears(path, date(2026, 12, 1)).imported > 0


# --------------------------------------------------- follow-up (#13)

@pytest.fixture
def signalement(db, imported):
    lid = lease_id(db, "57-000001")
    ccas = add_partner(db, "CCAS de Metz", "ccas", "Metz")
    imported.add_observation(lid, "ne_repond_plus", date(2026, 10, 2), "Agent", "Ne répond plus.")
    return lid, imported.send_signalement(lid, ccas, date(2026, 10, 3), "", tenant_informed=True)


def test_relance_is_recorded_and_moves_the_reminder(db, imported, signalement):
    lid, sent = signalement
    assert sent.reminder_due is not None  # sent 3 October, no answer on 20 November
    assert {r.contract: r.reminder_due for r in imported.list_seniors().rows}["57-000001"] is not None
    with pytest.raises(ValidationError, match="moyen de la relance"):
        imported.add_relance(sent.id, date(2026, 11, 15), "pigeon", "", sent.version)
    with pytest.raises(ValidationError, match="antérieure à l'envoi"):
        imported.add_relance(sent.id, date(2026, 10, 1), "telephone", "", sent.version)
    after = imported.add_relance(sent.id, date(2026, 11, 15), "telephone", "Laissé un message à l'accueil.",
                                 sent.version)
    assert after.version == sent.version + 1 and after.status == "envoye"
    relance = after.events[-1]
    assert (relance.kind, relance.means, relance.on_date, relance.note) == (
        "relance", "telephone", date(2026, 11, 15), "Laissé un message à l'accueil.")
    assert after.reminder_due is None  # counted again from the relance
    assert {r.contract: r.reminder_due for r in imported.list_seniors().rows}["57-000001"] is None
    with pytest.raises(ConflictError):
        imported.add_relance(sent.id, date(2026, 11, 16), "courriel", "", sent.version)  # stale version
    commented = imported.add_follow_up_comment(sent.id, date(2026, 11, 16), "Le CCAS rappellera lundi.",
                                               after.version)
    assert commented.events[-1].kind == "commentaire"
    assert [e.kind for e in imported.detail(lid).signalements[0].events] == ["statut", "relance", "commentaire"]
    with db.read_session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.entity_type == "senior_alert")) == 3


def test_cancel_a_signalement_with_a_reason(db, imported, signalement):
    lid, sent = signalement
    with pytest.raises(ValidationError, match="pourquoi ce signalement est annulé"):
        imported.cancel_signalement(sent.id, "", sent.version)
    cancelled = imported.cancel_signalement(sent.id, "Envoyé au mauvais CCAS.", sent.version)
    assert cancelled.status == "annule" and cancelled.status_label == "Annulé" and cancelled.next_statuses == []
    assert cancelled.events[-1].kind == "annulation" and cancelled.events[-1].note == "Envoyé au mauvais CCAS."
    # as if never sent: the tenant is back to "à signaler", and a new signalement may go
    assert {r.contract: r.status for r in imported.list_seniors().rows}["57-000001"] == "a_signaler"
    with pytest.raises(WorkflowError, match="ne peut plus être annulé"):
        imported.cancel_signalement(sent.id, "Encore.", cancelled.version)
    with pytest.raises(WorkflowError, match="plus lieu de relancer"):
        imported.add_relance(sent.id, date(2026, 11, 18), "telephone", "", cancelled.version)
    ccas2 = add_partner(db, "CCAS de Woippy", "ccas", "Woippy")
    again = imported.send_signalement(lid, ccas2, date(2026, 11, 18), "", tenant_informed=False)
    assert again.status == "envoye"


def test_correct_an_observation_keeps_the_first_version(db, imported):
    lid = lease_id(db, "57-000001")
    first = imported.add_observation(lid, "autre", date(2026, 11, 2), "Agent", "Boite pleine.")
    with pytest.raises(ValidationError, match="ce qui est corrigé"):
        imported.correct_observation(first.id, "autre", date(2026, 11, 2), "Agent", "Boîte aux lettres pleine.", "")
    fixed = imported.correct_observation(first.id, "ne_repond_plus", date(2026, 11, 3), "Romain (gardien)",
                                         "Boîte aux lettres pleine depuis une semaine.", "Date et type erronés")
    assert fixed.correction_reason == "Date et type erronés"
    shown = imported.detail(lid).observations
    assert [(o.id, o.kind, o.observed_on) for o in shown] == [(fixed.id, "ne_repond_plus", date(2026, 11, 3))]
    with pytest.raises(ConflictError, match="déjà été corrigée"):
        imported.correct_observation(first.id, "autre", date(2026, 11, 2), "Agent", "x", "encore")
    with db.read_session() as s:
        from cus_desk.store.models.seniors import FieldObservation

        assert s.get(FieldObservation, first.id).note == "Boite pleine."  # the first version stays
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "field_observation",
                                                   AuditEvent.action == "update")).one()
        # The audit says the note changed, never what it says (#11).
        assert "Boite pleine." not in event.details_json and "modifié" in event.details_json
        assert "Date et type erronés" in event.details_json
