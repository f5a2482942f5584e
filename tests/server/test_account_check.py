"""On a server, the per-call account check costs no round trip per call,
and a change of someone's rights still reaches every client at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from cus_desk.domain.errors import SessionRevokedError
from cus_desk.services.partners import PartnerService
from cus_desk.services.users import UsersService
from cus_desk.store.db import open_database
from cus_desk.ui.context import AppContext
from cus_desk.ui.live_refresh import LiveRefresh


def _count_account_checks(db):
    seen = []

    def on_execute(_conn, _cursor, statement, *_args):
        if statement.startswith("SELECT active, role, agency_id"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    return seen


def test_twenty_calls_cost_one_account_check(db, actors):
    checks = _count_account_checks(db)
    service = PartnerService(db, actors["adviser_metz"])
    for _ in range(20):
        service.agencies()
    assert len(checks) == 1


@pytest.mark.gui
def test_a_deactivation_on_another_client_is_applied_at_once(qtbot, db, actors, clock):
    # This client, listening as the GUI does.
    live = LiveRefresh(AppContext(db=db, actor=actors["adviser_metz"]))
    live.listener._own = "this-client"
    live.start()
    assert live.listener.listening.wait(5)
    service = PartnerService(db, actors["adviser_metz"])
    service.agencies()  # checked now: good for a few seconds
    # The administrator, on another workstation.
    admin_db = open_database(db.url, clock=clock)
    try:
        user = UsersService(admin_db, actors["admin"]).get(actors["adviser_metz"].user_id)
        UsersService(admin_db, actors["admin"]).set_active(user.id, False)
        def refused() -> bool:
            try:
                service.agencies()
            except SessionRevokedError:
                return True
            return False
        qtbot.waitUntil(refused, timeout=2_000)
    finally:
        live.stop()
        admin_db.dispose()
