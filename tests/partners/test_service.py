"""PartnerService through a real SQLite file: access rules, validation
(nothing half written), optimistic locking, audit, deactivate / delete /
merge keep history, pickers, per-agency view."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from cus_desk.domain.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    ValidationError,
    WorkflowError,
)
from cus_desk.domain.settings import CONVENTION_EXPIRY_DAYS
from cus_desk.services.partners import (
    ContactInput,
    ConventionInput,
    FlatInput,
    PartnerInput,
)
from cus_desk.services.settings import SettingsService
from cus_desk.store.models.core import AuditEvent, Partner, Referral
from cus_desk.store.models.partners import Convention, PartnerContact, SubletCount, SubletFlat
from tests.partners.conftest import add_referrals, agency_ids, partner_id


def _events(db, entity_type=None, action=None):
    with db.read_session() as session:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if entity_type:
            stmt = stmt.where(AuditEvent.entity_type == entity_type)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return [(e.action, e.entity_type, e.entity_id, json.loads(e.details_json), e.user_login)
                for e in session.scalars(stmt)]


def _count(db, model):
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _new(svc, db, name="CCAS de Metz", **kw):
    ag = agency_ids(db)
    data = PartnerInput(name=name, category=kw.pop("category", "ccas"),
                        agency_ids=kw.pop("agency_ids", [ag["metz"]]), **kw)
    return svc.create(data)


# --- create / edit ------------------------------------------------------------


def test_create_edit_and_audit(svc, db):
    d = _new(svc, db, short_name="CCAS", phone="0387000000", email="accueil@ccas.example.fr",
             commune="Metz", communes=["Metz", "Montigny-lès-Metz", "metz"])
    assert d.phone == "03 87 00 00 00"
    assert d.communes == ("Metz", "Montigny-lès-Metz")
    assert d.agencies == ("Metz",) and d.active and d.version == 1
    updated = svc.update(d.id, PartnerInput(name="CCAS de Metz", category="ccas",
                                            phone="03 87 00 00 01", agency_ids=list(d.agency_ids),
                                            communes=["Metz"]), d.version)
    assert updated.phone == "03 87 00 00 01" and updated.communes == ("Metz",)
    assert updated.version == 2
    events = _events(db, "partner")
    assert events[0][0] == "create" and events[0][4] == "cs.metz"
    assert events[1][0] == "update"
    assert events[1][3]["phone"] == ["03 87 00 00 00", "03 87 00 00 01"]
    assert events[1][3]["communes"] == [["Metz", "Montigny-lès-Metz"], ["Metz"]]


@pytest.mark.parametrize("kw, field", [
    ({"name": "   "}, "name"),
    ({"category": ""}, "category"),
    ({"category": "banque"}, "category"),
    ({"phone": "03 87 12"}, "phone"),
    ({"email": "accueil@ccas"}, "email"),
    ({"name": "x" * 201}, "name"),
])
def test_bad_input_stores_nothing(svc, db, kw, field):
    before = (_count(db, Partner), _count(db, AuditEvent))
    data = {"name": "Nouvelle structure", "category": "insertion", **kw}
    with pytest.raises(ValidationError) as info:
        svc.create(PartnerInput(**data))
    assert info.value.field == field
    assert info.value.message  # a French sentence
    assert (_count(db, Partner), _count(db, AuditEvent)) == before


def test_bad_update_leaves_the_record_untouched(svc, db):
    d = _new(svc, db, phone="03 87 00 00 00")
    with pytest.raises(ValidationError):
        svc.update(d.id, PartnerInput(name="CCAS de Metz", category="ccas", phone="12 34"),
                   d.version)
    again = svc.get(d.id)
    assert again.phone == "03 87 00 00 00" and again.version == d.version


def test_duplicate_name_refused(svc, db):
    with pytest.raises(ValidationError) as info:
        svc.create(PartnerInput(name="aiem", category="hebergement"))
    assert "existe" in info.value.message or "déjà" in info.value.message


def test_unknown_agency_refused_atomically(svc, db):
    before = _count(db, Partner)
    with pytest.raises(ValidationError):
        svc.create(PartnerInput(name="Structure X", category="autre", agency_ids=[9999]))
    assert _count(db, Partner) == before


def test_stale_version_is_a_conflict(svc, service_for, db):
    d = _new(svc, db)
    other = service_for("social_head")
    other.update(d.id, PartnerInput(name="CCAS de Metz", category="ccas", notes="vu"), d.version)
    with pytest.raises(ConflictError):
        svc.update(d.id, PartnerInput(name="CCAS Metz (renommé)", category="ccas"), d.version)
    with pytest.raises(ConflictError):
        svc.add_contact(d.id, ContactInput(name="Mme Exemple"), d.version)
    assert svc.get(d.id).name == "CCAS de Metz"
    assert svc.get(d.id).contacts == ()


def test_access_rules(service_for, db):
    cas = service_for("cas_member")
    recovery = service_for("recovery_metz")
    assert cas.list_partners()  # read allowed
    assert recovery.pickable(["ccas", "cms", "clic", "pole_gerontologique"]) is not None
    with pytest.raises(AccessDeniedError):
        cas.create(PartnerInput(name="Structure X", category="autre"))
    pid = partner_id(db, "udaf")
    version = cas.get(pid).version
    with pytest.raises(AccessDeniedError):
        recovery.set_active(pid, False, version)
    with pytest.raises(AccessDeniedError):
        recovery.add_contact(pid, ContactInput(name="X"), version)


def test_missing_partner(svc):
    with pytest.raises(NotFoundError):
        svc.get(987654)


# --- contacts, conventions, flats ------------------------------------------------


def test_contacts_validated_and_versioned(svc, db):
    d = _new(svc, db)
    d = svc.add_contact(d.id, ContactInput(name="Mme Alice Exemple", function="Directrice",
                                           phone="+33 3 87 00 00 02",
                                           email="a.exemple@ccas.example.fr"), d.version)
    assert d.version == 2
    (c,) = d.contacts
    assert c.phone == "03 87 00 00 02"
    with pytest.raises(ValidationError) as info:
        svc.add_contact(d.id, ContactInput(name="M. B", email="pas-une-adresse"), d.version)
    assert info.value.field == "contact_email"
    with pytest.raises(ValidationError) as info:
        svc.add_contact(d.id, ContactInput(name=" ", phone="03 87 00 00 03"), d.version)
    assert info.value.field == "contact_name"
    assert _count(db, PartnerContact) == 1
    d = svc.update_contact(d.id, c.id, ContactInput(name="Mme Alice Exemple", function="Cheffe"),
                           d.version)
    assert d.contacts[0].function == "Cheffe" and d.contacts[0].phone is None
    d = svc.remove_contact(d.id, c.id, d.version)
    assert d.contacts == ()
    kinds = [e[0] for e in _events(db, "partner_contact")]
    assert kinds == ["create", "update", "delete"]


def test_conventions_and_expiry_flag(svc, db, actors):
    d = _new(svc, db)
    d = svc.add_convention(d.id, ConventionInput("partenariat", date(2024, 1, 1), date(2027, 1, 31),
                                                 flat_count="3", document_ref="CONV-2024-01"),
                           d.version)
    d = svc.add_convention(d.id, ConventionInput("sous_location", date(2023, 1, 1), None),
                           d.version)
    d = svc.add_convention(d.id, ConventionInput("reservation", date(2020, 1, 1),
                                                 date(2025, 12, 31)), d.version)
    states = {c.kind: c.state for c in d.conventions}
    assert states == {"partenariat": "echeance_proche", "sous_location": "en_cours",
                      "reservation": "expiree"}
    row = next(r for r in svc.list_partners("ccas de metz"))
    assert (row.current_conventions, row.expiring_conventions) == (2, 1)
    # An expired convention stays in sight, « échue », until renewed (#13)
    from cus_desk.services.dashboard import DashboardService

    expired = [(n, c.kind, c.end_date) for n, c in svc.agency_view(None).expired]
    assert expired == [("CCAS de Metz", "reservation", date(2025, 12, 31))]
    board = DashboardService(db, actors["social_head"]).summary()
    assert ("CCAS de Metz", date(2025, 12, 31)) in board.expired_conventions
    d = svc.add_convention(d.id, ConventionInput("reservation", date(2026, 1, 1), date(2028, 12, 31)),
                           svc.get(d.id).version)  # renewed
    assert [n for n, _c in svc.agency_view(None).expired if n == "CCAS de Metz"] == []
    # The window is the CONVENTION_EXPIRY_DAYS setting.
    SettingsService(db, actors["admin"]).set(CONVENTION_EXPIRY_DAYS, 30)
    again = svc.get(d.id)
    assert {c.kind: c.state for c in again.conventions}["partenariat"] == "en_cours"


@pytest.mark.parametrize("conv, field", [
    (ConventionInput("partenariat", date(2026, 6, 1), date(2026, 5, 1)), "end_date"),
    (ConventionInput("partenariat", None, None), "start_date"),
    (ConventionInput("inconnu", date(2026, 1, 1)), "kind"),
    (ConventionInput("partenariat", date(2026, 1, 1), flat_count=-2), "flat_count"),
    (ConventionInput("partenariat", date(2026, 1, 1), flat_count="trois"), "flat_count"),
])
def test_bad_conventions_refused(svc, db, conv, field):
    d = _new(svc, db)
    with pytest.raises(ValidationError) as info:
        svc.add_convention(d.id, conv, d.version)
    assert info.value.field == field
    assert _count(db, Convention) == 0
    assert svc.get(d.id).version == d.version


def test_flats(svc, db):
    ag = agency_ids(db)
    d = _new(svc, db, name="Association Test", category="hebergement")
    d = svc.add_flat(d.id, FlatInput("Metz", "bail_glissant", ag["metz"], None, date(2025, 3, 1),
                                     True), d.version)
    (f,) = d.flats
    assert f.address is None and f.agency == "Metz"
    with pytest.raises(ValidationError) as info:
        svc.add_flat(d.id, FlatInput("Metz", "sous_location", ag["metz"],
                                     transfer_date=date(2026, 1, 1)), d.version)
    assert info.value.field == "transfer_date"
    d = svc.update_flat(d.id, f.id, FlatInput("Metz", "bail_glissant", ag["metz"], None,
                                              date(2025, 3, 1), True, date(2026, 9, 1)), d.version)
    assert d.flats[0].transfer_date == date(2026, 9, 1)
    assert _count(db, SubletFlat) == 1
    # Once the lease has slid to the household, the flat is no longer let to the structure.
    row = next(r for r in svc.list_partners("association test"))
    assert row.flat_count == 0


# --- deactivate, delete, merge ----------------------------------------------------


def test_deactivated_partner_hidden_from_pickers_but_kept(svc, db):
    d = _new(svc, db, commune="Metz")
    add_referrals(db, d.id, [("senior_alert", "pris_en_charge", None)])
    assert d.id in [r.id for r in svc.pickable(["ccas"], commune="METZ")]
    d = svc.set_active(d.id, False, svc.get(d.id).version)
    assert not d.active
    assert d.id not in [r.id for r in svc.pickable(["ccas"])]
    assert d.id not in [r.id for r in svc.list_partners()]
    assert d.id in [r.id for r in svc.list_partners(include_inactive=True)]
    assert len(svc.get(d.id).referrals) == 1  # history kept
    d = svc.set_active(d.id, True, d.version)
    assert d.active


def test_pickable_filters(svc, db):
    d = _new(svc, db, name="CLIC du Pays Messin", category="clic", communes=["Montigny-lès-Metz"])
    picked = svc.pickable(["clic", "ccas"], commune="montigny les metz")
    assert [r.id for r in picked] == [d.id]
    assert svc.pickable(["clic"], commune="Thionville") == []
    assert all(r.category in ("ccas",) for r in svc.pickable(["ccas"]))


def test_delete_only_for_entries_without_history(svc, db):
    d = _new(svc, db, name="Saisie en double")
    svc.delete(d.id, d.version)
    with pytest.raises(NotFoundError):
        svc.get(d.id)
    assert _events(db, "partner", "delete")[0][3] == {"name": "Saisie en double"}

    d = _new(svc, db, name="Structure orientée")
    add_referrals(db, d.id, [("orientation", "envoyee", None)])
    with pytest.raises(WorkflowError) as info:
        svc.delete(d.id, d.version)
    assert "Désactivez" in info.value.message
    assert svc.get(d.id).name == "Structure orientée"

    seeded = svc.get(partner_id(db, "afast"))
    with pytest.raises(WorkflowError):
        svc.delete(seeded.id, seeded.version)


def test_merge_keeps_all_referrals_and_history(svc, db):
    ag = agency_ids(db)
    keep = _new(svc, db, name="CCAS de Metz", communes=["Metz"])
    dup = _new(svc, db, name="C.C.A.S. Metz", agency_ids=[ag["woippy"]],
               communes=["metz", "Woippy"], phone="03 87 00 00 09", notes="doublon saisi en 2025")
    keep_refs = add_referrals(db, keep.id, [("orientation", "acceptee", None)])
    dup_refs = add_referrals(db, dup.id, [("senior_alert", "pris_en_charge", None),
                                          ("orientation", "refusee", None)])
    dup = svc.add_contact(dup.id, ContactInput(name="M. Contact"), svc.get(dup.id).version)
    dup = svc.add_convention(dup.id, ConventionInput("partenariat", date(2025, 1, 1)), dup.version)
    dup = svc.add_flat(dup.id, FlatInput("Woippy", "sous_location", ag["woippy"]), dup.version)
    keep = svc.get(keep.id)

    merged = svc.merge(keep.id, dup.id, keep.version, dup.version)

    assert {r.id for r in merged.referrals} == set(keep_refs) | set(dup_refs)
    assert merged.stats.sent == 3 and merged.stats.positive == 2
    assert [c.name for c in merged.contacts] == ["M. Contact"]
    assert len(merged.conventions) == 1 and len(merged.flats) == 1
    assert set(merged.agencies) == {"Metz", "Woippy"}
    assert merged.communes == ("Metz", "Woippy")
    assert merged.phone == "03 87 00 00 09"  # filled from the duplicate where empty
    assert "doublon saisi en 2025" in merged.notes
    assert merged.absorbed == ("C.C.A.S. Metz",)
    gone = svc.get(dup.id)
    assert not gone.active and gone.merged_into_id == keep.id
    assert gone.merged_into_name == "CCAS de Metz"
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Referral)
                              .where(Referral.partner_id == dup.id)) == 0
    assert dup.id not in [r.id for r in svc.pickable()]
    merge_events = [e for e in _events(db, "partner") if "merge" in e[3] or "merged_into" in e[3]]
    assert len(merge_events) == 2
    # The absorbed entry can no longer be edited nor reactivated.
    with pytest.raises(WorkflowError):
        svc.update(dup.id, PartnerInput(name="X", category="ccas"), gone.version)
    with pytest.raises(WorkflowError):
        svc.set_active(dup.id, True, gone.version)


def test_merge_is_all_or_nothing(svc, db):
    keep = _new(svc, db, name="Structure A")
    dup = _new(svc, db, name="Structure B")
    add_referrals(db, dup.id, [("orientation", "envoyee", None)])
    with pytest.raises(ConflictError):
        svc.merge(keep.id, dup.id, keep.version, dup.version + 5)
    assert svc.get(dup.id).active and len(svc.get(dup.id).referrals) == 1
    with pytest.raises(ValidationError):
        svc.merge(keep.id, keep.id, keep.version, keep.version)


def test_merging_seeded_entries_moves_their_cus_figures(svc, db):
    a = svc.get(partner_id(db, "france_horizon"))
    b = svc.get(partner_id(db, "france_horizon_cada"))
    merged = svc.merge(a.id, b.id, a.version, b.version)
    structures = [c for c in merged.counts if c.table_code == "logiest_2020_structures"]
    assert sum(c.flat_count for c in structures) == 4
    with db.read_session() as session:  # the totals of the CUS are unchanged
        assert session.scalar(select(func.sum(SubletCount.flat_count)).where(
            SubletCount.table_code == "logiest_2020_structures")) == 217


# --- referrals and success rate ---------------------------------------------------


def test_referrals_sent_to_a_partner_and_success_rate(svc, db):
    pid = partner_id(db, "udaf")
    add_referrals(db, pid, [("orientation", "acceptee", None), ("orientation", "refusee", None),
                            ("orientation", "cloturee", "aboutie"),
                            ("senior_alert", "envoye", None)])
    d = svc.get(pid)
    assert d.stats.sent == 4 and d.stats.positive == 2 and d.stats.pending == 1
    assert {r.kind_label for r in d.referrals} == {"Orientation", "Signalement senior"}
    assert all("confidentiel" not in repr(r) for r in d.referrals)  # reasons are not shown
    row = next(r for r in svc.list_partners(agency_id=agency_ids(db)["forbach"]) if r.id == pid)
    assert (row.referrals_sent, row.referrals_positive) == (4, 2)


# --- list and search ---------------------------------------------------------------


def test_search_and_filters(svc, db):
    ag = agency_ids(db)
    d = _new(svc, db, name="Centre social Exemple", category="insertion", communes=["Hayange"])
    svc.add_contact(d.id, ContactInput(name="Jérôme Témoin"), d.version)
    assert [r.id for r in svc.list_partners("jerome")] == [d.id]
    assert [r.id for r in svc.list_partners("HAYANGE")] == [d.id]
    assert {r.seed_key for r in svc.list_partners("ecole vie")} == {"ohs_eva"}
    assert {r.seed_key for r in svc.list_partners("armee", agency_id=ag["thionville"])} == {
        "armee_du_salut"}
    assert all(r.category == "refugies" for r in svc.list_partners(category="refugies"))
    with_flats = svc.list_partners(with_flats=True)
    assert {r.seed_key for r in with_flats} >= {"aiem", "udaf", "ars", "adali"}
    assert all(r.flat_count > 0 or r.cus_flat_count > 0 for r in with_flats)
    assert svc.list_partners(with_current_convention=True) == []
    aiem = next(r for r in with_flats if r.seed_key == "aiem")
    # the CUS 2020 count is the CUS's figure, shown apart from the flats recorded now (#13)
    assert (aiem.flat_count, aiem.cus_flat_count) == (0, 59)


# --- per-agency view ----------------------------------------------------------------


def test_agency_view_dt54(svc, db):
    view = svc.agency_view(agency_ids(db)["dt54"])
    assert view.agency_label == "Délégation territoriale 54"
    cats = dict(view.partners_by_category)
    assert {r.seed_key for r in cats["Santé mentale"]} == {"copsil", "rapp"}
    tables = {t.title: t for t in view.tables}
    no_transfer = next(t for t in view.tables if "sans possibilité" in t.title)
    assert no_transfer.total == 69 and len(no_transfer.rows) == 8
    assert next(t for t in view.tables if "avec possibilité" in t.title).total == 2
    assert not any("par commune" in title for title in tables)
    logiest = next(t for t in view.tables if t.title.startswith("Logiest"))
    assert {(r.label, r.flat_count) for r in logiest.rows} == {
        ("ARELIA", 2), ("ARS", 3), ("FRANCE HORIZON", 2)}
    assert "toutes agences confondues" in logiest.note
    assert view.cus_flats == 71  # 69 + 2: the Logiest figures are not added to the DT 54's
    assert view.recorded_flats == 0  # the CUS's figures are never added to the flats recorded now
    assert view.cus_as_of is not None and view.cus_as_of.year == 2020


def test_agency_view_metz_shows_its_structures_cus_figures(svc, db):
    view = svc.agency_view(agency_ids(db)["metz"])
    (logiest,) = [t for t in view.tables if t.title.startswith("Logiest")]
    assert {(r.label, r.flat_count) for r in logiest.rows} == {
        ("AIEM", 59), ("AMLI", 19), ("Association Est Accompagnement", 13), ("CMSEA", 24)}
    assert view.recorded_flats == 0  # no individual flat recorded yet
    assert view.cus_flats == 0  # Logiest's per-structure figures cover all agencies: not this agency's


def test_agency_view_all_and_with_flats(svc, db):
    whole = svc.agency_view(None)
    by_title = {t.title: t.total for t in whole.tables}
    assert whole.cus_flats == 217 + 69 + 2  # Logiest (Moselle) and SLH (DT 54), each once
    assert whole.recorded_flats == 0
    assert by_title["Logiest – sous-locations 2020 par structure"] == 217
    assert by_title["Logiest – sous-locations 2020 par commune"] == 217
    ag = agency_ids(db)
    d = _new(svc, db, name="Association Test", category="hebergement")
    for commune in ("Metz", "Metz", "Woippy"):
        d = svc.add_flat(d.id, FlatInput(commune, "sous_location", ag["metz"]), d.version)
    view = svc.agency_view(ag["metz"])
    per_commune = next(t for t in view.tables if t.key_label == "Commune")
    assert [(r.label, r.flat_count) for r in per_commune.rows] == [("Metz", 2), ("Woippy", 1)]
    whole = svc.agency_view(None)
    # The three flats recorded now, and the CUS's 2020 figures apart: never 3 + 288.
    assert (whole.recorded_flats, whole.cus_flats) == (3, 217 + 69 + 2)
    with pytest.raises(NotFoundError):
        svc.agency_view(424242)
