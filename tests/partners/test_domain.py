"""Pure rules of the partners directory, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from cus_desk.domain import partners as rules
from cus_desk.domain.errors import ValidationError


@pytest.mark.parametrize("raw, expected", [
    ("03 87 12 34 56", "03 87 12 34 56"),
    ("0387123456", "03 87 12 34 56"),
    ("03.87.12.34.56", "03 87 12 34 56"),
    ("03-87-12-34-56", "03 87 12 34 56"),
    ("+33 3 87 12 34 56", "03 87 12 34 56"),
    ("+33 (0)3 87 12 34 56", "03 87 12 34 56"),
    ("0033387123456", "03 87 12 34 56"),
    ("06 39 98 00 00", "06 39 98 00 00"),
    ("115", "115"),
    ("3919", "3919"),
    # the agencies border Luxembourg and the Saarland (#13)
    ("+352 27 12 34 56", "+352 27 12 34 56"),
    ("00352 27123456", "+352 27 12 34 56"),
    ("+49 681 123456", "+49 681 123456"),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_french_phone_numbers_accepted(raw, expected):
    assert rules.validate_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "03 87 12 34 5",  # nine digits
    "03 87 12 34 567",  # eleven
    "00 87 12 34 56",  # 00 is not a French prefix
    "+1 202 555 0143",  # too far: not a neighbour's number
    "10",  # not a number one can call (was accepted as a "short number")
    "+33 0 87 12 34 56",
    "abc",
    "03 87 12 34 5a",
    "12345",
])
def test_bad_phone_numbers_refused_with_a_french_message(raw):
    with pytest.raises(ValidationError) as info:
        rules.validate_phone(raw, "contact_phone")
    assert "n'est pas valide" in info.value.message
    assert "03 87 12 34 56" in info.value.message  # says what to type
    assert info.value.field == "contact_phone"


@pytest.mark.parametrize("raw", ["accueil@ccas-metz.fr", "prenom.nom+cas@exemple.org",
                                 "  a.b@sous.domaine.fr  "])
def test_emails_accepted(raw):
    assert rules.validate_email(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["accueil@", "accueil.ccas-metz.fr", "a b@exemple.fr",
                                 "a@exemple", "a@@exemple.fr", "a@exemple..fr", "@exemple.fr",
                                 "a@-exemple.fr"])
def test_bad_emails_refused_not_fixed(raw):
    with pytest.raises(ValidationError) as info:
        rules.validate_email(raw)
    assert "n'est pas valide" in info.value.message
    assert info.value.field == "email"


def test_empty_email_is_none():
    assert rules.validate_email("") is None
    assert rules.validate_email(None) is None


@pytest.mark.parametrize("raw, expected", [(0, 0), ("12", 12), (" 7 ", 7), (None, None), ("", None)])
def test_counts(raw, expected):
    assert rules.validate_count(raw) == expected


@pytest.mark.parametrize("raw, words", [(-1, "négatif"), ("-3", "négatif"), ("douze", "nombre entier"),
                                        ("2.5", "nombre entier"), (True, "nombre entier"),
                                        (10**7, "invraisemblable")])
def test_bad_counts_refused(raw, words):
    with pytest.raises(ValidationError) as info:
        rules.validate_count(raw)
    assert words in info.value.message


def test_required_count():
    with pytest.raises(ValidationError):
        rules.validate_count(None, required=True)


def test_convention_dates_in_order():
    rules.validate_convention_dates(date(2026, 1, 1), date(2026, 1, 1))
    rules.validate_convention_dates(date(2026, 1, 1), None)
    with pytest.raises(ValidationError) as info:
        rules.validate_convention_dates(date(2026, 6, 1), date(2026, 5, 31))
    assert "31/05/2026" in info.value.message and "01/06/2026" in info.value.message
    assert info.value.field == "end_date"
    with pytest.raises(ValidationError) as info:
        rules.validate_convention_dates(None, date(2026, 5, 31))
    assert info.value.field == "start_date"


def test_convention_kind():
    assert rules.validate_convention_kind("bail_glissant") == "bail_glissant"
    with pytest.raises(ValidationError):
        rules.validate_convention_kind("bail_magique")
    with pytest.raises(ValidationError):
        rules.validate_convention_kind(None)


TODAY = date(2026, 11, 20)


@pytest.mark.parametrize("start, end, state", [
    (date(2025, 1, 1), None, rules.ConventionState.ACTIVE),
    (date(2025, 1, 1), date(2027, 12, 31), rules.ConventionState.ACTIVE),
    (date(2025, 1, 1), date(2027, 2, 18), rules.ConventionState.EXPIRING),  # today + 90
    (date(2025, 1, 1), date(2027, 2, 19), rules.ConventionState.ACTIVE),  # today + 91
    (date(2025, 1, 1), TODAY, rules.ConventionState.EXPIRING),  # last day
    (date(2025, 1, 1), date(2026, 11, 19), rules.ConventionState.EXPIRED),
    (date(2026, 12, 1), date(2027, 1, 1), rules.ConventionState.UPCOMING),
])
def test_convention_expiry_rule(start, end, state):
    assert rules.convention_state(start, end, TODAY, 90) == state


def test_expiry_window_follows_the_setting():
    end = date(2027, 1, 10)  # 51 days ahead
    assert rules.convention_state(date(2025, 1, 1), end, TODAY, 60) == rules.ConventionState.EXPIRING
    assert rules.convention_state(date(2025, 1, 1), end, TODAY, 30) == rules.ConventionState.ACTIVE


def test_referral_success_rate():
    stats = rules.referral_stats([
        ("acceptee", None), ("refusee", None), ("cloturee", "aboutie"), ("cloturee", "non_aboutie"),
        ("envoyee", None), ("pris_en_charge", None), ("envoye", None), ("accuse_reception", None),
    ])
    assert (stats.sent, stats.positive, stats.pending) == (8, 3, 3)
    # pending is neither a success nor a failure (#13): 3 of the 5 answered
    assert stats.rate == pytest.approx(3 / 5)
    assert stats.label == "3 sur 5 abouti(s) ou accepté(s) (60 %) ; 3 en attente de réponse"
    one = rules.referral_stats([("pris_en_charge", None)])
    assert rules.referral_stats([("pris_en_charge", None), ("envoye", None)]).rate == one.rate == 1.0
    assert rules.referral_stats([("envoye", None)]).label == "1 envoyé(s), 1 en attente de réponse"
    assert rules.referral_stats([("annule", "annule"), ("pris_en_charge", None)]).sent == 1
    empty = rules.referral_stats([])
    assert empty.rate is None and "Aucune" in empty.label


def test_fold_ligatures_and_other_latin_letters():
    # « lecoeur » finds « LECŒUR », « sahin » finds « Şahin » (#13)
    assert rules.fold("LECŒUR") == "lecoeur" and rules.fold("Şahin") == "sahin"
    assert rules.fold("Łódź Straße") == "lodz strasse"
    assert rules.matches_search("lecoeur", ["Association LECŒUR"])


def test_fold_and_search_ignore_case_accents_and_hyphens():
    assert rules.fold("École de la Vie Autonome") == "ecole de la vie autonome"
    assert rules.fold("SAINT-AVOLD") == rules.fold("Saint Avold")
    assert rules.matches_search("ecole vie", ["OHS École de la Vie Autonome"])
    assert rules.matches_search("saint avold", [None, "Saint-Avold"])
    assert not rules.matches_search("ecole metz", ["OHS École de la Vie Autonome", "Nancy"])
    assert rules.matches_search("", ["x"])


def test_split_communes():
    assert rules.split_communes("Metz, Woippy;\nMETZ ,  Montigny-lès-Metz ,") == [
        "Metz", "Woippy", "Montigny-lès-Metz"]
    assert rules.split_communes("") == []
    with pytest.raises(ValidationError):
        rules.split_communes("x" * 121)


def test_flat_rules():
    rules.validate_flat("bail_glissant", "Nancy", date(2025, 1, 1), True, date(2026, 1, 1))
    with pytest.raises(ValidationError) as info:
        rules.validate_flat("sous_location", "Nancy", date(2025, 1, 1), False, date(2026, 1, 1))
    assert info.value.field == "transfer_date"
    with pytest.raises(ValidationError):
        rules.validate_flat("bail_glissant", "Nancy", date(2025, 1, 1), True, date(2024, 1, 1))
    with pytest.raises(ValidationError) as info:
        rules.validate_flat("bail_glissant", "  ", None, False, None)
    assert info.value.field == "commune"
    with pytest.raises(ValidationError) as info:
        rules.validate_flat("hlm", "Nancy", None, False, None)
    assert info.value.field == "kind"


def test_category_and_text():
    assert rules.validate_category("ccas") == "ccas"
    with pytest.raises(ValidationError) as info:
        rules.validate_category("banque")
    assert info.value.field == "category"
    with pytest.raises(ValidationError):
        rules.validate_category("")
    assert rules.clean_text("  CCAS   de  Metz ", "Nom", "name") == "CCAS de Metz"
    with pytest.raises(ValidationError) as info:
        rules.clean_text("   ", "Nom", "name", required=True)
    assert "obligatoire" in info.value.message
    with pytest.raises(ValidationError):
        rules.clean_text("x" * 201, "Nom", "name", max_len=200)


def test_tally_merges_spellings():
    rows = rules.tally([("Metz", 1), ("METZ", 2), ("Woippy", 1)])
    assert [(r.label, r.flat_count) for r in rows] == [("Metz", 3), ("Woippy", 1)]


def _row(name, **kw):
    base = dict(id=1, name=name, short_name=None, category="ccas", category_label="CCAS",
                commune=None, phone=None, email=None, agencies=(), communes=(), active=True,
                merged_into_id=None, current_conventions=0, expiring_conventions=0, flat_count=0,
                referrals_sent=0, referrals_positive=0)
    base.update(kw)
    return rules.PartnerRow(**base)


def test_search_rows_on_loaded_rows():
    rows = [_row("CCAS de Metz", communes=("Montigny-lès-Metz",)),
            _row("UDAF", contact_names=("Hélène Témoin",)),
            _row("OHS École de la Vie Autonome", short_name="EVA")]
    assert [r.name for r in rules.search_rows(rows, "montigny les")] == ["CCAS de Metz"]
    assert [r.name for r in rules.search_rows(rows, "HELENE")] == ["UDAF"]
    assert [r.name for r in rules.search_rows(rows, "eva ecole")] == ["OHS École de la Vie Autonome"]
    assert rules.search_rows(rows, "  ") == rows
    assert rules.search_rows(rows, "ccas udaf") == []
