"""The case search means the same on both stores: substring, case- and
accent-insensitive, with the same folding table (SQLite: FTS5 trigram +
triggers; PostgreSQL: pg_trgm over the folded text, kept by triggers)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cus_desk.services.cases import CaseFilter, HouseholdInput, MemberInput


@pytest.mark.parametrize(("stored", "typed"), [
    ("Şahin", "sahin"), ("ŞAHİN", "sahin"), ("Łukasz", "lukasz"), ("Dvořák", "dvorak"),
    ("Hélène", "HELENE"), ("Ștefănescu", "stefanescu"), ("Kowalski", "owals"),
    ("Grüßner", "grussner"), ("O'Brien", "o'brien"), ("Nguyễn", "Nguyễn"),
])
def test_search_folds_letters_of_other_latin_alphabets(make_case, svc, stored, typed):
    other = make_case(last_name="MARTIN", first_name="Paul")
    case_id = make_case(last_name=stored, first_name="Ali")
    found = [r.id for r in svc().list_cases(CaseFilter(search=typed))]
    assert found == [case_id], (stored, typed)
    assert other not in found


def test_search_words_short_and_long_and_contract(make_case, svc):
    a = make_case(last_name="ŞAHIN", first_name="Ece", contract="MZ-004242")
    make_case(last_name="SAHRAOUI", first_name="Lina", contract="MZ-001111")
    s = svc()
    assert [r.id for r in s.list_cases(CaseFilter(search="sahin ec"))] == [a]
    assert [r.id for r in s.list_cases(CaseFilter(search="4242"))] == [a]
    assert s.count_cases(CaseFilter(search="sah")) == 2
    assert [r.id for r in s.list_cases(CaseFilter(search="zz"))] == []


def test_renaming_a_member_updates_the_search_in_the_database(db, make_case, svc):
    """The triggers (not the service) keep the folded text: a rename written
    straight in SQL, as another tool would, is found at once."""
    case_id = make_case(last_name="DURAND", first_name="Zoé")
    with db.write_session() as s:
        s.execute(text("UPDATE tenants SET last_name = 'ŞENOL' WHERE last_name = 'DURAND'"))
    assert [r.id for r in svc().list_cases(CaseFilter(search="senol"))] == [case_id]
    assert svc().list_cases(CaseFilter(search="durand")) == []
    detail = svc().get(case_id)
    svc().update_household(case_id, HouseholdInput([MemberInput("ÖZTÜRK", "Zoé")]),
                           detail.household.version)
    assert [r.id for r in svc().list_cases(CaseFilter(search="ozturk zoe"))] == [case_id]
    assert svc().get(case_id).holder_name == "ÖZTÜRK Zoé"


@pytest.mark.postgresql_only(reason="the trigram index of the server")
def test_search_on_postgresql_can_use_the_trigram_index(db, make_case, svc):
    make_case(last_name="KOWALSKI")
    sql, params = None, None
    s = svc()
    with s.db.read_session() as session:
        sql, params = s.list_sql(session, CaseFilter(search="kowal"))
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql), params))
    assert "ix_cases_search_doc_trgm" in plan, plan


@pytest.mark.postgresql_only(reason="sort indexes of the server")
@pytest.mark.parametrize("descending", [False, True])
def test_sorted_pages_on_postgresql_can_walk_an_index(db, make_case, svc, descending):
    """NULLs sort as on SQLite (smallest); the page query can still stop
    after one page by walking an index instead of sorting every case."""
    make_case(last_name="KOWALSKI", arrears_cents=None)
    s = svc()
    with s.db.read_session() as session:
        sql, params = s.list_sql(session, CaseFilter(), sort="arrears_cents", descending=descending)
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + sql), params))
    assert "ix_cases_arrears_cents_id_nf" in plan, plan
