"""Pure rules of the security feature: password strength, lockout, audit
chain walking, retention cut-offs, backup rotation. No Qt, no SQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# --- passwords ---------------------------------------------------------------

PASSWORD_MIN_LENGTH = 10
PASSPHRASE_LENGTH = 16  # a long passphrase needs no mix of character kinds


def password_problems(password: str, login: str = "") -> list[str]:
    """What is wrong with a new password, as French sentences (empty: fine).

    Rule: at least 10 characters mixing at least three kinds among
    lowercase, uppercase, digits and other signs — or a passphrase of at
    least 16 characters; never the login itself."""
    problems: list[str] = []
    if password != password.strip():
        problems.append("Le mot de passe ne doit pas commencer ni finir par une espace.")
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(
            f"Le mot de passe doit compter au moins {PASSWORD_MIN_LENGTH} caractères "
            f"(il en a {len(password)})."
        )
    kinds = sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))
    if len(password) < PASSPHRASE_LENGTH and kinds < 3:
        problems.append(
            "Mélangez au moins trois sortes de caractères (minuscules, majuscules, chiffres, "
            f"signes) ou choisissez une phrase de passe d'au moins {PASSPHRASE_LENGTH} caractères."
        )
    if login and login.strip() and login.strip().lower() in password.lower():
        problems.append("Le mot de passe ne doit pas contenir l'identifiant.")
    return problems


# --- audit output -------------------------------------------------------------


def printable(text: str) -> str:
    """A stored string made safe to print in a terminal or a table cell:
    control and format characters (newlines, ANSI escapes, bidirectional
    overrides…) are shown as visible escapes (``\\n``, ``\\x1b``,
    ``\\u202e``), so a typed login cannot forge a line nor colour the output."""
    import unicodedata

    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
            code = ord(ch)
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or
                       (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                        else f"\\U{code:08x}"))
        else:
            out.append(ch)
    return "".join(out)


def printable_value(value):
    """``printable`` applied to every string inside a JSON-like value (keys too)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [printable_value(v) for v in value]
    if isinstance(value, dict):
        return {printable(str(k)): printable_value(v) for k, v in value.items()}
    return value


# --- lockout -----------------------------------------------------------------

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(failed_logins: int, now: datetime) -> tuple[int, datetime | None]:
    """New (failed_logins, locked_until) after one more wrong password:
    the fifth in a row locks the account for 15 minutes and restarts the count."""
    count = failed_logins + 1
    if count >= MAX_FAILED_LOGINS:
        return 0, now + LOCK_DURATION
    return count, None


# --- audit chain -------------------------------------------------------------


@dataclass(frozen=True)
class ChainLink:
    """What verification needs of one audit event."""

    id: int
    prev_hash: str
    hash: str
    computed: str  # digest recomputed from the stored fields


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str  # French sentence


def first_break(links: Iterable[ChainLink], start_hash: str,
                after_id: int | None = None) -> tuple[int, ChainBreak | None]:
    """Walk the chain from ``start_hash`` (the genesis, or the anchor left
    by the last purge). Returns (events checked, first break or None)."""
    expected_prev = start_hash
    count = 0
    for link in links:
        if count == 0 and after_id is not None and link.id <= after_id:
            return count, ChainBreak(
                link.id,
                f"L'événement n° {link.id} est antérieur à la dernière purge du journal "
                "alors qu'il aurait dû être supprimé : le journal a été modifié.",
            )
        if link.prev_hash != expected_prev:
            where = "le premier événement conservé" if count == 0 else f"l'événement n° {link.id}"
            return count, ChainBreak(
                link.id,
                f"Lien rompu avant l'événement n° {link.id} : {where} ne suit pas "
                "l'événement attendu (un ou plusieurs événements ont été supprimés, "
                "insérés ou modifiés).",
            )
        if link.computed != link.hash:
            return count, ChainBreak(
                link.id,
                f"L'événement n° {link.id} a été modifié après son enregistrement "
                "(son empreinte ne correspond plus à son contenu).",
            )
        expected_prev = link.hash
        count += 1
    return count, None


def anchor_digest(prev_anchor_hash: str, created_at: datetime, through_event_id: int,
                  last_event_hash: str, purged_count: int) -> str:
    """Anchors left by audit purges are chained too, so that an anchor cannot
    be altered or removed silently."""
    payload = json.dumps(
        [prev_anchor_hash, created_at.isoformat(timespec="microseconds"), through_event_id,
         last_event_hash, purged_count],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --- retention ---------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def case_last_activity(last_activity_on: date | None, closed_on: date | None,
                       opened_on: date | None) -> date | None:
    candidates = [d for d in (last_activity_on, closed_on, opened_on) if d is not None]
    return max(candidates) if candidates else None


def is_due(reference_day: date | None, years: int, today: date) -> bool:
    """True when ``reference_day`` is at least ``years`` old on ``today``."""
    return reference_day is not None and reference_day <= years_before(today, years)


# --- backup rotation ---------------------------------------------------------

DAILY_KEPT = 7
WEEKLY_KEPT = 4


def backups_to_keep(stamps: Sequence[datetime], daily: int = DAILY_KEPT,
                    weekly: int = WEEKLY_KEPT) -> set[datetime]:
    """Grandfather-father rotation: the newest copy of each of the last
    ``daily`` days that have a copy, plus the newest copy of each of the last
    ``weekly`` ISO weeks that have one."""
    ordered = sorted(stamps, reverse=True)
    keep: set[datetime] = set()

    def newest_per(key: Callable[[datetime], object], limit: int) -> None:
        seen: list[object] = []
        for stamp in ordered:
            k = key(stamp)
            if k in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(k)
            keep.add(stamp)

    newest_per(lambda s: s.date(), daily)
    newest_per(lambda s: s.isocalendar()[:2], weekly)
    return keep
