"""The main window: navigation, menus with standard shortcuts, status bar
with the open database, geometry kept in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cus_desk import APP_NAME, APP_ORG
from cus_desk.ui.elided_label import ElidedLabel
from cus_desk.ui.screen_size import available
from cus_desk.ui.screens import SCREENS, ScreenSpec, may_open, screen_class

# Optional methods of a screen, and the window action that forwards to each.
SCREEN_HOOKS = {
    "new": "new_item",
    "search": "focus_search",
    "save": "save_current",
    "print": "print_current",
    "meeting_mode": "toggle_meeting_mode",
}


def default_size(available: QRect) -> QSize:
    """The first window: 90 % of the screen's free area (never more than
    1600×1000), so that it fits a 1366×768 laptop, or 1920×1080 at 150 %."""
    return QSize(min(1600, int(available.width() * 0.9)), min(1000, int(available.height() * 0.9)))


def app_settings() -> QSettings:
    return QSettings(APP_ORG, APP_NAME)


class NoAccessScreen(QWidget):
    """Stands in for a screen whose content the user's role may not see:
    says so and why, rather than an empty list or an error."""

    def __init__(self, spec: ScreenSpec, role_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"{spec.title} : non accessible avec votre profil ({role_label})")
        self.title.setObjectName("no_access_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.explanation = QLabel(
            f"{spec.denied_text}\n\nSi votre mission le demande, adressez-vous à la responsable "
            "du pôle social ou à l'administrateur de CUS Desk."
        )
        self.explanation.setObjectName("no_access_text")
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.addWidget(self.title)
        layout.addSpacing(12)
        layout.addWidget(self.explanation)
        layout.addStretch(1)
        self.setAccessibleName(self.title.text())


class MainWindow(QMainWindow):
    screen_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        from cus_desk.ui.branding import app_icon

        self.setWindowIcon(app_icon())
        self.ctx = None
        self.help_dialog = None
        self._screens: dict[str, QWidget] = {}
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._connect_signals()
        self._restore_geometry()

    # -- construction -------------------------------------------------------
    def _build_widgets(self) -> None:
        self.nav = QListWidget()
        self.nav.setAccessibleName("Navigation")
        self.nav.setObjectName("navigation")
        for spec in SCREENS:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{spec.title} ({spec.shortcut})")
            self.nav.addItem(item)
        self.nav.setFixedWidth(190)
        self.nav.setEnabled(False)
        self.stack = QStackedWidget()
        self.loading = QLabel("Ouverture de la base de données…")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.loading)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._side_panel())
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.db_label = ElidedLabel("")  # a long path no longer widens the window
        self.db_label.setAccessibleName("Base de données ouverte")
        self.user_label = ElidedLabel("", mode=Qt.TextElideMode.ElideRight)
        self.user_label.setAccessibleName("Utilisateur connecté")
        self.statusBar().addWidget(self.db_label, 1)
        self.statusBar().addPermanentWidget(self.user_label)

    def _side_panel(self) -> QWidget:
        """The application's icon and name above the navigation."""
        from cus_desk.ui.branding import icon_pixmap

        panel = QWidget()
        panel.setObjectName("side_panel")
        panel.setFixedWidth(self.nav.width())
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        brand = QWidget()
        brand.setObjectName("brand")
        line = QHBoxLayout(brand)
        line.setContentsMargins(14, 12, 14, 4)
        icon = QLabel()
        icon.setPixmap(icon_pixmap(32))
        self.brand_name = QLabel(APP_NAME)
        self.brand_name.setObjectName("brand_name")
        line.addWidget(icon)
        line.addWidget(self.brand_name, 1)
        brand.setAccessibleName(APP_NAME)
        column.addWidget(brand)
        column.addWidget(self.nav, 1)
        return panel

    def _action(self, text: str, shortcut, slot, name: str) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(name)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        S = QKeySequence.StandardKey
        self.actions_by_name: dict[str, QAction] = {
            "new": self._action("&Nouveau…", S.New, lambda: self._forward("new"), "action_new"),
            "search": self._action("&Rechercher", S.Find, lambda: self._forward("search"), "action_search"),
            "save": self._action("&Enregistrer", S.Save, lambda: self._forward("save"), "action_save"),
            "print": self._action("&Imprimer…", S.Print, lambda: self._forward("print"), "action_print"),
            "meeting_mode": self._action(
                "Mode &séance (plein écran)", "F11", self._toggle_meeting_mode, "action_meeting_mode"
            ),
            "quit": self._action("&Quitter", S.Quit, self.close, "action_quit"),
            "about": self._action("À &propos de CUS Desk", None, self.show_about, "action_about"),
            "help": self._action("&Aide sur cet écran", "F1",
                                 self.show_help, "action_help"),
            "guide": self._action("&Guide de l'utilisateur", None, self.show_guide, "action_guide"),
        }
        self.actions_by_name["quit"].setMenuRole(QAction.MenuRole.QuitRole)
        self.actions_by_name["about"].setMenuRole(QAction.MenuRole.AboutRole)
        self.nav_actions: list[QAction] = []
        for spec in SCREENS:
            action = self._action(spec.title, spec.shortcut, lambda _=False, k=spec.key: self.show_screen(k),
                                  f"action_show_{spec.key}")
            self.nav_actions.append(action)
        self._update_actions()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&Fichier")
        for name in ("new", "search", "save", "print"):
            self.file_menu.addAction(self.actions_by_name[name])
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.actions_by_name["quit"])
        self.view_menu = bar.addMenu("&Affichage")
        for action in self.nav_actions:
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.actions_by_name["meeting_mode"])
        self.help_menu = bar.addMenu("Aid&e")
        self.help_menu.addAction(self.actions_by_name["help"])
        self.help_menu.addAction(self.actions_by_name["guide"])
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.actions_by_name["about"])

    def _connect_signals(self) -> None:
        self.nav.currentRowChanged.connect(self._on_nav_row)

    # -- context ------------------------------------------------------------
    def attach(self, ctx) -> None:
        """Called once the database is open and someone is logged in."""
        self.ctx = ctx
        self.db_label.setText(f"Base : {ctx.db.display_name}" + ("  —  DONNÉES DE DÉMONSTRATION" if ctx.demo else ""))
        if ctx.db.notice:
            self.statusBar().showMessage(ctx.db.notice, 60_000)
        agency = ""
        if ctx.actor.agency_id is not None:
            from cus_desk.services.reference import ReferenceService

            agency = ReferenceService(ctx.db, ctx.actor).agency_name(ctx.actor.agency_id)
        who = f"{ctx.actor.display_name} — {ctx.actor.role.label}" + (f", {agency}" if agency else "")
        self.user_label.setText(who)
        self.nav.setEnabled(True)
        for row, spec in enumerate(SCREENS):
            if not may_open(spec, ctx.actor):
                item = self.nav.item(row)
                item.setForeground(self.palette().color(self.palette().ColorGroup.Disabled,
                                                        self.palette().ColorRole.Text))
                item.setToolTip(f"{spec.title} ({spec.shortcut}) — non accessible avec votre profil")
        # The last screen was perhaps another user's on this PC.
        last = app_settings().value("main/last_screen", "dashboard")
        openable = [s.key for s in SCREENS if may_open(s, ctx.actor)]
        self.show_screen(last if last in openable else "dashboard")

    # -- navigation ---------------------------------------------------------
    def _spec(self, key: str) -> ScreenSpec:
        return next(s for s in SCREENS if s.key == key)

    def screen(self, key: str) -> QWidget:
        """The screen widget for ``key``, built on first use."""
        if key not in self._screens:
            spec = self._spec(key)
            if may_open(spec, self.ctx.actor):
                widget = screen_class(spec)(self.ctx, self)
            else:
                widget = NoAccessScreen(spec, self.ctx.actor.role.label, self)
            widget.setObjectName(f"screen_{key}")
            self._screens[key] = widget
            self.stack.addWidget(widget)
        return self._screens[key]

    def show_screen(self, key: str) -> None:
        if self.ctx is None:
            return
        row = [s.key for s in SCREENS].index(key)
        if self.nav.currentRow() != row:
            self.nav.setCurrentRow(row)  # re-enters through _on_nav_row
            return
        just_built = key not in self._screens
        widget = self.screen(key)
        self.stack.setCurrentWidget(widget)
        # A screen loads its data when built; on_shown refreshes it when it
        # comes back into view (not twice on its first showing).
        if not just_built and hasattr(widget, "on_shown"):
            widget.on_shown()
        app_settings().setValue("main/last_screen", key)
        self._update_actions()
        self.screen_changed.emit(key)

    def _on_nav_row(self, row: int) -> None:
        if row >= 0:
            self.show_screen(SCREENS[row].key)

    def current_key(self) -> str | None:
        widget = self.stack.currentWidget()
        return next((k for k, w in self._screens.items() if w is widget), None)

    def _forward(self, name: str) -> None:
        widget = self.stack.currentWidget()
        method = getattr(widget, SCREEN_HOOKS[name], None)
        if callable(method):
            method()

    def _toggle_meeting_mode(self) -> None:
        if self.ctx is None:
            return
        if self.current_key() != "meetings":
            self.show_screen("meetings")
        self._forward("meeting_mode")

    def _update_actions(self) -> None:
        widget = self.stack.currentWidget()
        for name in ("new", "search", "save", "print"):
            self.actions_by_name[name].setEnabled(callable(getattr(widget, SCREEN_HOOKS[name], None)))

    # -- dialogs ------------------------------------------------------------
    def show_about(self) -> None:
        from cus_desk.ui.about import AboutDialog

        name = self.ctx.db.display_name if self.ctx else "(aucune)"
        AboutDialog(name, self).exec()

    def _help(self):
        from cus_desk.ui.help import HelpDialog

        if self.help_dialog is None:
            role = self.ctx.actor.role if self.ctx is not None else None
            self.help_dialog = HelpDialog(self, role)
        self.help_dialog.show()
        self.help_dialog.raise_()
        self.help_dialog.activateWindow()
        return self.help_dialog

    def show_help(self) -> None:
        """F1: the help page of the screen on display."""
        self._help().show_screen_help(self.current_key())

    def show_guide(self) -> None:
        """Aide › Guide: the guide of the user's role."""
        from cus_desk.ui.help import page_for_role

        self._help().show_page(page_for_role(self.ctx.actor.role if self.ctx else None))

    # -- state --------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = app_settings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # Qt brings it within a smaller screen
        else:
            self.resize(default_size(available(self)))
        state = settings.value("main/state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        for widget in self._screens.values():
            can_close = getattr(widget, "can_close", None)
            if callable(can_close) and not can_close():
                event.ignore()
                return
        settings = app_settings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/state", self.saveState())
        lock = getattr(self, "idle_lock", None)
        if lock is not None:
            lock.dispose()
        live = getattr(self, "live_refresh", None)
        if live is not None:
            live.stop()
        super().closeEvent(event)
