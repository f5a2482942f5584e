"""Changes announce themselves on a server: another client hears them
within a moment, only when committed; the listener survives a lost
connection."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from cus_desk.store.listen import ChangeListener
from cus_desk.store.models.core import Partner


class Heard:
    def __init__(self) -> None:
        self.topics: list[str] = []
        self.states: list[bool] = []
        self.event = threading.Event()

    def topic(self, topic: str) -> None:
        self.topics.append(topic)
        self.event.set()

    def state(self, connected: bool) -> None:
        self.states.append(connected)

    def wait(self, seconds: float = 2.0) -> bool:
        ok = self.event.wait(seconds)
        self.event.clear()
        return ok


@pytest.fixture
def listener(pg_db):
    heard = Heard()
    listen = ChangeListener(pg_db.url, heard.topic, heard.state, retry_seconds=0.2,
                            own_client="another-client")
    listen.start()
    assert listen.listening.wait(5)
    yield listen, heard
    listen.stop()


def _add_partner(db, name="CCAS de Boulay") -> None:
    with db.write_session() as session:
        session.add(Partner(name=name, category="ccas", active=True))


def test_a_committed_change_is_heard_within_two_seconds(pg_db, listener):
    _, heard = listener
    started = time.perf_counter()
    _add_partner(pg_db)
    assert heard.wait(2.0)
    assert heard.topics == ["partners"]
    assert time.perf_counter() - started < 2.0


def test_a_rolled_back_change_is_not_announced(pg_db, listener):
    _, heard = listener
    with pytest.raises(RuntimeError):
        with pg_db.write_session() as session:
            session.add(Partner(name="Jamais enregistré", category="ccas", active=True))
            session.flush()
            raise RuntimeError("the user cancelled")
    assert not heard.wait(1.0)
    assert heard.topics == []


def test_a_client_does_not_hear_itself(pg_db):
    from cus_desk.store.changes import CLIENT_ID

    heard = Heard()
    listen = ChangeListener(pg_db.url, heard.topic, own_client=CLIENT_ID)
    listen.start()
    try:
        assert listen.listening.wait(5)
        _add_partner(pg_db)
        assert not heard.wait(1.0)
    finally:
        listen.stop()


def test_the_listener_comes_back_after_losing_the_server_connection(pg_db, listener):
    listen, heard = listener
    with pg_db.engine.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'cus-desk listen'")).scalar()
    assert killed == 1
    deadline = time.monotonic() + 10
    while heard.states[-1:] != [True] or False not in heard.states:
        assert time.monotonic() < deadline, heard.states
        time.sleep(0.05)
    assert listen.listening.wait(5)
    _add_partner(pg_db, "CCAS de Creutzwald")
    assert heard.wait(2.0) and heard.topics[-1] == "partners"
