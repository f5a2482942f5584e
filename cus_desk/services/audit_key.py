"""The key of the journal d'audit: one secret per installation, never in the store.

The audit chain (services.audit) and the purge anchors are HMAC-SHA256
with this key, so whoever has the database file but not the key cannot
re-chain an edited, inserted or deleted event, nor forge an anchor.

Where the key lives (first found wins):

1. ``CUS_DESK_AUDIT_KEY_FILE``: a file path (tests, a portable setup);
2. the machine configuration IT deploys (``cus_desk.machine_config``)::

       [audit]
       key_file = "C:/ProgramData/cus-desk/audit.key"

   On a PostgreSQL server every workstation of the installation must use
   the same key: IT copies one key file to each PC (readable by the users
   of CUS Desk only) and names it there;
3. the user data folder (``paths.data_dir()/audit.key``): next to the
   embedded SQLite store, never inside it.

Why a file and not the system keyring: the key must be shared by every
client of a server installation and backed up by IT like a certificate; a
per-user keyring entry would give each adviser a different key, and
headless Linux has no keyring at all. The file is created user-only (0600;
on Windows the user profile's ACL). A missing key is created only for a
store whose journal was never sealed (a new installation, an old store
upgraded); a sealed store never gets a new key silently (see
``audit.record``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cus_desk import paths
from cus_desk.domain.errors import CusDeskError

log = logging.getLogger(__name__)

ENV = "CUS_DESK_AUDIT_KEY_FILE"
FILE_NAME = "audit.key"
KEY_BYTES = 32


class AuditKeyError(CusDeskError):
    """The key file exists but cannot be used."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (names it, reveals nothing)."""
        return key_id(self.secret)

    def mac(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()


def key_id(secret: bytes) -> str:
    return hmac.new(secret, b"cus-desk audit key id", hashlib.sha256).hexdigest()[:16]


def key_path() -> Path:
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    from cus_desk.machine_config import load_machine_config

    configured = load_machine_config().audit_key_file
    if configured:
        return Path(configured)
    return paths.data_dir() / FILE_NAME


def _read(path: Path) -> bytes | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(
            f"La clé du journal d'audit « {path} » ne peut pas être lue ({exc}). "
            "Adressez-vous au service informatique.") from exc
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != KEY_BYTES:
        raise AuditKeyError(
            f"Le fichier « {path} » n'est pas une clé de journal d'audit valide "
            f"({2 * KEY_BYTES} caractères hexadécimaux attendus). Restaurez-le depuis sa sauvegarde.")
    return secret


_cache: dict[Path, tuple[tuple[int, int], AuditKey]] = {}


def load_key(path: Path | None = None) -> AuditKey | None:
    """The installation's key, or None when its file does not exist (read
    again whenever the file changes)."""
    path = path or key_path()
    try:
        st = path.stat()
    except FileNotFoundError:
        _cache.pop(path, None)
        return None
    except OSError:
        st = None
    stamp = (st.st_mtime_ns, st.st_size) if st is not None else None
    cached = _cache.get(path)
    if cached is not None and stamp is not None and cached[0] == stamp:
        return cached[1]
    secret = _read(path)
    if secret is None:
        return None
    key = AuditKey(secret, path)
    if stamp is not None:
        _cache[path] = (stamp, key)
    return key


def create_key(path: Path | None = None) -> AuditKey:
    """Draw a new key into ``path`` (user-only); if another process created
    it meanwhile, that one is kept."""
    path = path or key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = load_key(path)
        assert existing is not None
        return existing
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())
    log.warning("Nouvelle clé du journal d'audit créée : %s (empreinte %s) ; sauvegardez-la.",
                path, key_id(secret))
    return AuditKey(secret, path)
