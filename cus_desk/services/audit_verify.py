"""Verification of the journal d'audit: the keyed chain, the legacy chain it
sealed, the purge anchors, and the chain heads kept outside the events.

What each kind of tampering looks like to ``verify_session`` (French
sentences in ``ChainReport.problems``):

- an edited event: its digest no longer matches its content;
- an event inserted, or the chain re-computed by someone without the key
  (plain SHA-256, the algorithm before the key): "pas signé par la clé";
- events deleted in the middle: the next link is broken (ids missing);
- the last events deleted, or all of them: the signed head file and the
  ``audit_chain_head`` table still name the last event and the count;
- a forged purge anchor (plain SHA-256 after the seal, or altered);
- the key missing, unreadable, or not the one that sealed the store."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from cus_desk.domain import security as rules
from cus_desk.domain.formatting import format_datetime
from cus_desk.services import audit, audit_head, audit_key, audit_redaction
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditAnchor


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    total: int
    anchored_after: int | None  # id of the last purged event, if a purge happened
    broken_event_id: int | None = None
    reason: str | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        if self.ok:
            base = f"Journal d'audit intact : {self.checked} événement(s) vérifié(s)"
            if self.anchored_after is not None:
                base += f" depuis la dernière purge (événements jusqu'au n° {self.anchored_after} purgés)"
            return " ".join([base + "."] + list(self.notes))
        return f"Journal d'audit altéré : {self.reason}"


class _Broken(Exception):
    def __init__(self, reason: str, event_id: int | None = None):
        super().__init__(reason)
        self.reason, self.event_id = reason, event_id
        self.checked = 0  # events verified before the break


def _anchor_fields(a: AuditAnchor):
    return (a.prev_hash, a.created_at, a.through_event_id, a.last_event_hash, a.purged_count)


def _check_anchors(session: Session, key):
    """(seal anchor or None, last purge anchor or None, keyed anchor seen)."""
    expected = audit.GENESIS
    seal = purge = None
    keyed_seen = False
    for a in session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)):
        if a.prev_hash != expected:
            raise _Broken(f"L'ancre de purge n° {a.id} ne suit pas l'ancre précédente : une ancre a été "
                          "supprimée ou modifiée ; le début du journal ne peut plus être garanti.")
        if hmac.compare_digest(audit.keyed_anchor_digest(key, *_anchor_fields(a)), a.hash):
            keyed_seen = True
            if a.purged_count == 0 and seal is None:
                seal = a
        elif rules.anchor_digest(*_anchor_fields(a)) == a.hash:
            if keyed_seen or a.purged_count == 0:
                raise _Broken(
                    f"L'ancre de purge n° {a.id} n'est pas signée par la clé de l'installation "
                    "(simple empreinte SHA-256) : elle a été fabriquée après le scellement du journal.")
        else:
            claimed = (a.purged_by or "").removeprefix(audit.SEAL_BY).strip()
            if a.purged_count == 0 and claimed and claimed != key.key_id:
                raise _Broken(
                    f"La clé de cette installation (empreinte {key.key_id}) n'est pas celle qui a "
                    f"scellé ce journal (empreinte {claimed}) : clé incorrecte, le journal ne peut "
                    "pas être vérifié. Restaurez la bonne clé (voir la documentation).")
            raise _Broken(f"L'ancre de purge n° {a.id} a été modifiée ou fabriquée : le début du "
                          "journal ne peut plus être garanti.")
        if a.purged_count > 0:
            purge = a
        expected = a.hash
    return seal, purge, keyed_seen


def _walk(session: Session, key, seal, purge, legacy_only: bool = False) -> tuple[int, int]:
    """(events checked, of which legacy). Raises _Broken at the first break
    (with the number of events verified before it)."""
    progress = [0]
    try:
        return _walk_events(session, key, seal, purge, legacy_only, progress)
    except _Broken as exc:
        exc.checked = progress[0]
        raise


def _walk_events(session: Session, key, seal, purge, legacy_only: bool, progress: list[int]) -> tuple[int, int]:
    start = purge.last_event_hash if purge else audit.GENESIS
    after = purge.through_event_id if purge else 0
    boundary = seal.through_event_id if seal else after  # ids <= boundary: legacy SHA-256
    if legacy_only:
        boundary = 2**62
    expected, prev_id, count, legacy = start, after, 0, 0
    crossed = boundary <= after

    def cross() -> None:
        if seal is not None and expected != seal.last_event_hash:
            raise _Broken(
                f"Le journal antérieur à la clé (jusqu'au n° {seal.through_event_id}) ne correspond plus "
                "à son scellement : des événements hérités ont été modifiés, ajoutés ou supprimés.",
                seal.through_event_id)

    query = select(
        AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.occurred_at,
        AuditEvent.user_id, AuditEvent.user_login, AuditEvent.action, AuditEvent.entity_type,
        AuditEvent.entity_id, AuditEvent.case_id, AuditEvent.details_json,
    ).order_by(AuditEvent.id)
    # Details blanked by a purge: vouched for by a chained redaction event
    # (services.audit_redaction), the rest of the event still checked.
    redactions = audit_redaction.recorded_redactions(session)
    for row in session.execute(query.execution_options(yield_per=5000)):
        if count == 0 and row.id <= after:
            raise _Broken(f"L'événement n° {row.id} est antérieur à la dernière purge du journal alors "
                          "qu'il aurait dû être supprimé : le journal a été modifié.", row.id)
        is_legacy = row.id <= boundary
        if not is_legacy and not crossed:
            cross()
            crossed = True
        if row.prev_hash != expected:
            if row.id > prev_id + 1 and count > 0:
                what = (f"les événements n° {prev_id + 1} à {row.id - 1} ont été supprimés"
                        if row.id > prev_id + 2 else f"l'événement n° {prev_id + 1} a été supprimé")
            elif count == 0 and row.id > after + 1:
                what = "les premiers événements du journal ont été supprimés"
            else:
                what = "un événement a été inséré, supprimé ou modifié avant lui"
            raise _Broken(f"Lien rompu avant l'événement n° {row.id} : {what} "
                          "(un ou plusieurs événements ont été supprimés, insérés ou modifiés).", row.id)
        fields = (row.prev_hash, row.occurred_at, row.user_id, row.user_login, row.action,
                  row.entity_type, row.entity_id, row.case_id, row.details_json)
        vouched = audit_redaction.redacted_hash(row, redactions) if redactions else None
        if vouched == "":
            raise _Broken(f"L'événement n° {row.id}, expurgé par une purge, a été modifié depuis "
                          "(ses champs lisibles ne correspondent plus à ceux enregistrés lors de la purge).", row.id)
        if vouched is not None:
            legacy += is_legacy
        elif is_legacy:
            if audit.legacy_digest(*fields) != row.hash:
                raise _Broken(f"L'événement n° {row.id} a été modifié après son enregistrement "
                              "(son empreinte ne correspond plus à son contenu).", row.id)
            legacy += 1
        elif not hmac.compare_digest(audit.keyed_digest(key, *fields), row.hash):
            if audit.legacy_digest(*fields) == row.hash:
                raise _Broken(
                    f"L'événement n° {row.id} n'est pas signé par la clé de l'installation (simple "
                    "empreinte SHA-256) : il a été inséré ou réécrit par quelqu'un qui n'a pas la clé, "
                    "ou enregistré alors que la clé manquait.", row.id)
            raise _Broken(f"L'événement n° {row.id} a été modifié après son enregistrement "
                          "(son empreinte ne correspond plus à son contenu) ou fabriqué.", row.id)
        expected, prev_id = row.hash, row.id
        count += 1
        progress[0] = count
    if not crossed and seal is not None and seal.through_event_id > after:
        if expected != seal.last_event_hash:
            raise _Broken(f"Les derniers événements antérieurs à la clé (jusqu'au n° {seal.through_event_id}) "
                          "manquent ou ont été modifiés.", seal.through_event_id)
    return count, legacy


def _head_problems(session: Session, heads: list[tuple[str, audit_head.SignedHead]]) -> list[str]:
    problems: list[str] = []
    max_id = session.scalar(select(func.max(AuditEvent.id)))
    purged_through = session.scalar(
        select(func.max(AuditAnchor.through_event_id)).where(AuditAnchor.purged_count > 0)) or 0
    tail_reported = False
    # The latest head first: it tells the most; an older head only adds
    # what the latest does not already say (e.g. "rewritten after").
    for where, head in sorted(heads, key=lambda h: (h[1].total, h[1].last_id or 0), reverse=True):
        if head.last_id is None or head.last_id <= purged_through:
            continue
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == head.last_id))
        present = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= head.last_id)) or 0
        purged = session.scalar(select(func.coalesce(func.sum(AuditAnchor.purged_count), 0))
                                .where(AuditAnchor.through_event_id <= head.last_id)) or 0
        missing = head.total - present - purged
        if max_id is None:
            if not tail_reported:
                problems.append(f"Tous les événements du journal ont été supprimés : {where} en comptait "
                                f"{head.total}, jusqu'au n° {head.last_id}.")
            tail_reported = True
        elif stored is None and max_id < head.last_id:
            if not tail_reported:
                problems.append(f"Les {max(missing, 1)} dernier(s) événement(s) manquent : {where} s'arrête "
                                f"au n° {head.last_id}, la base au n° {max_id}.")
            tail_reported = True
        elif stored is None:
            problems.append(f"L'événement n° {head.last_id}, dernier de {where}, a été supprimé.")
        elif stored != head.last_hash:
            problems.append(f"L'événement n° {head.last_id} ne correspond plus à {where} : la fin du "
                            "journal a été supprimée puis réécrite, ou modifiée.")
        elif missing > 0:
            problems.append(f"{missing} événement(s) antérieur(s) au n° {head.last_id} manquent "
                            f"(décompte de {where}).")
    return problems


def verify_session(session: Session, head_file: Path | None = None, *, backup_copy: bool = False) -> ChainReport:
    """Verify the journal read through ``session``. ``head_file``: the
    signed head file of this store, if it has one. ``backup_copy``: a copy
    made before this version may hold a legacy chain never sealed (and no
    head table): verified as plain SHA-256, and said so."""
    total = session.scalar(select(func.count(AuditEvent.id))) or 0
    try:
        key = audit_key.load_key()
    except audit_key.AuditKeyError as exc:
        return ChainReport(False, 0, total, None, None, str(exc), (str(exc),))
    if key is None:
        reason = (f"La clé du journal d'audit est introuvable ({audit_key.key_path()}) : le journal ne "
                  "peut pas être vérifié. Restaurez la clé depuis sa sauvegarde (voir la documentation).")
        return ChainReport(False, 0, total, None, None, reason, (reason,))
    problems: list[str] = []
    notes: list[str] = []
    checked, broken, after = 0, None, None
    try:
        seal, purge, keyed_seen = _check_anchors(session, key)
        after = purge.through_event_id if purge else None
        if not keyed_seen and total and backup_copy:
            checked, legacy = _walk(session, key, None, purge, legacy_only=True)
            notes.append(f"Chaîne SHA-256 héritée, jamais scellée par une clé ({legacy} événement(s)) : "
                         "copie antérieure à la clé du journal, elle ne prouve rien contre qui a eu le fichier.")
            seal = None
        elif not keyed_seen and total:
            raise _Broken("Le journal n'a jamais été scellé par la clé de l'installation, ou son scellement "
                          "a été supprimé : rien ne prouve qu'il n'a pas été réécrit.")
        else:
            checked, legacy = _walk(session, key, seal, purge)
        if legacy and seal is not None:
            notes.append(f"Dont {legacy} événement(s) antérieur(s) à la clé, vérifié(s) comme chaîne SHA-256 "
                         f"héritée, scellée le {format_datetime(seal.created_at)} (ancre n° {seal.id}).")
    except _Broken as exc:
        problems.append(exc.reason)
        broken, checked = exc.event_id, exc.checked
    with_table = not backup_copy or _has_head_table(session)
    heads = _gather_heads(session, key, head_file, with_table, total, problems, notes)
    problems.extend(p for p in _head_problems(session, heads) if p not in problems)
    if problems:
        return ChainReport(False, checked, total, after, broken, " ".join(problems), tuple(problems),
                           tuple(notes))
    return ChainReport(True, checked, total, after, None, None, (), tuple(notes))


def _gather_heads(session: Session, key, head_file: Path | None, with_table: bool, total: int,
                  problems: list[str], notes: list[str]) -> list[tuple[str, audit_head.SignedHead]]:
    heads: list[tuple[str, audit_head.SignedHead]] = []
    row = audit_head.current_head(session) if with_table else None
    if row is not None:
        heads.append(("la tête de chaîne de la base",
                      audit_head.SignedHead(row.last_id, row.last_hash, row.total, "", "", "")))
    if head_file is not None:
        lines = audit_head.read_heads(head_file)
        if lines is None:
            if total:
                notes.append(f"Tête de chaîne signée absente ({head_file.name}) : la suppression des "
                             "derniers événements n'est contrôlée que par la base elle-même.")
        else:
            for no, head in enumerate(lines, start=1):
                if head is None or not head.signed_by(key):
                    problems.append(f"La ligne {no} de la tête de chaîne signée ({head_file.name}) n'est pas "
                                    "signée par la clé de l'installation : elle a été modifiée ou fabriquée.")
                else:
                    heads.append((f"la tête de chaîne signée ({head_file.name}, ligne {no})", head))
    return heads


def check_at_open(db) -> str | None:
    """The cheap part of the verification, run when the program opens a
    store: do the chain heads (signed file, head table) still find their
    last events? A French sentence for the status bar / stderr, or None.
    The full walk of the chain stays ``audit verify``'s."""
    import logging

    try:
        key = audit_key.load_key()
        problems: list[str] = []
        with db.read_session() as session:
            total = session.scalar(select(func.count(AuditEvent.id))) or 0
            heads = _gather_heads(session, key, audit_head.head_path_of(session), True, total, problems, [])
            problems.extend(_head_problems(session, heads))
    except Exception:  # noqa: BLE001 - opening the store must not fail on this check
        logging.getLogger(__name__).exception("Contrôle de la tête du journal d'audit impossible")
        return None
    if not problems:
        return None
    logging.getLogger(__name__).error("Journal d'audit à l'ouverture : %s", " ".join(problems))
    return (f"Journal d'audit altéré : {problems[0]} Prévenez l'administrateur "
            "(« cus-desk audit verify »).")


def _has_head_table(session: Session) -> bool:
    from sqlalchemy import inspect

    return inspect(session.connection()).has_table("audit_chain_head")


def verify_database(db) -> ChainReport:
    with db.read_session() as session:
        return verify_session(session, audit_head.head_path_of(session))


def verify_backup_file(path: Path | str) -> ChainReport:
    """The journal of a SQLite backup copy, read-only (its own head table;
    the head file belongs to the live store)."""
    engine = create_engine(f"sqlite:///file:{Path(path)}?mode=ro&uri=true")
    try:
        with Session(engine) as session:
            return verify_session(session, None, backup_copy=True)
    finally:
        engine.dispose()
