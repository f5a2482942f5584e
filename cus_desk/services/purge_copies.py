"""A purge reaches every copy the program controls, not only the rows
(domain.retention_policy lists them):

* archived relevés de décisions (``MeetingArchive``: the PDF printed at a
  session's closing and after each rectificatif) that show a purged case,
  as agenda item or as follow-up of an earlier decision, are regenerated:
  same version numbers, the purged cases as « Dossier anonymisé » without
  decision text nor responsible, rectificatifs about them blanked, and the
  version marked « expurgée ». CNIL: the relevé is follow-up data about the
  people it names; its purpose (the next CAS's follow-up, the proof of what
  was decided) ends with theirs. The decisions of the other cases are kept;
  the follow-up section is rebuilt from the stored follow-up, as it reads
  on the day of the purge (documented in docs/securite/purges.md). The old
  and new SHA-256 of every regenerated file go into the purge's audit event.
* copies of the store (automatic and manual backups, the copies kept
  before a migration or a restore) written before the purge still hold the
  purged data: the purge report lists them, and the administrator may
  delete them (``delete_copies``)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.domain.formatting import format_date

ANONYMISED_HOUSEHOLD = "Dossier anonymisé"
BLANKED_ADDENDUM = "(rectificatif effacé : dossier anonymisé par la purge RGPD)"


# --- relevés de décisions --------------------------------------------------------


def meetings_showing(session: Session, case_ids: set[int]) -> set[int]:
    """Closed sessions whose relevé may show one of ``case_ids``: on the
    agenda, or in the follow-up of an earlier decision (a decision appears in
    the relevés after its session while it is open, and in the first one
    after its status changed)."""
    from cus_desk.domain.meetings import OPEN_FOLLOW_UP, MeetingStatus
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import AgendaItem, Decision, Meeting

    if not case_ids:
        return set()
    ids = sorted(case_ids)
    found: set[int] = set()
    closed = list(session.execute(
        select(Meeting.id, Meeting.held_on, Meeting.scope_agency_id)
        .where(Meeting.status == MeetingStatus.CLOTUREE.value).order_by(Meeting.held_on, Meeting.id)))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(session.scalars(select(AgendaItem.meeting_id).where(AgendaItem.case_id.in_(chunk))))
        for held_on, status, changed_on, agency_id in session.execute(
                select(Meeting.held_on, Decision.status, Decision.status_changed_on, Case.agency_id)
                .join(Meeting, Meeting.id == Decision.meeting_id).join(Case, Case.id == Decision.case_id)
                .where(Decision.case_id.in_(chunk))):
            still_open = status in OPEN_FOLLOW_UP or changed_on is None
            first_after_change = None
            for mid, day, scope in closed:
                if day <= held_on or scope not in (None, agency_id):
                    continue  # before the decision, or an agency session of another agency
                if still_open or day < changed_on:
                    found.add(mid)
                elif first_after_change is None:
                    first_after_change = mid
                    found.add(mid)
    return found


def _redacted(data, references: set[str], day: date, version: int):
    def case(c):
        if c.reference not in references:
            return c
        return dataclasses.replace(c, household=ANONYMISED_HOUSEHOLD, decisions=tuple(
            dataclasses.replace(d, text="", responsible="") for d in c.decisions))

    def follow_up(f):
        if f.case_reference not in references:
            return f
        return dataclasses.replace(f, household=ANONYMISED_HOUSEHOLD, text="", responsible="",
                                   last_comment="")

    def addendum(a):
        if not any(ref in a.about for ref in references):
            return a
        return dataclasses.replace(a, text=BLANKED_ADDENDUM)

    addenda = tuple(addendum(a) for a in data.addenda)[:max(0, version - 1)]
    return dataclasses.replace(
        data, cases=tuple(case(c) for c in data.cases),
        follow_ups=tuple(follow_up(f) for f in data.follow_ups), addenda=addenda,
        version_label=(f"Version {version} — version expurgée le {format_date(day)} "
                       "(purge RGPD : dossiers anonymisés, noms et textes retirés)"))


def regenerate_archives(session: Session, meeting_ids: set[int], day: date) -> list[dict]:
    """Re-render every archived relevé of ``meeting_ids`` with the purged
    cases redacted. Returns [{seance, version, avant, apres}] (SHA-256)."""
    from cus_desk.reports.decision_summary import build_releve_pdf
    from cus_desk.services.meetings import MeetingService
    from cus_desk.services.retention import KIND_CASE
    from cus_desk.store.models.cases import Case
    from cus_desk.store.models.meetings import Meeting, MeetingArchive
    from cus_desk.store.models.security import RetentionRecord

    if not meeting_ids:
        return []
    purged = select(RetentionRecord.entity_id).where(RetentionRecord.entity_type == KIND_CASE)
    references = set(session.scalars(select(Case.reference).where(Case.id.in_(purged))))
    changes = []
    for meeting_id in sorted(meeting_ids):
        meeting = session.get(Meeting, meeting_id)
        archives = list(session.scalars(select(MeetingArchive).where(MeetingArchive.meeting_id == meeting_id)
                                        .order_by(MeetingArchive.id)))
        for version, archive in enumerate(archives, start=1):
            data = MeetingService.releve_data(session, meeting, generated_at=archive.generated_at,
                                              version=version)
            pdf = build_releve_pdf(_redacted(data, references, day, version))
            before = archive.sha256
            archive.pdf = pdf
            archive.sha256 = hashlib.sha256(pdf).hexdigest()
            changes.append({"seance": meeting_id, "version": version, "avant": before,
                            "apres": archive.sha256})
    session.flush()
    return changes


def blank_addenda(session: Session, decision_ids) -> None:
    """Rectificatifs about a purged case's decisions lose their text."""
    from sqlalchemy import update

    from cus_desk.store.models.meetings import MeetingAddendum

    session.execute(update(MeetingAddendum).where(MeetingAddendum.decision_id.in_(decision_ids))
                    .values(text=BLANKED_ADDENDUM))


# --- copies of the store ----------------------------------------------------------


@dataclass(frozen=True)
class StoreCopy:
    path: Path
    kind: str  # auto | manuel | fichier | avant-migration | avant-restauration | pg_dump
    size: int


def copies_of_store(db) -> list[StoreCopy]:
    """Every copy of this store the program wrote and knows where to find:
    the backup folder, and the copies kept next to the store file before a
    migration or a restore."""
    from cus_desk import paths

    found: list[StoreCopy] = []
    folder = paths.backup_dir()
    if db.path is not None:
        stem, suffix = db.path.stem, db.path.suffix
        for entry in sorted(folder.glob(f"{stem}-*.sqlite3")):
            kind = "auto" if "-auto-" in entry.name else "manuel"
            found.append(StoreCopy(entry, kind, entry.stat().st_size))
        for entry in sorted(db.path.parent.glob(f"{stem}.avant-*{suffix}")):
            kind = "avant-migration" if ".avant-migration-" in entry.name else "avant-restauration"
            found.append(StoreCopy(entry, kind, entry.stat().st_size))
    else:
        name = db.engine.url.database or ""
        for entry in sorted(folder.glob(f"{name}-*.dump")):
            found.append(StoreCopy(entry, "pg_dump", entry.stat().st_size))
    return [c for c in found if c.path.is_file()]


def delete_copies(paths_: list[Path]) -> list[Path]:
    """Delete the given copies (those a purge report listed); returns the deleted."""
    deleted = []
    for path in paths_:
        path = Path(path)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted.append(path)
    return deleted
