"""Dossiers CAS screens. ``open_case(parent, ctx, case_id)`` opens a case
file window from anywhere (meetings agenda, seniors signalement...)."""

from __future__ import annotations


def open_case(parent, ctx, case_id: int):
    """Open the case file window for ``case_id`` (non-modal: several case
    files can be open side by side). Errors (no access, case gone) are
    shown to the user; returns the window or None."""
    from cus_desk.domain.errors import CusDeskError
    from cus_desk.ui.cases.case_dialog import CaseDialog
    from cus_desk.ui.common import show_error

    try:
        dialog = CaseDialog(ctx, case_id, parent)
    except CusDeskError as exc:
        show_error(parent, exc)
        return None
    from PySide6.QtCore import Qt

    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
