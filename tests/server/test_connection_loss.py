"""The network is not a disk: a server that goes away mid-session, a
backend killed in the middle of an import, a server unreachable at start."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from cus_desk.cli import main
from cus_desk.domain.errors import ServerConnectionError
from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.services.partners import PartnerInput, PartnerService
from cus_desk.store.db import open_database, upgrade_database
from cus_desk.store.models.core import Partner
from tests import pg_server


@pytest.fixture(scope="module")
def private_server():
    """A server of our own, that this module may stop and start again."""
    server = pg_server.start(log=lambda _m: None)  # its own folder, readable by the server user
    yield server
    server.stop()


def _pg_ctl(server, *args) -> None:
    subprocess.run([str(Path(server.bin_dir) / "pg_ctl"), "-D", server.data_dir, *args],
                   check=True, capture_output=True, cwd=server.base_dir,
                   **pg_server._run_as_kwargs(server.run_as))


def _stop(server) -> None:
    _pg_ctl(server, "stop", "-m", "fast", "-w")


def _start(server) -> None:
    _pg_ctl(server, "start", "-w", "-l", str(Path(server.base_dir) / "restart.log"), "-o",
            f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off")


@pytest.fixture
def private_db(private_server, clock):
    admin = create_engine(private_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS cus_lost WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE cus_lost"))
    admin.dispose()
    url = private_server.admin_dsn("cus_lost")
    upgrade_database(url, clock=clock).dispose()
    db = open_database(url, clock=clock)
    yield db
    db.dispose()


def _partner_names(db) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(Partner.name).where(Partner.name.like("Test %"))))


def test_server_gone_mid_session_then_back(private_server, private_db):
    head = create_user(private_db, "pole.social", "Sophie", Role.SOCIAL_HEAD, "Mot-de-passe-test-1", None)
    service = PartnerService(private_db, head)
    service.create(PartnerInput("Test CCAS avant", "ccas"))
    _stop(private_server)
    try:
        with pytest.raises(ServerConnectionError) as lost:
            service.create(PartnerInput("Test CCAS pendant", "ccas"))
        assert "Connexion au serveur perdue" in lost.value.message
        assert "rien n'a été enregistré" in lost.value.message
    finally:
        _start(private_server)
    # Back: the same service reconnects by itself; what failed was not half written.
    service.create(PartnerInput("Test CCAS après", "ccas"))
    assert _partner_names(private_db) == {"Test CCAS avant", "Test CCAS après"}


def test_backend_killed_during_an_import_leaves_nothing(private_db, tmp_path):
    from cus_desk.services.seniors import SeniorsService

    recovery = create_user(private_db, "recouvrement", "Romain", Role.RECOVERY, "Mot-de-passe-test-1", None)
    with private_db.read_session() as session:
        agency = session.execute(text("SELECT name FROM agencies ORDER BY id LIMIT 1")).scalar()
    lines = ["Contrat;Nom;Prénom;Né le;Agence;Commune;Solde;Mois impayés"]
    lines += [f"57-{i:06d};NOM{i};Prénom;12/03/1950;{agency};Metz;1234,56;2" for i in range(30_000)]
    path = tmp_path / "impayes_2026-10-31.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    from datetime import date

    outcome: dict = {}

    def run_import() -> None:
        try:
            outcome["result"] = SeniorsService(private_db, recovery).import_arrears(path, date(2026, 10, 31))
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    worker = threading.Thread(target=run_import)
    worker.start()
    killer = create_engine(private_db.url, isolation_level="AUTOCOMMIT")
    killed = 0
    deadline = time.monotonic() + 60
    with killer.connect() as conn:
        while worker.is_alive() and not killed and time.monotonic() < deadline:
            # The import's backend: the one holding the writer's advisory lock.
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()")).scalar()
            time.sleep(0.02)
    worker.join(60)
    killer.dispose()
    assert killed == 1, "the import ended before it could be interrupted"
    assert isinstance(outcome.get("error"), ServerConnectionError), outcome
    with private_db.read_session() as session:
        assert session.execute(text("SELECT count(*) FROM arrears_lines")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM arrears_extracts")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM leases")).scalar() == 0


def test_unreachable_server_at_start_is_exit_2_in_french(capsys):
    port = pg_server.free_port()
    code = main(["--db", f"postgresql://cus@127.0.0.1:{port}/cusdesk", "cases", "list", "--json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ne répond pas" in err and "Traceback" not in err


@pytest.mark.gui
def test_a_form_keeps_what_was_typed_when_the_server_is_lost(qtbot, private_server, private_db):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    from cus_desk.ui.partners.dialogs import PartnerDialog

    head = create_user(private_db, "pole.social", "Sophie", Role.SOCIAL_HEAD, "Mot-de-passe-test-1", None)
    service = PartnerService(private_db, head)
    dialog = PartnerDialog(service.create, [])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Test CLIC du Pays messin")
    dialog.category.setCurrentIndex(dialog.category.findData("clic"))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    _stop(private_server)
    try:
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        assert dialog.isVisible()
        assert "Connexion au serveur perdue" in dialog.error.text()
        assert dialog.name.text() == "Test CLIC du Pays messin"
    finally:
        _start(private_server)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)  # the same form, once the server is back
    assert not dialog.isVisible()
    assert "Test CLIC du Pays messin" in _partner_names(private_db)
