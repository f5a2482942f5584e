"""Reading and changing settings (declared in domain.settings)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cus_desk.domain.errors import ValidationError
from cus_desk.domain.settings import SETTINGS, SettingSpec
from cus_desk.services import access, audit
from cus_desk.services.base import Service
from cus_desk.store.models.core import Setting

# Settings change rarely, and any change committed here or heard from the
# server empties the cache at once (Database.forget_cached); the delay only
# bounds how stale a setting changed by another program without a listener
# (a CLI on another PC) can be.
SETTINGS_TTL_S = 30.0


@event.listens_for(Session, "before_flush")
def _forget_read_settings(session, _context, _instances) -> None:
    """A setting written in this transaction is read anew afterwards."""
    if any(isinstance(o, Setting) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop("cus_settings", None)


def read_setting(session: Session, spec: SettingSpec) -> Any:
    """For services that need a setting inside their own transaction. Read
    once per transaction (a setting never stored — its default — would
    otherwise cost a query at every read: a round trip on a server)."""
    memo = session.info.setdefault("cus_settings", {})
    if spec.key not in memo:
        shared = session.info.get("settings_cache")  # the database's, across transactions
        seen = shared.get(spec.key) if shared is not None else None
        if seen is not None and time.monotonic() - seen[1] < SETTINGS_TTL_S:
            memo[spec.key] = seen[0]
        else:
            row = session.get(Setting, spec.key)
            memo[spec.key] = None if row is None else row.value_json
            if shared is not None:
                shared[spec.key] = (memo[spec.key], time.monotonic())
    raw = memo[spec.key]
    return spec.default if raw is None else json.loads(raw)


class SettingsService(Service):
    def get(self, spec: SettingSpec) -> Any:
        with self._read() as session:
            return read_setting(session, spec)

    def all(self) -> dict[str, Any]:
        with self._read() as session:
            stored = {r.key: json.loads(r.value_json) for r in session.scalars(select(Setting))}
        return {key: stored.get(key, spec.default) for key, spec in SETTINGS.items()}

    def set(self, spec: SettingSpec, value: Any) -> None:
        access.require(self.actor, access.Permission.SETTINGS_EDIT)
        value = validate_setting(spec, value)
        with self._write() as session:
            row = session.get(Setting, spec.key)
            old = json.loads(row.value_json) if row else spec.default
            if row is None:
                row = Setting(key=spec.key, value_json="null")
                session.add(row)
            row.value_json = json.dumps(value, ensure_ascii=False)
            row.updated_by_id = self.actor.user_id
            audit.record(session, self.actor, audit.Action.UPDATE, "setting", spec.key,
                         details={spec.key: [old, value]})


def validate_setting(spec: SettingSpec, value: Any) -> Any:
    if spec.type is bool:
        if not isinstance(value, bool):
            raise ValidationError(f"« {spec.label} » attend oui ou non.", spec.key)
        return value
    if spec.type is int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"« {spec.label} » attend un nombre entier.", spec.key) from None
        if spec.minimum is not None and number < spec.minimum:
            raise ValidationError(f"« {spec.label} » doit valoir au moins {spec.minimum}.", spec.key)
        if spec.maximum is not None and number > spec.maximum:
            raise ValidationError(f"« {spec.label} » doit valoir au plus {spec.maximum}.", spec.key)
        return number
    text = str(value).strip()
    if not text:
        raise ValidationError(f"« {spec.label} » ne peut pas être vide.", spec.key)
    return text
