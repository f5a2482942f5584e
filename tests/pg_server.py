#!/usr/bin/env python3
"""A throw-away PostgreSQL server for the tests and CI.

    python tests/pg_server.py start [--dir DIR]   # prints the admin URL (and `export` lines)
    python tests/pg_server.py stop  [--dir DIR]   # stops it and deletes its files
    python tests/pg_server.py url   [--dir DIR]   # the admin URL of the running one

As a module: ``server = pg_server.start()`` … ``server.stop()``; ``server.url``
is a superuser URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``)
from which tests create their own databases.

``initdb`` runs in a temporary folder and ``postgres`` listens on a free
localhost port and on a unix socket inside that folder (never the machine's
own cluster). As root (CI) the server runs as the ``postgres`` system user
(PostgreSQL refuses to run as root); otherwise as the current user. When the
binaries are missing, root with apt-get installs Debian's ``postgresql``
package; anyone else gets the exact command to run. Settings are tuned for
tests (no fsync): never keep data in it.

Standard library only (it also runs before the virtual environment exists).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SUPERUSER = "postgres"
STATE_FILE = "cus-desk-pg.json"
DEFAULT_DIR = Path(tempfile.gettempdir()) / "cus-desk-test-pg"

MISSING = (
    "PostgreSQL (serveur 15 ou plus récent) est introuvable sur cette machine / "
    "PostgreSQL server binaries (15 or newer) not found.\n"
    "  Debian/Ubuntu : sudo apt-get install -y postgresql\n"
    "  Fedora        : sudo dnf install -y postgresql-server postgresql-contrib\n"
    "  macOS         : brew install postgresql@15\n"
    "  Windows       : https://www.postgresql.org/download/windows/ "
    "(puis ajoutez le dossier bin au PATH)\n"
    "Ou indiquez un serveur existant / or use an existing server: "
    "CUS_DESK_TEST_PG_URL=postgresql+psycopg://utilisateur@hote:port/postgres"
)


class PgServerError(RuntimeError):
    """The server could not be found, installed or started (message for people)."""


@dataclass
class Server:
    url: str  # superuser URL, database "postgres"
    data_dir: str
    socket_dir: str
    port: int
    bin_dir: str
    run_as: str | None  # system user the server runs as (None: current user)
    base_dir: str

    def stop(self) -> None:
        stop_server(self)

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_bin_dir() -> Path | None:
    """The folder of the newest ``initdb``/``postgres`` found."""
    env = os.environ.get("CUS_DESK_PG_BIN")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        folder = Path(out.stdout.strip())
        if (folder / "initdb").exists():
            return folder
    return None


def ensure_binaries(log=print) -> Path:
    folder = find_bin_dir()
    if folder is not None:
        return folder
    if _is_root() and shutil.which("apt-get"):
        log("[pg] PostgreSQL absent : installation du paquet Debian « postgresql » (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True, env=env,
        )
        folder = find_bin_dir()
        if folder is not None:
            return folder
    raise PgServerError(MISSING)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as_kwargs(run_as: str | None) -> dict:
    if run_as is None:
        return {}
    import pwd

    entry = pwd.getpwnam(run_as)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_tree(path: Path, run_as: str | None) -> None:
    if run_as is None:
        return
    import pwd

    entry = pwd.getpwnam(run_as)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def start(base_dir: Path | str | None = None, log=print) -> Server:
    """initdb + postgres in a new folder under ``base_dir`` (a temporary one
    by default). Raises PgServerError with a message for people."""
    bin_dir = ensure_binaries(log)
    run_as = None
    if _is_root():
        try:
            import pwd

            pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise PgServerError(
                "Exécuté en root, le serveur de test doit tourner sous l'utilisateur système "
                "« postgres », absent ici (installez le paquet postgresql) / running as root "
                "needs the 'postgres' system user."
            ) from exc
        run_as = SUPERUSER
    base = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="cus-desk-pg-"))
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    _chown_tree(base, run_as)
    data_dir = base / "data"
    sock_dir = base / "sock"
    sock_dir.mkdir(exist_ok=True)
    _chown_tree(sock_dir, run_as)
    kwargs = _run_as_kwargs(run_as)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("PGDATA", None)
    if run_as is not None:
        env["HOME"] = str(base)
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "-A", "trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        capture_output=True, text=True, env=env, cwd=str(base), **kwargs,
    )
    if init.returncode != 0:
        raise PgServerError(f"initdb a échoué / initdb failed:\n{init.stdout}\n{init.stderr}")
    require_scram_for_personal_accounts(data_dir / "pg_hba.conf")
    port = free_port()
    logfile = base / "postgres.log"
    with open(logfile, "ab") as fh:
        _chown_tree(logfile, run_as)
        proc = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
             "-k", str(sock_dir), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=300", "-c", "shared_buffers=64MB",
             "-c", "log_min_messages=warning", "-c", "logging_collector=off"],
            stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(base),
            start_new_session=True, **kwargs,
        )
    server = Server(
        url=f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres",
        data_dir=str(data_dir), socket_dir=str(sock_dir), port=port, bin_dir=str(bin_dir),
        run_as=run_as, base_dir=str(base),
    )
    _wait_ready(server, proc, logfile)
    (base / STATE_FILE).write_text(json.dumps(asdict(server)))
    return server


SCRAM_RULE = "host all +cus_client 127.0.0.1/32 scram-sha-256"


def require_scram_for_personal_accounts(hba: Path) -> None:
    """The test server trusts everyone on localhost, except the personal
    accounts of CUS Desk (members of ``cus_client``, issue 15), which must
    give their SCRAM password as on a real server. First match wins: the
    rule goes first."""
    lines = hba.read_text().splitlines()
    if SCRAM_RULE not in lines:
        hba.write_text("\n".join(["# CUS Desk personal accounts: SCRAM, as in production",
                                   SCRAM_RULE, *lines]) + "\n")


def _wait_ready(server: Server, proc: subprocess.Popen, logfile: Path) -> None:
    isready = Path(server.bin_dir) / "pg_isready"
    for _ in range(300):  # up to ~30 s (a cold CI machine)
        if proc.poll() is not None:
            raise PgServerError(
                "Le serveur PostgreSQL de test s'est arrêté au démarrage / the test server "
                f"exited at start-up:\n{logfile.read_text(errors='replace')[-3000:]}"
            )
        ok = subprocess.run(
            [str(isready), "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", SUPERUSER],
            capture_output=True,
        )
        if ok.returncode == 0:
            return
        time.sleep(0.1)
    stop_server(server)
    raise PgServerError("Le serveur PostgreSQL de test ne répond pas / test server not ready")


def stop_server(server: Server, remove: bool = True) -> None:
    pg_ctl = Path(server.bin_dir) / "pg_ctl"
    if Path(server.data_dir).exists():
        subprocess.run(
            [str(pg_ctl), "-D", server.data_dir, "stop", "-m", "immediate", "-w"],
            capture_output=True, cwd=server.base_dir, **_run_as_kwargs(server.run_as),
        )
    if remove:
        shutil.rmtree(server.base_dir, ignore_errors=True)


def load(base_dir: Path | str = DEFAULT_DIR) -> Server | None:
    state = Path(base_dir) / STATE_FILE
    if not state.exists():
        return None
    return Server(**json.loads(state.read_text()))


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "url"))
    parser.add_argument("--dir", default=str(DEFAULT_DIR),
                        help=f"dossier du serveur jetable (défaut : {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.command == "start":
        old = load(args.dir)
        if old is not None:
            stop_server(old)
        try:
            server = start(args.dir, log=lambda m: print(m, file=sys.stderr))
        except PgServerError as exc:
            print(f"[pg] {exc}", file=sys.stderr)
            return 1
        print(f"export CUS_DESK_TEST_PG_URL={server.url}")
        print("export CUS_DESK_TEST_DB=postgresql")
        return 0
    server = load(args.dir)
    if server is None:
        print(f"[pg] aucun serveur de test dans {args.dir} / no test server there", file=sys.stderr)
        return 0 if args.command == "stop" else 1
    if args.command == "url":
        print(server.url)
    else:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
