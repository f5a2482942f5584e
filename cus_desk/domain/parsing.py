"""Reading values the way French spreadsheets and management-system exports
write them: amounts (``1 234,56 €``, ``1234.56``, ``-12,00``), dates
(``28/11/2026``, ``28/11/26``, ISO) and column headers (case, accents and
punctuation ignored). Pure functions; they raise ``ParseError`` with a French
reason that the importer puts in its rejected-lines report."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation


class ParseError(ValueError):
    """A value that cannot be read; ``str(exc)`` is a French reason."""


_SPACES = dict.fromkeys(map(ord, " \u00a0\u202f\u2009\u2007\t'’"), None)
_AMOUNT_RE = re.compile(r"^\d+(?:[.,]\d{1,2})?$")
_SIMPLE_RE = re.compile(r"(-?)(\d+)(?:[.,](\d{1,2}))?")
_CREDIT_RE = re.compile(r"(?<=\d)(cr|cr\.|c|cred|credit|crédit|db|d|deb|debit|débit)$", re.IGNORECASE)


def parse_amount_cents(value: object) -> int:
    """An amount in integer cents. Accepts numbers (from XLSX cells) and
    text: ``1 234,56``, ``1234.56``, ``1 234,56 €``, ``1.234,56``,
    ``-12,50``, ``12,50-``, ``45,00 CR`` (negative = credit; ``DB`` = debit). More than two decimals is
    refused rather than rounded: a misread column must not pass silently."""
    if value is None:
        raise ParseError("montant absent")
    if isinstance(value, bool):
        raise ParseError(f"montant illisible « {value} »")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError(f"montant illisible « {value} »")
        cents = Decimal(repr(value)) * 100
        rounded = cents.quantize(Decimal(1))
        if abs(cents - rounded) > Decimal("0.000001"):
            raise ParseError(f"montant illisible « {value} » (plus de deux décimales)")
        return int(rounded)
    if isinstance(value, Decimal):
        return _decimal_cents(value, str(value))
    raw = str(value)
    text = raw.strip()
    if not text:
        raise ParseError("montant absent")
    text = text.replace("€", "").replace("EUR", "").replace("eur", "")
    text = text.translate(_SPACES)
    credit = _CREDIT_RE.search(text)
    if credit is not None:
        # "45,00 CR" / "45,00 C" (credit: the landlord owes) and "45,00 DB" / "D" (debit).
        text = text[:credit.start()]
        if not text:
            raise ParseError(f"montant illisible « {raw.strip()} »")
        cents = parse_amount_cents(text)
        return -abs(cents) if credit.group(1).lower().startswith("c") else abs(cents)
    simple = _SIMPLE_RE.fullmatch(text)
    if simple is not None:  # fast path: "-1234,56", "1234.5", "12" (most cells)
        sign, euros, dec = simple.groups()
        cents = int(euros) * 100 + (int((dec + "0")[:2]) if dec else 0)
        return -cents if sign else cents
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith(("-", "−")):
        negative, text = True, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    elif text.endswith("-"):
        negative, text = True, text[:-1]
    # Both separators: the last one is the decimal separator, the other groups thousands.
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        head, _, tail = text.rpartition(decimal_sep)
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(thousands) + r"\d{3})*", head):
            raise ParseError(f"montant illisible « {raw.strip()} »")
        text = head.replace(thousands, "") + "." + tail
    elif text.count(".") > 1 or text.count(",") > 1:
        sep = "." if "." in text else ","
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(sep) + r"\d{3})+", text):
            raise ParseError(f"montant illisible « {raw.strip()} »")
        text = text.replace(sep, "")
    if not _AMOUNT_RE.match(text):
        raise ParseError(f"montant illisible « {raw.strip()} »")
    euros, _, dec = text.replace(",", ".").partition(".")
    cents = int(euros) * 100 + int((dec + "00")[:2])
    return -cents if negative else cents


def _decimal_cents(value: Decimal, shown: str) -> int:
    try:
        cents = value * 100
        if cents != cents.to_integral_value():
            raise ParseError(f"montant illisible « {shown} » (plus de deux décimales)")
        return int(cents)
    except InvalidOperation:
        raise ParseError(f"montant illisible « {shown} »") from None


_DMY_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T]+\d{1,2}[:h]\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(value: object, *, reference: date | None = None) -> date:
    """A date from ``dd/mm/yyyy``, ``dd/mm/yy``, ``dd.mm.yyyy``, ``dd-mm-yyyy``,
    ``yyyymmdd`` or ISO ``yyyy-mm-dd`` (a time part such as ``00:00:00`` is
    ignored), or a date/datetime cell.

    Two-digit years are placed in the century that puts the date on or
    before ``reference`` (required for them: the extract's date): these files hold birth dates,
    lease starts and past payments, never future dates — ``05/03/48`` is 1948."""
    if type(value) is str and len(value) == 10 and value[2] == "/" and value[5] == "/":
        # Fast path for the usual dd/mm/yyyy (most cells of an extract).
        d, m, y = value[:2], value[3:5], value[6:]
        if d.isdigit() and m.isdigit() and y.isdigit() and d.isascii() and m.isascii() and y.isascii():
            try:
                return date(int(y), int(m), int(d))
            except ValueError:
                raise ParseError(f"date impossible « {value} »") from None
    if value is None:
        raise ParseError("date absente")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    if not raw:
        raise ParseError("date absente")
    match = _ISO_RE.match(raw)
    try:
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        match = _COMPACT_RE.match(raw)
        if match:  # yyyymmdd, as some ERPs export dates
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        match = _DMY_RE.match(raw)
        if match:
            day, month, year_text = match.groups()
            year = int(year_text)
            if len(year_text) == 2:
                if reference is None:
                    raise ParseError(f"année sur deux chiffres « {raw} » : écrivez-la en entier (jj/mm/aaaa)")
                ref = reference
                year += 2000
                if (year, int(month), int(day)) > (ref.year, ref.month, ref.day):
                    year -= 100
            return date(year, int(month), int(day))
    except ValueError:
        raise ParseError(f"date impossible « {raw} »") from None
    raise ParseError(f"date illisible « {raw} » (attendu jj/mm/aaaa)")


def parse_int(value: object, what: str) -> int:
    """A whole number (months unpaid...). ``3``, ``3,0`` and ``3.0`` are 3."""
    if type(value) is str and value.isdigit() and value.isascii():
        return int(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParseError(f"{what} absent")
    if isinstance(value, bool):
        raise ParseError(f"{what} illisible « {value} »")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ParseError(f"{what} illisible « {value} » (nombre entier attendu)")
    text = str(value).strip().translate(_SPACES)
    match = re.fullmatch(r"(-?\d+)(?:[.,]0+)?", text)
    if not match:
        raise ParseError(f"{what} illisible « {str(value).strip()} » (nombre entier attendu)")
    return int(match.group(1))


def normalize_header(text: object) -> str:
    """``  N° de Contrat `` → ``n de contrat``; ``Né(e) le`` → ``ne e le``:
    lower case, accents removed, punctuation as single spaces."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def normalize_name(text: object) -> str:
    """Same normalisation for names matched leniently (agencies, communes)."""
    return normalize_header(text)


_FILENAME_DATE_RES = (
    re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{2})[-_.](\d{2})[-_.](\d{4})(?!\d)"),
)


def date_in_filename(name: str) -> date | None:
    """A date written in a file name (``impayes_2026-11-30.csv``,
    ``extrait_20261130.xlsx``, ``impayes 30-11-2026.csv``), if any."""
    for number, pattern in enumerate(_FILENAME_DATE_RES):
        for match in pattern.finditer(name):
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if number == 0 else (c, b, a)
            try:
                return date(year, month, day)
            except ValueError:
                continue
    return None


# ------------------------------------------------------------ untrusted text

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
# C0/C1 controls (tab and line breaks are folded to spaces), zero-width and
# bidirectional controls (right-to-left overrides hide what a text says).
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\u061c\ufeff]")


UNSAFE_CHARACTERS = _UNSAFE_RE  # what clean_text removes (a quick test: ``.search``)


def clean_text(value: str) -> str:
    """Text from a file as it may be stored and shown: ANSI escape sequences,
    control and bidirectional-override characters removed, spaces folded."""
    if _UNSAFE_RE.search(value) is None:
        return value.strip()
    text = _ANSI_RE.sub("", value)
    text = _UNSAFE_RE.sub(lambda m: " " if m.group() in "\t\n\r\x0b\x0c" else "", text)
    return " ".join(text.split())


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A value written to a CSV or XLSX cell that a spreadsheet will not run
    as a formula (CSV/XLSX injection): text starting with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return gets a leading apostrophe, as
    OWASP recommends. Numbers and dates pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
