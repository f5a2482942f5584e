"""Journal d'audit: append-only, each event chained to the previous by an
HMAC-SHA256 under the installation's key (services.audit_key), which is
never stored in the database: whoever has the file but not the key cannot
re-chain an edited, inserted or deleted event. Events written before the
key existed stay a plain SHA-256 chain ("legacy"), closed by a keyed *seal*
anchor (an ``AuditAnchor`` with ``purged_count`` 0) written with the first
keyed event. After each write, the chain head is also signed into a file
next to the store (services.audit_head) so that deleting the last events is
seen; services.audit_verify checks all of it.

``record`` must be called inside the write transaction of the change it
describes, so the change and its trace are stored together or not at all.
Write sessions take the store's write lock first (BEGIN IMMEDIATE on SQLite,
an advisory lock on PostgreSQL: store.dialect), so reading the last link and
appending the next happen under it: one chain, however many clients write."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cus_desk.services import audit_head
from cus_desk.store import dialect
from cus_desk.store.db import session_clock
from cus_desk.store.models.core import AuditEvent
from cus_desk.store.models.security import AuditAnchor

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_BY = "scellement"  # AuditAnchor.purged_by of a seal: "scellement <key id>"
_KEY_INFO = "cus_audit_key"  # session.info: the key of this transaction (or None)
_SEALED: set[str] = set()  # stores (URLs) already seen sealed by this process


class Action:
    READ = "read"
    REVEAL = "reveal"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    EXPORT = "export"
    PRINT = "print"
    PURGE = "purge"
    IMPORT = "import"
    BACKUP = "backup"
    RESTORE = "restore"
    ADMIN = "admin"
    ACCESS_DENIED = "access_denied"


ACTION_LABELS = {
    Action.READ: "Consultation",
    Action.REVEAL: "Affichage d'une information masquée",
    Action.CREATE: "Création",
    Action.UPDATE: "Modification",
    Action.DELETE: "Suppression",
    Action.LOGIN: "Connexion",
    Action.LOGIN_FAILED: "Échec de connexion",
    Action.LOGOUT: "Déconnexion",
    Action.EXPORT: "Export",
    Action.PRINT: "Impression",
    Action.PURGE: "Purge",
    Action.IMPORT: "Import",
    Action.BACKUP: "Sauvegarde",
    Action.RESTORE: "Restauration",
    Action.ADMIN: "Administration",
    Action.ACCESS_DENIED: "Accès refusé",
}

CONFIDENTIAL_MARK = "(modifié — contenu confidentiel)"

# Fields whose content never goes into the audit trail, whoever calls
# ``diff_fields``: the administrator who reads the trail has no access to
# case files (free texts about a family, problématiques such as health or
# violence, identifiers, members with birth dates). Only "modifié" is kept.
CONFIDENTIAL_FIELDS: frozenset[str] = frozenset({
    "summary", "situation", "problems", "problematiques", "closure_reason",
    "text", "texte", "note", "notes", "reason", "motif", "outcome", "comment", "commentaire",
    "proposal", "proposition", "members", "membres", "birth_date",
    "first_name", "last_name", "caf_number", "fsl_number", "ccapex_number", "external_worker_ref",
    "consent_on", "consent_method", "password", "mot_de_passe",
})


def _payload(prev_hash: str, occurred_at: datetime, user_id: int | None, user_login: str,
             action: str, entity_type: str, entity_id: str, case_id: int | None,
             details_json: str) -> bytes:
    return json.dumps(
        [
            prev_hash,
            occurred_at.isoformat(timespec="microseconds"),
            user_id,
            user_login,
            action,
            entity_type,
            entity_id,
            case_id,
            details_json,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def legacy_digest(*fields) -> str:
    """The chain before the key (plain SHA-256 of the event's fields)."""
    return hashlib.sha256(_payload(*fields)).hexdigest()


def keyed_digest(key, *fields) -> str:
    """``key``: services.audit_key.AuditKey."""
    return key.mac(_payload(*fields))


def event_digest(prev_hash: str, occurred_at: datetime, user_id: int | None, user_login: str,
                 action: str, entity_type: str, entity_id: str, case_id: int | None,
                 details_json: str) -> str:
    """The digest ``record`` writes now: keyed with the installation's key
    (plain SHA-256 only when there is no key at all)."""
    from cus_desk.services import audit_key

    fields = (prev_hash, occurred_at, user_id, user_login, action, entity_type, entity_id,
              case_id, details_json)
    key = audit_key.load_key()
    return keyed_digest(key, *fields) if key is not None else legacy_digest(*fields)


def anchor_payload(prev_anchor_hash: str, created_at: datetime, through_event_id: int,
                   last_event_hash: str, purged_count: int) -> bytes:
    return json.dumps(
        ["ancre", prev_anchor_hash, created_at.isoformat(timespec="microseconds"), through_event_id,
         last_event_hash, purged_count],
        separators=(",", ":"),
    ).encode("utf-8")


def keyed_anchor_digest(key, prev_anchor_hash: str, created_at: datetime, through_event_id: int,
                        last_event_hash: str, purged_count: int) -> str:
    return key.mac(anchor_payload(prev_anchor_hash, created_at, through_event_id,
                                  last_event_hash, purged_count))


def signing_key(session: Session):
    """The key this transaction signs with (an AuditKey), or None when the
    store is sealed but the installation's key is missing or unreadable:
    events are then written with the plain digest, and ``audit verify``
    reports them as not proven. A store never sealed is sealed here, with
    the installation's key (created if there is none yet)."""
    if _KEY_INFO in session.info:
        return session.info[_KEY_INFO]
    from cus_desk.services import audit_key

    try:
        key = audit_key.load_key()
    except audit_key.AuditKeyError as exc:
        log.error("Journal d'audit : %s", exc)
        key = None
        unusable = True
    else:
        unusable = False
    head_file = audit_head.head_path_of(session)
    store = str(session.get_bind().url)
    sealed = True if store in _SEALED else session.scalar(
        select(AuditAnchor.id).where(AuditAnchor.purged_count == 0).limit(1))
    if sealed is None and head_file is not None and head_file.exists():
        # A store that had a signed head was sealed before: its seal was removed
        # (a journal re-chained without the key). Never re-seal it silently.
        log.error("Journal d'audit : le scellement a disparu alors qu'une tête de chaîne signée existe "
                  "(%s) ; les événements ne sont plus signés. Lancez « cus-desk audit verify ».", head_file)
        key, unusable = None, True
    if sealed is None and not unusable and (key is not None or head_file is not None):
        # A key is drawn here only for a store file (one PC); a server's key is
        # deployed by IT to every workstation (services.audit_key).
        key = key or audit_key.create_key()
        _seal(session, key)
    elif key is None:
        log.error("Journal d'audit : clé de l'installation introuvable (%s) ; les événements "
                  "sont enregistrés sans signature et la vérification le signalera.",
                  audit_key.key_path())
    if sealed is not None and key is not None:
        _SEALED.add(store)  # a seal is never removed by the program: no need to ask again
    session.info[_KEY_INFO] = key
    return key


def forget_sealed() -> None:
    """After a store file was replaced (a restore): ask it again."""
    _SEALED.clear()


def _seal(session: Session, key) -> None:
    """Close the legacy (SHA-256) chain with a keyed anchor: its last event
    and hash, signed. Every event after it is keyed."""
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one_or_none()
    through, last_hash = (last.id, last.hash) if last is not None else (0, GENESIS)
    prev = session.scalar(select(AuditAnchor.hash).order_by(AuditAnchor.id.desc()).limit(1)) or GENESIS
    created = session_clock(session).now()
    session.add(AuditAnchor(
        created_at=created, through_event_id=through, last_event_hash=last_hash, purged_count=0,
        purged_by=f"{SEAL_BY} {key.key_id}", prev_hash=prev,
        hash=keyed_anchor_digest(key, prev, created, through, last_hash, 0)))
    session.flush()
    log.warning("Journal d'audit scellé par la clé %s (événements hérités jusqu'au n° %s).",
                key.key_id, through)


def diff_fields(
    before: dict[str, Any], after: dict[str, Any], confidential: set[str] = frozenset()
) -> dict[str, Any]:
    """Fields that changed, as {field: [before, after]}; a confidential
    field (``confidential``, or one of CONFIDENTIAL_FIELDS) only says that it
    changed, never its content."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        secret = key in confidential or key in CONFIDENTIAL_FIELDS
        changes[key] = CONFIDENTIAL_MARK if secret else [_plain(old), _plain(new)]
    return changes


def members_change(before: list[tuple[int | None, tuple]], after: list[tuple[int | None, tuple]]) -> dict:
    """A change of household members for the audit trail: counts and the
    ids of the rows added, changed or removed, never names nor birth dates.
    ``before``/``after``: (tenant id or None for a new one, comparable values)."""
    old = {i: v for i, v in before if i is not None}
    kept = {i for i, _ in after if i is not None}
    return {
        "nombre": [len(before), len(after)],
        "ajoutes": sum(1 for i, _ in after if i is None),
        "modifies": sorted(i for i, v in after if i is not None and old.get(i) != v),
        "retires": sorted(i for i in old if i not in kept),
    }


LOGIN_KEY_SETTING = "audit_login_key"  # not a user setting: never listed nor exported


def login_pseudonym(session: Session, typed: str) -> str:
    """What the trail keeps of a login that matches no account (it may be a
    password typed in the wrong field): a keyed hash, so that repeated
    attempts can be told apart and counted, and nothing typed can be read
    back. The key is random, per store (settings row, never listed)."""
    import hmac
    import secrets

    from cus_desk.store.models.core import Setting

    row = session.get(Setting, LOGIN_KEY_SETTING)
    if row is None:
        from sqlalchemy.exc import IntegrityError

        try:  # two workstations may draw the first key at once (server): one wins
            with session.begin_nested():
                session.add(Setting(key=LOGIN_KEY_SETTING, value_json=json.dumps(secrets.token_hex(32))))
        except IntegrityError:
            pass
        row = session.get(Setting, LOGIN_KEY_SETTING)
    key = bytes.fromhex(json.loads(row.value_json))
    # Keyed and deliberately slow (scrypt, ~50 ms): whoever copies the store
    # with its key still cannot cheaply try guesses against a password that
    # was typed in the login field. sign_in computes it on every failure, so
    # known and unknown logins take the same time.
    digest = hashlib.scrypt(typed.strip().lower().encode("utf-8"), salt=key, n=2**12, r=8, p=1, dklen=32)
    return f"inconnu#{hmac.new(key, digest, hashlib.sha256).hexdigest()[:16]}"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


def record(
    session: Session,
    actor,  # services.base.Actor | None (None = the system itself)
    action: str,
    entity_type: str = "",
    entity_id: str | int | None = None,
    *,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
    login: str | None = None,
) -> AuditEvent:
    # One chain: the last link is read and the next appended under a lock
    # held until commit (store.dialect; a write session already holds it).
    dialect.of(session).lock_audit_chain(session)
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS
    key = signing_key(session)
    occurred_at = session_clock(session).now()
    user_id = actor.user_id if actor is not None else None
    user_login = login if login is not None else (actor.login if actor is not None else "système")
    details_json = json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str)
    entity = "" if entity_id is None else str(entity_id)
    event = AuditEvent(
        occurred_at=occurred_at,
        user_id=user_id,
        user_login=user_login,
        action=action,
        entity_type=entity_type,
        entity_id=entity,
        case_id=case_id,
        details_json=details_json,
        prev_hash=prev_hash,
    )
    fields = (prev_hash, occurred_at, user_id, user_login, action, entity_type, entity,
              case_id, details_json)
    event.hash = keyed_digest(key, *fields) if key is not None else legacy_digest(*fields)
    session.add(event)
    session.flush()
    audit_head.note_appended(session)
    return event
