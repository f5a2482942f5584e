"""Two people saved the same case file (#14). The second one learns who
saved and when, sees the difference field by field (hers / the stored one)
and then deliberately merges or overwrites: the save then carries the
version she has just seen, and the audit trail says it resolved a conflict.
Nothing is ever overwritten without that deliberate act."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import select

from cus_desk.domain.errors import ConflictError, ValidationError
from cus_desk.domain.history import field_label, value_text
from cus_desk.services import audit
from cus_desk.services.access import Permission
from cus_desk.services.case_history import user_names
from cus_desk.services.cases import ENTITY, CaseDetail, CaseInput, CaseService, HouseholdInput
from cus_desk.store.models.core import AuditEvent

MERGE = "fusion"
OVERWRITE = "écrasement"


@dataclass(frozen=True)
class FieldDifference:
    key: str
    label: str
    mine: str  # as shown to a conseillère
    theirs: str


@dataclass(frozen=True)
class CaseConflict:
    case_id: int
    stored: CaseDetail  # the version saved meanwhile (its ``version`` is the new token)
    saved_by: str  # a name, not a login
    saved_at: datetime | None
    differences: tuple[FieldDifference, ...]

    @property
    def version(self) -> int:
        return self.stored.version


def _stored_input(detail: CaseDetail) -> CaseInput:
    values = {f.name: getattr(detail, f.name) for f in fields(CaseInput) if hasattr(detail, f.name)}
    values["problems"] = list(detail.problems)
    return CaseInput(**values)


def _comparable(name: str, value):
    if name == "problems":
        return sorted(value or ())
    return None if value == "" else value


class CaseConflictService(CaseService):
    def conflict(self, case_id: int, mine: CaseInput) -> CaseConflict:
        """The stored version against ``mine``: who saved it last, when, and
        each field where the two differ."""
        stored = self.get(case_id, audit_read=False)
        theirs = _stored_input(stored)
        with self._read() as session:
            by_login, by_id = user_names(session)
            last = session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id)
                .where(AuditEvent.action == audit.Action.UPDATE)
                .where(AuditEvent.entity_type.in_((ENTITY, "household")))
                .order_by(AuditEvent.id.desc()).limit(1)
            ).first()
        differences = []
        for f in fields(CaseInput):
            a, b = getattr(mine, f.name), getattr(theirs, f.name)
            if _comparable(f.name, a) == _comparable(f.name, b):
                continue
            differences.append(FieldDifference(
                f.name, field_label(f.name),
                value_text(ENTITY, f.name, _comparable(f.name, a), by_id),
                value_text(ENTITY, f.name, _comparable(f.name, b), by_id),
            ))
        return CaseConflict(
            case_id, stored,
            by_login.get(last.user_login, last.user_login) if last is not None else "une autre personne",
            last.occurred_at if last is not None else None,
            tuple(differences),
        )

    def resolve(self, conflict: CaseConflict, mine: CaseInput, keep_mine: set[str] | None = None,
                household: HouseholdInput | None = None,
                household_version: int | None = None) -> tuple[int, int | None]:
        """Save after a conflict, over the version ``conflict`` showed.
        ``keep_mine``: the fields where my value wins (None: all of them, an
        overwrite); the others take the stored value (a merge). If someone
        saved yet again since, this is a new conflict (ConflictError)."""
        self._require(Permission.CASE_EDIT)
        known = {d.key for d in conflict.differences}
        chosen = known if keep_mine is None else set(keep_mine)
        if not chosen <= known:
            raise ValidationError("Choisissez seulement parmi les champs qui diffèrent.", "fields")
        theirs = _stored_input(conflict.stored)
        merged = replace(theirs, **{k: getattr(mine, k) for k in chosen})
        mode = OVERWRITE if keep_mine is None or chosen == known else MERGE
        if household is not None and household_version != conflict.stored.household.version:
            raise ConflictError(
                f"La composition du ménage a aussi été modifiée par {conflict.saved_by} : elle ne se "
                "fusionne pas champ par champ. Notez vos changements d'occupants, rechargez le dossier "
                "et saisissez-les de nouveau.")
        with self._write() as session:
            case = self._editable(session, conflict.case_id, conflict.version)
            version = self._update_case_in(session, case, merged)
            hh_version = None
            if household is not None:
                hh_version = self._update_household_in(session, case, household, household_version)
            audit.record(session, self.actor, audit.Action.UPDATE, ENTITY, case.id, case_id=case.id,
                         details={"conflit": mode, "version_remplacee": conflict.version,
                                  "champs_conserves": sorted(chosen)})
        return version, hh_version

    def _require(self, permission) -> None:
        from cus_desk.services import access

        access.require(self.actor, permission)
