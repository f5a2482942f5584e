"""Other clients' changes, heard from the PostgreSQL server.

A ``ChangeListener`` keeps one dedicated connection that LISTENs on the
channel ``store.changes`` notifies, in a daemon thread: it waits on the
socket (no query, no polling of the server) and hands each topic changed by
another client to a callback. A lost connection is retried every few
seconds; ``on_state`` says when the server is lost and back. No Qt here:
the GUI wraps it (``ui/live_refresh.py``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

from cus_desk.store.changes import CHANNEL, CLIENT_ID, parse_payload

log = logging.getLogger(__name__)


def supports_live_changes(url: str) -> bool:
    """Only a server store has other clients to hear from."""
    return make_url(url).get_backend_name() == "postgresql"


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI (its query options, e.g. sslmode, kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    def __init__(self, url: str, on_topic: Callable[[str], None],
                 on_state: Callable[[bool], None] | None = None, *,
                 retry_seconds: float = 3.0, own_client: str = CLIENT_ID) -> None:
        self._conninfo = libpq_conninfo(url)
        self._on_topic = on_topic
        self._on_state = on_state or (lambda _connected: None)
        self._retry = retry_seconds
        self._own = own_client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in place

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cus-desk-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        connected = None
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5,
                                     application_name="cus-desk listen") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if connected is not True:
                        connected = True
                        self._on_state(True)
                    while not self._stop.is_set():
                        # Waits on the socket for up to a second, then checks stop.
                        for note in conn.notifies(timeout=1.0):
                            topic, client = parse_payload(note.payload)
                            if client != self._own and topic:
                                self._on_topic(topic)
            except psycopg.Error as exc:
                self.listening.clear()
                if connected is not False:
                    connected = False
                    log.warning("live refresh: server connection lost (%s)", exc.__class__.__name__)
                    self._on_state(False)
                self._stop.wait(self._retry)
        self.listening.clear()
