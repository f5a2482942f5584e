from __future__ import annotations

from datetime import UTC, date, datetime

from cus_desk.domain.formatting import age_on, format_cents, format_date, format_datetime


def test_amounts_in_french():
    assert format_cents(123456) == "1\u00a0234,56\u00a0€"
    assert format_cents(-5) == "-0,05\u00a0€"
    assert format_cents(0) == "0,00\u00a0€"
    assert format_cents(100_000_000, currency=False) == "1\u00a0000\u00a0000,00"
    assert format_cents(None) == ""


def test_dates_in_french():
    assert format_date(date(2026, 11, 28)) == "28/11/2026"
    # 23:30 UTC on 28 November is 00:30 on the 29th in Paris (winter time).
    assert format_datetime(datetime(2026, 11, 28, 23, 30, tzinfo=UTC)) == "29/11/2026 00:30"


def test_age_edges():
    assert age_on(date(1961, 11, 28), date(2026, 11, 28)) == 65
    assert age_on(date(1961, 11, 29), date(2026, 11, 28)) == 64
    leap = date(1960, 2, 29)
    assert age_on(leap, date(2025, 2, 28)) == 64  # birthday not reached in a common year
    assert age_on(leap, date(2025, 3, 1)) == 65
    assert age_on(leap, date(2024, 2, 29)) == 64
