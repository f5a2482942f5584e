"""User roles (see issue on access): values are stored, labels are shown."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "administrateur"
    SOCIAL_ADVISER = "conseillere_sociale"
    SOCIAL_HEAD = "responsable_pole_social"
    CAS_MEMBER = "membre_cas"
    RECOVERY = "recouvrement"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Administrateur",
    Role.SOCIAL_ADVISER: "Conseillère sociale",
    Role.SOCIAL_HEAD: "Responsable du pôle social",
    Role.CAS_MEMBER: "Membre de la CAS",
    Role.RECOVERY: "Recouvrement",
}
