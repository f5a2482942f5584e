"""Errors a user can cause. Each carries a French sentence that says what
happened and what to do; the UI and the CLI show ``message`` as it is."""

from __future__ import annotations


class CusDeskError(Exception):
    """Base of every error meant for the user (message in French)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(CusDeskError):
    """Bad input. ``field`` names the form field at fault when there is one,
    so a form can show the message next to it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(CusDeskError):
    pass


class AccessDeniedError(CusDeskError):
    pass


class SessionRevokedError(AccessDeniedError):
    """The account was deactivated, or its role or agency changed, while its
    user was signed in: nothing more is read or written on those rights."""


class ConflictError(CusDeskError):
    """Optimistic-lock conflict: someone else saved the same record first."""

    DEFAULT = (
        "Cette fiche a été modifiée par quelqu'un d'autre depuis que vous l'avez ouverte. "
        "Rechargez-la pour voir la version enregistrée, puis refaites vos changements."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.DEFAULT)


class WorkflowError(CusDeskError):
    """A transition or action the rules do not allow."""


class DatabaseOpenError(CusDeskError):
    """The database cannot be opened (bad URL, unreadable or damaged file)."""


class DatabaseDamagedError(DatabaseOpenError):
    """The file is not a sound CUS Desk database: restoring a backup may help."""


class ServerConnectionError(CusDeskError):
    """The database server could not be reached, or the connection was lost
    in the middle of a transaction (which the server then rolled back)."""

    DEFAULT = (
        "Connexion au serveur perdue : rien n'a été enregistré de cette dernière action. "
        "Vos saisies sont conservées à l'écran ; réessayez dans un instant. Si le problème "
        "persiste, vérifiez le réseau ou prévenez le service informatique."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.DEFAULT)


class StoreBusyError(CusDeskError):
    """Another writer (an import, a backup, a colleague's long save) held the
    store longer than we wait: nothing was saved, a retry will do."""

    DEFAULT = (
        "La base est occupée par une autre opération (un import d'extrait, une sauvegarde…) : "
        "rien n'a été enregistré de cette dernière action. Vos saisies sont conservées ; "
        "réessayez dans un instant."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.DEFAULT)


class ServerPasswordError(DatabaseOpenError):
    """The server wants a password this program was not given (or a wrong one)."""
