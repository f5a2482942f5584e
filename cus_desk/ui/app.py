"""Start the GUI: show the window at once, then open the database off the
GUI thread, log in, and fill the first screen."""

from __future__ import annotations

import logging
import sys
import time

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from cus_desk import APP_NAME, APP_ORG, __version__
from cus_desk.logging_setup import configure_logging

log = logging.getLogger(__name__)


class Startup:
    """The steps after the window is shown; kept as an object so tests and
    the start-up benchmark can wait for ``ready``."""

    def __init__(self, window, url: str, demo: bool, capture=None, clock=None, create: bool = False) -> None:
        from cus_desk.domain.clock import system_clock

        self.window, self.url, self.demo, self.capture = window, url, demo, capture
        self.create = create
        self.clock = clock or system_clock()
        self._asked_password = False
        # On a server address naming no account: (login, password) of the
        # person, who connects with her own server account.
        self._base_url = url
        self.person: tuple[str, str] | None = None
        self.ctx = None
        self.db = None
        self.error: BaseException | None = None
        self.finished_at: float | None = None

    def start(self) -> None:
        from cus_desk.ui.workers import run_in_background

        if self.person is None and not self.demo:
            from cus_desk.store.db import needs_personal_account

            if needs_personal_account(self._base_url) and not self._ask_person(""):
                return

        self.window.loading.setText(
            "Création des données de démonstration…" if self.demo else "Ouverture de la base de données…"
        )
        run_in_background(self.window, lambda _p: open_app_database(self.url, self.demo, self.clock, self.create),
                          self._opened, self._failed)

    def _ask_person(self, message: str) -> bool:
        """Ask the person's login and password (her server account's too)."""
        import os

        from cus_desk.domain.errors import CusDeskError
        from cus_desk.store.db import personal_url, server_address
        from cus_desk.ui.login import ask_personal_account

        where = server_address(self._base_url)
        login = self.person[0] if self.person else os.environ.get("CUS_DESK_USER", "")
        while True:
            typed = ask_personal_account(self.window, where, login, message)
            if typed is None:
                self.window.close()
                return False
            try:
                self.url = personal_url(self._base_url, *typed)
            except CusDeskError as exc:
                login, message = typed[0], exc.message
                continue
            self.person = typed
            return True

    def _opened(self, db) -> None:
        from cus_desk.domain.errors import CusDeskError
        from cus_desk.ui.context import AppContext

        self.db = db
        if self.person is not None:
            try:
                actor = obtain_actor(self.window, db, self.demo, credentials=self.person)
            except CusDeskError as exc:
                db.dispose()
                self.db = None
                if self._ask_person(exc.message):
                    self.start()
                return
        else:
            actor = obtain_actor(self.window, db, self.demo)
        if actor is None:
            self.window.close()
            return
        self.ctx = AppContext(db=db, actor=actor, demo=self.demo)
        self.window.attach(self.ctx)
        install_session_features(self.window, self.ctx)
        self.finished_at = time.perf_counter()
        if self.capture is not None:
            QTimer.singleShot(300, self._capture_and_quit)

    def _capture_and_quit(self) -> None:
        self.capture.parent.mkdir(parents=True, exist_ok=True)
        self.window.grab().save(str(self.capture))
        QApplication.instance().quit()

    def _failed(self, exc: BaseException) -> None:
        from cus_desk.domain.errors import DatabaseDamagedError, ServerPasswordError
        from cus_desk.ui.common import show_error

        self.error = exc
        self.window.loading.setText("La base de données n'a pas pu être ouverte.")
        if isinstance(exc, ServerPasswordError) and self.person is not None:
            if self._ask_person("Identifiant ou mot de passe incorrect (refusé par le serveur). "
                                "Vérifiez-les et réessayez."):
                self.error = None
                self.start()
            return
        if isinstance(exc, ServerPasswordError) and not self._asked_password:
            password = ask_server_password(self.window, exc.message)
            if password is not None:
                from cus_desk.store.db import with_password

                self._asked_password = True
                self.url = with_password(self.url, password)
                self.error = None
                self.start()
                return
            self.window.close()
            return
        if isinstance(exc, DatabaseDamagedError):
            from cus_desk.ui.login import offer_restore

            # The damaged file is never opened for writing; the latest good
            # backup is offered, and the damaged file kept aside.
            if offer_restore(self.window, self.url, exc, self.clock):
                self.error = None
                self.start()
                return
        else:
            show_error(self.window, exc, "Ouverture de la base impossible")
        self.window.close()


def ask_server_password(parent, reason: str) -> str | None:
    """The server's password, typed once (never stored, never logged)."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    text, ok = QInputDialog.getText(
        parent, "Mot de passe du serveur",
        reason + "\n\nMot de passe du compte de connexion au serveur :", QLineEdit.EchoMode.Password)
    return text if ok and text else None


def open_app_database(url: str, demo: bool, clock=None, create: bool = False):
    """The database (the demo one rebuilt when stale); the demo's rebuild
    note, if any, is kept on the database for the status bar. ``create``: an
    empty file given may become a new store (``--create``)."""
    from cus_desk.store.db import open_database, program_owned

    if not demo:
        db = open_database(url, clock=clock, create=create or program_owned(url))
        from cus_desk.services.audit_verify import check_at_open

        if check_at_open(db):  # the audit chain's heads; the details are in the log
            db.notice = ("Journal d'audit altéré : des événements manquent ou ne correspondent plus. "
                         "Prévenez l'administrateur.")
        return db
    from cus_desk.demo import open_demo

    db, note = open_demo(url, clock)
    db.notice = note
    return db


def obtain_actor(window, db, demo: bool, **kwargs):
    from cus_desk.ui import login

    return login.obtain_actor(window, db, demo, **kwargs)


def install_session_features(window, ctx) -> None:
    from cus_desk.ui import admin, login

    login.install_idle_lock(window, ctx)
    admin.install_admin_menu(window, ctx)
    from cus_desk.ui.live_refresh import install_live_refresh

    install_live_refresh(window, ctx)


def install_qt_translations(app: QApplication) -> list[QTranslator]:
    """Qt's own texts (standard buttons « Annuler », « Oui », file, print and
    colour dialogs) in French, from the catalogues shipped with PySide6.
    Once per application; a missing catalogue is logged, not fatal (the
    dialogs stay in English)."""
    installed = getattr(app, "qt_translators", None)
    if installed is not None:
        return installed
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    french = QLocale(QLocale.Language.French, QLocale.Country.France)
    installed = []
    for catalogue in ("qtbase",):
        translator = QTranslator(app)
        if translator.load(french, catalogue, "_", folder) and app.installTranslator(translator):
            installed.append(translator)
        else:
            log.warning("Qt translation %s_fr not found in %s: Qt dialogs stay in English",
                        catalogue, folder)
    app.qt_translators = installed  # kept alive as long as the application
    return installed


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(APP_ORG)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    from cus_desk.ui.branding import app_icon, set_windows_app_id

    set_windows_app_id()
    app.setWindowIcon(app_icon())
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    install_qt_translations(app)
    if not hasattr(app, "gc_guard"):
        from cus_desk.ui.gc_guard import GuiThreadGarbageCollector

        app.gc_guard = GuiThreadGarbageCollector(app)
    from cus_desk.paths import resource_text

    app.setStyleSheet(resource_text("style.qss"))
    return app


def _install_excepthook(window) -> None:
    shown = {"done": False}

    def hook(exc_type, exc, tb):
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        if not shown["done"]:
            shown["done"] = True
            from cus_desk.ui.common import show_error

            show_error(window, exc)

    sys.excepthook = hook


def run_gui(url: str, demo: bool = False, capture=None, clock=None, create: bool = False) -> int:
    configure_logging()
    app = make_application()
    from cus_desk.ui import qt_binding

    problem = qt_binding.defect_message()
    if problem is not None:  # the process would abort later, losing the user's work
        qt_binding.explain(problem)
        return 2
    from cus_desk.ui.main_window import MainWindow

    window = MainWindow()
    _install_excepthook(window)
    window.show()
    startup = Startup(window, url, demo, capture, clock, create)
    QTimer.singleShot(0, startup.start)
    code = app.exec()
    if startup.db is not None:
        try:
            from cus_desk.services.backup import backup_at_exit

            backup_at_exit(startup.db)
        except Exception:  # noqa: BLE001 - a failed backup must not lose the exit
            log.exception("automatic backup at exit failed")
        startup.db.dispose()
    return code
