"""French amount and date parsers, header normalisation (with hypothesis)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cus_desk.domain.parsing import (
    ParseError,
    date_in_filename,
    normalize_header,
    parse_amount_cents,
    parse_date,
    parse_int,
)


@pytest.mark.parametrize(
    "text, cents",
    [
        ("1 234,56", 123456),
        ("1234.56", 123456),
        ("1 234,56 €", 123456),
        ("1\u00a0234,56\u00a0€", 123456),
        ("1\u202f234,56 €", 123456),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("-12,50", -1250),
        ("12,50-", -1250),
        ("(12,50)", -1250),
        ("0", 0),
        ("12", 1200),
        ("12,5", 1250),
        ("  45,00  ", 4500),
        ("1 000 000,01", 100000001),
        ("1.000.000", 100000000),
        (12, 1200),
        (12.5, 1250),
        (-0.1, -10),
        (Decimal("3.21"), 321),
    ],
)
def test_amounts(text, cents):
    assert parse_amount_cents(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "12,345", "1.234", "12,3,4", "--5", "1 23,00x", None, "12.345,6.7", 1.234])
def test_unreadable_amounts(text):
    with pytest.raises(ParseError):
        parse_amount_cents(text)


@st.composite
def written_amounts(draw):
    cents = draw(st.integers(min_value=-10**11, max_value=10**11))
    euros, rest = divmod(abs(cents), 100)
    thousands = draw(st.sampled_from(["", " ", "\u00a0", "\u202f", "."]))
    decimal_sep = "," if thousands == "." else draw(st.sampled_from([",", "."]))
    grouped = f"{euros:,}".replace(",", thousands)
    text = f"{grouped}{decimal_sep}{rest:02d}"
    if cents < 0:
        text = draw(st.sampled_from(["-{}", "{}-", "({})"])).format(text)
    text += draw(st.sampled_from(["", " €", "\u00a0€", "€"]))
    return cents, text


@given(written_amounts())
def test_amounts_round_trip_in_every_written_form(case):
    cents, text = case
    assert parse_amount_cents(text) == cents


@given(st.text(max_size=12))
def test_amount_parser_never_crashes(text):
    try:
        value = parse_amount_cents(text)
    except ParseError as exc:
        assert str(exc)
    else:
        assert isinstance(value, int)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("28/11/2026", date(2026, 11, 28)),
        ("1/2/2026", date(2026, 2, 1)),
        ("28.11.2026", date(2026, 11, 28)),
        ("28-11-2026", date(2026, 11, 28)),
        ("2026-11-28", date(2026, 11, 28)),
        ("2026-11-28 00:00:00", date(2026, 11, 28)),
        ("2026-11-28T10:00", date(2026, 11, 28)),
        ("29/02/2024", date(2024, 2, 29)),
        (datetime(2026, 1, 2, 0, 0), date(2026, 1, 2)),
        (date(2026, 1, 2), date(2026, 1, 2)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


def test_two_digit_years_are_never_in_the_future():
    ref = date(2026, 11, 30)
    assert parse_date("05/03/48", reference=ref) == date(1948, 3, 5)
    assert parse_date("05/03/26", reference=ref) == date(2026, 3, 5)
    assert parse_date("01/12/26", reference=ref) == date(1926, 12, 1)
    assert parse_date("30/11/26", reference=ref) == date(2026, 11, 30)


@pytest.mark.parametrize("text", ["", "31/02/2026", "29/02/2025", "2026/11/28", "hier", "12/13/2026", "28/11", None])
def test_unreadable_dates(text):
    with pytest.raises(ParseError):
        parse_date(text)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"]))
def test_dates_round_trip(value, fmt):
    assert parse_date(value.strftime(fmt)) == value


@given(st.dates(min_value=date(1927, 1, 1), max_value=date(2026, 11, 30)))
def test_two_digit_year_round_trip_within_a_century_before_the_reference(value):
    assert parse_date(value.strftime("%d/%m/%y"), reference=date(2026, 11, 30)) == value


@given(st.text(max_size=14))
def test_date_parser_never_crashes(text):
    try:
        parse_date(text)
    except ParseError as exc:
        assert str(exc)


def test_integers():
    assert parse_int("3", "nb") == 3
    assert parse_int("3,0", "nb") == 3
    assert parse_int(4.0, "nb") == 4
    for bad in ("", "2,5", "deux", 2.5):
        with pytest.raises(ParseError):
            parse_int(bad, "nombre de mois")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  N° contrat ", "n contrat"),
        ("Numéro de contrat", "numero de contrat"),
        ("Né(e) le", "ne e le"),
        ("DATE D'ENTRÉE", "date d entree"),
        ("Date d’entrée", "date d entree"),
        ("Loyer + charges", "loyer charges"),
        ("\ufeffContrat", "contrat"),
        (None, ""),
    ],
)
def test_header_normalisation(text, expected):
    assert normalize_header(text) == expected


def test_date_in_filename():
    assert date_in_filename("impayes_2026-11-30.csv") == date(2026, 11, 30)
    assert date_in_filename("extrait_20261130.xlsx") == date(2026, 11, 30)
    assert date_in_filename("impayes 30-11-2026.csv") == date(2026, 11, 30)
    assert date_in_filename("impayes.csv") is None
    assert date_in_filename("impayes_2026-13-45.csv") is None


@pytest.mark.parametrize("raw, expected", [
    ("12/03/1950 00:00:00", date(1950, 3, 12)),  # a date exported with its time
    ("12/03/1950 08:30", date(1950, 3, 12)),
    ("19500312", date(1950, 3, 12)),  # yyyymmdd
    ("2026-10-31T00:00:00", date(2026, 10, 31)),
])
def test_erp_date_forms(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["00/00/0000", "20261331", "12/03/1950 25h"])
def test_erp_date_forms_that_stay_unreadable(raw):
    with pytest.raises(ParseError):
        parse_date(raw)


@pytest.mark.parametrize("raw, cents", [
    ("45,00 CR", -4500), ("45,00CR", -4500), ("1 234,56 C", -123456), ("45,00 DB", 4500), ("12,50 D", 1250),
    ("45,00 cr", -4500),
])
def test_credit_and_debit_notation(raw, cents):
    assert parse_amount_cents(raw) == cents


@pytest.mark.parametrize("raw", ["CR", "45,00 CRX", "CR 45,00"])
def test_credit_notation_alone_is_unreadable(raw):
    with pytest.raises(ParseError):
        parse_amount_cents(raw)
