"""Other clients' changes refresh this window's screens (server stores).

The listener thread (``store.listen``) hands topics over through a Qt
signal, so they reach the event bus on the GUI thread, where screens
refresh as they do after a local save."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from cus_desk.store.listen import ChangeListener, supports_live_changes

SERVER_LOST = ("Connexion au serveur perdue : les changements des autres postes ne s'affichent "
               "plus. Nouvelle tentative automatique…")
SERVER_BACK = "Connexion au serveur rétablie : les écrans se mettent à jour."


class LiveRefresh(QObject):
    topic_changed = Signal(str)
    connection_changed = Signal(bool)

    def __init__(self, ctx, window=None) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self._was_connected: bool | None = None
        self.topic_changed.connect(ctx.bus.data_changed)
        self.connection_changed.connect(self._show_state)
        # The callbacks run on the listener's thread: they only emit signals,
        # which Qt queues to this object's (the GUI) thread.
        self.listener = ChangeListener(ctx.db.url, self._heard, self.connection_changed.emit)

    def _heard(self, topic: str) -> None:
        """On the listener's thread: only thread-safe work, then a signal."""
        self.ctx.db.forget_cached({topic})  # e.g. someone's rights changed: check again
        self.topic_changed.emit(topic)

    def start(self) -> None:
        self.listener.start()

    def stop(self) -> None:
        self.listener.stop()

    def _show_state(self, connected: bool) -> None:
        if self.window is not None and self._was_connected is not None:
            self.window.statusBar().showMessage(SERVER_BACK if connected else SERVER_LOST,
                                                10_000 if connected else 0)
        self._was_connected = connected


def install_live_refresh(window, ctx) -> LiveRefresh | None:
    """Start hearing other clients' changes when the store is a server."""
    if not supports_live_changes(ctx.db.url):
        return None
    live = LiveRefresh(ctx, window)
    live.start()
    window.live_refresh = live
    from PySide6.QtWidgets import QApplication

    QApplication.instance().aboutToQuit.connect(live.stop)  # the window's closeEvent stops it too
    return live
