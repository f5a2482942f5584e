"""Who is at the keyboard: first-start administrator creation, the login
dialog, the mandatory change of a temporary password, the idle lock, and
the offer to restore a backup when the database is damaged."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cus_desk.domain.errors import CusDeskError
from cus_desk.domain.security import password_problems
from cus_desk.services import auth
from cus_desk.services.base import Actor
from cus_desk.ui.common import set_accessible

ERROR_STYLE = "color: #a61b1b;"
HINT_STYLE = "color: #555555;"


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    set_accessible(field, name)
    return field


def _message_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setAccessibleName("Message")
    return label


class _StrengthHint(QLabel):
    """Live feedback on a new password."""

    def __init__(self, field: QLineEdit, login: Callable[[], str]) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setStyleSheet(HINT_STYLE)
        self.setAccessibleName("Solidité du mot de passe")
        self._field, self._login = field, login
        field.textChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        text = self._field.text()
        if not text:
            self.setText("Au moins 10 caractères mêlant minuscules, majuscules, chiffres ou signes "
                         "(ou une phrase de passe d'au moins 16 caractères).")
            return
        problems = password_problems(text, self._login())
        self.setText("Mot de passe suffisamment solide." if not problems else " ".join(problems))


class FirstAdminDialog(QDialog):
    """First start: the database has no administrator yet."""

    def __init__(self, db, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.actor: Actor | None = None
        self.setWindowTitle("CUS Desk — premier démarrage")
        intro = QLabel("Bienvenue. Cette base ne contient encore aucun compte : créez le compte "
                       "administrateur. Il gérera les comptes des utilisateurs, les réglages et "
                       "les sauvegardes (il ne voit pas le contenu des dossiers).")
        intro.setWordWrap(True)
        self.login = set_accessible(QLineEdit("admin"), "Identifiant de l'administrateur")
        self.name = set_accessible(QLineEdit("Administrateur"), "Nom affiché")
        self.password = _password_field("Mot de passe")
        self.confirmation = _password_field("Confirmation du mot de passe")
        self.hint = _StrengthHint(self.password, self.login.text)
        self.message = _message_label()
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Nom affiché :", self.name)
        form.addRow("&Mot de passe :", self.password)
        form.addRow("", self.hint)
        form.addRow("&Confirmation :", self.confirmation)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("Créer le compte", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Quitter", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.password.setFocus()
        self.resize(520, self.sizeHint().height())

    def submit(self) -> None:
        try:
            self.actor = auth.create_first_admin(self.db, self.login.text(), self.name.text(),
                                                 self.password.text(), self.confirmation.text())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            return
        self.accept()


def _sign_in_form(dialog: QDialog, caption: str, login: str) -> None:
    """Login and password under a line saying where they open (the base,
    or the server of one's own account); ``dialog.submit`` on « Se connecter »."""
    dialog.setWindowTitle("CUS Desk — connexion")
    dialog.login = set_accessible(QLineEdit(login), "Identifiant")
    dialog.password = _password_field("Mot de passe")
    dialog.message = _message_label()
    where = QLabel(caption)
    where.setStyleSheet(HINT_STYLE)
    where.setWordWrap(True)
    form = QFormLayout()
    form.addRow("&Identifiant :", dialog.login)
    form.addRow("&Mot de passe :", dialog.password)
    buttons = QDialogButtonBox()
    dialog.ok = buttons.addButton("Se connecter", QDialogButtonBox.ButtonRole.AcceptRole)
    dialog.ok.setDefault(True)
    buttons.addButton("Quitter", QDialogButtonBox.ButtonRole.RejectRole)
    buttons.accepted.connect(dialog.submit)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(where)
    layout.addLayout(form)
    layout.addWidget(dialog.message)
    layout.addWidget(buttons)
    (dialog.password if login else dialog.login).setFocus()
    dialog.resize(420, dialog.sizeHint().height())


class LoginDialog(QDialog):
    def __init__(self, db, parent: QWidget | None = None, login: str = "") -> None:
        super().__init__(parent)
        self.db = db
        self.result_sign_in: auth.SignIn | None = None
        _sign_in_form(self, f"Base : {db.display_name}", login)

    def submit(self) -> None:
        if not self.login.text().strip():
            self.message.setText("Saisissez votre identifiant.")
            self.login.setFocus()
            return
        try:
            self.result_sign_in = auth.sign_in(self.db, self.login.text(), self.password.text())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            self.password.setFocus()
            return
        self.accept()


class ChangePasswordDialog(QDialog):
    """Change one's own password; ``mandatory`` after an administrator's reset."""

    def __init__(self, db, actor: Actor, parent: QWidget | None = None, mandatory: bool = False,
                 current: str = "") -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.setWindowTitle("Changer mon mot de passe")
        layout = QVBoxLayout(self)
        if mandatory:
            note = QLabel("Votre mot de passe est provisoire : choisissez-en un nouveau pour continuer.")
            note.setWordWrap(True)
            layout.addWidget(note)
        self.old = _password_field("Mot de passe actuel")
        self.old.setText(current)
        self.new = _password_field("Nouveau mot de passe")
        self.confirmation = _password_field("Confirmation du nouveau mot de passe")
        self.hint = _StrengthHint(self.new, lambda: actor.login)
        self.message = _message_label()
        form = QFormLayout()
        form.addRow("Mot de passe &actuel :", self.old)
        form.addRow("&Nouveau mot de passe :", self.new)
        form.addRow("", self.hint)
        form.addRow("&Confirmation :", self.confirmation)
        layout.addLayout(form)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        buttons.addButton("Changer le mot de passe", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Quitter" if mandatory else "Annuler", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.new if current else self.old).setFocus()
        self.resize(480, self.sizeHint().height())

    def submit(self) -> None:
        try:
            auth.change_password(self.db, self.actor, self.old.text(), self.new.text(),
                                 self.confirmation.text())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            return
        self.accept()


class PersonalLoginDialog(QDialog):
    """On a server whose address names no account, each person connects
    with her own server account: the CUS Desk login and password typed here
    open the connection to the server, then the CUS Desk session."""

    def __init__(self, where: str, parent: QWidget | None = None, login: str = "",
                 message: str = "") -> None:
        super().__init__(parent)
        _sign_in_form(self, f"Serveur : {where}", login)
        self.message.setText(message)

    def submit(self) -> None:
        if not self.login.text().strip():
            self.message.setText("Saisissez votre identifiant.")
            self.login.setFocus()
            return
        if not self.password.text():
            self.message.setText("Saisissez votre mot de passe.")
            self.password.setFocus()
            return
        self.accept()


def ask_personal_account(parent: QWidget | None, where: str, login: str = "",
                         message: str = "") -> tuple[str, str] | None:
    """(login, password) typed by the person, or None if she gave up."""
    dialog = PersonalLoginDialog(where, parent, login, message)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.login.text().strip(), dialog.password.text()


def obtain_actor(parent: QWidget | None, db, demo: bool,
                 credentials: tuple[str, str] | None = None) -> Actor | None:
    """Who uses the application, or None if they gave up (the app closes).

    Demo: the demo adviser (or the demo account named by CUS_DESK_USER),
    without a dialog. Otherwise: on first start, the administrator's
    creation; then the login dialog; a temporary password must be changed."""
    if demo:
        from cus_desk.demo import DEMO_LOGIN

        actor = auth.actor_for_login(db, os.environ.get("CUS_DESK_USER") or DEMO_LOGIN)
        from cus_desk.services import audit

        with db.write_session() as session:
            audit.record(session, actor, audit.Action.LOGIN, "user", actor.user_id,
                         details={"demonstration": True})
        return actor
    if credentials is not None:
        # Connected with the person's own server account: the same login and
        # password open her CUS Desk session (no second dialog).
        signed = auth.sign_in(db, *credentials)
        if signed.must_change_password:
            change = ChangePasswordDialog(db, signed.actor, parent, mandatory=True,
                                          current=credentials[1])
            if change.exec() != QDialog.DialogCode.Accepted:
                return None
        return signed.actor
    if auth.needs_first_admin(db):
        first = FirstAdminDialog(db, parent)
        if first.exec() != QDialog.DialogCode.Accepted or first.actor is None:
            return None
        return first.actor
    dialog = LoginDialog(db, parent, os.environ.get("CUS_DESK_USER", ""))
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_sign_in is None:
        return None
    signed = dialog.result_sign_in
    if signed.must_change_password:
        change = ChangePasswordDialog(db, signed.actor, parent, mandatory=True,
                                      current=dialog.password.text())
        if change.exec() != QDialog.DialogCode.Accepted:
            return None
    return signed.actor


# --- idle lock ------------------------------------------------------------------------

_INPUT_EVENTS = {
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.Shortcut, QEvent.Type.ShortcutOverride,
}


class LockOverlay(QFrame):
    """Covers the whole window: nothing behind it can be seen or used, and
    nothing behind it is destroyed (unsaved forms stay as they were)."""

    unlocked = Signal()

    def __init__(self, window: QWidget, ctx) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.setObjectName("lock_overlay")
        self.setAutoFillBackground(True)
        self.setStyleSheet("#lock_overlay { background: #24384f; } QLabel { color: white; }")
        set_accessible(self, "Session verrouillée")
        box = QFrame(self)
        box.setObjectName("lock_box")
        box.setStyleSheet("#lock_box { background: #31495f; border-radius: 8px; }")
        title = QLabel("Session verrouillée")
        title.setStyleSheet("font-size: 18pt; font-weight: bold; color: white;")
        who = QLabel(f"{ctx.actor.display_name} ({ctx.actor.login})")
        who.setStyleSheet("color: white; font-weight: bold;")
        how = QLabel("Tapez votre mot de passe pour reprendre votre travail\n"
                     "là où vous l'avez laissé (rien n'a été perdu).")
        self.password = _password_field("Mot de passe pour déverrouiller")
        self.password.returnPressed.connect(self.submit)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3)
        self.message.setStyleSheet("color: #ffd2d2;")
        self.message.setAccessibleName("Message")
        self.button = QPushButton("Déverrouiller")
        self.button.clicked.connect(self.submit)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(title)
        inner.setSpacing(8)
        inner.addWidget(who)
        inner.addWidget(how)
        inner.addWidget(self.password)
        inner.addWidget(self.message)
        inner.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignRight)
        box.setFixedWidth(500)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, alignment=Qt.AlignmentFlag.AlignCenter)
        outer.addStretch(2)
        self.hide()

    def cover(self, message: str = "") -> None:
        parent = self.parentWidget()
        self.setGeometry(parent.rect())
        self.message.setText(message)
        self.password.clear()
        self.show()
        self.raise_()
        self.password.setFocus()

    def submit(self) -> None:
        try:
            auth.reauthenticate(self.ctx.db, self.ctx.actor, self.password.text())
        except CusDeskError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            self.password.setFocus()
            return
        self.hide()
        self.unlocked.emit()


class IdleLock(QObject):
    """Locks the window after ``minutes`` without keyboard or mouse input."""

    CHECK_MS = 5_000

    def __init__(self, window: QWidget, ctx, minutes: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window)
        self.window, self.ctx, self.clock = window, ctx, clock
        self.timeout_s = max(1, int(minutes)) * 60
        self.last_input = clock()
        self.overlay = LockOverlay(window, ctx)
        self.overlay.unlocked.connect(self._on_unlocked)
        self.timer = QTimer(self)
        self.timer.setInterval(self.CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        window.installEventFilter(self)

    @property
    def locked(self) -> bool:
        return self.overlay.isVisible()

    def set_minutes(self, minutes: int) -> None:
        self.timeout_s = max(1, int(minutes)) * 60

    def check(self) -> None:
        if not self.locked and self.clock() - self.last_input >= self.timeout_s:
            self.lock_now()

    def lock_now(self, message: str = "") -> None:
        # A modal dialog left open would sit above the cover: hide it until unlock.
        hidden = [w for w in QApplication.topLevelWidgets()
                  if w is not self.window and w.isVisible() and isinstance(w, QDialog)]
        for dialog in hidden:
            dialog.hide()
        self._hidden_dialogs = [*getattr(self, "_hidden_dialogs", []), *hidden]
        self.overlay.cover(message)

    def _on_unlocked(self) -> None:
        self.last_input = self.clock()
        for dialog in getattr(self, "_hidden_dialogs", []):
            dialog.show()
        self._hidden_dialogs = []

    def _inside_overlay(self, obj) -> bool:
        return isinstance(obj, QWidget) and (obj is self.overlay or self.overlay.isAncestorOf(obj))

    def dispose(self) -> None:
        """Stop watching input: the window is closing for good."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        try:
            kind = event.type()
            if obj is self.window and kind == QEvent.Type.Resize and self.locked:
                self.overlay.setGeometry(self.window.rect())
            if kind in _INPUT_EVENTS:
                if self.locked:
                    # While locked, input reaches only the password box.
                    return not self._inside_overlay(obj)
                self.last_input = self.clock()
            return False
        except (RuntimeError, AttributeError):
            # The window and its cover are gone while this application-wide
            # filter lingers: deleted on the C++ side (RuntimeError), or this
            # wrapper's attributes cleared by the cyclic garbage collector while
            # Qt still holds it (AttributeError). Stop filtering instead of
            # failing on every event of the other windows.
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            return False


def install_idle_lock(window: QWidget, ctx) -> IdleLock:
    from cus_desk.domain.settings import IDLE_LOCK_MINUTES
    from cus_desk.services.settings import SettingsService

    minutes = SettingsService(ctx.db, ctx.actor).get(IDLE_LOCK_MINUTES)
    lock = IdleLock(window, ctx, minutes)
    window.idle_lock = lock

    def on_changed(topic: str) -> None:
        if topic == "settings":
            lock.set_minutes(SettingsService(ctx.db, ctx.actor).get(IDLE_LOCK_MINUTES))

    ctx.bus.data_changed.connect(on_changed)
    return lock


# --- damaged database at start ----------------------------------------------------------


def offer_restore(parent: QWidget | None, url: str, error: BaseException, clock) -> bool:
    """The database could not be opened because it is damaged: explain, and
    offer the latest good automatic backup. True when a backup was restored
    (the caller opens the database again)."""
    from cus_desk.services import backup

    path = backup.sqlite_path_of(url)
    if path is None:
        return False
    latest = backup.latest_good_backup(path)
    text = getattr(error, "message", str(error))
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Base de données endommagée")
    if latest is None:
        box.setText(f"{text}\n\nAucune sauvegarde intacte n'a été trouvée dans "
                    f"{backup.paths.backup_dir()}. La base n'a pas été modifiée ; "
                    "contactez l'administrateur.")
        box.exec()
        return False
    when = latest.created_at.strftime("%d/%m/%Y à %H:%M")
    from cus_desk.services import audit_restore

    chain = audit_restore.backup_chain_report(latest.path)
    warning = "" if chain.ok else "\n\nAttention : " + audit_restore.warning_text(latest.path, chain)
    box.setText(f"{text}\n\nLa base n'a pas été ouverte en écriture. La dernière sauvegarde "
                f"intacte date du {when}. Voulez-vous la restaurer ? La base endommagée sera "
                f"conservée à côté ; ce qui a été saisi depuis cette sauvegarde sera perdu.{warning}")
    restore = box.addButton("Restaurer cette sauvegarde" if chain.ok else "Restaurer malgré l'alerte",
                            QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quitter", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not restore:
        return False
    # Never without an administrator (services.backup.authorise_damaged_restore).
    dialog = RestoreSignInDialog(url, latest.path, clock, parent, force=not chain.ok)
    return dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_restore is not None


class RestoreSignInDialog(QDialog):
    """Restoring over a damaged database: an administrator of the current
    base signs in (its accounts are read read-only); when they cannot be
    read at all, an administrator of the backup unlocks a recovery."""

    def __init__(self, url: str, source, clock, parent: QWidget | None = None, force: bool = False) -> None:
        from cus_desk.services import backup

        super().__init__(parent)
        self.url, self.source, self.clock = url, source, clock
        self.force = force  # the copy's altered journal d'audit was shown and accepted
        self.result_restore = None
        path = backup.sqlite_path_of(url)
        self.recovery = path is None or not backup.current_accounts_readable(path)
        self.setWindowTitle("Restaurer une sauvegarde — administrateur")
        if self.recovery:
            text = ("La base actuelle est illisible : ses comptes ne peuvent pas être vérifiés. "
                    "Restauration de secours : un administrateur de la sauvegarde doit la "
                    "déverrouiller avec son identifiant et son mot de passe (ceux de la sauvegarde). "
                    "Elle sera notée dans le journal d'audit de la base restaurée.")
        else:
            text = ("Remplacer la base par une sauvegarde est réservé à un administrateur de cette "
                    "base. Identifiez-vous : votre compte est vérifié dans la base actuelle, en "
                    "lecture seule (rien n'y est écrit).")
        intro = QLabel(text)
        intro.setWordWrap(True)
        self.login = set_accessible(QLineEdit(os.environ.get("CUS_DESK_USER", "")),
                                    "Identifiant de l'administrateur")
        self.password = _password_field("Mot de passe de l'administrateur")
        self.message = _message_label()
        form = QFormLayout()
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Mot de passe :", self.password)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("Restaurer", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        (self.password if self.login.text() else self.login).setFocus()
        self.resize(520, self.sizeHint().height())

    def submit(self) -> None:
        from cus_desk.services import backup

        try:
            self.result_restore = backup.restore_damaged(self.url, self.source, self.login.text(),
                                                         self.password.text(), self.clock,
                                                         force=self.force)
        except CusDeskError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            self.password.setFocus()
            return
        self.accept()
