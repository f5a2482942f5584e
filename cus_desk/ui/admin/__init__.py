"""The "Administration" menu (administrator), the "Compte" menu (everyone:
change my password, lock the session) and the RGPD tools (right of
access, statistics) for the roles allowed to use them."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow

from cus_desk.services import access


def _open(window: QMainWindow, ctx, dialog_path: str) -> QDialog:
    module_name, cls_name = dialog_path.rsplit(".", 1)
    module = __import__(f"cus_desk.ui.admin.{module_name}", fromlist=[cls_name])
    dialog = getattr(module, cls_name)(ctx, window)
    window._admin_dialog = dialog  # tests and the idle lock reach it
    dialog.exec()
    return dialog


def _action(window, text: str, slot, name: str, shortcut=None) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    return action


def change_my_password(window, ctx) -> QDialog:
    from cus_desk.ui.login import ChangePasswordDialog

    dialog = ChangePasswordDialog(ctx.db, ctx.actor, window)
    window._admin_dialog = dialog
    dialog.exec()
    return dialog


def install_admin_menu(window: QMainWindow, ctx) -> None:
    bar = window.menuBar()
    before = getattr(window, "help_menu", None)
    before_action = before.menuAction() if before is not None else None

    def add_menu(title: str):
        menu = bar.addMenu(title) if before_action is None else None
        if menu is None:
            from PySide6.QtWidgets import QMenu

            menu = QMenu(title, window)
            bar.insertMenu(before_action, menu)
        return menu

    account = add_menu("&Compte")
    account.setObjectName("menu_account")
    account.addAction(_action(window, "Changer mon mot de passe…",
                              lambda: change_my_password(window, ctx), "action_change_password"))
    lock = getattr(window, "idle_lock", None)
    if lock is not None:
        account.addAction(_action(window, "Verrouiller la session", lambda: lock.lock_now(),
                                  "action_lock_session", "Ctrl+L"))

    tools = []
    if access.has(ctx.actor, access.Permission.PERSON_EXPORT):
        tools.append(("Droit d'accès : exporter les données d'une personne…",
                      "tools.PersonExportDialog", "action_person_export"))
    if access.has(ctx.actor, access.Permission.STATS_EXPORT):
        tools.append(("Export statistique…", "tools.StatsDialog", "action_stats_export"))
    if tools:
        menu = add_menu("&Outils")
        menu.setObjectName("menu_tools")
        for text, path, name in tools:
            menu.addAction(_action(window, text, lambda _=False, p=path: _open(window, ctx, p), name))

    if not access.has(ctx.actor, access.Permission.USER_ADMIN):
        return
    admin = add_menu("A&dministration")
    admin.setObjectName("menu_admin")
    window.admin_menu = admin
    for text, path, name in [
        ("&Utilisateurs…", "users.UsersDialog", "action_users"),
        ("&Journal d'audit…", "audit_view.AuditDialog", "action_audit"),
        ("&Réglages…", "settings_editor.SettingsDialog", "action_settings"),
        ("&Agences (coordonnées)…", "agencies.AgenciesDialog", "action_agencies"),
        ("&Sauvegardes et restauration…", "backups.BackupsDialog", "action_backups"),
        ("&Purge des données (RGPD)…", "purge.PurgeDialog", "action_purge"),
    ]:
        admin.addAction(_action(window, text, lambda _=False, p=path: _open(window, ctx, p), name))
    _remind_purge(window, ctx)


def _remind_purge(window: QMainWindow, ctx) -> None:
    """A purge due is shown in the status bar and as a non-blocking note."""
    from cus_desk.services.retention import RetentionService

    try:
        text = RetentionService(ctx.db, ctx.actor).due_reminder()
    except Exception:  # noqa: BLE001 - a reminder must never block the start
        return
    window.purge_reminder = text
    if text:
        window.statusBar().showMessage(text)
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Information, "Purge RGPD à faire", text,
                          QMessageBox.StandardButton.Ok, window)
        box.setObjectName("purge_reminder")
        box.open()  # non-modal for the application: the window stays usable
