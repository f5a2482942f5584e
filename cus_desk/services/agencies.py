"""The agencies' contact details: what a partner uses to answer a
signalement (address, phone, e-mail). Read by everyone who prints a fiche,
changed by an administrator."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cus_desk.domain.errors import ConflictError, NotFoundError, ValidationError
from cus_desk.domain.partners import validate_email
from cus_desk.domain.phones import normalize_phone
from cus_desk.services import access, audit
from cus_desk.services.base import Service, traces_refusals
from cus_desk.store.models.core import Agency

ADDRESS_MAX = 255


@dataclass(frozen=True)
class AgencyContact:
    id: int
    code: str
    label: str
    town: str
    address: str
    phone: str | None
    email: str | None

    @property
    def answerable(self) -> bool:
        """A partner can answer: at least a phone number or an e-mail."""
        return bool(self.phone or self.email)

    @property
    def missing(self) -> list[str]:
        return [label for label, value in (("adresse", self.address), ("téléphone", self.phone),
                                           ("e-mail", self.email)) if not value]


def contact_of(agency: Agency) -> AgencyContact:
    return AgencyContact(id=agency.id, code=agency.code, label=agency.label, town=agency.town,
                         address=agency.address or "", phone=agency.phone, email=agency.email)


def missing_contact_message(contact: AgencyContact) -> str:
    return (f"Les coordonnées de l'{contact.label} ne sont pas renseignées ({', '.join(contact.missing)}) : "
            "le partenaire ne pourrait pas répondre au signalement. Un administrateur les saisit dans "
            "Administration › Agences… (ou « cus-desk agencies set »).")


def _clean_address(value: str | None) -> str:
    lines = [line.strip() for line in (value or "").replace("\r", "\n").split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > ADDRESS_MAX:
        raise ValidationError(f"L'adresse est trop longue ({len(text)} caractères, {ADDRESS_MAX} au plus).",
                              "address")
    if any(ord(ch) < 32 and ch != "\n" for ch in text):
        raise ValidationError("L'adresse contient des caractères de contrôle : retapez-la.", "address")
    return text


class AgencyService(Service):
    def list_contacts(self) -> list[AgencyContact]:
        with self._read() as session:
            return [contact_of(a) for a in session.scalars(select(Agency).order_by(Agency.department.desc(),
                                                                                   Agency.label))]

    @traces_refusals
    def set_contact(self, agency_id: int, address: str, phone: str | None, email: str | None,
                    expected: AgencyContact | None = None) -> AgencyContact:
        """Validates everything before writing anything; ``expected`` is
        what the form showed: a change saved meanwhile by someone else is a
        conflict, not a silent overwrite."""
        access.require(self.actor, access.Permission.SETTINGS_EDIT)
        new = {"address": _clean_address(address), "phone": normalize_phone(phone, "phone"),
               "email": validate_email(email, "email")}
        with self._write() as session:
            agency = session.get(Agency, agency_id)
            if agency is None:
                raise NotFoundError("Cette agence n'existe plus : rechargez la liste.")
            before = {"address": agency.address or "", "phone": agency.phone, "email": agency.email}
            if expected is not None and before != {"address": expected.address, "phone": expected.phone,
                                                   "email": expected.email}:
                raise ConflictError("Les coordonnées de cette agence viennent d'être modifiées par "
                                    "quelqu'un d'autre : rechargez-les avant d'enregistrer.")
            agency.address, agency.phone, agency.email = new["address"], new["phone"], new["email"]
            changes = audit.diff_fields(before, new)
            if changes:
                audit.record(session, self.actor, audit.Action.UPDATE, "agency", agency.id,
                             details={"agency": agency.code, **changes})
            return contact_of(agency)
