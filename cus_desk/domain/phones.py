"""Phone numbers of households and partners. The agencies border
Luxembourg, the Saarland and Belgium: French numbers are kept in the
national form (« 03 87 12 34 56 »), numbers of those countries in the
international form (« +352 27 12 34 56 »), with Google's libphonenumber
(the ``phonenumbers`` package) for what is not a plain French number."""

from __future__ import annotations

import re

from cus_desk.domain.errors import ValidationError

# Country calling codes accepted besides France's own (33).
NEIGHBOURS = {352: "Luxembourg", 49: "Allemagne", 32: "Belgique", 41: "Suisse"}
_SEPARATORS = re.compile(r"[\s.\-/\u00a0\u202f]+")
_FRENCH = re.compile(r"(?:0|\+33|0033)([1-9]\d{8})")


def phone_error(raw: str, field_name: str = "phone") -> ValidationError:
    return ValidationError(
        f"Le numéro de téléphone « {raw} » n'est pas valide. Saisissez un numéro français à 10 chiffres "
        "(ex. 03 87 12 34 56) ou un numéro étranger avec son indicatif (ex. +352 27 12 34 56 au "
        "Luxembourg, +49 681 12 34 56 en Allemagne).", field_name)


def normalize_phone(value: str | None, field_name: str = "phone") -> str | None:
    """The number as stored and shown, None when empty; a French
    ValidationError when it is not a number one can call (« 10 »)."""
    raw = (value or "").strip()
    if not raw:
        return None
    compact = _SEPARATORS.sub("", raw).replace("(0)", "")
    match = _FRENCH.fullmatch(compact)
    if match is not None:  # most numbers: no library call
        national = "0" + match.group(1)
        return " ".join(national[i:i + 2] for i in range(0, 10, 2))
    import phonenumbers
    from phonenumbers import shortnumberinfo

    try:
        number = phonenumbers.parse(compact, "FR")
    except phonenumbers.NumberParseException:
        raise phone_error(raw, field_name) from None
    if number.country_code == 33 and not number.italian_leading_zero and shortnumberinfo.is_valid_short_number(number):
        return compact  # numéro court : 115, 119, 3919...
    if number.country_code in NEIGHBOURS and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    raise phone_error(raw, field_name)
