"""Backups of a server store: PostgreSQL's own tools, custom format.

``pg_dump --format=custom`` writes a consistent copy while others keep
working; it is written to a ``.part`` file, checked with ``pg_restore
--list`` and only then renamed. A restore checks the dump first (a CUS Desk
schema, its version), refuses while other workstations are connected, and
replaces the schema's content in ONE transaction (``--single-transaction``):
all or nothing. The password never appears on a command line (``PGPASSWORD``
in the child's environment only, or ``.pgpass`` / ``PGPASSFILE``).

Many organisations back their servers up themselves (base backups, WAL
archiving): these commands are then an administrator's extra copy, not the
policy — ``docs/deploiement.md`` says so."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from cus_desk.domain.errors import ValidationError, WorkflowError

TOOLS_MISSING = (
    "« {tool} » est introuvable sur ce poste : installez les outils clients PostgreSQL "
    "(sous Debian : apt-get install postgresql-client ; sous Windows : les outils en ligne de "
    "commande de PostgreSQL), ou appuyez-vous sur la politique de sauvegarde du serveur."
)
REQUIRED_TABLES = ("cases", "audit_events", "users", "alembic_version")


@dataclass(frozen=True)
class DumpCheck:
    path: Path
    revision: str
    tables: int


def find_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(re.search(r"/(\d+)/bin/", p).group(1)))
    if candidates:
        return candidates[-1]  # the newest client reads the older servers' dumps
    raise WorkflowError(TOOLS_MISSING.format(tool=name))


def _conninfo_and_env(url: str) -> tuple[str, dict[str, str]]:
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
        raise WorkflowError(f"{what} a échoué : {detail[0]}")
    return result


def dump(url: str, target: Path) -> Path:
    """A consistent custom-format dump of the store at ``url`` in ``target``."""
    conninfo, env = _conninfo_and_env(url)
    part = target.with_name(target.name + ".part")
    try:
        _run([find_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={part}", f"--dbname={conninfo}"], env, "La sauvegarde (pg_dump)")
        check_dump(part)
        from cus_desk.store.copies import private_file

        private_file(part)  # the user's only, whatever pg_dump's umask
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def check_dump(path: Path | str) -> DumpCheck:
    """Refuse, in French, a file that is not a dump of a CUS Desk store."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"Le fichier « {path} » n'existe pas.")
    tool = find_tool("pg_restore")
    listing = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise ValidationError(f"« {path.name} » n'est pas une sauvegarde PostgreSQL lisible "
                              "(format personnalisé de pg_dump attendu).")
    tables = set(re.findall(r" TABLE (?:DATA )?public (\w+) ", listing.stdout))
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise ValidationError(f"« {path.name} » n'est pas une sauvegarde de CUS Desk "
                              f"(tables absentes : {', '.join(missing)}).")
    data = subprocess.run([tool, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                          capture_output=True, text=True, check=False)
    match = re.search(r"^(\d{4}_\w+)$", data.stdout, re.MULTILINE)
    if not match:
        raise ValidationError(f"« {path.name} » ne dit pas quelle version de schéma elle contient.")
    return DumpCheck(path, match.group(1), len(tables))


def other_sessions(engine) -> int:
    """Other connections to this database (other workstations, tools)."""
    from cus_desk.store import dialect

    with engine.connect() as conn:
        return conn.execute(text(dialect.of(engine).other_sessions_sql)).scalar() or 0


def restore_dump(url: str, engine, source: Path | str, before=None) -> DumpCheck:
    """Replace the store's content by the dump, in one transaction.
    ``before(check)``: the pre-restore checks (services.backup), run once the
    dump passed its own checks, before anything is touched."""
    from cus_desk.store import migrate

    check = check_dump(source)
    if check.revision != migrate.HEAD:
        raise ValidationError(
            f"Cette sauvegarde a le schéma {check.revision}, cette version de CUS Desk le schéma "
            f"{migrate.HEAD} : restaurez-la avec la version qui l'a faite, puis mettez à jour "
            "(cus-desk db upgrade). Rien n'a été modifié.")
    if before is not None:
        before(check)
    engine.dispose()  # this program's idle pooled connections are not "others"
    others = other_sessions(engine)
    if others:
        raise WorkflowError(
            f"{others} autre(s) connexion(s) à cette base sont ouvertes (autres postes, outils) : "
            "fermez CUS Desk partout avant de restaurer. Rien n'a été modifié.")
    conninfo, env = _conninfo_and_env(url)
    _run([find_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-owner",
          "--no-privileges", "--exit-on-error", f"--dbname={conninfo}", str(source)], env,
         "La restauration (pg_restore)")
    return check
