"""Issue 15, "purges leave the data behind": a purge reaches every copy the
program controls. A case and its household with distinctive names are
purged; afterwards the names are found nowhere: not in the rows, not in the
audit details, not in the archived relevé, not in the bytes of the SQLite
file and its WAL (UTF-8 and UTF-16), not in a backup written after the
purge; the backups written before are listed and can be deleted."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from cus_desk.domain import retention_policy
from cus_desk.services.audit_admin import verify_chain
from cus_desk.services.backup import BackupService
from cus_desk.services.cases import CaseService, HouseholdInput, MemberInput
from cus_desk.services.meetings import MeetingService
from cus_desk.services.person_export import PersonExportService
from cus_desk.services.retention import KIND_CASE, KIND_EXTRACT, RetentionService
from cus_desk.store.models.core import AuditEvent, Household, Lease, Tenant
from tests.frozen_time import frozen_clock
from tests.security import builders as b

TODAY = date(2026, 11, 28)
HOLDER = ("ZBIGNIEWSKA", "Sidonie")  # holder of the purged case (relevé: "ZBIGNIEWSKA S.")
TYPED = ("PRZYBYLSKI", "Octavien")  # typed into a purged case whose lease stays
EXTRACT_ONLY = ("EXTRAITUNIQUE", "Marcellin")  # created by the purged extract only
KEPT_HOLDER = ("GARDELOUP", "Henri")  # in a kept extract: stays
DECISION = "Accord FSL pour Mme Zbigniewska, dette soldée"
PURGED = (HOLDER[0], TYPED[0], EXTRACT_ONLY[0], "Zbigniewska")


@pytest.fixture
def clock():
    return frozen_clock(TODAY)


@pytest.fixture
def scene(db, actors):
    with db.write_session() as s:
        hh_a, lease_a = b.household(s, "metz", *HOLDER)
        case_a = b.case(s, hh_a, status="en_suivi", opened_on=date(2022, 1, 10))
        case_a.lease_id = lease_a.id
        meeting = b.meeting_with(s, case_a, held_on=date(2022, 3, 1), decision_text=DECISION)
        from cus_desk.store.models.meetings import Decision

        s.execute(update(Decision).where(Decision.meeting_id == meeting.id).values(type="saisine_fsl"))
        hh_b, lease_b = b.household(s, "metz", *KEPT_HOLDER)
        case_b = b.case(s, hh_b, status="clos", opened_on=date(2022, 2, 1), closed_on=date(2023, 5, 2))
        s.add(Tenant(household_id=hh_b.id, last_name=TYPED[0], first_name=TYPED[1],
                     birth_date=date(2012, 4, 3), relationship_kind="enfant", position=1))
        hh_c, lease_c = b.household(s, "metz", *EXTRACT_ONLY)
        old_extract = b.extract(s, date(2023, 10, 31), [lease_a, lease_b, lease_c])
        new_extract = b.extract(s, date(2025, 1, 31), [lease_b])
        ids = dict(case_a=case_a.id, case_b=case_b.id, meeting=meeting.id, hh_a=hh_a.id, hh_b=hh_b.id,
                   hh_c=hh_c.id, lease_a=lease_a.id, lease_b=lease_b.id, lease_c=lease_c.id,
                   old_extract=old_extract.id, new_extract=new_extract.id)
    # The adviser types a member into case A (traced in the audit trail).
    svc = CaseService(db, actors["adviser_metz"])
    detail = svc.get(ids["case_a"])
    holder = detail.household.members[0]
    svc.update_household(ids["case_a"], HouseholdInput([
        MemberInput(holder.last_name, holder.first_name, holder.birth_date, "titulaire"),
        MemberInput(HOLDER[0], "Bérénice", date(1979, 8, 9), "conjoint")], "06 12 34 56 78"),
        detail.household.version)
    # The relevé of the session is archived (as at closing).
    MeetingService(db, actors["social_head"]).releve(ids["meeting"])
    # Case A is closed long ago (its last activity two years and more back).
    from cus_desk.store.models.cases import Case

    with db.write_session() as s:
        s.execute(update(Case).where(Case.id == ids["case_a"]).values(
            status="clos", closed_on=date(2024, 6, 1), last_activity_on=date(2024, 6, 1),
            closure_reason="Relogement"))
    return ids


def _store_bytes(db) -> bytes:
    data = db.path.read_bytes()
    wal = db.path.with_name(db.path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def _names_in(data: bytes) -> list[str]:
    found = []
    for name in PURGED:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            if name.encode(encoding) in data:
                found.append(f"{name} ({encoding})")
    return found


def _releve_text(db, actors, meeting_id) -> str:
    pdf = MeetingService(db, actors["social_head"]).releve(meeting_id).pdf
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.sqlite_only("the bytes of the SQLite file, its WAL and its backup copies")
def test_purged_names_are_gone_from_the_file_its_wal_and_later_backups(db, actors, scene):
    from cus_desk.services.backup import backup_at_exit

    before_backup = BackupService(db, actors["admin"]).backup()
    automatic = backup_at_exit(db)  # the rotated automatic copy
    for copy in (before_backup.path, automatic):
        assert _names_in(copy.read_bytes())  # sanity: the copies hold them
    assert _names_in(_store_bytes(db))  # sanity: so does the store

    report = RetentionService(db, actors["admin"]).purge()

    assert _names_in(_store_bytes(db)) == []
    assert report.counts[KIND_CASE] == 2 and report.counts[KIND_EXTRACT] == 1
    assert report.notes == []
    # The copies written before the purge still hold them: listed, and deletable.
    listed = [c.path for c in report.copies]
    assert sorted(listed) == sorted([before_backup.path, automatic])
    assert _names_in(automatic.read_bytes())
    deleted = RetentionService(db, actors["admin"]).delete_copies(listed)
    assert sorted(deleted) == sorted(listed) and not any(p.exists() for p in listed)
    after_backup = BackupService(db, actors["admin"]).backup()
    after_automatic = backup_at_exit(db)
    for copy in (after_backup.path, after_automatic):
        assert _names_in(copy.read_bytes()) == []


def test_deleting_a_file_the_purge_did_not_list_is_refused(db, actors, scene, tmp_path):
    from cus_desk.domain.errors import ValidationError

    stranger = tmp_path / "autre.sqlite3"
    stranger.write_bytes(b"x")
    with pytest.raises(ValidationError, match="listées par la purge"):
        RetentionService(db, actors["admin"]).delete_copies([stranger])
    assert stranger.exists()


def test_purge_removes_typed_members_and_the_people_only_the_extract_named(db, actors, scene):
    export = PersonExportService(db, actors["social_head"])
    assert export.find(TYPED[0]) and export.find(EXTRACT_ONLY[0]) and export.find(HOLDER[0])

    report = RetentionService(db, actors["admin"]).purge()

    for name in (TYPED[0], EXTRACT_ONLY[0], HOLDER[0]):
        assert export.find(name) == [], name
    assert report.people_deleted == 4  # holder + typed spouse (A), typed child (B), extract-only tenant
    assert report.leases_deleted == 2  # A's lease and the extract-only lease
    with db.read_session() as s:
        assert s.get(Household, scene["hh_a"]) is None and s.get(Household, scene["hh_c"]) is None
        assert s.get(Lease, scene["lease_a"]) is None and s.get(Lease, scene["lease_c"]) is None
        kept = s.scalars(select(Tenant.last_name).where(Tenant.household_id == scene["hh_b"])).all()
        assert kept == [KEPT_HOLDER[0]]  # still in a kept extract: the tenancy record stays
        assert s.get(Lease, scene["lease_b"]) is not None


def test_audit_details_of_purged_cases_are_redacted_and_the_chain_still_verifies(db, actors, scene):
    with db.read_session() as s:
        about_a = s.scalars(select(AuditEvent.details_json).where(AuditEvent.case_id == scene["case_a"])).all()
    assert any("membres" in d or "members" in d for d in about_a)  # sanity: details were there

    report = RetentionService(db, actors["admin"]).purge()

    with db.read_session() as s:
        events = s.scalars(select(AuditEvent).where(
            (AuditEvent.case_id == scene["case_a"]) | (
                (AuditEvent.entity_type == "household") & (AuditEvent.entity_id == str(scene["hh_a"]))))).all()
        assert events and all(json.loads(e.details_json).keys() == {"expurge"} for e in events)
        assert all(e.user_login and e.action for e in events)  # who and what stay
    chain = verify_chain(db)
    assert chain.ok, chain.message
    assert report.audit_redacted >= len(about_a)


def test_altering_a_redacted_event_or_faking_a_redaction_breaks_the_chain(db, actors, scene):
    RetentionService(db, actors["admin"]).purge()
    with db.read_session() as s:
        redacted = s.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.case_id == scene["case_a"]))
        plain = s.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.entity_type == "user"))
        login = s.get(AuditEvent, redacted).user_login
    with db.write_session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == redacted).values(user_login="quelqu'un"))
    assert not verify_chain(db).ok
    with db.write_session() as s:  # put it back: intact again
        s.execute(update(AuditEvent).where(AuditEvent.id == redacted).values(user_login=login))
    assert verify_chain(db).ok
    with db.write_session() as s:  # blanking another event's details without a redaction record
        s.execute(update(AuditEvent).where(AuditEvent.id == plain).values(
            details_json=json.dumps({"expurge": "purge RGPD du 2026-11-28"})))
    report = verify_chain(db)
    assert not report.ok and report.broken_event_id == plain


def test_archived_releve_is_regenerated_without_the_purged_case(db, actors, scene):
    text = _releve_text(db, actors, scene["meeting"])
    assert "ZBIGNIEWSKA S." in text and "Accord FSL" in text  # sanity

    report = RetentionService(db, actors["admin"]).purge()

    text = _releve_text(db, actors, scene["meeting"])  # its SHA-256 still matches
    assert "ZBIGNIEWSKA" not in text and "Accord FSL" not in text and "Zbigniewska" not in text
    assert "Dossier anonymisé" in text and "expurgée" in text
    assert report.archives_regenerated == 1
    with db.read_session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "retention")).one()
        regenerated = json.loads(event.details_json)["releves_regeneres"]
    assert regenerated[0]["seance"] == scene["meeting"] and regenerated[0]["avant"] != regenerated[0]["apres"]


def test_the_policy_table_and_its_documentation_agree():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "securite" / "purges.md").read_text(encoding="utf-8")
    for rule in retention_policy.POLICY:
        assert rule.label in doc, rule.label
        assert rule.duration in doc, rule.duration


@pytest.mark.sqlite_only("backup copies of the SQLite file")
def test_cli_purge_lists_older_copies_and_deletes_them_when_asked(db, actors, scene, monkeypatch, capsys):
    from cus_desk.cli import main
    from tests.conftest import TEST_PASSWORD

    copy = BackupService(db, actors["admin"]).backup().path
    monkeypatch.setenv("CUS_DESK_USER", "admin")
    monkeypatch.setenv("CUS_DESK_PASSWORD", TEST_PASSWORD)
    assert main(["--db", str(db.path), "purge"]) == 0
    out = capsys.readouterr().out
    assert "Personnes supprimées" in out and str(copy) in out and "--supprimer-copies" in out
    assert copy.exists()
    # Nothing more to purge: the copy holds nothing this run removed, it is not listed again...
    assert main(["--db", str(db.path), "purge", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["copies_avec_donnees_purgees"] == []
    # ...but the next purge that removes something offers it again, and deletes it when asked.
    with db.write_session() as s:
        hh, _ = b.household(s, "forbach", "ENCOREUN", with_lease=False)
        b.case(s, hh, status="clos", closed_on=date(2020, 1, 1))
    assert main(["--db", str(db.path), "purge", "--json", "--supprimer-copies"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["copies_supprimees"] == [str(copy)] and not copy.exists()
    assert _names_in(_store_bytes(db)) == []


@pytest.mark.postgresql_only("VACUUM on the server")
def test_purge_vacuums_the_purged_tables_on_postgresql(db, actors, scene):
    from sqlalchemy import text

    report = RetentionService(db, actors["admin"]).purge()
    assert report.notes == []
    with db.engine.connect() as conn:
        vacuumed = conn.execute(text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'tenants'"))
        assert vacuumed.scalar() is not None


@pytest.mark.sqlite_only("backup copies of the SQLite file")
def test_purge_dialog_offers_to_delete_the_older_copies(qtbot, db, actors, scene, monkeypatch, tmp_path):
    from cus_desk.ui.admin import purge as purge_ui
    from cus_desk.ui.context import AppContext

    copy = BackupService(db, actors["admin"]).backup().path
    dialog = purge_ui.PurgeDialog(AppContext(db=db, actor=actors["admin"]))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=20000)
    monkeypatch.setattr(purge_ui, "confirm", lambda *a, **k: True)
    task = dialog.run_purge()
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=30000)
    assert task.error is None
    assert "Personnes supprimées" in dialog.summary.text()
    assert str(copy) in dialog.details.toPlainText()
    assert dialog.copies_button.isVisible() and "(1)" in dialog.copies_button.text()
    for size in ((1024, 768), (1366, 768)):
        dialog.resize(*size)
        dialog.grab().save(str(tmp_path / f"purge-{size[0]}.png"))
    task = dialog.delete_copies()
    qtbot.waitUntil(lambda: task.result is not None or task.error is not None, timeout=20000)
    assert not copy.exists() and not dialog.copies_button.isVisible()
    assert "1 copie(s) supprimée(s)" in dialog.details.toPlainText()


def test_a_later_releve_showing_the_purged_decision_in_follow_up_is_regenerated(db, actors, scene):
    """Case A's decision, still « à faire », is in the follow-up of the next
    session's relevé, beside a live case: A goes, the live case stays."""
    from cus_desk.store.models.meetings import Decision

    with db.write_session() as s:
        live_hh, _ = b.household(s, "metz", "VIVANTE", "Odile")
        live = b.case(s, live_hh, status="en_suivi", opened_on=date(2022, 3, 10))
        later = b.meeting_with(s, live, held_on=date(2022, 4, 5), decision_text="Visite à domicile prévue")
        s.execute(update(Decision).where(Decision.meeting_id == later.id).values(type="visite_domicile"))
        later_id = later.id
    text = _releve_text(db, actors, later_id)
    assert "ZBIGNIEWSKA S." in text and "VIVANTE O." in text  # sanity: A is in the follow-up

    report = RetentionService(db, actors["admin"]).purge()

    text = _releve_text(db, actors, later_id)
    assert "ZBIGNIEWSKA" not in text and "Zbigniewska" not in text
    assert "VIVANTE O." in text and "Visite à domicile prévue" in text  # the live case is intact
    assert report.archives_regenerated == 2


@pytest.mark.sqlite_only("the SQLite WAL")
def test_a_reader_holding_the_wal_is_reported_not_hidden(db, actors, scene):
    import sqlite3

    reader = sqlite3.connect(str(db.path))
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tenants").fetchone()  # a read transaction stays open
        report = RetentionService(db, actors["admin"]).purge()
    finally:
        reader.close()
    assert any("WAL" in note or "compacté" in note for note in report.notes), report.notes


@pytest.mark.postgresql_only("VACUUM rights on the server")
def test_a_role_that_cannot_vacuum_is_told(db, actors, scene):
    from sqlalchemy import text

    from cus_desk.store import dialect

    role = f"purge_client_{db.engine.url.database}"[:60]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE ROLE "{role}"'))
        conn.execute(text(f'GRANT "{role}" TO CURRENT_USER'))
    try:
        # What the purge runs after its transaction, as a role that owns no table.
        from sqlalchemy import create_engine, event

        engine = create_engine(db.engine.url)

        @event.listens_for(engine, "connect")
        def _as_client(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute(f'SET ROLE "{role}"')
            dbapi_conn.commit()

        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role
        notes = dialect.of(engine).reclaim_after_purge(engine, ["tenants", "leases"])
        engine.dispose()
        assert notes and "leases, tenants" in notes[0] and "administrateur du serveur" in notes[0]
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.sqlite_only("copies of the SQLite file")
def test_copies_kept_before_a_migration_or_a_restore_are_listed_too(db, actors, scene):
    import shutil

    migration = db.path.with_name(f"{db.path.stem}.avant-migration-0009_arrears_import-20261101-0900{db.path.suffix}")
    restore = db.path.with_name(f"{db.path.stem}.avant-restauration-20261102-0900{db.path.suffix}")
    for copy in (migration, restore):
        shutil.copy(db.path, copy)
    report = RetentionService(db, actors["admin"]).purge()
    kinds = {c.path: c.kind for c in report.copies}
    assert kinds == {migration: "avant-migration", restore: "avant-restauration"}
