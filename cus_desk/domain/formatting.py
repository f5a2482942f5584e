"""French presentation of values, shared by UI, CLI and reports
(so that a PDF and a screen never disagree)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cus_desk.domain.clock import PARIS  # noqa: E402  (re-exported)

# The French thousands separator: a no-break space (U+00A0). Not the narrow
# one (U+202F): reportlab breaks lines there and printed « 1 / 102,66 € » (#14).
NBSP = "\u00a0"


def format_cents(cents: int | None, *, currency: bool = True) -> str:
    """1234.56 € as ``1 234,56 €`` (integer cents in, never floats)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    grouped = f"{euros:,}".replace(",", NBSP)
    text = f"{sign}{grouped},{rest:02d}"
    return f"{text}\u00a0€" if currency else text


def format_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def format_datetime(value: datetime | None) -> str:
    """UTC timestamp shown in Europe/Paris."""
    if value is None:
        return ""
    if value.tzinfo is None:

        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def age_on(birth: date, on: date) -> int:
    """Age in whole years. Someone born on 29 February turns a year older on
    1 March in common years (the birthday has not happened on 28 February)."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years
